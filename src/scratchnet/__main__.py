"""``python -m scratchnet`` runs the command line, as the installed command does."""

from .app.cli import entry_point

entry_point()
