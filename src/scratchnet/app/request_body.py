"""The body of an HTTP/1.1 request to the server: how long it is, read or dropped.

A body comes with a Content-Length or in chunks (``Transfer-Encoding: chunked``, RFC 9112
section 7.1: ``size in hex [; extensions] CRLF, data CRLF`` up to a chunk of size 0, then
trailer lines up to an empty one). Headers that would let a proxy in front of the server
frame another request than the server does are refused (``framing_problem``, RFC 9112
sections 3.2, 5.2 and 6.3): a line without a colon (the parser drops it and every header
after it), a line folded onto the next (obsolete), two Content-Lengths or Hosts, a Host
that is not a host and port, a Content-Length beside a transfer coding, a Content-Length
that is not a number.
"""

from __future__ import annotations

import re
from email.errors import MissingHeaderBodySeparatorDefect
from http import HTTPStatus
from typing import BinaryIO

from .api import ApiError

HOST = re.compile(r"(?:\[[0-9A-Za-z:.%_~-]*\]|[^\s:/?#\[\]@]*)(?::[0-9]*)?")  # RFC 3986: an IP
# literal in brackets or a name, then a port of digits (RFC 9112: refused with 400 if not)
LENGTH = re.compile(r"[0-9]{1,15}")  # a Content-Length: longer is no body the server reads
CHUNK_SIZE = re.compile(rb"0*([0-9a-fA-F]{1,15})[ \t]*(?:;[^\r\n]*)?\r\n")  # a size line
LINE_LIMIT = 1024  # bytes of a chunk's size line or of a trailer line
MAX_TRAILERS = 32  # trailer lines after the last chunk
PIECE = 2**20  # bytes read at once from a body that is dropped


def framing_problem(headers, version: str) -> str | None:
    """What makes a request's headers malformed or ambiguous, or None. (Of the defects
    the parser notes, only a line it could not split counts: it notes a multipart
    Content-Type without its parts too, and those come in the body.)"""
    if any(isinstance(defect, MissingHeaderBodySeparatorDefect) for defect in headers.defects):
        return "a header line is malformed (it has no colon, or a space before it)"
    if any("\n" in value or "\r" in value for value in headers.values()):
        return "a header is folded over lines (obsolete): send each on one line"
    if len(headers.get_all("Host", [])) > 1:
        return "the request has more than one Host header"
    if "Host" in headers and not HOST.fullmatch(headers["Host"].strip(" \t")):
        return f"the Host header {headers['Host'].strip()[:100]!r} is not a host[:port]"
    if len({value.strip(" \t") for value in headers.get_all("Content-Length", [])}) > 1:
        return "the request has Content-Length headers that differ"
    if "Content-Length" in headers and "Transfer-Encoding" in headers:
        return "the request has both a Content-Length and a Transfer-Encoding"
    try:
        content_length(headers)
    except ApiError as error:  # (whatever the method: a GET's too)
        return str(error)
    if version == "HTTP/1.1" and "Host" not in headers:
        return "an HTTP/1.1 request needs a Host header"
    return None


def declares_body(headers) -> bool:
    """Whether the request says a body follows (a malformed length: refused)."""
    return "Transfer-Encoding" in headers or bool(content_length(headers))


def body_length(headers, limit: int) -> int | None:
    """The length of the body (None: it comes in chunks), refused before it is read if it
    is unknown or over ``limit`` bytes."""
    if is_chunked(headers):
        return None
    length = content_length(headers)
    if length is None:
        raise ApiError(HTTPStatus.LENGTH_REQUIRED, "send the body with a Content-Length")
    if length > limit:
        raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, too_large(length, limit))
    return length


def read_body(rfile: BinaryIO, length: int | None, limit: int, drop_up_to: int) -> bytes:
    """The body of ``length`` bytes (``body_length``; None: in chunks, of at most
    ``limit`` bytes, a longer one read and dropped up to ``drop_up_to`` bytes so that
    the client gets its 413); 400 for a body shorter than it says."""
    if length is None:
        return read_chunks(rfile, limit, drop_up_to=drop_up_to)
    body = rfile.read(length)
    if len(body) < length:
        raise ApiError(HTTPStatus.BAD_REQUEST, "the body is shorter than its Content-Length")
    return body


def drop_body(rfile: BinaryIO, headers, limit: int) -> None:
    """Read and drop a body of at most ``limit`` bytes (ApiError, the rest unread, for a
    longer one or a malformed length or chunk; a chunked one is read up to that point)."""
    length = body_length(headers, limit) if declares_body(headers) else 0
    if length is None:
        read_chunks(rfile, limit, keep=False)
    else:
        _read_into(rfile, length, None)


def is_chunked(headers) -> bool:
    """Whether the body comes in chunks; another transfer coding is refused."""
    codings = [coding.strip().lower() for value in headers.get_all("Transfer-Encoding", [])
               for coding in value.split(",") if coding.strip()]  # fmt: skip
    if not codings:
        return False
    if codings == ["chunked"]:
        return True
    if "chunked" in codings[:-1]:
        raise ApiError(HTTPStatus.BAD_REQUEST, "chunked must be the last transfer coding")
    named = ", ".join(codings)[:40]
    message = f"no transfer coding {named!r} here: send the body as it is, or chunked"
    raise ApiError(HTTPStatus.NOT_IMPLEMENTED, message)


def content_length(headers) -> int | None:
    """The Content-Length (None: none was sent)."""
    length = headers.get("Content-Length")
    if length is None:
        return None
    if not LENGTH.fullmatch(length.strip(" \t")):
        raise ApiError(HTTPStatus.BAD_REQUEST, f"bad Content-Length {length[:20]!r}")
    return int(length)


def read_chunks(
    rfile: BinaryIO, limit: int, keep: bool = True, drop_up_to: int | None = None
) -> bytes:
    """A chunked body of at most ``limit`` bytes, else 413: at once, or once the rest is
    read and dropped, up to ``drop_up_to`` bytes in all. Without ``keep``, read and
    dropped. Its chunks are gathered in one buffer: a body of many tiny chunks takes the
    memory of its bytes, not of as many objects."""
    body = bytearray() if keep else None
    total = 0
    while True:
        line = rfile.readline(LINE_LIMIT)
        size = CHUNK_SIZE.fullmatch(line)
        if size is None:
            raise ApiError(HTTPStatus.BAD_REQUEST, f"bad chunk size line {line[:20]!r}")
        length = int(size[1], 16)
        total += length
        if total > limit:
            if drop_up_to is None or total > drop_up_to:
                raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                               too_large(total, limit, "at least "))  # fmt: skip
            body = None  # over the limit: the rest is dropped, then refused
        if length == 0:
            break
        _read_into(rfile, length, body)
        if rfile.read(2) != b"\r\n":
            raise ApiError(HTTPStatus.BAD_REQUEST, "a chunk is not as long as its size")
    _skip_trailers(rfile)
    if total > limit:
        raise ApiError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, too_large(total, limit))
    return bytes(body) if keep else b""


def _read_into(rfile: BinaryIO, length: int, body: bytearray | None) -> None:
    """Read ``length`` bytes, onto ``body`` (None: dropped, PIECE at a time)."""
    while length > 0:
        piece = rfile.read(length if body is not None else min(length, PIECE))
        if not piece:
            raise ApiError(HTTPStatus.BAD_REQUEST, "the body ended before its announced end")
        if body is not None:
            body += piece
        length -= len(piece)


def _skip_trailers(rfile: BinaryIO) -> None:
    """The trailer lines after the last chunk, up to the empty line (nothing here needs
    them)."""
    for _ in range(MAX_TRAILERS + 1):
        line = rfile.readline(LINE_LIMIT)
        if line == b"\r\n":
            return
        if len(line) == LINE_LIMIT:
            raise ApiError(HTTPStatus.BAD_REQUEST, f"a trailer line over {LINE_LIMIT} bytes")
        if not line.endswith(b"\r\n"):
            raise ApiError(HTTPStatus.BAD_REQUEST, "the body ended within its trailer lines")
    raise ApiError(HTTPStatus.BAD_REQUEST, f"more than {MAX_TRAILERS} trailer lines")


def too_large(length: int, limit: int, qualifier: str = "") -> str:
    return (f"the upload has {qualifier}{length:,} bytes, more than the {limit:,} accepted "
            f"({limit / 2**20:g} MiB)")  # fmt: skip
