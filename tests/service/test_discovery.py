"""A site's address finds its feed: in feeds.yaml (polled through the feed, said once, an error of
that source when the page names none) and in `wirewatch feeds add`, against a local site on
loopback; the fetch safety (private addresses, size cap) holds for the page and the feed alike."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from ingest.cli import main
from ingest.errors import BlockedAddress, FeedNotFound, TooLarge
from ingest.fetch.fetcher import Fetcher
from ingest.fetch.schedule import SourceState
from ingest.models import Source
from ingest.service.discovery import fetch_feed
from tests.fetch.server import LocalServer, Reply, serve

pytestmark = pytest.mark.timeout(120)

HTML = {"Content-Type": "text/html; charset=utf-8"}
RSS = {"Content-Type": "application/rss+xml"}


def page(*links: tuple[str, str, str]) -> bytes:
    """An HTML page naming these (type, href, title) feeds in its head."""
    tags = "".join(
        f'<link rel="alternate" type="{kind}" href="{href}" title="{title}">'
        for kind, href, title in links
    )
    return (
        f"<!DOCTYPE html><html><head><title>A site</title>{tags}</head>"
        "<body><h1>Welcome</h1></body></html>"
    ).encode()


def feed(title: str, *guids: str) -> bytes:
    items = "".join(
        f"<item><title>Harbour story {g}</title><link>https://site.example/{g}</link>"
        f"<guid>{g}</guid><description>The harbour council met on {g}.</description></item>"
        for g in guids
    )
    return (
        f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>'
        f"<link>https://site.example/</link><description>d</description>{items}</channel></rss>"
    ).encode()


@pytest.fixture
def site() -> LocalServer:
    with serve() as server:
        server.routes["/"] = Reply(200, page(("application/rss+xml", "feed.xml", "Posts")), HTML)
        server.routes["/feed.xml"] = Reply(200, feed("Site posts", "a1", "a2"), RSS, etag='"v1"')
        yield server  # type: ignore[misc]


@pytest.fixture
def env(cli_env: Path) -> Path:
    return cli_env


@pytest.mark.usefixtures("real_redis_cleanup")
def test_a_page_in_feeds_yaml_is_polled_through_its_feed(
    env: Path, site: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feeds_file = env / "feeds.yaml"
    feeds_file.write_text(f"feeds:\n  - url: {site.url('/')}\n    group: Local\n", "utf-8")
    note = (
        f"{feeds_file}:2: {site.url('/')} is a web page; polling its feed {site.url('/feed.xml')}"
    )
    assert main(["run", "--once"]) == 0
    first = capsys.readouterr().err
    assert note in first and "2 new articles" in first
    assert main(["run", "--once"]) == 0  # a new process: said again, once, page not re-read
    second = capsys.readouterr().err
    assert second.count(note) == 1 and "0 new articles" in second
    assert site.hits("/") == 1 and site.hits("/feed.xml") == 2
    assert site.requests[-1].headers.get("if-none-match") == '"v1"'
    assert main(["feeds"]) == 0
    table = capsys.readouterr().out
    assert re.search(r"^127\.0\.0\.1\s+Local\s+", table, re.M), table
    assert f"note: {note}" in table


@pytest.mark.usefixtures("real_redis_cleanup")
def test_a_feed_that_went_away_is_found_again_on_the_page(
    env: Path, site: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    (env / "feeds.yaml").write_text(f"feeds:\n  - url: {site.url('/')}\n", "utf-8")
    assert main(["run", "--once"]) == 0
    site.routes["/feed.xml"] = Reply(404, b"gone")
    site.routes["/"] = Reply(200, page(("application/atom+xml", "/new.atom", "")), HTML)
    site.routes["/new.atom"] = Reply(200, feed("Moved", "a2", "a3"), RSS)
    assert main(["run", "--once"]) == 0
    err = capsys.readouterr().err
    assert f"polling its feed {site.url('/new.atom')}" in err
    assert site.hits("/") == 2 and site.hits("/new.atom") == 1


@pytest.mark.usefixtures("real_redis_cleanup")
def test_a_page_without_a_feed_is_an_error_of_that_source_only(
    env: Path, site: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    site.routes["/about"] = Reply(200, page(), HTML)
    (env / "feeds.yaml").write_text(
        f"feeds:\n  - url: {site.url('/about')}\n    name: About page\n"
        f"  - url: {site.url('/feed.xml')}\n    name: Real feed\n",
        "utf-8",
    )
    assert main(["run", "--once"]) == 0
    assert "polled 2 sources (1 failed), 2 new articles" in capsys.readouterr().err
    assert main(["feeds"]) == 0
    rows = {line.split("  ")[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "no feed found on this page" in rows["About page"]
    assert "no feed found" not in rows["Real feed"]


@pytest.mark.usefixtures("real_redis_cleanup")
def test_hostile_pages_are_errors_of_their_source(
    env: Path, site: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    """Markup made to be slow to read, a link to a feed that is not one, a link to itself."""
    site.routes["/soup"] = Reply(200, b"<!DOCTYPE html><html><head>" + b"<" * 3_000_000, HTML)
    site.routes["/fake"] = Reply(200, page(("application/rss+xml", "/fake.xml", "")), HTML)
    site.routes["/fake.xml"] = Reply(200, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 64, RSS)
    site.routes["/self"] = Reply(200, page(("application/atom+xml", "/self", "")), HTML)
    names = ["soup", "fake", "self"]
    (env / "feeds.yaml").write_text(
        "feeds:\n" + "".join(f"  - url: {site.url('/' + n)}\n    name: {n}\n" for n in names),
        "utf-8",
    )
    assert main(["run", "--once"]) == 0
    assert "polled 3 sources (3 failed)" in capsys.readouterr().err
    assert main(["feeds"]) == 0
    rows = {line.split("  ")[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "no feed found on this page" in rows["soup"]
    assert "binary data, not a feed" in rows["fake"]
    assert "is a page too" in rows["self"]


def test_feeds_add_finds_the_feed_of_a_site(
    env: Path, site: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    feeds_file = env / "feeds.yaml"
    original = "# my sources\nfeeds:\n  - url: https://other.example/rss  # keep me\n"
    feeds_file.write_text(original, "utf-8")
    assert main(["feeds", "add", site.url("/"), "--group", "Local news"]) == 0
    assert f"{feeds_file}:5: added {site.url('/feed.xml')} (Site posts)" in capsys.readouterr().err
    assert feeds_file.read_text("utf-8") == original + (
        f"  # found on {site.url('/')}\n  - url: {site.url('/feed.xml')}\n"
        "    name: Site posts\n    group: Local news\n"
    )
    for again in (site.url("/"), site.url("/feed.xml")):
        assert main(["feeds", "add", again]) == 0
        assert "already there; nothing changed" in capsys.readouterr().err
    assert feeds_file.read_text("utf-8").count("url:") == 2


def test_feeds_add_lists_the_choices_and_takes_the_main_feed(
    env: Path, site: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    site.routes["/"] = Reply(200, page(
        ("application/rss+xml", "/feed.xml", "Posts"),
        ("application/rss+xml", "/comments.xml", "Comments"),
        ("application/atom+xml", "/atom.xml", "Posts (Atom)"),
    ), HTML)  # fmt: skip
    assert main(["feeds", "add", site.url("/"), "--name", "My name"]) == 0
    err = capsys.readouterr().err
    listed = [line.strip() for line in err.splitlines() if re.match(r"\s+\d\. ", line)]
    assert listed == [
        f"1. RSS (Posts): {site.url('/feed.xml')}",
        f"2. Atom (Posts (Atom)): {site.url('/atom.xml')}",
        f"3. RSS (Comments): {site.url('/comments.xml')}",
    ]
    assert "name: My name" in (env / "feeds.yaml").read_text("utf-8")


@pytest.mark.parametrize(
    ("route", "message"),
    [
        (Reply(200, page(), HTML), "no feed found on this page"),
        (Reply(200, b'{"not": "a feed"}', {"Content-Type": "application/json"}), "not a feed"),
        (Reply(500, b"oops"), "HTTP 500"),
    ],
)
def test_feeds_add_refuses_what_is_not_a_feed_and_changes_nothing(
    env: Path, site: LocalServer, capsys: pytest.CaptureFixture[str], route: Reply, message: str
) -> None:
    site.routes["/x"] = route
    feeds_file = env / "feeds.yaml"
    feeds_file.write_text("feeds: []\n", "utf-8")
    assert main(["feeds", "add", site.url("/x")]) == 1
    assert message in capsys.readouterr().err
    assert feeds_file.read_text("utf-8") == "feeds: []\n"


def test_feeds_add_refuses_a_private_address_unless_told(
    env: Path,
    site: LocalServer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WIREWATCH_ALLOW_PRIVATE_NETWORKS", "false")
    assert main(["feeds", "add", site.url("/")]) == 1
    assert "refusing 127.0.0.1" in (err := capsys.readouterr().err) and "--allow-private" in err
    assert not (env / "feeds.yaml").exists()
    assert main(["feeds", "add", site.url("/"), "--allow-private"]) == 0
    assert "allow_private: true" in (env / "feeds.yaml").read_text("utf-8")


# The same guard for the page and for the feed it names, through the one Fetcher.
PUBLIC = {"site.example": "93.184.216.34", "inside.example": "10.0.0.7"}


async def fake_resolve(host: str, port: int) -> list[str]:
    return [PUBLIC[host]]


def answer(routes: dict[str, tuple[dict[str, str], bytes]]) -> httpx.MockTransport:
    def reply(request: httpx.Request) -> httpx.Response:
        headers, body = routes[str(request.url)]
        return httpx.Response(200, headers=headers, stream=httpx.ByteStream(body))

    return httpx.MockTransport(reply)


async def test_a_page_naming_a_feed_on_a_private_address_is_refused(make_settings) -> None:  # type: ignore[no-untyped-def]
    inside = "http://inside.example/feed"
    routes = {
        "https://site.example/": (HTML, page(("application/rss+xml", inside, ""))),
        inside: (RSS, feed("x", "1")),
    }
    settings = make_settings(allow_private_networks=False)
    source = Source("https://site.example/", "site", "http", 300.0)
    async with Fetcher(settings, transport=answer(routes), resolver=fake_resolve) as fetcher:
        with pytest.raises(BlockedAddress, match=r"inside\.example"):
            await fetch_feed(fetcher, source, SourceState())


async def test_the_size_cap_holds_for_the_feed_a_page_names(make_settings) -> None:  # type: ignore[no-untyped-def]
    routes = {
        "https://site.example/": (HTML, page(("application/rss+xml", "/big.xml", ""))),
        "https://site.example/big.xml": (RSS, feed("big", *map(str, range(2000)))),
    }
    settings = make_settings(allow_private_networks=False, max_body_bytes=50_000)
    source = Source("https://site.example/", "site", "http", 300.0)
    async with Fetcher(settings, transport=answer(routes), resolver=fake_resolve) as fetcher:
        with pytest.raises(TooLarge):
            await fetch_feed(fetcher, source, SourceState())


async def test_a_page_naming_a_page_is_not_followed_further(make_settings) -> None:  # type: ignore[no-untyped-def]
    loop = page(("application/rss+xml", "/again", ""))
    routes = {
        "https://site.example/": (HTML, loop),
        "https://site.example/again": (HTML, loop),
    }
    source = Source("https://site.example/", "site", "http", 300.0)
    settings = make_settings(allow_private_networks=False)
    async with Fetcher(settings, transport=answer(routes), resolver=fake_resolve) as fetcher:
        with pytest.raises(FeedNotFound, match="is a page too"):
            await fetch_feed(fetcher, source, SourceState())


@pytest.mark.parametrize("url", ["feeds/local.xml", "file:///srv/feed.xml", "ftp://site.example/"])
def test_feeds_add_takes_only_http_addresses(
    env: Path, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    assert main(["feeds", "add", url]) == 2
    assert "give an http(s) address" in capsys.readouterr().err
    assert not (env / "feeds.yaml").exists()


def test_feeds_add_to_a_broken_feeds_yaml_changes_nothing(
    env: Path, site: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = "feeds:\n  - url: https://a.example/rss\n    name: [unclosed\n"
    (env / "feeds.yaml").write_text(broken, "utf-8")
    assert main(["feeds", "add", site.url("/")]) == 1
    assert f"{env / 'feeds.yaml'}:3: invalid YAML" in capsys.readouterr().err
    assert (env / "feeds.yaml").read_text("utf-8") == broken


class Terminal:
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("typed", "picked"), [("2", 1), ("", 0), ("9", 0), (EOFError, 0)])
def test_on_a_terminal_the_user_picks_one(
    monkeypatch: pytest.MonkeyPatch, typed: object, picked: int
) -> None:
    from ingest.cli import choose_feed
    from ingest.parse.feedlinks import FeedLink

    choices = [
        FeedLink("https://s.example/a", "RSS", ""),
        FeedLink("https://s.example/b", "Atom", ""),
    ]

    def answer(prompt: str) -> str:
        assert prompt == "which one? [1-2, default 1] "
        if typed is EOFError:
            raise EOFError
        return str(typed)

    monkeypatch.setattr("sys.stdin", Terminal())
    monkeypatch.setattr("builtins.input", answer)
    assert choose_feed(choices) == choices[picked]


@pytest.mark.parametrize(
    ("before", "found", "moved", "kept_move"),
    [
        ("https://site.example/feed.xml", "https://site.example/feed.xml", None, True),
        ("https://site.example/feed.xml", "https://site.example/new.xml", None, False),
        (None, "https://site.example/feed.xml", None, False),
        (
            "https://site.example/feed.xml",
            "https://site.example/new.xml",
            "https://m.example/",
            True,
        ),
    ],
)
def test_the_state_keeps_the_feed_found_and_forgets_an_old_move(
    make_settings, before: str | None, found: str, moved: str | None, kept_move: bool
) -> None:  # type: ignore[no-untyped-def]
    import random

    from ingest.fetch.schedule import PollOutcome, next_state
    from ingest.models import FetchResult, utcnow

    source = Source("https://site.example/", "site", "http", 300.0)
    state = SourceState(feed_url=before, permanent_url="https://old-move.example/feed")
    result = FetchResult(source, (), status=200, feed_url=found, permanent_url=moved)
    after = next_state(state, PollOutcome.success(result, 0), utcnow(), source,
                       make_settings(), random.Random(1))  # fmt: skip
    assert after.feed_url == found
    expected_move = moved or ("https://old-move.example/feed" if kept_move else None)
    assert after.permanent_url == expected_move
