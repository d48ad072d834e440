"""Verified, atomic downloads into a cache folder.

A file is streamed to a temporary file beside its destination while its SHA-256 is
computed; only a file whose digest matches is renamed into place, so the cache never
holds a partial or unverified file.
"""

from __future__ import annotations

import hashlib
import http.client
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from tqdm.auto import tqdm

from ..atomic import atomic_write

CHUNK_BYTES = 1 << 16
TIMEOUT_SECONDS = 30


class DownloadError(OSError):
    """No mirror delivered the file with the expected checksum; ``first_failure`` is
    the first mirror's answer, in short."""

    def __init__(self, message: str, first_failure: str):
        super().__init__(message)
        self.first_failure = first_failure


def download(
    filename: str, sha256: str, folder: Path, mirrors: Sequence[str], progress: bool = True
) -> Path:
    """Fetch ``filename`` from the first mirror that serves it with the right checksum.

    Mirrors are tried in order; the verified file ends up at ``folder / filename``.
    Raises DownloadError listing what each mirror answered.
    """
    folder.mkdir(parents=True, exist_ok=True)
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + filename
        try:
            return _fetch_verified(url, folder / filename, sha256, progress)
        except (OSError, ValueError, http.client.HTTPException) as error:
            failures.append((url, str(error)))
    raise DownloadError(
        f"could not download {filename}: " + "; ".join(f"{u}: {e}" for u, e in failures),
        failures[0][1] if failures else "no mirror",
    )


def _fetch_verified(url: str, destination: Path, sha256: str, progress: bool) -> Path:
    """Stream ``url`` into a temporary file, check its digest, rename it into place."""
    with atomic_write(destination) as file:
        digest = _stream(url, file, destination.name, progress)
        if digest != sha256:
            raise ValueError(f"checksum mismatch (expected sha256 {sha256}, got {digest})")
    return destination


def _stream(url: str, file, label: str, progress: bool) -> str:
    """Copy the response body into ``file`` with a progress bar; return its SHA-256."""
    digest = hashlib.sha256()
    try:
        response = urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS)
    except urllib.error.HTTPError as error:
        raise OSError(f"HTTP {error.code} {error.reason}") from None
    except urllib.error.URLError as error:
        raise OSError(str(error.reason)) from None
    with (
        response,
        tqdm(
            total=int(response.headers.get("Content-Length") or 0) or None,
            unit="B",
            unit_scale=True,
            desc=label,
            disable=not progress,
            leave=False,
        ) as bar,
    ):
        for block in iter(lambda: response.read(CHUNK_BYTES), b""):
            digest.update(block)
            file.write(block)
            bar.update(len(block))
    return digest.hexdigest()
