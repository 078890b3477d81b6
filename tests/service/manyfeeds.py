"""Many feeds on several loopback hosts (127.0.0.2, 127.0.0.3, ...), each with a new item on
every fetch, for the fairness test and bench/bench_manyfeeds.py.

Every request is recorded (feed, time), and the moment each item was first served, so a test
can count polls per feed and a benchmark can measure lag and fetch-to-alert latency."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import escape

WORDS = tuple(
    [
        "minister",
        "talks",
        "border",
        "troops",
        "harbour",
        "grain",
        "port",
        "council",
        "vote",
        "budget",
        "river",
        "bridge",
        "court",
        "ruling",
        "energy",
        "prices",
        "market",
        "strike",
        "union",
        "factory",
        "election",
        "mayor",
        "police",
        "storm",
        "flood",
        "school",
        "hospital",
        "doctors",
        "nurses",
        "airport",
        "flights",
        "railway",
        "drought",
        "harvest",
        "exports",
        "tariff",
    ]
)
ITEMS_SHOWN = 3  # each fetch shows the newest three items: one of them new
MATCH_EVERY = 3  # one item in three mentions a ceasefire (what the test rule looks for)


def item_text(feed: int, number: int) -> str:
    rng = random.Random(feed * 1_000_003 + number)
    words = " ".join(rng.choice(WORDS) for _ in range(80))
    lead = "Officials discussed a ceasefire. " if (feed + number) % MATCH_EVERY == 0 else ""
    return f"{lead}{words.capitalize()}."


@dataclass
class ManyFeeds:
    feeds: int
    hosts: int
    delay_s: float = 0.0  # each answer waits this long (a slow network)
    news_like: bool = False  # items also name a person and a reference never seen before
    servers: list[ThreadingHTTPServer] = field(default_factory=list)
    hits: list[tuple[int, float]] = field(default_factory=list)  # (feed, time.time())
    first_served: dict[str, float] = field(default_factory=dict)  # item link -> time
    _served: dict[int, int] = field(default_factory=dict)  # feed -> fetches so far
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def text(self, feed: int, number: int) -> str:
        if not self.news_like:
            return item_text(feed, number)
        return f"{item_text(feed, number)} {new_words(feed, number)}"

    def url(self, feed: int) -> str:
        server = self.servers[feed % len(self.servers)]
        host, port = server.server_address[:2]
        return f"http://{host}:{port}/feed/{feed}.xml"

    def polls(self) -> dict[int, int]:
        counts = dict.fromkeys(range(self.feeds), 0)
        with self._lock:
            for feed, _ in self.hits:
                counts[feed] += 1
        return counts

    def body(self, feed: int) -> bytes:
        with self._lock:
            fetch = self._served.get(feed, 0) + 1
            self._served[feed] = fetch
            self.hits.append((feed, time.time()))
            numbers = list(range(max(1, fetch - ITEMS_SHOWN + 1), fetch + 1))
            for number in numbers:
                self.first_served.setdefault(link(feed, number), time.time())
        items = "".join(
            f"<item><title>Feed {feed} story {n}</title><link>{link(feed, n)}</link>"
            f"<guid>{link(feed, n)}</guid><pubDate>{formatdate(usegmt=True)}</pubDate>"
            f"<description>{escape(self.text(feed, n))}</description></item>"
            for n in reversed(numbers)
        )
        return (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {feed}</title>'
            f"<link>https://wire.example/{feed}</link>{items}</channel></rss>"
        ).encode()


def new_words(feed: int, number: int) -> str:
    """A person and a reference that no earlier item had, as real news brings every day."""
    rng = random.Random(f"{feed}/{number}")
    name = "".join(rng.choice("bcdfgklmnprstvz") + rng.choice("aeiou") for _ in range(3))
    return (
        f"Minister {name.capitalize()} told reporters in Vienna on Tuesday, "
        f"reference {rng.randrange(10**8)}-{feed}-{number}."
    )


def link(feed: int, number: int) -> str:
    return f"https://wire.example/{feed}/{number}"


def _handler(feeds: ManyFeeds) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: the fetcher reuses connections

        def do_GET(self) -> None:
            try:
                feed = int(self.path.removeprefix("/feed/").removesuffix(".xml"))
            except ValueError:
                self.send_error(404)
                return
            if feeds.delay_s:
                time.sleep(feeds.delay_s)
            body = feeds.body(feed)
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    return Handler


@contextmanager
def serve_many(
    feeds: int, hosts: int, delay_s: float = 0.0, news_like: bool = False
) -> Iterator[ManyFeeds]:
    many = ManyFeeds(feeds, hosts, delay_s, news_like)
    for index in range(hosts):
        server = ThreadingHTTPServer((f"127.0.0.{index + 2}", 0), _handler(many))
        server.daemon_threads = True
        many.servers.append(server)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield many
    finally:
        for server in many.servers:
            server.shutdown()
            server.server_close()


def feeds_yaml(many: ManyFeeds, interval_s: float) -> str:
    return "feeds:\n" + "".join(
        f"  - url: {many.url(f)}\n    interval_s: {interval_s:g}\n" for f in range(many.feeds)
    )
