"""The draw-a-digit page's web server: the standard library's ``ThreadingHTTPServer``.

Why the standard library and not a framework: the server has three routes (the page,
``GET /model``, ``POST /predict``; HEAD wherever GET goes), speaks JSON, and runs on the
user's own machine for one user. ``http.server`` parses HTTP/1.1 with keep-alive and
serves each connection on its own thread; what a framework (Flask, or Starlette with
uvicorn: five to ten more packages to install and keep current) would add on top is
routing, body limits and JSON errors, which take a few dozen lines here and are tested.
It stays a local tool: no TLS, no authentication, nothing stored.

Safe to leave running:

- binds 127.0.0.1 unless told otherwise;
- a request body, sent with a Content-Length or in chunks, has at most
  ``api.MAX_BODY_BYTES``, ``api.MAX_JSON_BYTES`` for JSON (else 413); images are capped
  at ``api.MAX_IMAGE_PIXELS`` before decoding, and at most
  ``api.CONCURRENT_PREDICTIONS`` are decoded at once;
- every refusal is an error status (4xx, or 501, 503, 505) with a JSON body ``{"error":
  "..."}`` and a status line, protocol errors included; a body the refusal leaves unread
  is read and dropped first (up to DISCARD_LIMIT bytes, for DISCARD_SECONDS; a chunked
  one over its limit within the request's deadline: most clients send the body whole
  before they read the answer, and a connection closed under them loses it), never kept.
  Headers that frame a request ambiguously are refused (``request_body``), and so is a
  GET with a body: a proxy in front must not read another request than the server does;
- each read of a request waits at most REQUEST_TIMEOUT_SECONDS, and a whole request,
  from its first byte, at most REQUEST_DEADLINE_SECONDS (then a body cut short gets a
  408; a request line or headers cut short, a closed connection). At most
  MAX_CONNECTIONS are served at once; others wait for a place in a thread of their own,
  up to PLACE_WAIT_SECONDS (then 503, as at once for one more than MAX_WAITING), and
  while one waits with every place taken, kept-alive connections are let go after their
  request: slow or idle clients cannot take every thread for long, nor the memory of
  their bodies;
- bound to a loopback address, it answers only requests whose Host header names that
  address or localhost, on any port (421 otherwise): a web page whose name was rebound
  to 127.0.0.1 (DNS rebinding) cannot use it, a page forwarded to another port can;
- what the log says of a request has its control characters, line breaks included,
  escaped (a path cannot rewrite the terminal, a header cannot forge a log line);
- a bug in a handler answers 500 and logs its traceback; the server goes on;
- ``serve_forever`` stops on Ctrl-C (KeyboardInterrupt), ``finish_answers`` lets the
  requests in flight have their answers, and ``server_close`` frees the port.
"""

from __future__ import annotations

import contextlib
import io
import ipaddress
import json
import math
import re
import socket
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from urllib.parse import urlsplit

from .. import __version__
from .api import JSON_TYPE, MAX_BODY_BYTES, MAX_JSON_BYTES, ApiError, DigitApi
from .request_body import (
    PIECE,
    body_length,
    declares_body,
    drop_body,
    framing_problem,
    read_body,
)

PAGE = ("static", "index.html")
REQUEST_TIMEOUT_SECONDS = 15  # each read of a request, and an idle connection's wait
REQUEST_DEADLINE_SECONDS = 30  # a whole request, from its first byte
PLACE_WAIT_SECONDS = 30  # a connection's wait for one of MAX_CONNECTIONS places
MAX_CONNECTIONS = 32
MAX_WAITING = 64  # connections waiting for a place; one more gets a 503 at once,
MAX_DRAINING = 64  # its upload drained in a thread of its own, while at most this many are
DISCARD_LIMIT = 64 * 2**20  # bytes of a refused body read and dropped, at most,
DISCARD_SECONDS = 5  # for at most this long
COMMON_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
# The page is one file: its script and style are inline, it loads nothing from elsewhere.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'unsafe-inline'; "
    "style-src 'unsafe-inline'; img-src data: blob:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
}
ROUTES = {"/": "GET", "/index.html": "GET", "/model": "GET", "/predict": "POST"}
LOCAL_NAMES = ("localhost", "127.0.0.1", "[::1]")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def is_loopback(address: str) -> bool:
    """Whether a bound address (numeric, as the socket reports it) is a loopback one,
    an IPv4 address mapped into IPv6 (::ffff:127.0.0.1) included."""
    return _ip(address).is_loopback


def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """A bound address (numeric, as the socket reports it, perhaps with an IPv6 scope),
    an IPv4 address mapped into IPv6 (::ffff:0.0.0.0) as the IPv4 one it is."""
    ip = ipaddress.ip_address(address.split("%")[0])
    return getattr(ip, "ipv4_mapped", None) or ip


def _bracketed(host: str) -> str:
    """A numeric address as a URL writes it ([::1] for IPv6)."""
    return f"[{host}]" if ":" in host else host


def host_name(header: str) -> str:
    """The name in a Host header, without its port: 'localhost:9000' and 'localhost' are
    'localhost', '[::1]:9000' is '[::1]'."""
    name = header.strip().lower()
    if name.startswith("["):
        return name[: name.find("]") + 1]
    return name.rsplit(":", 1)[0] if ":" in name else name


class DigitServer(ThreadingHTTPServer):
    """Serves the page and the API of ``api`` at ``address`` (host, port; port 0: any free
    one). IPv6 hosts (with a colon) listen on IPv6."""

    daemon_threads = True
    request_queue_size = 128  # connections waiting to be accepted (socketserver's default: 5)

    def __init__(self, address: tuple[str, int], api: DigitApi):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.api = api
        self.page = files("scratchnet.app").joinpath(*PAGE).read_bytes()
        self.places = threading.BoundedSemaphore(MAX_CONNECTIONS)
        self.waiting = 0  # connections given a thread, not yet a place (MAX_WAITING)
        self.short = 0  # of those, the ones that found every place taken
        self.waiting_lock = threading.Lock()
        self.draining = threading.BoundedSemaphore(MAX_DRAINING)
        self.answering = 0  # requests whose answer is being computed
        self.answered = threading.Condition()
        super().__init__(address, DigitHandler)
        self.loopback = is_loopback(self.server_address[0])
        self.hosts = {*LOCAL_NAMES, self.bracketed_host} if self.loopback else None

    @property
    def url(self) -> str:
        """The page's address for a browser on this machine: bound to every address
        (0.0.0.0, ::), the loopback one of its family, as browsers refuse the former."""
        host = self.server_address[0]
        if self.every_address:
            host = "127.0.0.1" if _ip(host).version == 4 else "::1"
        return f"http://{_bracketed(host)}:{self.server_address[1]}/"

    @property
    def every_address(self) -> bool:
        """Whether it listens on every address of the machine (0.0.0.0, ::, ::ffff:0.0.0.0)."""
        return _ip(self.server_address[0]).is_unspecified

    @property
    def bracketed_host(self) -> str:
        """The address bound, as a URL writes it ([::1] for IPv6)."""
        return _bracketed(self.server_address[0])

    @property
    def crowded(self) -> bool:
        """Whether a connection is waiting for a place, every place being taken."""
        return self.short > 0

    @contextlib.contextmanager
    def answering_one(self) -> Iterator[None]:
        """Count a request whose answer is being computed (``finish_answers``)."""
        with self.answered:
            self.answering += 1
        try:
            yield
        finally:
            with self.answered:
                self.answering -= 1
                self.answered.notify_all()

    def finish_answers(self, seconds: float) -> None:
        """Wait, at most ``seconds``, until no request is having its answer computed: a
        server that stops answers the requests in flight."""
        with self.answered:
            self.answered.wait_for(lambda: self.answering == 0, timeout=seconds)

    def process_request(self, request, client_address) -> None:
        """Give the connection a thread of its own, where it waits for a place; past
        MAX_WAITING waiting, answer 503 at once."""
        with self.waiting_lock:
            full = self.waiting >= MAX_WAITING
            self.waiting += not full
        if full:
            self._turn_away_aside(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread started: it will not stop waiting by itself
            self._stop_waiting()
            raise

    def process_request_thread(self, request, client_address) -> None:
        """Serve the connection once one of MAX_CONNECTIONS places is free; if none
        frees within PLACE_WAIT_SECONDS, answer 503."""
        placed = self.places.acquire(blocking=False)
        if not placed:
            self._count_short(1)
            placed = self.places.acquire(timeout=PLACE_WAIT_SECONDS)
            self._count_short(-1)
        self._stop_waiting()
        if not placed:
            _turn_away(request, drain=True)
            self.shutdown_request(request)
            return
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.places.release()

    def _turn_away_aside(self, request) -> None:
        """A 503 at once, its upload drained in a short thread of its own (the accept loop
        does not wait on a client); past MAX_DRAINING such threads, undrained."""
        if not self.draining.acquire(blocking=False):
            _turn_away(request, drain=False)
            self.shutdown_request(request)
            return

        def turn_away() -> None:
            try:
                _turn_away(request, drain=True)
                self.shutdown_request(request)
            finally:
                self.draining.release()

        try:
            threading.Thread(target=turn_away, daemon=True).start()
        except BaseException:  # no thread: it will not give its permit back
            self.draining.release()
            raise

    def _stop_waiting(self) -> None:
        with self.waiting_lock:
            self.waiting -= 1

    def _count_short(self, change: int) -> None:
        with self.waiting_lock:
            self.short += change

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up or stalls is no news; anything else is logged in full."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def _turn_away(connection: socket.socket, drain: bool) -> None:
    """A 503 for a connection that found no place. With ``drain``, what the client still
    sends is read and dropped (up to DISCARD_LIMIT bytes, for DISCARD_SECONDS) before the
    connection is closed: a client still uploading would lose the answer otherwise."""
    body = json.dumps({"error": "the server is busy: try again in a moment"}).encode()
    headers = {**COMMON_HEADERS, "Content-Type": "application/json",
               "Content-Length": len(body), "Retry-After": 1, "Connection": "close"}  # fmt: skip
    head = (
        "HTTP/1.1 503 Service Unavailable\r\n"
        + "".join(f"{name}: {value}\r\n" for name, value in headers.items())
        + "\r\n"
    )
    try:
        connection.settimeout(1 if not drain else DISCARD_SECONDS)
        connection.sendall(head.encode() + body)
        if drain:
            connection.shutdown(socket.SHUT_WR)
            _drain(connection)
    except OSError:
        pass  # the client is gone, or not reading: nothing more to do for it


def _drain(connection: socket.socket) -> None:
    """Read and drop what the client sends until it stops, for at most DISCARD_SECONDS
    and DISCARD_LIMIT bytes."""
    end, left = time.monotonic() + DISCARD_SECONDS, DISCARD_LIMIT
    while left > 0 and (wait := end - time.monotonic()) > 0:
        connection.settimeout(wait)
        received = len(connection.recv(min(left, PIECE)))
        if not received:
            return
        left -= received


class _ReadUntilDeadline(io.RawIOBase):
    """A connection's socket, read so that a request is in within its handler's
    deadline: each read waits at most what is left of it, and at most the handler's
    timeout. The deadline runs from the request's first byte (an idle connection waits
    for its next request the timeout alone)."""

    def __init__(self, connection: socket.socket, handler: DigitHandler):
        self.connection, self.handler = connection, handler

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = self.handler.deadline - time.monotonic()
        if left <= 0:
            raise self._late()
        self.connection.settimeout(min(left, self.handler.timeout))
        try:
            received = self.connection.recv_into(buffer)
        except TimeoutError:  # (the socket's: "timed out")
            raise self._late() from None
        if received and self.handler.deadline == math.inf:
            self.handler.start_deadline()
        return received

    def _late(self) -> TimeoutError:
        """Why the request is cut: its deadline passed, or its client stalled."""
        if time.monotonic() >= self.handler.deadline:
            return TimeoutError(f"the request took over {self.handler.deadline_seconds:g} s")
        return TimeoutError(f"nothing came for {self.handler.timeout:g} s")


class DigitHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"scratchnet/{__version__}"
    timeout = REQUEST_TIMEOUT_SECONDS
    server: DigitServer
    deadline = math.inf  # when the request being read must be in (inf: none begun), set
    deadline_seconds = REQUEST_DEADLINE_SECONDS  # by start_deadline, with the seconds it gave
    body_read = False  # whether the request's body was read or refused unread
    expecting = False  # whether the client waits for a 100 Continue to send its body
    headers = None  # the request's, once parsed

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # http.server's plain reader of the socket: replaced
        self.rfile = io.BufferedReader(_ReadUntilDeadline(self.connection, self))

    def start_deadline(self, seconds: float | None = None) -> None:
        self.deadline_seconds = REQUEST_DEADLINE_SECONDS if seconds is None else seconds
        self.deadline = time.monotonic() + self.deadline_seconds

    def handle_one_request(self) -> None:
        self.deadline, self.body_read, self.expecting, self.headers = math.inf, False, False, None
        super().handle_one_request()

    def handle_expect_100(self) -> bool:
        """A client that sends ``Expect: 100-continue`` gets its 100 once the request is
        judged, as its body is about to be read (``_body``): http.server sends it at once,
        inviting an upload it may then refuse."""
        self.expecting = True
        return True

    def parse_request(self) -> bool:
        """http.server's parsing, then headers that frame the request ambiguously
        refused, the body left unread (``request_body.framing_problem``)."""
        if not super().parse_request():
            return False
        problem = framing_problem(self.headers, self.request_version)
        if problem is not None:
            self.body_read = True  # no telling where it ends: not read
            self.send_error(HTTPStatus.BAD_REQUEST, problem)
            return False
        return True

    def do_GET(self) -> None:
        path = self._route("GET")
        if path is None:
            return
        if declares_body(self.headers):  # it would be read as the next request
            message = f"a {self.command} request has no body; {path} got one"
            self._refuse(HTTPStatus.BAD_REQUEST, message)
        elif path == "/model":
            self._answer(lambda: self.server.api.describe_model())
        else:
            self._send(HTTPStatus.OK, "text/html; charset=utf-8", self.server.page, PAGE_HEADERS)

    do_HEAD = do_GET  # the same answer's status and headers: ``_send`` leaves out the body

    def do_POST(self) -> None:
        if self._route("POST") is not None:
            self._answer(lambda: self.server.api.predict(self._content_type(), self._body()))

    def _route(self, method: str) -> str | None:
        """The request's path if it has a route for ``method`` (HEAD goes where GET
        does); else answer 404 or 405 (or 421 to a Host this server does not answer to)."""
        target = urlsplit(self.path)
        # RFC 9112: a request to an absolute URI (a proxy's form) is to its host, whatever
        # the Host header says
        hosts, host = self.server.hosts, target.netloc or self.headers.get("Host", "")
        if hosts is not None and host_name(host) not in hosts:  # (any port: a forwarded
            # page comes by another; DNS rebinding changes the name)
            named_by = "the request's URI" if target.netloc else "Host"
            message = (f"this server answers only requests to localhost or "
                       f"{self.server.bracketed_host}, not to {named_by} {host!r}")  # fmt: skip
            self._refuse(HTTPStatus.MISDIRECTED_REQUEST, message)
            return None
        path = target.path
        if ROUTES.get(path) == method:
            return path
        if path in ROUTES:
            allowed = "GET, HEAD" if ROUTES[path] == "GET" else ROUTES[path]
            message = f"{path} takes {allowed.replace(', ', ' and ')} requests"
            self._refuse(HTTPStatus.METHOD_NOT_ALLOWED, message, {"Allow": allowed})
        else:
            self._refuse(HTTPStatus.NOT_FOUND, f"nothing at {path}: try /, /model, /predict")
        return None

    def _answer(self, compute) -> None:
        """Send compute()'s document as JSON; an ApiError as its status; a request cut by
        its deadline or a stalled client as 408; a client gone, nothing (the connection is
        closed); a bug as 500."""
        with self.server.answering_one():
            self._answer_now(compute)

    def _answer_now(self, compute) -> None:
        try:
            document = compute()
        except ApiError as error:
            self._refuse(error.status, str(error))
        except TimeoutError as error:  # the request took too long: its body is cut short
            self._refuse(HTTPStatus.REQUEST_TIMEOUT, f"{error}; the connection is closed")
        except ConnectionError:
            self.close_connection = True
        except Exception:  # a bug: the server keeps serving, the log keeps the traceback
            self._log(f"internal error on {self.command} {self.path}", traceback.format_exc())
            self._refuse(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error (see the server's log)")
        else:
            self._send_json(HTTPStatus.OK, document)

    def _content_type(self) -> str:
        """The media type, lower case, without parameters ('' if none was sent)."""
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def _body(self) -> bytes:
        """The request body, of at most MAX_BODY_BYTES (MAX_JSON_BYTES for JSON): refused
        before it is read if its length is unknown or too big (the refusal then drops
        it: ``_drop_unread_body``), or once read if its chunks add up to too much. A
        client that asked for a 100 Continue gets it here, once the request is judged."""
        limit = MAX_JSON_BYTES if self._content_type() == JSON_TYPE else MAX_BODY_BYTES
        length = body_length(self.headers, limit)
        self.body_read = True
        if self.expecting:
            self.send_response_only(HTTPStatus.CONTINUE)
            self.end_headers()
            self.expecting = False
        return read_body(self.rfile, length, limit, DISCARD_LIMIT)

    def _drop_unread_body(self) -> None:
        """Read and drop the body a refusal leaves unread, of at most DISCARD_LIMIT bytes
        and for at most DISCARD_SECONDS: most HTTP clients send the whole body before they
        read the answer, and a connection closed under them loses it. A body that is
        longer, malformed or slower is left: the refusal is the answer all the same."""
        if self.body_read or self.headers is None or self.expecting:  # (no headers: a bad
            return  # request line; expecting: the client waits for a 100 to send its body)
        self.body_read = True
        self.start_deadline(DISCARD_SECONDS)
        with contextlib.suppress(ApiError, OSError):
            drop_body(self.rfile, self.headers, DISCARD_LIMIT)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None):
        """Protocol errors found by http.server (bad request line, unsupported method, ...)
        are answered in JSON too."""
        self._refuse(HTTPStatus(code), message or HTTPStatus(code).phrase)

    def _refuse(self, status: HTTPStatus, message: str, headers=None) -> None:
        self.log_error("%d %s", status.value, message)
        self._drop_unread_body()
        self.close_connection = True  # a body may be unread: do not reuse the connection
        self._send_json(status, {"error": message}, headers)

    def _send_json(self, status: HTTPStatus, document: dict, headers=None) -> None:
        body = json.dumps(document).encode()
        self._send(status, "application/json", body, headers)

    def _send(self, status: HTTPStatus, content_type: str, body: bytes, headers=None) -> None:
        """The answer, with a status line and headers even to a request that gave no HTTP
        version (http.server takes it for HTTP/0.9, answered with a bare body); the last
        on its connection while another connection waits for a place. To HEAD, the
        headers alone (a GET's Content-Length, no body)."""
        self.request_version = self.protocol_version
        self.connection.settimeout(self.timeout)  # (reading left it at the deadline's rest)
        if self.server.crowded:  # a place to give: a kept-alive connection lets go
            self.close_connection = True
        self.send_response(status.value)
        for name, value in {**COMMON_HEADERS, **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_request(self, code="-", size="-") -> None:
        """Successful requests are not logged (the page sends several a second)."""

    def log_message(self, format: str, *args) -> None:
        if format.startswith("Request timed out") and self.deadline == math.inf:
            return  # a connection left idle, no request begun (a browser's preconnect)
        self._log(format % args)

    def _log(self, said: str, detail: str = "") -> None:
        """One line of the log, its control characters escaped, and ``detail`` (a
        traceback) below it, escaped but for its line breaks: in one write."""
        line = f"scratchnet serve: {self.address_string()} {_escaped(said)}\n"
        sys.stderr.write(line + "".join(_escaped(part) for part in detail.splitlines(True)))


def _escaped(text: str) -> str:
    """``text`` with its control characters written out (\\x1b), a final line break kept."""
    body, end = (text[:-1], "\n") if text.endswith("\n") else (text, "")
    return CONTROL.sub(lambda match: f"\\x{ord(match[0]):02x}", body) + end
