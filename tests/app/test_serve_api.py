"""The draw-a-digit server's JSON API, spoken to over real sockets: right answers, a 4xx
with a JSON error for every kind of bad request, concurrent requests, and a server that
is still up afterwards.

Expected readings come from tests/reference.py (the network written plainly from its
weights) on the input the image reader makes; hidden activations from the same weights.
"""

from __future__ import annotations

import contextlib
import http.client
import io
import json
import os
import re
import select
import socket
import threading
import time
import tracemalloc
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from PIL import Image

import scratchnet as sn
from scratchnet.app.api import MAX_BODY_BYTES, DigitApi
from scratchnet.app.metrics_file import MAX_METRICS_BYTES, read_metrics
from scratchnet.app.models import load_chosen
from scratchnet.app.presets import PRESETS
from scratchnet.app.request_body import read_chunks
from scratchnet.app.server import MAX_CONNECTIONS, DigitHandler, DigitServer, is_loopback
from scratchnet.data.idx import file_sha256
from scratchnet.errors import DataFileError

from .. import reference
from ..pictures import encode, in_light_ink, png_header_only, render_like_a_user


@pytest.fixture(scope="module")
def server(digits_model):
    """The server on a free port of 127.0.0.1, in a thread; yields it."""
    server = DigitServer(("127.0.0.1", 0), DigitApi(load_chosen(digits_model)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="module")
def digits(mnist_dir):
    """Ten MNIST test digits as user images (PNG bytes) and their labels."""
    data = sn.load_mnist(range(10), mnist_dir, relabel=False)
    rng = np.random.default_rng(1)
    pictures = [encode(render_like_a_user(digit, rng), "PNG") for digit in data.x_test[:10]]
    return pictures, data.y_test[:10].tolist()


def request(server, method, path, body=None, headers=None) -> tuple[int, dict, dict]:
    """(status, headers, JSON document) of one request on a new connection."""
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        raw = response.read()
        answer_headers = {name.lower(): value for name, value in response.getheaders()}
        return response.status, answer_headers, json.loads(raw) if raw else {}
    finally:
        connection.close()


def predict(server, body: bytes, content_type: str = "image/png"):
    return request(server, "POST", "/predict", body, {"Content-Type": content_type})


def host_of(server) -> str:
    """What a browser sends as the Host of the server's page."""
    return "{}:{}".format(*server.server_address[:2])


def raw_exchange(server, data: bytes, shut_write: bool = False) -> bytes:
    """Send bytes on a socket, as they are but for a Host header after an HTTP/1.1
    request line that has none (as a browser sends); the whole answer until the server
    closes."""
    line, end, rest = data.partition(b"\r\n")
    if end and line.endswith(b" HTTP/1.1") and not re.search(rb"(?im)^host:", rest):
        data = line + end + f"Host: {host_of(server)}\r\n".encode() + rest
    with socket.create_connection(server.server_address[:2], timeout=30) as connection:
        connection.sendall(data)
        if shut_write:
            connection.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := connection.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def expected_reading(net, x: np.ndarray) -> dict:
    """The answer to an input x, from the reference and the weights."""
    probabilities = reference.probabilities(net, x[np.newaxis, :])[0]
    (hidden,) = reference.hidden_activations(net, x)
    return {"probabilities": probabilities, "input": x, "hidden": hidden}


def assert_reading(document: dict, expected: dict) -> None:
    given = np.array([document["probabilities"][str(digit)] for digit in range(10)])
    np.testing.assert_allclose(given, expected["probabilities"], atol=1e-6)
    assert given.sum() == pytest.approx(1, abs=1e-6)
    best, second = np.argsort(-given, kind="stable")[:2]
    assert (document["prediction"], document["runner_up"]) == (best, second)
    assert document["probability"] == given[best]
    np.testing.assert_allclose(document["input"], expected["input"], atol=1e-12)
    (hidden,) = document["hidden"]
    np.testing.assert_allclose(hidden, expected["hidden"], rtol=1e-5, atol=1e-5)


# -- answers -----------------------------------------------------------------------------


def test_the_page_is_one_self_contained_file(server):
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
    connection.request("GET", "/")
    response = connection.getresponse()
    page = response.read().decode()
    connection.close()
    status, headers = response.status, dict(response.getheaders())
    assert status == 200 and headers["Content-Type"] == "text/html; charset=utf-8"
    assert "default-src 'none'" in headers["Content-Security-Policy"]
    assert "connect-src 'self'" in headers["Content-Security-Policy"]
    assert '<canvas id="pad"' in page and "<script>" in page and "<style>" in page
    for reference_to_elsewhere in ("http://", "https://", "src=", "@import"):
        assert reference_to_elsewhere not in page
    # its one link: an empty icon inline, so the browser asks for no /favicon.ico
    assert re.findall(r"<link[^>]*>", page) == ['<link rel="icon" href="data:,">']


def test_model_describes_the_network(server, digits_model):
    status, headers, model = request(server, "GET", "/model")
    assert status == 200 and headers["content-type"] == "application/json"
    assert model["layers"] == [
        {"inputs": 784, "outputs": 64, "activation": "relu"},
        {"inputs": 64, "outputs": 10, "activation": "softmax"},
    ]
    assert model["parameters"] == 784 * 64 + 64 + 64 * 10 + 10
    assert model["classes"] == list(range(10)) and model["path"] == str(digits_model)
    assert model["test_accuracy"] is None  # no metrics.json beside it
    assert "784 -> 64" in model["summary"]


def test_every_answer_names_the_servers_model_and_another_server_another(server, digits_model):
    """A page open across a restart tells the new server's model from the old one's."""
    _, _, model = request(server, "GET", "/model")
    body = json.dumps({"pixels": [0.0] * 783 + [1.0]}).encode()
    _, _, answer = request(server, "POST", "/predict", body, {"Content-Type": "application/json"})
    assert re.fullmatch(r"[0-9a-f]{16}", model["model_id"])
    assert answer["model_id"] == model["model_id"]
    assert DigitApi(load_chosen(digits_model)).describe_model()["model_id"] != model["model_id"]


def run_metrics_of(hidden: list[int], test: list[int]) -> dict:
    """A run's metrics.json, of all ten digits and the given test [correct, total]."""
    record = dict.fromkeys(("lr", "train_loss", "train_accuracy", "val_loss", "val_accuracy"))
    record |= {"epoch": 0, "step": 0, "loss": 0.5, "accuracy": 0.9}
    return {
        "config": PRESETS["all-digits"].updated(hidden=tuple(hidden)).to_dict(),
        "data_files": [], "train_shape": [100, 784], "test_shape": [test[1], 784],
        "cost_axis": "epoch", "monitored_set": "test",
        "history": {"records": [record], "best_epoch": None, "stopped_early": False},
        "counts": {"train": [90, 100], "test": test}, "fit_seconds": 1.0, "versions": {},
        "test_accuracy": test[0] / test[1],
    }  # fmt: skip


def test_the_test_accuracy_of_a_run_folder_is_shown(digits_model, tmp_path):
    (tmp_path / "model.npz").write_bytes(digits_model.read_bytes())
    metrics = run_metrics_of([64], [9703, 10000])
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    assert load_chosen(tmp_path / "model.npz").describe()["test_accuracy"] == 9703 / 10000
    metrics["config"]["hidden"] = (128,)  # another network's run: its accuracy is not ours
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    assert load_chosen(tmp_path / "model.npz").describe()["test_accuracy"] is None
    for damaged in ("[1, 2", "[" * 100_000 + "]" * 100_000):  # cut short; nested too deeply
        (tmp_path / "metrics.json").write_text(damaged)
        assert load_chosen(tmp_path / "model.npz").describe()["test_accuracy"] is None


def test_a_run_accuracy_is_only_shown_for_the_model_its_sha256_names(digits_model, tmp_path):
    """A model of the same digits and layers saved into another run's folder (trained
    further, say) was shown with that run's accuracy: 96.71% for a model of 91.15%."""
    (tmp_path / "model.npz").write_bytes(digits_model.read_bytes())
    metrics = run_metrics_of([64], [9671, 10000])
    metrics["model_sha256"] = file_sha256(tmp_path / "model.npz")
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    assert load_chosen(tmp_path / "model.npz").describe()["test_accuracy"] == 0.9671
    metrics["model_sha256"] = "0" * 64  # the run's own model, since replaced
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    assert load_chosen(tmp_path / "model.npz").describe()["test_accuracy"] is None


def test_a_metrics_file_the_report_would_refuse_gives_no_accuracy(digits_model, tmp_path):
    """predict and serve read it whole, unchecked: 160 MB took 1.8 GB and 12 s, and an
    edited file's accuracy (test_shape and counts at odds) was shown as the model's."""
    (tmp_path / "model.npz").write_bytes(digits_model.read_bytes())
    metrics = run_metrics_of([64], [9703, 10000])
    metrics["test_shape"] = [5000, 784]
    (tmp_path / "metrics.json").write_text(json.dumps(metrics))
    assert load_chosen(tmp_path / "model.npz").describe()["test_accuracy"] is None
    with open(tmp_path / "metrics.json", "w") as file:  # over the limit (sparse)
        file.truncate(MAX_METRICS_BYTES + 1)
    assert load_chosen(tmp_path / "model.npz").describe()["test_accuracy"] is None
    with pytest.raises(DataFileError, match="33,554,433 bytes, more than the 33,554,432"):
        read_metrics(tmp_path / "metrics.json")  # refused before it is read


def test_an_image_is_read_as_predict_reads_it(server, digits, digits_model):
    net = sn.NeuralNet.load(digits_model)
    pictures, labels = digits
    predicted = []
    for picture in pictures:
        status, _, document = predict(server, picture)
        assert status == 200, document
        assert_reading(document, expected_reading(net, sn.load_image(picture)))
        predicted.append(document["prediction"])
    assert np.mean(np.array(predicted) == labels) >= 0.8


@pytest.mark.parametrize(
    "content_type", ["image/jpeg", "application/octet-stream", "IMAGE/PNG; x=1"]
)
def test_any_image_type_goes_through_the_reader(server, digits, digits_model, content_type):
    picture = digits[0][0]
    status, _, document = predict(server, picture, content_type)
    assert status == 200, document
    assert_reading(
        document, expected_reading(sn.NeuralNet.load(digits_model), sn.load_image(picture))
    )


@pytest.mark.parametrize(("light", "ground", "ink"), [(False, 1.0, "dark"), (True, 0.0, "light")])
def test_an_image_answer_says_how_a_pad_shows_it(server, digits, light, ground, ink):
    """A user's digit, dark on white, and the same ink white on a transparent canvas (a
    drawing app's export, which the reader lays on black): the page lays the picture on
    that tone and draws in the ink's colour, for its strokes to read as ink."""
    picture = Image.open(io.BytesIO(digits[0][0]))
    if light:
        picture = in_light_ink(picture, transparent=True)
    status, _, document = predict(server, encode(picture, "PNG"))
    assert status == 200, document
    assert document["pad"]["ink"] == ink
    assert document["pad"]["ground"] == pytest.approx(ground, abs=2 / 255)


@pytest.mark.parametrize("shape", ["rows", "flat"])
def test_pixels_go_to_the_network_as_they_are(server, digits_model, mnist_dir, shape):
    digit = sn.load_mnist(range(10), mnist_dir, relabel=False).x_test[0] / 255  # a 7
    pixels = digit.tolist() if shape == "rows" else digit.ravel().tolist()
    body = json.dumps({"pixels": pixels}).encode()
    status, _, document = predict(server, body, "application/json; charset=utf-8")
    assert status == 200, document
    assert_reading(document, expected_reading(sn.NeuralNet.load(digits_model), digit.ravel()))
    assert "pad" not in document  # pixels, not a picture to show


# -- refusals ----------------------------------------------------------------------------

GOOD_ROWS = [[0.0] * 28] * 28
BAD_BODIES = [
    pytest.param(b"{", "application/json", 400, "the body is not JSON", id="truncated json"),
    pytest.param(b"\xff\xfe", "application/json", 400, "the body is not JSON", id="not utf-8"),
    pytest.param(b"[" * 100_000, "application/json", 400, "not JSON", id="deeply nested"),
    pytest.param(b"1" * 5000, "application/json", 400, "not JSON", id="huge integer"),
    pytest.param(b"[1, 2]", "application/json", 400, '{"pixels": ...}', id="a list"),
    pytest.param(b'{"pixel": []}', "application/json", 400, '{"pixels": ...}', id="no pixels"),
    pytest.param(json.dumps({"pixels": GOOD_ROWS[:27]}), "application/json", 422, "28 rows",
                 id="27 rows"),
    pytest.param(json.dumps({"pixels": [[0.0] * 27] * 28}), "application/json", 422, "28 rows",
                 id="27 columns"),
    pytest.param(json.dumps({"pixels": [0.0] * 783}), "application/json", 422, "784",
                 id="783 values"),
    pytest.param(json.dumps({"pixels": [0.5] * 783 + [1.5]}), "application/json", 422,
                 r"in [0, 1]", id="above 1"),
    pytest.param(json.dumps({"pixels": [0.5] * 783 + ["x"]}), "application/json", 422,
                 "numbers", id="a string"),
    pytest.param(json.dumps({"pixels": [0.5] * 783 + [True]}), "application/json", 422,
                 "numbers", id="a boolean"),
    pytest.param('{"pixels": [' + "NaN, " * 783 + "NaN]}", "application/json", 422, "numbers",
                 id="NaN"),
    pytest.param('{"pixels": [' + "0, " * 783 + "1" * 400 + "]}", "application/json", 422,
                 r"in [0, 1]", id="a 400-digit integer"),  # an OverflowError: 500
    pytest.param(b"--b\r\n\r\nx\r\n--b--\r\n", "multipart/form-data; boundary=b", 415,
                 "got multipart/form-data: send the image itself as the body, not in a form",
                 id="a form upload"),  # 400: "malformed header"
    pytest.param(b"hello", "text/plain", 415, "takes an image", id="text/plain"),
    pytest.param(b"a=1", "application/x-www-form-urlencoded", 415, "got application/x-www",
                 id="form"),
    pytest.param(b"hello", "", 415, "got no Content-Type", id="no content type"),
    pytest.param(b"hello", "image/png", 422, "the uploaded image: not a PNG, JPEG", id="text"),
    pytest.param(encode(np.full((30, 30), 255, np.uint8), "PNG"), "image/png", 422,
                 "the uploaded image: the image is blank", id="blank"),
    pytest.param(png_header_only(5000, 5000), "image/png", 422,
                 "25,000,000 pixels, more than the 16,777,216", id="too many pixels"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "content_type", "status", "fragment"), BAD_BODIES)
def test_a_bad_body_gets_a_4xx_and_a_json_error(server, body, content_type, status, fragment):
    body = body.encode() if isinstance(body, str) else body
    headers = {"Content-Type": content_type} if content_type else {}
    answer_status, answer_headers, document = request(server, "POST", "/predict", body, headers)
    assert (answer_status, answer_headers["content-type"]) == (status, "application/json")
    assert fragment in document["error"] and "\n" not in document["error"]


def test_a_huge_body_is_refused_without_being_read(server):
    head = (
        f"POST /predict HTTP/1.1\r\nHost: {host_of(server)}\r\nContent-Type: image/png\r\n"
        "Content-Length: 1000000000000\r\n\r\n"
    ).encode()
    answer = raw_exchange(server, head + b"x" * 1000)
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1]) == {
        "error": "the upload has 1,000,000,000,000 bytes, more than the 16,777,216 accepted "
        "(16 MiB)"
    }


def test_a_body_over_the_limit_sent_in_full_gets_its_answer(server):
    """http.client, like most clients, sends the whole body before reading the answer."""
    status, _, document = predict(server, b"\0" * (MAX_BODY_BYTES + 10))
    assert status == 413 and f"more than the {MAX_BODY_BYTES:,} accepted" in document["error"]
    assert request(server, "GET", "/model")[0] == 200


@pytest.mark.parametrize(
    ("head", "status", "fragment"),
    [
        (b"POST /predict HTTP/1.1\r\nContent-Type: image/png\r\n\r\n", 411, "Content-Length"),
        (b"POST /predict HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
         "no transfer coding 'gzip' here"),
        (b"POST /predict HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n", 400,
         "bad chunk size line b'0x5"),
        (b"POST /predict HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello!!\r\n0\r\n\r\n",
         400, "a chunk is not as long as its size"),
        (b"POST /predict HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
         400, "both a Content-Length and a Transfer-Encoding"),
        (b"POST /predict HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello",
         400, "Content-Length headers that differ"),
        (b"GET /model HTTP/1.1\r\nHost: localhost\r\nHost: localhost\r\n\r\n", 400,
         "more than one Host header"),
        (b"GET /model HTTP/1.1\r\nHost: 127.0.0.1:abc\r\n\r\n", 400,
         "the Host header '127.0.0.1:abc' is not a host[:port]"),
        (b"POST /predict HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\n\r\n", 400,
         "chunked must be the last transfer coding"),
        (b"POST /predict HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n", 400,
         "bad chunk size line b'5\\n'"),
        (b"POST /predict HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" + b"1" * 2000, 400,
         "bad chunk size line b'1111"),
        (b"POST /predict HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n4000001\r\n", 413,
         "the upload has at least 67,108,865 bytes, more than the 16,777,216 accepted"),
        (b"GET /model HTTP/1.1\r\nContent-Length: 14\r\n\r\nGET /nope HTTP", 400,
         "a GET request has no body; /model got one"),
        (b"GET /model HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400, "bad Content-Length 'abc'"),
        (b"POST /predict HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n"
         + b"X-Trailer: 1\r\n" * 33 + b"\r\n", 400, "more than 32 trailer lines"),
        (b"POST /predict HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX-Long: "
         + b"x" * 2000 + b"\r\n\r\n", 400, "a trailer line over 1024 bytes"),
        (b"GET /model HTTP/1.1\r\nNoColonHere\r\nConnection: close\r\n\r\n", 400,
         "a header line is malformed"),
        (b"GET /model HTTP/1.1\r\nX-Note: a\r\n folded\r\n\r\n", 400, "folded over lines"),
        (b"GET /model HTTP/2.0\r\n\r\n", 505, "Invalid HTTP version (2.0)"),
        (b"POST /predict HTTP/1.1\r\nContent-Length: -5\r\n\r\n", 400, "bad Content-Length"),
        (b"POST /predict HTTP/1.1\r\nContent-Length: 1e3\r\n\r\n", 400, "bad Content-Length"),
        (b"GET / x HTTP/1.1\r\n\r\n", 400, "Bad request syntax"),
        (b"GET /nothing-here HTTP/1.1\r\n\r\n", 404, "nothing at /nothing-here"),
        (b"POST / HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 405, "/ takes GET and HEAD requests"),
        (b"GET /predict HTTP/1.1\r\n\r\n", 405, "/predict takes POST requests"),
        (b"DELETE /model HTTP/1.1\r\n\r\n", 501, "Unsupported method"),
        (b"GET /" + b"a" * 65_532, 414, "URI Too Long"),  # 65,537 bytes and no line end
    ],
    ids=["no length", "gzip", "bad chunk size", "short chunk", "length and chunks",
         "two lengths", "two hosts", "host with a port of letters", "chunked not last",
         "bare line feed", "long size line",
         "chunks over the limit", "get with a body", "get with a bad length", "many trailers",
         "long trailer",
         "no colon", "folded", "http/2",
         "negative length",
         "length not a number", "four words", "unknown path", "post to the page",
         "get predict", "delete", "long uri"],
)  # fmt: skip
def test_protocol_errors_get_a_json_error_too(server, head, status, fragment):
    """At once: a refusal does not wait for a body that cannot be framed (a request
    refused as ambiguous was then read as chunked, and answered after 15 s)."""
    start = time.monotonic()
    answer = raw_exchange(server, head)
    assert time.monotonic() - start < 5
    status_line, _, rest = answer.partition(b"\r\n")
    assert status_line.split()[1] == str(status).encode(), answer[:200]
    document = json.loads(rest.split(b"\r\n\r\n", 1)[1])
    assert fragment in document["error"]


@pytest.mark.parametrize("path", ["/", "/model"])
def test_head_gets_the_headers_of_get_and_no_body(server, path):
    """RFC 9110: a server must support HEAD (it answered 501). Two requests on one
    connection: the HEAD answer ends with its headers, and the GET after it is answered."""
    host = f"Host: {host_of(server)}\r\n"
    answer = raw_exchange(server, (
        f"HEAD {path} HTTP/1.1\r\n{host}\r\nGET {path} HTTP/1.1\r\n{host}Connection: close\r\n\r\n"
    ).encode())  # fmt: skip
    head, rest = answer.split(b"\r\n\r\n", 1)
    get_head, get_body = rest.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 200 ") and get_head.startswith(b"HTTP/1.1 200 ")
    assert header_of(head, "Content-Length") == header_of(get_head, "Content-Length")
    assert int(header_of(get_head, "Content-Length")) == len(get_body) > 0
    assert header_of(head, "Content-Type") == header_of(get_head, "Content-Type")


def header_of(head: bytes, name: str) -> str:
    (value,) = re.findall(rf"(?im)^{name}: *(.*?)\r?$", head.decode())
    return value


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("POST", "/", "GET, HEAD"), ("HEAD", "/predict", "POST"), ("GET", "/predict", "POST")],
)
def test_a_405_says_which_methods_the_path_takes(server, method, path, allowed):
    """RFC 9110: a 405 answer must list them in an Allow header."""
    body = b"" if method == "POST" else None
    status, headers, _ = request(server, method, path, body)
    assert (status, headers["allow"]) == (405, allowed)


def test_a_head_with_a_body_is_refused_without_a_body(server):
    answer = raw_exchange(server, b"HEAD /model HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ") and body == b""
    assert int(header_of(head, "Content-Length")) > 0  # its JSON error's, not sent


@pytest.mark.parametrize("encode_chunked", [False, True], ids=["whole", "chunked"])
def test_an_upload_over_the_limit_gets_its_413(server, encode_chunked):
    """Chunks adding up to more than the limit were refused as the limit was passed, the
    rest unread: the client, still sending, got a broken pipe (4 of 4 uploads of 20 MiB)."""
    body = os.urandom(20 * 2**20)
    pieces = iter([body[i : i + 2**20] for i in range(0, len(body), 2**20)])
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
    try:
        connection.request("POST", "/predict", body=pieces if encode_chunked else body,
                           headers={"Content-Type": "image/png"},
                           encode_chunked=encode_chunked)  # fmt: skip
        answer = connection.getresponse()
        status, document = answer.status, json.loads(answer.read())
    finally:
        connection.close()
    assert status == 413
    assert document["error"] == (
        "the upload has 20,971,520 bytes, more than the 16,777,216 accepted (16 MiB)"
    )


def test_json_over_its_own_limit_is_refused(server):
    """784 numbers take 20 KB; a 16 MiB document took 7 times that to parse, 32 at once
    900 MB."""
    document = json.dumps({"pixels": [0.25] * 400_000}).encode()
    status, _, answer = predict(server, document, "application/json")
    assert status == 413
    assert answer["error"] == (
        f"the upload has {len(document):,} bytes, more than the 1,048,576 accepted (1 MiB)"
    )


def expect_exchange(server, head: bytes, body: bytes) -> tuple[bytes, float]:
    """Send ``head`` (with Expect: 100-continue), wait for the server's first answer,
    send ``body`` only after a 100 Continue; return all it answered, and how long the
    first answer took."""
    with socket.create_connection(server.server_address[:2], timeout=30) as connection:
        start = time.monotonic()
        connection.sendall(head)
        first = connection.recv(65536)
        waited = time.monotonic() - start
        if first.startswith(b"HTTP/1.1 100 "):
            connection.sendall(body)
        rest = b"".join(iter(lambda: connection.recv(65536), b""))
    return first + rest, waited


@pytest.mark.parametrize(
    ("path", "length", "status"), [("/predict", 20 * 2**20, 413), ("/nope", 10, 404)]
)
def test_a_refused_upload_is_not_invited(server, path, length, status):
    """With Expect: 100-continue, http.server sent its 100 at once, inviting an upload it
    then refused (after waiting 5 s for the body it had invited)."""
    head = (f"POST {path} HTTP/1.1\r\nHost: {host_of(server)}\r\nContent-Type: image/png\r\n"
            f"Content-Length: {length}\r\nExpect: 100-continue\r\n\r\n").encode()  # fmt: skip
    answer, waited = expect_exchange(server, head, b"")
    assert answer.startswith(f"HTTP/1.1 {status} ".encode()) and waited < 2


def test_an_accepted_upload_is_invited_then_read(server, digits):
    picture = digits[0][0]
    head = (f"POST /predict HTTP/1.1\r\nHost: {host_of(server)}\r\nContent-Type: image/png\r\n"
            f"Content-Length: {len(picture)}\r\nExpect: 100-continue\r\n"
            "Connection: close\r\n\r\n").encode()  # fmt: skip
    answer, _ = expect_exchange(server, head, picture)
    continued, _, rest = answer.partition(b"\r\n\r\n")
    assert continued == b"HTTP/1.1 100 Continue" and rest.startswith(b"HTTP/1.1 200 ")
    assert json.loads(rest.split(b"\r\n\r\n", 1)[1]) == predict(server, picture)[2]


def test_a_request_line_of_one_word_gets_a_status_line_and_a_json_error(server):
    """http.server reads one word as an HTTP/0.9 request, and answered it as HTTP/0.9
    does: a bare body, with no status for the client to read."""
    answer = raw_exchange(server, b"GARBAGE\r\n\r\n")
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 ") and b"Content-Type: application/json" in head
    assert json.loads(body) == {"error": "Bad request syntax ('GARBAGE')"}
    assert request(server, "GET", "/model")[0] == 200


def test_an_http_1_1_request_without_a_host_is_a_bad_request(server):
    with socket.create_connection(server.server_address[:2], timeout=30) as connection:
        connection.sendall(b"GET /model HTTP/1.1\r\n\r\n")
        answer = b"".join(iter(lambda: connection.recv(65536), b""))
    assert answer.startswith(b"HTTP/1.1 400 ") and b"needs a Host header" in answer


def test_an_image_sent_in_chunks_is_read_as_one_sent_whole(server, digits):
    """Transfer-Encoding: chunked, as curl -T - and streaming clients send: refused
    with 411 before, though HTTP/1.1 servers must accept it."""
    picture = digits[0][0]
    whole = predict(server, picture)
    connection = http.client.HTTPConnection(*server.server_address[:2], timeout=30)
    try:
        pieces = [picture[:100], picture[100:101], picture[101:]]
        connection.request("POST", "/predict", body=iter(pieces),
                           headers={"Content-Type": "image/png"}, encode_chunked=True)  # fmt: skip
        response = connection.getresponse()
        chunked = response.status, json.loads(response.read())
    finally:
        connection.close()
    assert chunked == (whole[0], whole[2]) and whole[0] == 200


@pytest.mark.parametrize(
    ("path", "headers", "status"),
    [("/nope", {}, 404), ("/model", {}, 405), ("/predict", {"Host": "example.com"}, 421)],
)
def test_a_refusal_before_the_body_is_read_reaches_a_client_still_sending_it(
    server, path, headers, status
):
    """The server answered and closed without reading the body: a client still
    uploading it got a broken pipe or a reset instead of the answer (a trial: 5 to 15
    of 20 uploads of 3 MB)."""
    body = os.urandom(30_000_000)  # more than the connection's buffers hold
    for _ in range(3):
        answer = request(server, "POST", path, body, {"Content-Type": "image/png", **headers})
        assert answer[0] == status


@pytest.mark.parametrize(
    ("body", "fragment"),
    [(b"5\r\nhel", "the body ended before its announced end"),
     (b"0\r\nX-Trailer: 1", "the body ended within its trailer lines")],
)  # fmt: skip
def test_chunks_cut_short_are_refused(server, body, fragment):
    head = (
        b"POST /predict HTTP/1.1\r\nContent-Type: image/png\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    answer = raw_exchange(server, head + body, shut_write=True)
    assert answer.startswith(b"HTTP/1.1 400 ") and fragment.encode() in answer


def test_a_body_shorter_than_its_length_is_refused(server):
    head = b"POST /predict HTTP/1.1\r\nContent-Type: image/png\r\nContent-Length: 100\r\n\r\n"
    answer = raw_exchange(server, head + b"short", shut_write=True)
    assert answer.startswith(b"HTTP/1.1 400 ") and b"shorter than its Content-Length" in answer


def test_a_bug_answers_500_and_the_server_goes_on(server, monkeypatch, capsys):
    def broken(self, content_type, body):
        raise RuntimeError("a bug \x1b[2J in its message")

    monkeypatch.setattr(DigitApi, "predict", broken)
    status, _, document = predict(server, b"anything")
    assert (status, document) == (500, {"error": "internal error (see the server's log)"})
    logged = capsys.readouterr().err  # the traceback, its lines kept, its escapes written out
    assert logged.startswith("scratchnet serve: 127.0.0.1 internal error on POST /predict\n")
    assert "\nTraceback (most recent call last):\n" in logged and "\x1b" not in logged
    assert "\n\n" not in logged
    assert "RuntimeError: a bug \\x1b[2J in its message\n" in logged
    monkeypatch.undo()
    assert request(server, "GET", "/model")[0] == 200


def test_a_stalled_client_does_not_hold_up_others_and_is_let_go(digits_model, monkeypatch):
    monkeypatch.setattr(DigitHandler, "timeout", 1)
    with (
        serving(digits_model) as server,
        socket.create_connection(server.server_address[:2], timeout=10) as stalled,
    ):
        stalled.sendall(b"POST /predict HTTP/1.1\r\nContent-Length: 100\r\n")  # and no more
        start = time.monotonic()
        assert request(server, "GET", "/model")[0] == 200
        assert time.monotonic() - start < 3
        assert stalled.recv(100) == b""  # closed by the server after its timeout
        assert time.monotonic() - start < 5


def test_an_idle_connection_is_closed_without_a_line_and_a_stalled_request_with_one(
    digits_model, monkeypatch, capsys
):
    """A browser opens connections it may not use: each logged 'Request timed out' when
    let go. A request begun and stalled is still logged."""
    monkeypatch.setattr(DigitHandler, "timeout", 1)
    with (
        serving(digits_model) as server,
        socket.create_connection(server.server_address[:2], timeout=10) as idle,
        socket.create_connection(server.server_address[:2], timeout=10) as stalled,
    ):
        stalled.sendall(b"GET /model HTTP/1.1\r\n")  # and no more
        assert idle.recv(100) == b"" and stalled.recv(100) == b""  # both let go
    logged = capsys.readouterr().err.splitlines()
    assert len(logged) == 1 and "Request timed out" in logged[0], logged
    assert "nothing came for 1 s" in logged[0]


def test_a_body_that_stalls_gets_a_408(digits_model, monkeypatch):
    monkeypatch.setattr(DigitHandler, "timeout", 1)
    with serving(digits_model) as server:
        head = (f"POST /predict HTTP/1.1\r\nHost: {host_of(server)}\r\nContent-Type: image/png"
                "\r\nContent-Length: 100\r\n\r\n").encode()  # fmt: skip
        answer = raw_exchange(server, head + b"only part of it")
    assert answer.startswith(b"HTTP/1.1 408 ") and b"nothing came for 1 s" in answer


def test_fifty_requests_from_sixteen_clients_at_once_all_get_their_answer(
    server, digits, digits_model
):
    """Half the server's connection cap at once (MAX_CONNECTIONS, 32): a client's next
    connection may come before the server has let go of its last, and one past the cap
    waits (its own test)."""
    net = sn.NeuralNet.load(digits_model)
    pictures, _ = digits
    expected = [expected_reading(net, sn.load_image(picture)) for picture in pictures]
    jobs = []
    for index in range(50):
        kind = index % 5
        if kind == 3:
            jobs.append(("bad", b"{", "application/json", 400))
        elif kind == 4:
            jobs.append(("bad", b"x" * 10, "text/plain", 415))
        else:
            jobs.append((index % 10, pictures[index % 10], "image/png", 200))

    def run(job):
        return predict(server, job[1], job[2])

    with ThreadPoolExecutor(max_workers=MAX_CONNECTIONS // 2) as pool:
        answers = list(pool.map(run, jobs))
    for (which, _, _, status), (answer_status, _, document) in zip(jobs, answers, strict=True):
        assert answer_status == status, document
        if status == 200:
            assert_reading(document, expected[which])
    assert request(server, "GET", "/model")[0] == 200


@pytest.mark.parametrize(
    ("host", "status"),
    [
        ("rebound.example:{port}", 421),  # a page of another site, rebound to 127.0.0.1
        ("rebound.example", 421),
        ("", 421),
        ("localhost:{port}", 200),
        ("LOCALHOST:{port}", 200),
        ("127.0.0.1:{port}", 200),
        ("localhost:9000", 200),  # forwarded (ssh -L 9000:localhost:PORT, an editor's)
        ("localhost", 200),  # port 80, which browsers leave out
    ],
)
def test_a_loopback_server_answers_only_requests_to_its_own_address(server, host, status):
    """DNS rebinding: a web page whose name now points at 127.0.0.1 could read /model
    (which tells the user's home folder) and use the API; its Host header gives it away."""
    host = host.format(port=server.server_address[1])
    answer = raw_exchange(server, f"GET /model HTTP/1.1\r\nHost: {host}\r\n"
                          "Connection: close\r\n\r\n".encode())  # fmt: skip
    assert answer.startswith(f"HTTP/1.1 {status} ".encode())
    if status == 421:
        document = json.loads(answer.split(b"\r\n\r\n", 1)[1])
        assert document["error"] == (
            f"this server answers only requests to localhost or 127.0.0.1, not to Host {host!r}"
        )


@pytest.mark.parametrize(
    ("target", "status"),
    [("http://evil.example/model", 421), ("http://localhost:{port}/model", 200)],
)
def test_a_request_to_an_absolute_uri_is_judged_by_its_host(server, target, status):
    """RFC 9112: the URI's host counts, not the Host header (which passed the first)."""
    port = server.server_address[1]
    target = target.format(port=port)
    answer = raw_exchange(server, f"GET {target} HTTP/1.1\r\nHost: localhost:{port}\r\n"
                          "Connection: close\r\n\r\n".encode())  # fmt: skip
    assert answer.startswith(f"HTTP/1.1 {status} ".encode()), answer[:200]
    if status == 421:
        assert b"not to the request's URI 'evil.example'" in answer


@pytest.mark.parametrize(
    ("address", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("::ffff:127.0.0.1", True), ("0.0.0.0", False),
     ("192.168.1.10", False), ("::", False)],
)  # fmt: skip
def test_loopback_is_told_by_the_address_bound(address, loopback):
    assert is_loopback(address) is loopback


@pytest.mark.parametrize("host", ["127.1", "LOCALHOST"])
def test_a_loopback_host_spelled_otherwise_is_loopback_all_the_same(digits_model, host):
    """--host 127.1 bound loopback, but the Host check was off and the command said
    other machines could reach the page: the socket's address decides now."""
    server = DigitServer((host, 0), DigitApi(load_chosen(digits_model)))
    try:
        assert server.loopback and server.hosts is not None
    finally:
        server.server_close()


def test_a_content_length_of_5000_digits_is_a_bad_request_not_a_500(server):
    head = (
        f"POST /predict HTTP/1.1\r\nHost: {host_of(server)}\r\nContent-Type: image/png\r\n"
        f"Content-Length: {'9' * 5000}\r\n\r\n"
    ).encode()
    answer = raw_exchange(server, head)
    assert answer.startswith(b"HTTP/1.1 400 ") and b"bad Content-Length" in answer


def test_control_characters_of_a_request_are_escaped_in_the_log(server, capsys):
    """A path could set the terminal's title, erase lines or write a fake 'stopped'."""
    raw_exchange(server, f"GET /\x1b]0;PWNED\x07\x1b[2K HTTP/1.1\r\nHost: {host_of(server)}\r\n"
                 "Connection: close\r\n\r\n".encode())  # fmt: skip
    logged = capsys.readouterr().err
    assert "nothing at /\\x1b]0;PWNED\\x07\\x1b[2K" in logged and "\x1b" not in logged


@contextlib.contextmanager
def serving(digits_model):
    """A server of its own (for settings a test changes), in a thread."""
    server = DigitServer(("127.0.0.1", 0), DigitApi(load_chosen(digits_model)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def wait_until(condition, seconds: float = 10) -> None:
    """Poll ``condition`` until it holds (the server's threads have reached a state)."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "the server never got there"
        time.sleep(0.02)


def all_places_taken(server) -> bool:
    return server.places._value == 0


def test_a_connection_over_the_limit_waits_for_a_place_and_is_served(digits_model, monkeypatch):
    """Each connection holds a thread (and up to the body limit of memory): past
    MAX_CONNECTIONS one waits until one of them leaves. It was closed unanswered (a
    trial: 15 of 50 clients at once got no answer)."""
    monkeypatch.setattr("scratchnet.app.server.MAX_CONNECTIONS", 2)
    with serving(digits_model) as server:
        idle = [socket.create_connection(server.server_address[:2]) for _ in range(2)]
        wait_until(lambda: all_places_taken(server))
        threading.Timer(0.5, idle[0].close).start()
        start = time.monotonic()
        assert request(server, "GET", "/model")[0] == 200
        assert time.monotonic() - start >= 0.4  # it waited for the place to free
        idle[1].close()


def test_a_connection_past_the_waiting_ones_gets_a_503_even_while_uploading(
    digits_model, monkeypatch
):
    """With no connection allowed to wait (MAX_WAITING 0), each is turned away at once;
    it was closed unread, and a client still sending lost the answer (3 of 3)."""
    monkeypatch.setattr("scratchnet.app.server.MAX_CONNECTIONS", 1)
    monkeypatch.setattr("scratchnet.app.server.MAX_WAITING", 0)
    with serving(digits_model) as server:
        status, _, document = predict(server, os.urandom(30_000_000))
    assert (status, document) == (503, {"error": "the server is busy: try again in a moment"})


def test_connections_that_find_no_place_in_time_each_get_a_503(digits_model, monkeypatch):
    """Each waits in a thread of its own: they waited one after another in the accept
    loop (the third got its 503 after 90 s). One still uploading gets it too."""
    monkeypatch.setattr("scratchnet.app.server.MAX_CONNECTIONS", 1)
    monkeypatch.setattr("scratchnet.app.server.PLACE_WAIT_SECONDS", 1)
    upload = os.urandom(30_000_000)  # more than the connection's buffers hold
    with serving(digits_model) as server, socket.create_connection(server.server_address[:2]):
        wait_until(lambda: all_places_taken(server))
        start = time.monotonic()
        with ThreadPoolExecutor(4) as pool:
            bodies = [b"w", b"x", b"y", upload]
            answers = list(pool.map(lambda body: predict(server, body), bodies))
        assert time.monotonic() - start < 3  # side by side: one after another took 4 s
    for status, headers, document in answers:
        assert (status, headers["retry-after"]) == (503, "1")
        assert document == {"error": "the server is busy: try again in a moment"}


def test_a_kept_alive_connection_lets_go_of_its_place_when_another_waits(digits_model, monkeypatch):
    """A client sending a request every few seconds on one connection held its place
    for ever."""
    monkeypatch.setattr("scratchnet.app.server.MAX_CONNECTIONS", 1)
    with serving(digits_model) as server:
        kept = http.client.HTTPConnection(*server.server_address[:2], timeout=10)
        try:
            kept.request("GET", "/model")
            first = kept.getresponse()
            assert first.read() and first.getheader("Connection") is None  # kept alive
            with ThreadPoolExecutor(1) as pool:
                other = pool.submit(request, server, "GET", "/model")
                wait_until(lambda: server.crowded)
                kept.request("GET", "/model")
                answer = kept.getresponse()
                assert answer.read() and answer.getheader("Connection") == "close"
                assert other.result(timeout=10)[0] == 200
        finally:
            kept.close()


def test_a_broken_request_after_a_good_one_on_a_connection_is_answered_at_once(server, digits):
    """The handler kept the last request's headers: a broken request line was taken to
    have its body, read for 15 s, and never answered."""
    body = digits[0][0]
    head = (f"POST /predict HTTP/1.1\r\nHost: {host_of(server)}\r\nContent-Type: image/png\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode()  # fmt: skip
    start = time.monotonic()
    answer = raw_exchange(server, head + body + b"GET / HTTP/1.1 extra\r\n\r\n")
    assert time.monotonic() - start < 5
    first, second = answer.split(b"HTTP/1.1 ")[1:]
    assert first.startswith(b"200 ") and second.startswith(b"400 ")
    assert b"Bad request version" in second


def test_a_request_without_a_version_is_answered_with_a_status_line(server):
    """'GET /nope' is an HTTP/0.9 request to http.server, answered with a bare body."""
    answer = raw_exchange(server, b"GET /nope\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 421 ") and b"Content-Type: application/json" in answer


def chunked_upload(server, pieces: list[bytes]) -> tuple[int, dict]:
    """The status and answer of an image sent as the raw chunked ``pieces``."""
    head = (f"POST /predict HTTP/1.1\r\nHost: {host_of(server)}\r\nContent-Type: image/png\r\n"
            "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n").encode()  # fmt: skip
    answer = raw_exchange(server, head + b"".join(pieces))
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), json.loads(rest.split(b"\r\n\r\n", 1)[1])


def test_chunks_with_extensions_padded_sizes_and_trailers_are_read(server, digits):
    picture = digits[0][0]
    half = len(picture) // 2
    pieces = [f"{half:012X} ; name=value\r\n".encode(), picture[:half], b"\r\n",
              f"{len(picture) - half:x}\r\n".encode(), picture[half:], b"\r\n",
              b"0\r\n", b"X-Checksum: none\r\n", b"\r\n"]  # fmt: skip
    assert chunked_upload(server, pieces) == (200, predict(server, picture)[2])


def test_a_body_of_many_tiny_chunks_takes_the_memory_of_its_bytes():
    """Each chunk was kept as an object of its own, of about 40 bytes with its place in
    a list: 2,000,000 chunks of 2 bytes took 270 MiB; a body at the limit in such
    chunks, over 1 GiB a connection."""
    body = os.urandom(200_000)
    chunked = b"".join(b"1\r\n" + body[i : i + 1] + b"\r\n" for i in range(len(body)))
    rfile = io.BufferedReader(io.BytesIO(chunked + b"0\r\n\r\n"))
    tracemalloc.start()
    try:
        read = read_chunks(rfile, MAX_BODY_BYTES)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert read == body
    assert peak < 3 * len(body)  # the body gathered, then its copy as bytes


def whole_answer(connection: socket.socket) -> bytes:
    """One answer, its headers and the body its Content-Length gives, however the
    server's writes arrive (one recv may hold the headers alone)."""
    answer = b""
    while b"\r\n\r\n" not in answer:
        answer += received(connection)
    head, _, body = answer.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?im)^content-length: *(\d+)", head)[1])
    while len(body) < length:
        body += received(connection)
    return head + b"\r\n\r\n" + body


def received(connection: socket.socket) -> bytes:
    chunk = connection.recv(65536)
    assert chunk, "the connection closed before the answer ended"
    return chunk


def test_a_client_that_trickles_its_request_is_let_go_at_the_deadline(digits_model, monkeypatch):
    """A byte every half second kept each read under its timeout: 32 such clients held
    every place for as long as they liked. The request is cut at the deadline with a 408."""
    monkeypatch.setattr("scratchnet.app.server.REQUEST_DEADLINE_SECONDS", 1.5)
    with serving(digits_model) as server:
        with socket.create_connection(server.server_address[:2], timeout=10) as slow:
            start = time.monotonic()
            slow.sendall(f"POST /predict HTTP/1.1\r\nHost: {host_of(server)}\r\nContent-Type: "
                         "image/png\r\nContent-Length: 1000\r\n\r\n".encode())  # fmt: skip
            while not select.select([slow], [], [], 0.5)[0]:  # until the server answers
                slow.sendall(b"x")
                assert time.monotonic() - start < 5
            answer = whole_answer(slow)
        assert time.monotonic() - start < 3
    assert answer.startswith(b"HTTP/1.1 408 ") and b"the request took over 1.5 s" in answer


def test_the_deadline_runs_from_a_requests_first_byte(digits_model, monkeypatch):
    """It ran from the end of the connection's last request: a kept-alive connection
    idle for most of it had its next request cut short."""
    monkeypatch.setattr("scratchnet.app.server.REQUEST_DEADLINE_SECONDS", 1.5)
    with serving(digits_model) as server:
        connection = http.client.HTTPConnection(*server.server_address[:2], timeout=10)
        try:
            connection.request("GET", "/model")
            assert connection.getresponse().read()
            time.sleep(1.8)  # idle, kept alive, past the deadline of a request
            connection.request("GET", "/model")
            assert connection.getresponse().status == 200
        finally:
            connection.close()


def slow_predictions(monkeypatch, seconds: float) -> None:
    """Every prediction takes ``seconds`` longer."""
    predict = DigitApi.predict

    def slowly(self, content_type, body):
        time.sleep(seconds)
        return predict(self, content_type, body)

    monkeypatch.setattr(DigitApi, "predict", slowly)


def test_a_stopping_server_gives_the_answers_in_flight(digits_model, digits, monkeypatch):
    """A stop (Ctrl-C, SIGTERM) dropped the requests being answered: a trial's six
    clients got no answer."""
    slow_predictions(monkeypatch, 0.5)
    with serving(digits_model) as server, ThreadPoolExecutor(1) as pool:
        answer = pool.submit(predict, server, digits[0][0])
        wait_until(lambda: server.answering == 1)
        start = time.monotonic()
        server.finish_answers(10)
        assert server.answering == 0 and time.monotonic() - start < 5
        assert answer.result(timeout=10)[0] == 200


def test_a_stopping_server_waits_for_answers_no_longer_than_it_is_told(
    digits_model, digits, monkeypatch
):
    slow_predictions(monkeypatch, 3)
    with serving(digits_model) as server, ThreadPoolExecutor(1) as pool:
        pool.submit(predict, server, digits[0][0])
        wait_until(lambda: server.answering == 1)
        start = time.monotonic()
        server.finish_answers(0.3)
        assert 0.25 < time.monotonic() - start < 2 and server.answering == 1


def test_a_line_break_a_client_sends_cannot_forge_a_log_line(capsys):
    """The log escaped every control character but the line break: a header value the
    server quotes (the refused Content-Type) could add a line of its own."""
    handler = object.__new__(DigitHandler)
    handler.client_address = ("127.0.0.1", 1)
    handler.log_error("%d %s", 415, "got text/plain\nscratchnet serve: 10.0.0.66 500 forged")
    assert capsys.readouterr().err == (
        "scratchnet serve: 127.0.0.1 415 got text/plain\\x0ascratchnet serve: 10.0.0.66 "
        "500 forged\n"
    )
