"""The faces of scratchnet: the command line, its recipes, the run of a recipe and the
folder it writes, and the figures."""
