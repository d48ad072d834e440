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
- a request body needs a Content-Length of at most ``api.MAX_BODY_BYTES`` (else 411 or
  413; a refused body is read and dropped up to ``DISCARD_LIMIT`` bytes so that the
  client gets the answer, never kept); images are capped at ``api.MAX_IMAGE_PIXELS``
  before decoding, and at most ``api.CONCURRENT_PREDICTIONS`` are decoded at once;
- every refusal is a 4xx with a JSON body ``{"error": "..."}``, protocol errors included;
  each read of a request waits at most REQUEST_TIMEOUT_SECONDS, then the connection is
  closed, and at most MAX_CONNECTIONS are served at once (one more is closed at once):
  slow or idle clients cannot take every thread, nor the memory of their bodies;
- bound to a loopback address, it answers only requests whose Host header names that
  address or localhost, on any port (421 otherwise): a web page whose name was rebound
  to 127.0.0.1 (DNS rebinding) cannot use it, a page forwarded to another port can;
- what the log says of a request has its control characters escaped (a path cannot
  rewrite the terminal);
- a bug in a handler answers 500 and logs its traceback; the server goes on;
- ``serve_forever`` stops on Ctrl-C (KeyboardInterrupt) and ``server_close`` frees the port.
"""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import sys
import threading
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.resources import files
from urllib.parse import urlsplit

from .. import __version__
from .api import MAX_BODY_BYTES, ApiError, DigitApi

PAGE = ("static", "index.html")
REQUEST_TIMEOUT_SECONDS = 15
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
MAX_CONNECTIONS = 32
LOCAL_NAMES = ("localhost", "127.0.0.1", "[::1]")
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")  # all but the line break


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
        """Serve the connection on a thread of its own, or close it at once when
        MAX_CONNECTIONS are being served."""
        if not self.slots.acquire(blocking=False):
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


class DigitHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = f"scratchnet/{__version__}"
    timeout = REQUEST_TIMEOUT_SECONDS
    server: DigitServer

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
            trace = traceback.format_exc()
            self.log_error("internal error on %s %s\n%s", self.command, self.path, trace)
            self._refuse(HTTPStatus.INTERNAL_SERVER_ERROR, "internal error (see the server's log)")
        else:
            self._send_json(HTTPStatus.OK, document)

    def _content_type(self) -> str:
        """The media type, lower case, without parameters ('' if none was sent)."""
        return self.headers.get("Content-Type", "").split(";")[0].strip().lower()

    def _body(self) -> bytes:
        """The request body, refused before it is read if its length is unknown or too big."""
        length = self.headers.get("Content-Length")
        if self.headers.get("Transfer-Encoding") or length is None:
            raise ApiError(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length")
        if not LENGTH.fullmatch(length.strip()):
            raise ApiError(HTTPStatus.BAD_REQUEST, f"bad Content-Length {length[:20]!r}")
        if int(length) > MAX_BODY_BYTES:
            self._discard(int(length))
            raise ApiError(
                HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                f"the upload has {int(length):,} bytes, more than the {MAX_BODY_BYTES:,} "
                f"accepted ({MAX_BODY_BYTES // 2**20} MiB)",
            )
        body = self.rfile.read(int(length))
        if len(body) < int(length):
            raise ApiError(HTTPStatus.BAD_REQUEST, "the body is shorter than its Content-Length")
        return body

    def _discard(self, length: int) -> None:
        """Read and drop a refused body of at most DISCARD_LIMIT bytes: most HTTP clients
        send the whole body before they read the answer, and a connection closed under
        them loses it. A longer body is not read at all."""
        if length > DISCARD_LIMIT:
            return
        while length > 0 and (chunk := self.rfile.read(min(length, DISCARD_CHUNK))):
            length -= len(chunk)

    def send_error(self, code: int, message: str | None = None, explain: str | None = None):
        """Protocol errors found by http.server (bad request line, unsupported method, ...)
        are answered in JSON too."""
        self._refuse(HTTPStatus(code), message or HTTPStatus(code).phrase)

    def _refuse(self, status: HTTPStatus, message: str) -> None:
        self.log_error("%d %s", status.value, message)
        self.close_connection = True  # the body may be unread: do not reuse the connection
        self._send_json(status, {"error": message})

    def _send_json(self, status: HTTPStatus, document: dict) -> None:
        body = json.dumps(document).encode()
        self._send(status, "application/json", body)

    def _send(self, status: HTTPStatus, content_type: str, body: bytes, headers=None) -> None:
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
