"""The one family of errors scratchnet raises for problems a user can fix.

Every class derives from ``ScratchnetError`` and from the built-in exception that the
same problem would raise elsewhere, so ``except ValueError`` keeps working:

- ``InvalidArgumentError`` (ValueError): a value outside what is allowed, or options
  that cannot go together; the message names the value, the allowed range and the fix.
- ``InvalidTypeError`` (TypeError): a value of the wrong kind.
- ``NotFittedError`` (ValueError): a model used before ``fit`` or ``load``.
- ``DataFileError`` (ValueError): a file that is missing, truncated, corrupted or of
  the wrong kind; the message names the file.
- ``ImageFileError`` (a DataFileError): an image file that cannot serve as a digit: not
  an image of a supported format, empty, damaged, too large, or blank.
- ``TrainingDivergedError`` (ValueError, FloatingPointError): training produced a
  non-finite or exploding cost.
- ``MissingExtraError`` (ImportError): a feature needs an optional extra that is not
  installed; the message names the ``pip install 'scratchnet[...]'`` that adds it.

The command line prints any of them as one line and exits with status 2; every other
exception is a bug and keeps its traceback. This module imports nothing, so every layer
of the package (the math in ``nn/`` included) can raise them.
"""

from __future__ import annotations


class ScratchnetError(Exception):
    """Base class of every error scratchnet raises on purpose."""


class InvalidArgumentError(ScratchnetError, ValueError):
    """A value outside what is allowed, or options that cannot go together."""


class InvalidTypeError(ScratchnetError, TypeError):
    """A value of the wrong type."""


class NotFittedError(ScratchnetError, ValueError):
    """A model was used before it was fitted or loaded."""


class DataFileError(ScratchnetError, ValueError):
    """A data file is missing, truncated, corrupted or of the wrong kind.

    The message always names the file (or the files) and the problem.
    """


class ImageFileError(DataFileError):
    """An image file cannot serve as a digit: missing, empty, not a supported format,
    damaged, too many pixels, or blank (no ink). The message names the file."""


class TrainingDivergedError(ScratchnetError, ValueError, FloatingPointError):
    """The training cost became NaN, infinite or exploded.

    The message names the iteration and suggests a smaller learning rate.
    """


class MissingExtraError(ScratchnetError, ImportError):
    """An optional extra (scikit-learn, onnx, ...) is needed but not installed.

    The message names the feature and the command that installs the extra.
    """
