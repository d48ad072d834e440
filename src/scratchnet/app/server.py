"""The draw-a-digit page's web server: the standard library's ``ThreadingHTTPServer``.

Why the standard library and not a framework: the server has three routes (the page,
``GET /model``, ``POST /predict``), speaks JSON, and runs on the user's own machine for
one user. ``http.server`` parses HTTP/1.1 with keep-alive and serves each connection on
its own thread; what a framework (Flask, or Starlette with uvicorn: five to ten more
packages to install and keep current) would add on top is routing, body limits and JSON
errors, which take a few dozen lines here and are tested. It stays a local tool: no TLS,
no authentication, nothing stored.

Safe to leave running:

- binds 127.0.0.1 unless told otherwise;
- a request body, sent with a Content-Length or in chunks, has at most
  ``api.MAX_BODY_BYTES`` (else 413); images are capped at ``api.MAX_IMAGE_PIXELS``
  before decoding, and at most ``api.CONCURRENT_PREDICTIONS`` are decoded at once;
- every refusal is a 4xx with a JSON body ``{"error": "..."}`` and a status line,
  protocol errors included; a body the refusal leaves unread is read and dropped up to
  ``DISCARD_LIMIT`` bytes first (most clients send it whole before they read the answer,
  and a connection closed under them loses it), never kept. Malformed or ambiguous
  headers (a line without a colon, one folded over lines, two differing Content-Lengths
  or Hosts, a Content-Length beside chunks) are refused: a proxy in front must not read
  another request than the server does;
- each read of a request waits at most REQUEST_TIMEOUT_SECONDS, and a whole request,
  its body included, at most REQUEST_DEADLINE_SECONDS; then the connection is closed. At
  most MAX_CONNECTIONS are served at once; one more waits for a place, up to
  PLACE_WAIT_SECONDS (by which time every connection served has moved on), else gets a
  503: slow or idle clients cannot take every thread for long, nor the memory of
  their bodies;
- bound to a loopback address, it answers only requests whose Host header names that
  address or localhost, on any port (421 otherwise): a web page whose name was rebound
  to 127.0.0.1 (DNS rebinding) cannot use it, a page forwarded to another port can;
- what the log says of a request has its control characters, line breaks included,
  escaped (a path cannot rewrite the terminal, a header cannot forge a log line);
- a bug in a handler answers 500 and logs its traceback; the server goes on;
- ``serve_forever`` stops on Ctrl-C (KeyboardInterrupt) and ``server_close`` frees the port.
"""

from __future__ import annotations

import io
import ipaddress
import json
import re
import socket
import sys
import threading
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from urllib.parse import urlsplit

from .. import __version__
from .api import MAX_BODY_BYTES, ApiError, DigitApi

PAGE = ("static", "index.html")
REQUEST_TIMEOUT_SECONDS = 15
REQUEST_DEADLINE_SECONDS = 30
PLACE_WAIT_SECONDS = REQUEST_DEADLINE_SECONDS  # by then every connection served moved on
DISCARD_LIMIT = 64 * 2**20
DISCARD_CHUNK = 2**20
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
LENGTH = re.compile(r"[0-9]{1,15}")  # a Content-Length: longer is no body the server reads
CHUNK_SIZE = re.compile(rb"([0-9a-fA-F]{1,8})(;[^\r\n]*)?\r?\n")  # a chunk's size line
LINE_LIMIT = 1024  # bytes of a chunk's size line or trailer line
MAX_CONNECTIONS = 32
LOCAL_NAMES = ("localhost", "127.0.0.1", "[::1]")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def is_loopback(address: str) -> bool:
    """Whether a bound address (numeric, as the socket reports it) is a loopback one,
    an IPv4 address mapped into IPv6 (::ffff:127.0.0.1) included."""
    ip = ipaddress.ip_address(address.split("%")[0])  # (an IPv6 scope, if any)
    mapped = getattr(ip, "ipv4_mapped", None)
    return (mapped or ip).is_loopback


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
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__(address, DigitHandler)
        self.loopback = is_loopback(self.server_address[0])
        self.hosts = {*LOCAL_NAMES, self.bracketed_host} if self.loopback else None

    @property
    def url(self) -> str:
        return f"http://{self.bracketed_host}:{self.server_address[1]}/"

    @property
    def bracketed_host(self) -> str:
        """The address bound, as a URL writes it ([::1] for IPv6)."""
        host = self.server_address[0]
        return f"[{host}]" if ":" in host else host

    def process_request(self, request, client_address) -> None:
        """Serve the connection on a thread of its own once one of MAX_CONNECTIONS is
        free; if none frees within PLACE_WAIT_SECONDS, answer 503."""
        if not self.slots.acquire(timeout=PLACE_WAIT_SECONDS):
            _turn_away(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:  # no thread started: it will not give its slot back
            self.slots.release()
            raise

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()

    def handle_error(self, request, client_address) -> None:
        """A client that hangs up or stalls is no news; anything else is logged in full."""
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return
        super().handle_error(request, client_address)


def _turn_away(connection: socket.socket) -> None:
    """A 503 for a connection no thread could take; it is closed after."""
    body = json.dumps({"error": "the server is busy: try again in a moment"}).encode()
    head = (f"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nRetry-After: 1\r\n"
            "Connection: close\r\n\r\n")  # fmt: skip
    try:
        connection.settimeout(1)
        connection.sendall(head.encode() + body)
    except OSError:
        pass  # the client is gone, or not reading: nothing more to do for it


class _ReadUntilDeadline(io.RawIOBase):
    """A connection's socket, read until its handler's deadline: each read waits at most
    what is left of it, and at most the handler's timeout."""

    def __init__(self, connection: socket.socket, handler: DigitHandler):
        self.connection, self.handler = connection, handler

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = self.handler.deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"the request took over {REQUEST_DEADLINE_SECONDS} s")
        self.connection.settimeout(min(left, self.handler.timeout))
        return self.connection.recv_into(buffer)


class DigitHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"scratchnet/{__version__}"
    timeout = REQUEST_TIMEOUT_SECONDS
    server: DigitServer
    deadline = 0.0  # when the request being read must be in
    body_read = False  # whether the request's body was read (or its reading begun)

    def setup(self) -> None:
        super().setup()
        self.rfile.close()  # http.server's plain reader of the socket: replaced
        self.rfile = io.BufferedReader(_ReadUntilDeadline(self.connection, self))

    def handle_one_request(self) -> None:
        self.deadline = time.monotonic() + REQUEST_DEADLINE_SECONDS
        self.body_read = False
        super().handle_one_request()

    def parse_request(self) -> bool:
        """http.server's parsing, then the headers that would let a proxy in front read
        another request than this one refused (RFC 9112: a line without a colon drops
        every header after it, a folded line is obsolete; two Content-Lengths or Hosts
        that differ, or a Content-Length beside chunks, are ambiguous)."""
        if not super().parse_request():
            return False
        problem = _ambiguity(self.headers, self.request_version)
        if problem is not None:
            self.send_error(HTTPStatus.BAD_REQUEST, problem)
            return False
        return True

    def do_GET(self) -> None:
        path = self._route("GET")
        if path is None:
            return
        if path == "/model":
            self._answer(lambda: self.server.api.describe_model())
        else:
            self._send(HTTPStatus.OK, "text/html; charset=utf-8", self.server.page, PAGE_HEADERS)

    def do_POST(self) -> None:
        if self._route("POST") is not None:
            self._answer(lambda: self.server.api.predict(self._content_type(), self._body()))

    def _route(self, method: str) -> str | None:
        """The request's path if it has a route for ``method``; else answer 404 or 405
        (or 421 to a Host this server does not answer to)."""
        hosts, host = self.server.hosts, self.headers.get("Host", "")
        if hosts is not None and host_name(host) not in hosts:  # (any port: a forwarded
            # page comes by another; DNS rebinding changes the name)
            message = (f"this server answers only requests to localhost or "
                       f"{self.server.bracketed_host}, not to Host {host!r}")  # fmt: skip
            self._refuse(HTTPStatus.MISDIRECTED_REQUEST, message)
            return None
        path = urlsplit(self.path).path
        if ROUTES.get(path) == method:
            return path
        if path in ROUTES:
            self._refuse(HTTPStatus.METHOD_NOT_ALLOWED, f"{path} takes {ROUTES[path]} requests")
        else:
            self._refuse(HTTPStatus.NOT_FOUND, f"nothing at {path}: try /, /model, /predict")
        return None

    def _answer(self, compute) -> None:
        """Send compute()'s document as JSON; an ApiError as its 4xx; a bug as 500."""
        try:
            document = compute()
        except ApiError as error:
            self._refuse(error.status, str(error))
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:  # a bug: the server keeps serving, the log keeps the traceback
            self.log_error("internal error on %s %s", self.command, self.path)
            sys.stderr.write(traceback.format_exc())
            self._refuse(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error (see the server's log)")
        else:
            self._send_json(HTTPStatus.OK, document)

    def _content_type(self) -> str:
        """The media type, lower case, without parameters ('' if none was sent)."""
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def _body(self) -> bytes:
        """The request body, refused before it is read if its length is unknown or too big."""
        if self._chunked():
            self.body_read = True
            return self._read_chunks()
        length = self._length()
        if length is None:
            raise ApiError(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length")
        if length > MAX_BODY_BYTES:
            raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, _too_large(length))
        self.body_read = True
        body = self.rfile.read(length)
        if len(body) < length:
            raise ApiError(HTTPStatus.BAD_REQUEST, "the body is shorter than its Content-Length")
        return body

    def _chunked(self) -> bool:
        """Whether the body comes in chunks; refused if it comes in another coding."""
        coding = self.headers.get("Transfer-Encoding")
        if coding is None:
            return False
        if coding.strip().lower() != "chunked":
            raise ApiError(HTTPStatus.NOT_IMPLEMENTED, f"no transfer coding {coding[:40]!r} here: "
                           "send the body with a Content-Length, or chunked")  # fmt: skip
        return True

    def _length(self) -> int | None:
        """The Content-Length (None: none was sent)."""
        length = self.headers.get("Content-Length")
        if length is not None and not LENGTH.fullmatch(length.strip()):
            raise ApiError(HTTPStatus.BAD_REQUEST, f"bad Content-Length {length[:20]!r}")
        return None if length is None else int(length)

    def _read_chunks(self, limit: int = MAX_BODY_BYTES, keep: bool = True) -> bytes:
        """A chunked body (RFC 9112 7.1): chunks of ``size in hex CRLF, data CRLF`` up to
        one of size 0, then trailer lines up to an empty one (dropped). More than
        ``limit`` bytes is refused; without ``keep`` they are read and dropped."""
        parts, total = [], 0
        while True:
            line = self.rfile.readline(LINE_LIMIT)
            size = CHUNK_SIZE.fullmatch(line)
            if size is None:
                raise ApiError(HTTPStatus.BAD_REQUEST, f"bad chunk size line {line[:20]!r}")
            length = int(size[1], 16)
            total += length
            if total > limit:
                raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, _too_large(total, "at least "))
            if length == 0:
                break
            chunk = self.rfile.read(length)
            if len(chunk) < length or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise ApiError(HTTPStatus.BAD_REQUEST, "a chunk is not as long as its size")
            if keep:
                parts.append(chunk)
        while self.rfile.readline(LINE_LIMIT) not in (b"\r\n", b"\n", b""):
            pass  # trailer fields: nothing here needs them
        return b"".join(parts)

    def _discard_unread_body(self) -> None:
        """Read and drop the body a refusal leaves unread, of at most DISCARD_LIMIT
        bytes: most HTTP clients send the whole body before they read the answer, and a
        connection closed under them loses it. A longer body, or one that does not say
        how long it is, is not read (a failure to read it stays unsaid: the refusal is
        the answer)."""
        if self.body_read or not hasattr(self, "headers"):  # (a bad request line: no headers)
            return
        self.body_read = True
        try:
            if self._chunked():
                self._read_chunks(DISCARD_LIMIT, keep=False)
                return
            length = self._length() or 0
        except (ApiError, OSError):
            return
        if length > DISCARD_LIMIT:
            return
        while length > 0 and (chunk := self.rfile.read(min(length, DISCARD_CHUNK))):
            length -= len(chunk)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None):
        """Protocol errors found by http.server (bad request line, unsupported method, ...)
        are answered in JSON too, with a status line even when the request line was too
        broken to say its HTTP version (http.server would answer as HTTP/0.9: a bare body)."""
        if self.request_version == "HTTP/0.9":
            self.request_version = self.protocol_version
        self._refuse(HTTPStatus(code), message or HTTPStatus(code).phrase)

    def _refuse(self, status: HTTPStatus, message: str) -> None:
        self.log_error("%d %s", status.value, message)
        self._discard_unread_body()
        self.close_connection = True  # a body may be unread: do not reuse the connection
        self._send_json(status, {"error": message})

    def _send_json(self, status: HTTPStatus, document: dict) -> None:
        body = json.dumps(document).encode()
        self._send(status, "application/json", body)

    def _send(self, status: HTTPStatus, content_type: str, body: bytes, headers=None) -> None:
        self.connection.settimeout(self.timeout)  # (reading left it at the deadline's rest)
        self.send_response(status.value)
        for name, value in {**COMMON_HEADERS, **(headers or {})}.items():
            self.send_header(name, value)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def log_request(self, code="-", size="-") -> None:
        """Successful requests are not logged (the page sends several a second)."""

    def log_message(self, format: str, *args) -> None:
        said = CONTROL.sub(lambda match: f"\\x{ord(match[0]):02x}", format % args)
        sys.stderr.write(f"scratchnet serve: {self.address_string()} {said}\n")


def _too_large(length: int, qualifier: str = "") -> str:
    return (f"the upload has {qualifier}{length:,} bytes, more than the {MAX_BODY_BYTES:,} "
            f"accepted ({MAX_BODY_BYTES // 2**20} MiB)")  # fmt: skip


def _ambiguity(headers, version: str) -> str | None:
    """What makes a request's headers malformed or ambiguous, or None."""
    if headers.defects:
        return "a header line is malformed (it has no colon, or a space before it)"
    if any("\n" in value or "\r" in value for value in headers.values()):
        return "a header is folded over lines (obsolete): send each on one line"
    for name in ("Content-Length", "Host"):
        if len({value.strip() for value in headers.get_all(name, [])}) > 1:
            return f"the request has {name} headers that differ"
    if "Content-Length" in headers and "Transfer-Encoding" in headers:
        return "the request has both a Content-Length and a Transfer-Encoding"
    if version == "HTTP/1.1" and "Host" not in headers:
        return "an HTTP/1.1 request needs a Host header"
    return None
