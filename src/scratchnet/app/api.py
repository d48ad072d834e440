"""The draw-a-digit page's JSON API, apart from HTTP: what each request body means and
what the answer holds.

``POST /predict`` takes either an image file (``Content-Type: image/png``, ``image/jpeg``,
``image/gif``, ``image/bmp``, ``image/webp`` or ``application/octet-stream``), which goes
through the same preprocessing as ``scratchnet predict`` (``load_image``), or JSON
``{"pixels": ...}`` with 28x28 values in [0, 1] (28 rows of 28, or 784 in a row), light
ink on a dark ground, which go to the network as they are. The answer is the reading of
``scratchnet predict --json`` plus ``input`` (the 784 values the network saw, row by
row) and ``hidden`` (each hidden layer's activations), and for an image ``pad``: how the
page shows it under strokes drawn over it (``images.read_with_pad_look``). ``GET /model``
describes the model.
Both carry ``model_id``, which names this server's model (drawn afresh each time one
starts): a page left open across a restart with another model sees the change.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import dataclass, field
from http import HTTPStatus

import numpy as np

from ..data.image_files import read_image
from ..data.images import file_with_pad_look
from ..errors import ImageFileError
from .models import ChosenModel
from .readings import N_PIXELS, hidden_activations, read_digits

IMAGE_TYPES = frozenset(
    {"image/png", "image/jpeg", "image/gif", "image/bmp", "image/webp", "application/octet-stream"}
)
JSON_TYPE = "application/json"
MAX_BODY_BYTES = 16 * 2**20  # a phone's photo as a JPEG
MAX_JSON_BYTES = 2**20  # 784 numbers take 20 KB; parsed, a JSON body takes 7 times its size
MAX_IMAGE_PIXELS = 4096 * 4096  # decoded RGBA 64 MiB; with the upright copy and the mode's
# conversion, decoding one peaks about 133 MB over the server's own (a 75 KB PNG: measured
# with VmHWM); a JPEG decodes at 1/8 if need be
UPLOAD = "the uploaded image"  # what messages call a body's image (the page puts its name)
CONCURRENT_PREDICTIONS = 4  # at most this many images decoded at once: about 550 MB


class ApiError(Exception):
    """A request the API refuses: its HTTP status and a one-line reason for the client."""

    def __init__(self, status: HTTPStatus, message: str):
        super().__init__(message)
        self.status = status


@dataclass
class DigitApi:
    """The answers of the API for one model."""

    model: ChosenModel
    decoding_slots: threading.BoundedSemaphore = field(
        default_factory=lambda: threading.BoundedSemaphore(CONCURRENT_PREDICTIONS)
    )
    model_id: str = field(default_factory=lambda: secrets.token_hex(8))

    def describe_model(self) -> dict:
        return {**self.model.describe(), "model_id": self.model_id}

    def predict(self, content_type: str, body: bytes) -> dict:
        """The reading of a request body of the given media type (see the module docstring)."""
        with self.decoding_slots:
            x, pad = self._input(content_type, body)
            (reading,) = read_digits(self.model.net, x[np.newaxis, :])
            hidden = hidden_activations(self.model.net, x)
        return {
            **reading.to_json(),
            "input": x.tolist(),
            "hidden": [a.tolist() for a in hidden],
            **({} if pad is None else {"pad": pad}),
            "model_id": self.model_id,
        }

    def _input(self, content_type: str, body: bytes) -> tuple[np.ndarray, dict | None]:
        """The network's input, and for an image how a drawing pad shows it."""
        if content_type in IMAGE_TYPES:
            return _image_input(body)
        if content_type == JSON_TYPE:
            return pixels_from_json(body), None
        form = content_type.startswith("multipart/")  # curl -F, an HTML form's upload
        raise ApiError(
            HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
            f"POST /predict takes an image ({', '.join(sorted(IMAGE_TYPES))}) or "
            f"{JSON_TYPE}, got {content_type or 'no Content-Type'}" + (FORM_HINT if form else ""),
        )


def _image_input(body: bytes) -> tuple[np.ndarray, dict]:
    """An image file's input (as ``scratchnet predict`` reads it) and how a drawing pad
    shows it, ``{"ground": tone in [0, 1], "ink": "light" or "dark"}``
    (``read_with_pad_look``)."""
    try:
        pixels = read_image(body, UPLOAD, max_pixels=MAX_IMAGE_PIXELS)
        x, ground, light_ink = file_with_pad_look(pixels, UPLOAD)
    except ImageFileError as error:
        raise ApiError(HTTPStatus.UNPROCESSABLE_ENTITY, str(error)) from None
    return x, {"ground": ground, "ink": "light" if light_ink else "dark"}


FORM_HINT = (
    ": send the image itself as the body, not in a form (curl -H 'Content-Type: image/png' "
    "--data-binary @digit.png, not -F)"
)


def pixels_from_json(body: bytes) -> np.ndarray:
    """The 784 values of a body ``{"pixels": [[28 numbers] x 28]}`` (or 784 in a row),
    each a number in [0, 1]."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as error:  # not JSON, not UTF-8, too deep, too long
        raise ApiError(HTTPStatus.BAD_REQUEST, f"the body is not JSON ({error})") from None
    if not isinstance(document, dict) or "pixels" not in document:
        raise ApiError(HTTPStatus.BAD_REQUEST, 'the JSON body must be an object {"pixels": ...}')
    values = document["pixels"]
    if isinstance(values, list) and len(values) == 28 and all(isinstance(r, list) for r in values):
        values = [value for row in values if len(row) == 28 for value in row]
    if not isinstance(values, list) or len(values) != N_PIXELS or not all(map(_is_unit, values)):
        raise ApiError(
            HTTPStatus.UNPROCESSABLE_ENTITY,
            '"pixels" must hold 28 rows of 28 numbers in [0, 1] (or 784 in a row)',
        )
    return np.array(values, dtype=np.float64)


def _is_unit(value) -> bool:
    """A JSON number (not a boolean) in [0, 1]."""
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return is_number and 0 <= value <= 1  # (an int of 400 digits is compared, not converted)
