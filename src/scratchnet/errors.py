"""Exceptions that scratchnet raises for problems a user can fix.

Bad arguments raise the built-in ``ValueError`` and ``TypeError``; the classes here
name the two failures that are not about a single argument.
"""

from __future__ import annotations


class DataFileError(ValueError):
    """A data file is missing, truncated, corrupted or of the wrong kind.

    The message always names the file (or the files) and the problem.
    """


class TrainingDivergedError(FloatingPointError):
    """The training cost became NaN or infinite.

    The message names the iteration and suggests a smaller learning rate.
    """
