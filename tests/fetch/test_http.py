"""Fetching over real HTTP from a local server: validators, redirects, errors, limits."""

from __future__ import annotations

import asyncio
import gzip
import threading
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler

import pytest

from ingest.errors import FetchError, HttpStatusError, ParseError, TooLarge
from ingest.fetch.fetcher import Fetcher
from ingest.fetch.schedule import PollOutcome, SourceState, next_state
from ingest.parse.documents import parse_document
from tests.fetch.helpers import MidRandom, http_source, rss
from tests.fetch.server import LocalServer, Reply, serve

pytestmark = pytest.mark.timeout(20)


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serve() as local:
        yield local


async def fetch_once(settings, url: str, state: SourceState | None = None):  # type: ignore[no-untyped-def]
    async with Fetcher(settings) as fetcher:
        return await fetcher.fetch(http_source(url), state or SourceState())


def after(result, settings) -> SourceState:  # type: ignore[no-untyped-def]
    outcome = PollOutcome.success(result, new_items=len(result.documents))
    return next_state(
        SourceState(), outcome, datetime.now(UTC), result.source, settings, MidRandom()
    )


@pytest.mark.parametrize(
    ("etag", "last_modified", "sent"),
    [
        ('"v1"', None, {"if-none-match": '"v1"'}),
        (
            None,
            "Mon, 17 Mar 2025 09:00:00 GMT",
            {"if-modified-since": "Mon, 17 Mar 2025 09:00:00 GMT"},
        ),
        (
            'W/"v2"',
            "Tue, 18 Mar 2025 09:00:00 GMT",
            {"if-none-match": 'W/"v2"', "if-modified-since": "Tue, 18 Mar 2025 09:00:00 GMT"},
        ),
    ],
)
async def test_200_then_304(server, make_settings, etag, last_modified, sent) -> None:
    server.routes["/feed"] = Reply(body=rss(3), etag=etag, last_modified=last_modified)
    settings = make_settings()
    first = await fetch_once(settings, server.url("/feed"))
    assert (first.status, first.not_modified, len(first.documents)) == (200, False, 1)
    assert (first.etag, first.last_modified) == (etag, last_modified)
    assert len(parse_document(first.documents[0], first.source).entries) == 3

    second = await fetch_once(settings, server.url("/feed"), after(first, settings))
    assert (second.status, second.not_modified, second.documents) == (304, True, ())
    assert (second.etag, second.last_modified) == (etag, last_modified)
    assert {k: server.requests[-1].headers.get(k) for k in sent} == sent
    assert "if-none-match" not in server.requests[0].headers


async def test_polite_request_headers(server, make_settings) -> None:
    server.routes["/feed"] = Reply(body=rss(1), headers={"Cache-Control": "public, max-age=900"})
    settings = make_settings(user_agent="wirewatch-test/9")
    result = await fetch_once(settings, server.url("/feed"))
    headers = server.requests[0].headers
    assert headers["user-agent"] == "wirewatch-test/9"
    assert headers["accept-encoding"] == "gzip, deflate"
    assert "application/rss+xml" in headers["accept"]
    assert result.max_age_s == 900


@pytest.mark.parametrize(
    ("chain", "permanent"),
    [
        ([301], True),
        ([308], True),
        ([302], False),
        ([307], False),
        ([301, 308], True),
        ([301, 302], False),
        ([302, 301], False),
    ],
)
async def test_redirects(server, make_settings, chain, permanent) -> None:
    for hop, status in enumerate(chain):
        server.routes[f"/r{hop}"] = Reply(status, headers={"Location": f"/r{hop + 1}"})
    final = f"/r{len(chain)}"
    server.routes[final] = Reply(body=rss(2))
    result = await fetch_once(make_settings(), server.url("/r0"))
    assert result.documents[0].url == server.url(final)
    assert result.permanent_url == (server.url(final) if permanent else None)


async def test_permanent_url_is_used_next_time(server, make_settings) -> None:
    server.routes["/old"] = Reply(301, headers={"Location": "/new"})
    server.routes["/new"] = Reply(body=rss(1), etag='"n"')
    settings = make_settings()
    first = await fetch_once(settings, server.url("/old"))
    state = after(first, settings)
    assert state.permanent_url == server.url("/new")
    second = await fetch_once(settings, server.url("/old"), state)
    assert second.not_modified
    assert server.hits("/old") == 1 and server.hits("/new") == 2


async def test_redirect_loop(server, make_settings) -> None:
    server.routes["/a"] = Reply(302, headers={"Location": "/b"})
    server.routes["/b"] = Reply(302, headers={"Location": "/a"})
    with pytest.raises(FetchError, match="redirect loop"):
        await fetch_once(make_settings(max_redirects=10), server.url("/a"))
    assert server.hits("/a") == 1 and server.hits("/b") == 1


async def test_too_many_redirects(server, make_settings) -> None:
    for n in range(5):
        server.routes[f"/h{n}"] = Reply(302, headers={"Location": f"/h{n + 1}"})
    with pytest.raises(FetchError, match="more than 2 redirects"):
        await fetch_once(make_settings(max_redirects=2), server.url("/h0"))
    assert server.hits("/h3") == 0


async def test_redirect_without_location(server, make_settings) -> None:
    server.routes["/x"] = Reply(302)
    with pytest.raises(FetchError, match="without Location"):
        await fetch_once(make_settings(), server.url("/x"))


@pytest.mark.parametrize("status", [400, 403, 404, 410, 500, 502])
async def test_error_statuses(server, make_settings, status) -> None:
    server.routes["/e"] = Reply(status, b"nope")
    with pytest.raises(HttpStatusError) as caught:
        await fetch_once(make_settings(), server.url("/e"))
    assert caught.value.status == status
    assert caught.value.retry_after_s is None


async def test_429_retry_after_seconds(server, make_settings) -> None:
    server.routes["/slow-down"] = Reply(429, headers={"Retry-After": "120"})
    with pytest.raises(HttpStatusError) as caught:
        await fetch_once(make_settings(), server.url("/slow-down"))
    assert (caught.value.status, caught.value.retry_after_s) == (429, 120.0)
    state = next_state(
        SourceState(),
        PollOutcome.failure(caught.value),
        datetime(2026, 1, 1, tzinfo=UTC),
        http_source("http://x/"),
        make_settings(),
        MidRandom(),
    )
    assert state.next_due_at is not None
    assert state.next_due_at >= datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=120)


async def test_503_retry_after_date(server, make_settings) -> None:
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=600), usegmt=True)
    server.routes["/maint"] = Reply(503, headers={"Retry-After": when})
    with pytest.raises(HttpStatusError) as caught:
        await fetch_once(make_settings(), server.url("/maint"))
    assert caught.value.retry_after_s is not None
    assert 590 <= caught.value.retry_after_s <= 600


def slow_drip(stop: threading.Event) -> object:
    def write(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", "100000")
        handler.end_headers()
        try:
            while not stop.wait(0.05):
                handler.wfile.write(b"<")
                handler.wfile.flush()
        except OSError:
            return

    return write


async def test_slow_drip_ends_within_total_timeout(server, make_settings) -> None:
    server.routes["/drip"] = slow_drip(server.stop)  # type: ignore[assignment]
    settings = make_settings(http_read_timeout_s=0.5, http_total_timeout_s=1.0)
    started = time.monotonic()
    with pytest.raises(FetchError, match="total timeout"):
        await fetch_once(settings, server.url("/drip"))
    assert time.monotonic() - started < 2.5


async def test_silent_server_hits_read_timeout(server, make_settings) -> None:
    def silent(handler: BaseHTTPRequestHandler) -> None:
        server.stop.wait(5)

    server.routes["/silent"] = silent  # type: ignore[assignment]
    settings = make_settings(http_read_timeout_s=0.3, http_total_timeout_s=5.0)
    started = time.monotonic()
    with pytest.raises(FetchError, match="timed out"):
        await fetch_once(settings, server.url("/silent"))
    assert time.monotonic() - started < 2.0


@pytest.mark.parametrize("declare_length", [True, False])
async def test_body_over_cap(server, make_settings, declare_length) -> None:
    body = rss(200)
    headers = {} if declare_length else {"Content-Length": ""}
    server.routes["/big"] = Reply(body=body, headers=headers)
    if not declare_length:  # close-delimited body: the cap must be counted while reading
        server.routes["/big"] = _close_delimited(body)  # type: ignore[assignment]
    with pytest.raises(TooLarge):
        await fetch_once(make_settings(max_body_bytes=len(body) // 4), server.url("/big"))


def _close_delimited(body: bytes) -> object:
    def write(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.end_headers()
        handler.wfile.write(body)

    return write


async def test_gzip_bomb_stops_at_cap(server, make_settings) -> None:
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9, mtime=0)
    assert len(bomb) < 100_000
    server.routes["/bomb"] = Reply(body=bomb, headers={"Content-Encoding": "gzip"})
    with pytest.raises(TooLarge, match="after decompression"):
        await fetch_once(make_settings(max_body_bytes=1024 * 1024), server.url("/bomb"))


@pytest.mark.parametrize(
    ("coding", "encode"),
    [
        ("gzip", lambda b: gzip.compress(b, mtime=0)),
        ("deflate", zlib.compress),
        ("deflate", lambda b: zlib.compress(b, wbits=-15)),  # raw deflate, seen in the wild
        ("identity", lambda b: b),
    ],
)
async def test_content_encodings(server, make_settings, coding, encode) -> None:
    body = rss(5)
    server.routes["/z"] = Reply(body=encode(body), headers={"Content-Encoding": coding})
    result = await fetch_once(make_settings(max_body_bytes=len(body)), server.url("/z"))
    assert result.documents[0].body == body


async def test_corrupt_gzip(server, make_settings) -> None:
    server.routes["/bad"] = Reply(
        body=b"\x1f\x8b\x08not gzip at all", headers={"Content-Encoding": "gzip"}
    )
    with pytest.raises(FetchError, match="corrupt gzip"):
        await fetch_once(make_settings(), server.url("/bad"))


async def test_unsupported_encoding(server, make_settings) -> None:
    server.routes["/br"] = Reply(body=b"xx", headers={"Content-Encoding": "br"})
    with pytest.raises(FetchError, match="unsupported Content-Encoding"):
        await fetch_once(make_settings(), server.url("/br"))


async def test_connection_refused(make_settings) -> None:
    with serve() as gone:
        url = gone.url("/feed")
    with pytest.raises(FetchError):
        await fetch_once(make_settings(http_connect_timeout_s=2.0), url)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"<!DOCTYPE html><html><head><title>x</title></head><body>hi</body></html>", "HTML page"),
        (bytes(range(256)) * 8, "binary data"),
        (b"", "empty document"),
    ],
)
async def test_not_a_feed_over_http(server, make_settings, body, reason) -> None:
    server.routes["/page"] = Reply(body=body, headers={"Content-Type": "text/html"})
    result = await fetch_once(make_settings(), server.url("/page"))
    with pytest.raises(ParseError, match=reason):
        parse_document(result.documents[0], result.source)


async def test_per_host_concurrency(server, make_settings) -> None:
    active, peak, lock = [0], [0], threading.Lock()

    def slow(handler: BaseHTTPRequestHandler) -> None:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        server.stop.wait(0.15)
        with lock:
            active[0] -= 1
        body = rss(1)
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    for n in range(6):
        server.routes[f"/c{n}"] = slow  # type: ignore[assignment]
    settings = make_settings(concurrency=8, per_host_concurrency=2)
    async with Fetcher(settings) as fetcher:
        sources = [http_source(server.url(f"/c{n}")) for n in range(6)]
        results = await asyncio.gather(*(fetcher.fetch(s, SourceState()) for s in sources))
        # Nothing is kept of a host once no request uses it (entry pages name hosts without end).
        assert not fetcher._host_slots
    assert all(r.status == 200 for r in results)
    assert peak[0] == 2
