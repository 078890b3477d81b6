"""Pure pieces of HTTP fetching: bounded decompression, and the header values we honour."""

from __future__ import annotations

import re
import zlib
from email.utils import parsedate_to_datetime

from ingest.errors import FetchError, TooLarge
from ingest.models import utcnow

SUPPORTED_CODINGS = ("", "identity", "gzip", "x-gzip", "deflate")


class Inflater:
    """Decodes gzip/deflate bodies in bounded steps, so a bomb stops at the cap."""

    def __init__(self, content_encoding: str, cap_bytes: int) -> None:
        coding = content_encoding.strip().lower()
        if coding not in SUPPORTED_CODINGS:
            raise FetchError(f"unsupported Content-Encoding {content_encoding!r}")
        self._coding = coding
        self._cap = cap_bytes
        self._total = 0
        self._raw_deflate = False
        self._z = self._new_decompressor() if coding not in ("", "identity") else None

    def _new_decompressor(self) -> zlib._Decompress:
        wbits = 16 + zlib.MAX_WBITS if "gzip" in self._coding else zlib.MAX_WBITS
        return zlib.decompressobj(wbits)

    def feed(self, data: bytes) -> bytes:
        if self._z is None:
            return self._count(data)
        try:
            return self._inflate(data)
        except zlib.error as exc:
            if self._coding != "deflate" or self._total or self._raw_deflate:
                raise FetchError(f"corrupt {self._coding} body: {exc}") from exc
        # Some servers send raw deflate (no zlib header) under "deflate": retry once that way.
        self._raw_deflate = True
        self._z = zlib.decompressobj(-zlib.MAX_WBITS)
        return self.feed(data)

    def _inflate(self, data: bytes) -> bytes:
        assert self._z is not None
        out: list[bytes] = []
        while data:
            out.append(self._count(self._z.decompress(data, self._cap - self._total + 1)))
            data = self._z.unconsumed_tail
            if self._z.eof and self._z.unused_data:  # a second gzip member
                data, self._z = self._z.unused_data, self._new_decompressor()
        return b"".join(out)

    def flush(self) -> bytes:
        return self._count(self._z.flush()) if self._z is not None else b""

    def _count(self, data: bytes) -> bytes:
        self._total += len(data)
        if self._total > self._cap:
            raise TooLarge(f"body is over the {self._cap}-byte cap (after decompression)")
        return data


def parse_retry_after_s(value: str | None) -> float | None:
    """Retry-After as seconds from now: delta-seconds or an HTTP date; None if absent/bad."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None
    return max((moment - utcnow()).total_seconds(), 0.0)


_MAX_AGE = re.compile(r"(?:^|[,\s])max-age\s*=\s*\"?(\d+)", re.IGNORECASE)


def parse_max_age_s(value: str | None) -> float | None:
    if not value or "no-store" in value.lower():
        return None
    match = _MAX_AGE.search(value)
    return float(match.group(1)) if match else None
