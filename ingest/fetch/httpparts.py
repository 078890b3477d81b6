"""Pure pieces of HTTP fetching: bounded decompression, the header values we honour, and the
FetchResult an HTTP answer makes. No HTTP library here: `ingest.fetch.fetcher` talks to the
network."""

from __future__ import annotations

import re
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

from ingest.errors import FetchError, HttpStatusError, TooLarge
from ingest.fetch.schedule import SourceState
from ingest.models import Document, FetchResult, Source, utcnow

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


@dataclass(frozen=True, slots=True)
class HttpAnswer:
    """The last response of a fetch, its body read (empty unless 2xx)."""

    url: str
    status: int
    headers: Mapping[str, str]  # case-insensitive (httpx.Headers)
    body: bytes


def conditional_headers(state: SourceState) -> dict[str, str]:
    """If-None-Match / If-Modified-Since from what the last answer said."""
    headers: dict[str, str] = {}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


def http_result(
    source: Source, state: SourceState, answer: HttpAnswer, permanent_url: str | None
) -> FetchResult:
    """The FetchResult of a 2xx or 304; HttpStatusError for 4xx/5xx, FetchError otherwise."""
    headers = answer.headers
    retry_after_s = parse_retry_after_s(headers.get("retry-after"))
    if answer.status >= 400:
        raise HttpStatusError(
            answer.status, f"HTTP {answer.status} from {answer.url}", retry_after_s
        )
    documents, etag, last_modified = _documents_and_validators(state, answer)
    return FetchResult(
        source=source,
        documents=documents,
        status=answer.status,
        not_modified=answer.status == 304,
        etag=etag,
        last_modified=last_modified,
        permanent_url=permanent_url,
        retry_after_s=retry_after_s,
        max_age_s=parse_max_age_s(headers.get("cache-control")),
    )


def _documents_and_validators(
    state: SourceState, answer: HttpAnswer
) -> tuple[tuple[Document, ...], str | None, str | None]:
    """(documents, etag, last_modified); a 304 keeps the validators it does not repeat."""
    headers = answer.headers
    if answer.status == 304:
        etag = headers.get("etag") or state.etag
        return (), etag, headers.get("last-modified") or state.last_modified
    if 200 <= answer.status < 300:
        return (_document(answer),), headers.get("etag"), headers.get("last-modified")
    raise FetchError(f"unexpected HTTP {answer.status} from {answer.url}")


def _document(answer: HttpAnswer) -> Document:
    return Document(
        url=answer.url,
        body=answer.body,
        content_type=answer.headers.get("content-type", ""),
        headers=tuple((name.lower(), value) for name, value in answer.headers.items()),
    )
