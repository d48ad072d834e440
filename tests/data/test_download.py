"""Verified, atomic downloads, served by a local HTTP server (no internet needed)."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from scratchnet.data import download as download_module
from scratchnet.data import mnist
from scratchnet.data.download import DownloadError, download
from scratchnet.data.mnist import ENV_DATA_DIR, load_mnist, locate_files

NAME = "payload.bin"
PAYLOAD = bytes(range(256)) * 600  # 150 kB: streamed in several chunks
CORRUPTED = PAYLOAD[:-1] + b"\x00"
SHA256 = hashlib.sha256(PAYLOAD).hexdigest()
MNIST_GZ = [
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
]


class RecordingHandler(SimpleHTTPRequestHandler):
    """Serves a folder, records the requested paths, logs nothing."""

    def do_GET(self):
        self.server.requested.append(self.path)
        super().do_GET()

    def log_message(self, format, *args):
        pass


@pytest.fixture
def serve(monkeypatch):
    """Start a local HTTP server for a folder; returns the server (``.url``, ``.requested``)."""
    monkeypatch.setenv("no_proxy", "*")  # never route 127.0.0.1 through a proxy
    running = []

    def start(folder: Path) -> ThreadingHTTPServer:
        server = ThreadingHTTPServer(
            ("127.0.0.1", 0), partial(RecordingHandler, directory=str(folder))
        )
        server.requested = []
        server.url = f"http://127.0.0.1:{server.server_port}/"
        thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        running.append((server, thread))
        return server

    yield start
    for server, thread in running:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def refused_url():
    """A URL on a local port whose socket is bound but not listening: connection refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"


@pytest.fixture
def site(tmp_path, serve):
    """One server with three mirrors: good/ (right bytes), bad/ (corrupted), empty/ (404)."""
    root = tmp_path / "site"
    for mirror, content in [("good", PAYLOAD), ("bad", CORRUPTED), ("empty", None)]:
        (root / mirror).mkdir(parents=True)
        if content is not None:
            (root / mirror / NAME).write_bytes(content)
    return serve(root)


@pytest.fixture
def dest(tmp_path) -> Path:
    """The download folder (not created yet: download creates it)."""
    return tmp_path / "cache" / "scratchnet"


def listing(folder: Path) -> list[str]:
    return sorted(os.listdir(folder))


@pytest.mark.parametrize("slash", ["/", ""], ids=["trailing-slash", "no-slash"])
def test_downloads_from_the_first_mirror(site, dest, slash):
    path = download(NAME, SHA256, dest, [site.url + "good" + slash], progress=False)

    assert path == dest / NAME
    assert path.read_bytes() == PAYLOAD
    assert listing(dest) == [NAME]
    assert site.requested == [f"/good/{NAME}"]


def test_corrupted_first_mirror_falls_back_to_the_second(site, dest):
    path = download(NAME, SHA256, dest, [site.url + "bad/", site.url + "good/"], progress=False)

    assert path.read_bytes() == PAYLOAD
    assert hashlib.sha256(path.read_bytes()).hexdigest() == SHA256
    assert listing(dest) == [NAME]  # the rejected copy left no temporary file
    assert site.requested == [f"/bad/{NAME}", f"/good/{NAME}"]


def test_unreachable_mirror_is_skipped(site, dest, refused_url):
    path = download(NAME, SHA256, dest, [refused_url, site.url + "good/"], progress=False)

    assert path.read_bytes() == PAYLOAD
    assert listing(dest) == [NAME]


def test_all_mirrors_failing_lists_each_url_and_leaves_nothing(site, dest, refused_url):
    mirrors = [site.url + "bad/", site.url + "empty/", refused_url]

    with pytest.raises(DownloadError, match=f"^could not download {NAME}: ") as error:
        download(NAME, SHA256, dest, mirrors, progress=False)

    failures = str(error.value).removeprefix(f"could not download {NAME}: ").split("; ")
    bad_sha256 = hashlib.sha256(CORRUPTED).hexdigest()
    assert failures[0] == (
        f"{site.url}bad/{NAME}: checksum mismatch (expected sha256 {SHA256}, got {bad_sha256})"
    )
    assert failures[1] == f"{site.url}empty/{NAME}: HTTP 404 File not found"
    assert re.fullmatch(rf"{re.escape(refused_url + NAME)}: .*Connection refused", failures[2])
    assert len(failures) == 3
    assert listing(dest) == []


def test_failed_download_keeps_the_existing_file(site, dest):
    dest.mkdir(parents=True)
    (dest / NAME).write_bytes(b"previous content")

    with pytest.raises(DownloadError, match="checksum mismatch"):
        download(NAME, SHA256, dest, [site.url + "bad/"], progress=False)

    assert (dest / NAME).read_bytes() == b"previous content"
    assert listing(dest) == [NAME]


def test_verified_download_replaces_a_stale_file(site, dest):
    dest.mkdir(parents=True)
    (dest / NAME).write_bytes(b"stale")

    download(NAME, SHA256, dest, [site.url + "good/"], progress=False)

    assert (dest / NAME).read_bytes() == PAYLOAD
    assert listing(dest) == [NAME]


def test_interrupted_download_leaves_no_temporary_file(dest, monkeypatch):
    def interrupted_stream(url, file, label, progress):
        file.write(PAYLOAD[:1000])
        raise KeyboardInterrupt

    monkeypatch.setattr(download_module, "_stream", interrupted_stream)

    with pytest.raises(KeyboardInterrupt):
        download(NAME, SHA256, dest, ["http://127.0.0.1:9/"], progress=False)
    assert listing(dest) == []


@pytest.mark.parametrize("progress", [True, False])
def test_progress_bar_only_when_asked(site, dest, capsys, progress):
    download(NAME, SHA256, dest, [site.url + "good/"], progress=progress)

    assert (NAME in capsys.readouterr().err) is progress


# --- load_mnist downloading what no folder holds ---------------------------------------


@pytest.mark.parametrize("present", [[], MNIST_GZ[2:]], ids=["none-present", "test-present"])
def test_load_mnist_downloads_missing_files_into_the_cache(
    mnist_dir, tmp_path, monkeypatch, serve, refused_url, present
):
    monkeypatch.delenv(ENV_DATA_DIR, raising=False)
    server = serve(mnist_dir)  # the real files, served read-only from where they are
    monkeypatch.setattr(mnist, "MIRRORS", (refused_url, server.url))
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    for name in present:
        (data_dir / name).write_bytes((mnist_dir / name).read_bytes())

    data = load_mnist((1, 2), data_dir)

    assert data.x_train.shape == (12700, 28, 28)
    assert data.x_test.shape == (2167, 28, 28)
    assert np.bincount(data.y_train).tolist() == [6742, 5958]
    downloaded = [name for name in MNIST_GZ if name not in present]
    assert sorted(server.requested) == sorted(f"/{name}" for name in downloaded)
    cache = Path(os.environ["XDG_CACHE_HOME"]) / "scratchnet"
    assert listing(cache) == sorted(downloaded)
    for name in downloaded:
        assert (cache / name).read_bytes() == (mnist_dir / name).read_bytes()
    offline = locate_files(data_dir, download_missing=False)  # now found without a download
    assert sorted(p.name for p in offline.values() if p.parent == cache) == sorted(downloaded)


def test_a_mirror_that_does_not_speak_http_is_skipped(site, dest):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        answer = threading.Thread(target=lambda: _answer_garbage(server), daemon=True)
        answer.start()
        garbage = f"http://127.0.0.1:{server.getsockname()[1]}/"
        path = download(NAME, SHA256, dest, [garbage, site.url + "good/"], progress=False)
    assert path.read_bytes() == PAYLOAD
    assert listing(dest) == [NAME]


def _answer_garbage(server: socket.socket) -> None:
    connection, _ = server.accept()
    with connection:
        connection.recv(65536)
        connection.sendall(b"garbage\r\n\r\n")
