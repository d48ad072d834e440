"""Bridges to the tools users already have, each an optional extra:

- ``scratchnet.interop.sklearn``: scikit-learn estimators (``pip install 'scratchnet[sklearn]'``)
- ``scratchnet.interop.onnx``: ONNX export (``pip install 'scratchnet[onnx]'``)

Importing scratchnet imports none of them; each module imports its library when it is
imported itself, and without it fails with one line naming the extra to install.
"""

from __future__ import annotations

from ..errors import MissingExtraError


def missing_extra(feature: str, extra: str, error: ImportError) -> MissingExtraError:
    """The error for ``feature`` when the library of ``extra`` cannot be imported."""
    library = error.name or str(error)
    return MissingExtraError(
        f"{feature} needs the optional {extra} extra ({library} is not installed): "
        f"pip install 'scratchnet[{extra}]'"
    )
