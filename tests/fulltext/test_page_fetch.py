"""Fetching an entry's linked page over real HTTP on loopback: every way a page can fail to be
had is an outcome (never an exception), and the feed client's safety holds for pages too."""

from __future__ import annotations

import asyncio
import importlib.abc
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from ingest.fetch.fetcher import Fetcher
from ingest.fetch.pages import HostPauses
from ingest.models import Source
from tests.fetch.server import LocalServer, Reply, serve

pytestmark = pytest.mark.timeout(30)

PAGES = Path(__file__).resolve().parent / "pages"
ARTICLE = (PAGES / "harbour_strike.html").read_bytes()
HTML = {"Content-Type": "text/html; charset=utf-8"}


def feed_source(server: LocalServer, allow_private: bool = False) -> Source:
    return Source(server.url("/feed.xml"), "Loopback", "http", 300.0, allow_private, 1, "auto")


async def test_an_html_page_is_fetched_with_its_final_url(make_settings) -> None:  # type: ignore[no-untyped-def]
    with serve() as server:
        server.routes["/a"] = Reply(301, headers={"Location": "/story"})
        server.routes["/story"] = Reply(200, ARTICLE, HTML)
        async with Fetcher(make_settings()) as fetcher:
            page = await fetcher.fetch_page(server.url("/a"), feed_source(server))
        accept = server.requests[-1].headers["accept"]
    assert page.outcome == "fetched" and page.html == ARTICLE
    assert page.final_url == server.url("/story")
    assert "text/html" in accept


async def test_xhtml_and_untyped_markup_are_pages(make_settings) -> None:  # type: ignore[no-untyped-def]
    with serve() as server:
        server.routes["/x"] = Reply(200, ARTICLE, {"Content-Type": "application/xhtml+xml"})
        server.routes["/bare"] = Reply(200, ARTICLE)  # no Content-Type at all
        async with Fetcher(make_settings()) as fetcher:
            xhtml = await fetcher.fetch_page(server.url("/x"), feed_source(server))
            bare = await fetcher.fetch_page(server.url("/bare"), feed_source(server))
    assert xhtml.outcome == bare.outcome == "fetched"


@pytest.mark.parametrize(
    ("reply", "outcome"),
    [
        (Reply(404, b"<html>not found</html>", HTML), "http_error"),
        (Reply(500, b"oops", HTML), "http_error"),
        (Reply(200, b"%PDF-1.7 binary", {"Content-Type": "application/pdf"}), "not_html"),
        (Reply(200, b'{"a": 1}', {"Content-Type": "application/json"}), "not_html"),
        (Reply(200, b"\x89PNG\r\n\x1a\n\x00\x00"), "not_html"),  # untyped, not markup
        (Reply(200, b"<html>" + b"x" * 3000 + b"</html>", HTML), "too_large"),
    ],
)
async def test_a_page_that_cannot_be_had_is_an_outcome(
    make_settings, reply: Reply, outcome: str
) -> None:  # type: ignore[no-untyped-def]
    with serve() as server:
        server.routes["/p"] = reply
        async with Fetcher(make_settings(page_max_bytes=2048)) as fetcher:
            page = await fetcher.fetch_page(server.url("/p"), feed_source(server))
    assert page.outcome == outcome and page.html == b""
    assert page.detail


async def test_a_huge_page_without_length_stops_at_the_cap(make_settings) -> None:  # type: ignore[no-untyped-def]
    def endless(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.end_headers()
        handler.wfile.write(b"<html><body>")
        for _ in range(2000):  # 2 MB, far over the cap, never announced
            handler.wfile.write(b"<p>" + b"word " * 200 + b"</p>")

    with serve() as server:
        server.routes["/huge"] = endless
        async with Fetcher(make_settings(page_max_bytes=64 * 1024)) as fetcher:
            page = await fetcher.fetch_page(server.url("/huge"), feed_source(server))
    assert page.outcome == "too_large"


async def test_a_slow_page_times_out(make_settings) -> None:  # type: ignore[no-untyped-def]
    def slow(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.end_headers()
        for _ in range(40):  # a drip that never finishes within the page timeout
            handler.wfile.write(b"<p>x</p>")
            handler.wfile.flush()
            time.sleep(0.1)

    with serve() as server:
        server.routes["/slow"] = slow
        async with Fetcher(make_settings(page_timeout_s=0.5)) as fetcher:
            started = time.monotonic()
            page = await fetcher.fetch_page(server.url("/slow"), feed_source(server))
            took_s = time.monotonic() - started
    assert page.outcome == "timeout"
    assert took_s < 3


async def test_429_pauses_the_host_for_its_retry_after(make_settings) -> None:  # type: ignore[no-untyped-def]
    with serve() as server:
        server.routes["/one"] = Reply(429, b"slow down", {"Retry-After": "30", **HTML})
        server.routes["/two"] = Reply(200, ARTICLE, HTML)
        async with Fetcher(make_settings()) as fetcher:
            first = await fetcher.fetch_page(server.url("/one"), feed_source(server))
            second = await fetcher.fetch_page(server.url("/two"), feed_source(server))
        asked_two = server.hits("/two")
    assert first.outcome == "http_error"
    assert second.outcome == "paused" and "30 s" in second.detail
    assert asked_two == 0  # the host was not asked again while it asked for a pause


async def test_a_pause_ends(make_settings) -> None:  # type: ignore[no-untyped-def]
    with serve() as server:
        server.routes["/one"] = Reply(503, b"busy", {"Retry-After": "0", **HTML})
        server.routes["/two"] = Reply(200, ARTICLE, HTML)
        async with Fetcher(make_settings()) as fetcher:
            await fetcher.fetch_page(server.url("/one"), feed_source(server))
            second = await fetcher.fetch_page(server.url("/two"), feed_source(server))
    assert second.outcome == "fetched"


def test_pauses_that_are_over_are_not_kept() -> None:
    # Hosts that asked for a pause once and are never asked again are not kept for ever.
    pauses = HostPauses(default_pause_s=60.0)
    for n in range(100):
        pauses.pause(f"host{n}.example", retry_after_s=0.0)  # over at once
    pauses.pause("busy.example", retry_after_s=None)
    assert pauses.remaining_s("busy.example") > 0
    assert list(pauses._until) == ["busy.example"]


async def test_a_redirect_to_a_private_address_is_refused(make_settings) -> None:  # type: ignore[no-untyped-def]
    """The feed's own host is allowed (the source says so), the private address a link
    redirects to is not: the guard runs on every hop of a page, with the page's own rule."""
    settings = make_settings(allow_private_networks=False)
    with serve() as server:
        port = server.server.server_address[1]
        server.routes["/own"] = Reply(200, ARTICLE, HTML)
        server.routes["/jump"] = Reply(302, headers={"Location": f"http://127.0.0.2:{port}/own"})
        source = feed_source(server, allow_private=True)
        async with Fetcher(settings) as fetcher:
            own = await fetcher.fetch_page(server.url("/own"), source)
            jumped = await fetcher.fetch_page(server.url("/jump"), source)
            direct = await fetcher.fetch_page(f"http://127.0.0.2:{port}/own", source)
            unallowed = await fetcher.fetch_page(server.url("/own"), feed_source(server))
        own_hits = server.hits("/own")
    assert own.outcome == "fetched"
    assert jumped.outcome == direct.outcome == unallowed.outcome == "refused"
    assert "127.0.0.2" in jumped.detail
    assert own_hits == 1  # neither the redirect's target nor the unallowed source got through


async def test_only_http_links_are_fetched(make_settings) -> None:  # type: ignore[no-untyped-def]
    with serve() as server:
        async with Fetcher(make_settings()) as fetcher:
            for link in ("file:///etc/passwd", "ftp://example.org/x", "javascript:alert(1)"):
                page = await fetcher.fetch_page(link, feed_source(server))
                assert page.outcome == "refused"
        assert server.requests == []


async def test_redirect_loops_and_chains_are_limited(make_settings) -> None:  # type: ignore[no-untyped-def]
    with serve() as server:
        server.routes["/a"] = Reply(302, headers={"Location": "/b"})
        server.routes["/b"] = Reply(302, headers={"Location": "/a"})
        for n in range(4):
            server.routes[f"/c{n}"] = Reply(302, headers={"Location": f"/c{n + 1}"})
        server.routes["/c4"] = Reply(200, ARTICLE, HTML)
        async with Fetcher(make_settings(max_redirects=2)) as fetcher:
            loop = await fetcher.fetch_page(server.url("/a"), feed_source(server))
            chain = await fetcher.fetch_page(server.url("/c0"), feed_source(server))
    assert loop.outcome == chain.outcome == "error"
    assert "loop" in loop.detail and "redirects" in chain.detail


@pytest.mark.parametrize(
    ("content_type", "charset"),
    [
        ("text/html; charset=windows-1251", "windows-1251"),
        ('text/html; Charset="ISO-8859-1"', "ISO-8859-1"),
        ("text/html", ""),
        ("", ""),
        ("application/xhtml+xml; profile=x; charset=utf-8", "utf-8"),
    ],
)
def test_declared_charset(content_type: str, charset: str) -> None:
    from ingest.fetch.pages import declared_charset

    assert declared_charset(content_type) == charset


class _ImportsSought(importlib.abc.MetaPathFinder):
    """Records every module an `import` looks for on disk (one not loaded yet)."""

    def __init__(self) -> None:
        self.names: list[str] = []

    def find_spec(self, fullname: str, path: object, target: object = None) -> None:
        self.names.append(fullname)
        return None  # the usual finders go on looking


async def test_fetching_pages_imports_nothing_once_warm(make_settings) -> None:  # type: ignore[no-untyped-def]
    # httpcore imports sniffio for each lock it makes, several a request: not installed, that
    # import searched sys.path every time (~1 ms of CPU a request).
    sought = _ImportsSought()
    with serve() as server:
        server.routes["/story"] = Reply(200, ARTICLE, HTML)
        async with Fetcher(make_settings()) as fetcher:
            await fetcher.fetch_page(server.url("/story"), feed_source(server))
            sys.meta_path.insert(0, sought)
            try:
                pages = [await fetcher.fetch_page(server.url("/story"), feed_source(server))
                         for _ in range(3)]  # fmt: skip
            finally:
                sys.meta_path.remove(sought)
    assert all(p.outcome == "fetched" for p in pages)
    assert sought.names == []


async def test_pages_of_more_hosts_than_slots_reuse_their_connections(make_settings) -> None:  # type: ignore[no-untyped-def]
    """Feeds of many outlets, each poll asking its pages one after another: an idle connection
    to one outlet is kept while the slots serve the others, not closed to make room."""
    with serve(http11=True) as a, serve(http11=True) as b, serve(http11=True) as c:
        servers = (a, b, c)
        for server in servers:
            server.routes["/story"] = Reply(200, ARTICLE, HTML)
        async with Fetcher(make_settings(concurrency=2)) as fetcher:
            for _round in range(4):
                for server in servers:
                    page = await fetcher.fetch_page(server.url("/story"), feed_source(server))
                    assert page.outcome == "fetched"
    assert [s.connections() for s in servers] == [1, 1, 1]


async def test_a_connection_the_server_hung_up_is_not_reused(make_settings) -> None:  # type: ignore[no-untyped-def]
    """A keep-alive connection the server closed while idle is dropped, not written to."""

    def hang_up_after(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Content-Length", str(len(ARTICLE)))
        handler.end_headers()
        handler.wfile.write(ARTICLE)
        handler.close_connection = True  # without saying "Connection: close"

    with serve(http11=True) as server:
        server.routes["/story"] = hang_up_after
        async with Fetcher(make_settings()) as fetcher:
            pages = []
            for _round in range(3):
                pages.append(await fetcher.fetch_page(server.url("/story"), feed_source(server)))
                await asyncio.sleep(0.05)  # the hang-up reaches us
    assert [p.outcome for p in pages] == ["fetched"] * 3
    assert server.connections() == 3
