"""Reading one GBFS file over HTTP: conditional requests, a timeout, a size bound.

A file unchanged since the last read costs a 304 and no parsing: the ETag and
Last-Modified of the last good answer are sent back as If-None-Match and
If-Modified-Since.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from bridges.publish import redact


class FetchError(RuntimeError):
    """The file could not be read: timeout, connection, HTTP status or size."""


@dataclass
class Fetcher:
    """One URL and the validators of its last good answer."""

    url: str
    max_bytes: int
    etag: str | None = None
    last_modified: str | None = None

    def fetch(self, client: httpx.Client) -> bytes | None:
        """The file's bytes, or None when the server says it has not changed."""
        headers = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        shown = redact(self.url)
        try:
            with client.stream("GET", self.url, headers=headers) as response:
                if response.status_code == 304:
                    return None
                if response.status_code != 200:
                    raise FetchError(f"{shown}: HTTP {response.status_code}")
                body = self._read(response, shown)
        except httpx.TimeoutException as exc:
            raise FetchError(f"{shown}: timed out ({type(exc).__name__})") from exc
        except httpx.HTTPError as exc:
            raise FetchError(f"{shown}: {type(exc).__name__}: {exc}") from exc
        return body

    def remember(self, response_headers: httpx.Headers) -> None:
        self.etag = response_headers.get("etag")
        self.last_modified = response_headers.get("last-modified")

    def forget(self) -> None:
        """Ask for the whole file next time: a 304 must not stand for a refused file."""
        self.etag = self.last_modified = None

    def _read(self, response: httpx.Response, shown: str) -> bytes:
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchError(f"{shown}: {declared} bytes, over the {self.max_bytes} allowed")
        chunks = bytearray()
        for chunk in response.iter_bytes():
            chunks += chunk
            if len(chunks) > self.max_bytes:
                raise FetchError(f"{shown}: over the {self.max_bytes} bytes allowed")
        # Validators are kept only once the whole body is in.
        self.remember(response.headers)
        return bytes(chunks)
