"""``scratchnet serve``: starts, prints its address, answers, stops cleanly on Ctrl-C;
bad options and busy ports are one-line errors."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from scratchnet.app.commands import serve as serve_command
from scratchnet.app.server import DigitServer

from .cli_helpers import assert_one_line_error, invoke

ADDRESS_LINE = "scratchnet: the draw-a-digit page is at http://127.0.0.1:{port}/ (Ctrl-C stops)"


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["Ctrl-C", "SIGTERM"])
def test_serve_prints_its_address_answers_and_stops_on_ctrl_c_or_sigterm(
    digits_model, tmp_path, stop
):
    process = subprocess.Popen(
        [sys.executable, "-m", "scratchnet", "serve", "--model", str(digits_model), "--port", "0"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline().strip()
        port = int(first.split(":")[-1].split("/")[0])
        assert first == ADDRESS_LINE.format(port=port)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/model", timeout=30) as response:
            assert json.load(response)["path"] == str(digits_model)
        process.send_signal(stop)
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait()
    assert process.returncode == 0, err
    assert out == "scratchnet: stopped\n" and "Traceback" not in err
    with socket.socket() as probe:  # the port is free again: a new server can listen on it
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        probe.bind(("127.0.0.1", port))
        probe.listen()


SLOW_SERVE = """
import sys, time
from scratchnet.app.api import DigitApi
from scratchnet.app.entry import entry_point

predict = DigitApi.predict

def slowly(self, content_type, body):
    time.sleep(1.5)
    return predict(self, content_type, body)

DigitApi.predict = slowly
sys.argv = ["scratchnet", "serve", "--model", MODEL, "--port", "0"]
entry_point()
"""


def test_a_stop_answers_the_requests_in_flight_first(digits_model, tmp_path):
    """SIGTERM dropped them: the clients got no answer."""
    script = SLOW_SERVE.replace("MODEL", repr(str(digits_model)))
    process = subprocess.Popen(
        [sys.executable, "-c", script], cwd=tmp_path, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        port = int(process.stdout.readline().strip().split(":")[-1].split("/")[0])
        body = json.dumps({"pixels": [0.0] * 784}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{port}/predict", data=body,
                                         headers={"Content-Type": "application/json"})  # fmt: skip
        with ThreadPoolExecutor(1) as pool:
            answer = pool.submit(lambda: urllib.request.urlopen(request, timeout=30).status)
            time.sleep(0.5)  # the answer is being computed (1.5 s)
            process.send_signal(signal.SIGTERM)
            assert answer.result(timeout=30) == 200
        out, err = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait()
    assert (process.returncode, out) == (0, "scratchnet: stopped\n"), err


def test_a_busy_port_is_one_line_error(digits_model):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        outcome = invoke("serve", "--model", digits_model, "--port", port)
    assert_one_line_error(
        outcome, f"cannot listen on 127.0.0.1 port {port}: Address already in use", "--port"
    )


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["--port", "70000"], ["--port", "from 0 to 65535", "'70000'"]),
        (["--port", "http"], ["--port", "'http'"]),
        (["--port", "-1"], ["--port"]),
        (["--host", "192.0.2.1"], ["cannot listen on 192.0.2.1 port 0", "Cannot assign"]),
        (["--host", ""], ["--host", "an empty host; 0.0.0.0 listens on every interface"]),
    ],
    ids=[
        "port too big",
        "port not a number",
        "negative port",
        "address of another machine",
        "empty host",
    ],
)
def test_bad_address_options_are_one_line_errors(argv, fragments, digits_model):
    outcome = invoke("serve", "--model", digits_model, "--port", "0", *argv)
    assert_one_line_error(outcome, *fragments)


def test_an_ipv6_host_may_be_written_as_its_url_writes_it(digits_model, monkeypatch):
    """--host [::1], the form the printed address takes, listens on ::1."""
    monkeypatch.setattr(DigitServer, "serve_forever", interrupted)
    outcome = invoke("serve", "--model", digits_model, "--port", "0", "--host", "[::1]")
    assert outcome.code == 0, outcome
    assert outcome.out.startswith("scratchnet: the draw-a-digit page is at http://[::1]:")


@pytest.mark.parametrize(
    ("host", "local"),
    [("0.0.0.0", "127.0.0.1"), ("::", "[::1]"), ("::ffff:0.0.0.0", "127.0.0.1")],
)
def test_listening_on_every_address_gives_an_address_a_browser_opens(
    digits_model, monkeypatch, host, local
):
    """It printed (and --open opened) http://0.0.0.0:PORT/, which browsers refuse."""
    opened = []
    monkeypatch.setattr(serve_command.webbrowser, "open", lambda url: opened.append(url) or True)
    monkeypatch.setattr(DigitServer, "serve_forever", interrupted)
    outcome = invoke("serve", "--model", digits_model, "--port", "0", "--host", host, "--open")
    assert outcome.code == 0, outcome
    first, second, _ = outcome.out.splitlines()
    port = re.fullmatch(rf"scratchnet: the draw-a-digit page is at http://{re.escape(local)}:"
                        r"(\d+)/ \(Ctrl-C stops\)", first)[1]  # fmt: skip
    assert opened == [f"http://{local}:{port}/"]
    assert second == (f"scratchnet: other machines can reach it too, at this machine's "
                      f"addresses (--host {host} listens on every one) on port {port}")  # fmt: skip


def interrupted(self, poll_interval=0.5):
    raise KeyboardInterrupt


def test_open_opens_the_address_in_the_browser(digits_model, monkeypatch):
    opened = []
    monkeypatch.setattr(serve_command.webbrowser, "open", lambda url: opened.append(url) or True)
    monkeypatch.setattr(DigitServer, "serve_forever", interrupted)
    outcome = invoke("serve", "--model", digits_model, "--port", "0", "--open")
    assert outcome.code == 0, outcome
    first, last = outcome.out.splitlines()
    assert (
        len(opened) == 1
        and first == f"scratchnet: the draw-a-digit page is at {opened[0]} (Ctrl-C stops)"
    )
    assert last == "scratchnet: stopped"
