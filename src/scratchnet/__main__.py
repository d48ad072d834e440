"""``python -m scratchnet`` runs the command line, as the installed command does."""

from .app.entry import entry_point

entry_point()
