"""Fetch benchmark: feeds/second fetched and parsed, and CPU per unchanged (304) feed.

    .venv/bin/python bench/bench_fetch.py [--feeds 400] [--items 50] [--rounds 3]

A local HTTP/1.1 server (keep-alive, ETag) runs in a child process, so the CPU time measured
here is the client's alone: Fetcher + parse_document for changed feeds; Fetcher + next_state
for unchanged ones. Goal: 2,000 unchanged feeds per minute under 20 % of one core.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ingest.fetch.fetcher import Fetcher, is_public_address, resolve_host
from ingest.fetch.schedule import PollOutcome, SourceState, next_state
from ingest.models import Source
from ingest.parse.documents import parse_document
from ingest.settings import Settings

GOAL_FEEDS_PER_MIN = 2000
GOAL_CORE_SHARE = 0.20


def feed_body(feed_no: int, items: int) -> bytes:
    start = datetime(2025, 3, 17, tzinfo=UTC)
    entries = "".join(
        f"<item><title>Feed {feed_no} story {n}: talks resume as ceasefire holds</title>"
        f"<link>https://bench{feed_no}.example/{n}</link><guid>b{feed_no}-{n}</guid>"
        f"<pubDate>{format_datetime(start + timedelta(minutes=n), usegmt=True)}</pubDate>"
        f"<description>{'Some words of the story body. ' * 20}</description></item>"
        for n in range(items)
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Bench {feed_no}'
        f"</title><link>https://bench{feed_no}.example/</link>{entries}</channel></rss>"
    ).encode()


def serve(port_queue: multiprocessing.Queue, feeds: int, items: int) -> None:  # type: ignore[type-arg]
    bodies = {f"/feed/{n}": feed_body(n, items) for n in range(feeds)}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            body = bodies.get(self.path)
            if body is None:
                self.send_error(404)
                return
            etag = f'"{self.path}"'
            unchanged = self.headers.get("If-None-Match") == etag
            self.send_response(304 if unchanged else 200)
            self.send_header("ETag", etag)
            self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            self.send_header("Content-Length", "0" if unchanged else str(len(body)))
            self.end_headers()
            if not unchanged:
                self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    port_queue.put(server.server_address[1])
    server.serve_forever()


@dataclass
class Round:
    feeds: int
    wall_s: float
    cpu_s: float
    entries: int = 0


async def fetch_round(
    fetcher: Fetcher,
    sources: list[Source],
    states: dict[str, SourceState],
    settings: Settings,
    parse: bool,
) -> Round:
    rng = random.Random(1)
    entries = 0

    async def one(source: Source) -> None:
        nonlocal entries
        result = await fetcher.fetch(source, states[source.key])
        if parse:
            entries += sum(len(parse_document(d, source).entries) for d in result.documents)
        outcome = PollOutcome.success(result, 0)
        states[source.key] = next_state(
            states[source.key], outcome, datetime.now(UTC), source, settings, rng
        )

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(one(s) for s in sources))
    return Round(len(sources), time.perf_counter() - wall, time.process_time() - cpu, entries)


async def bench(port: int, feeds: int, rounds: int) -> None:
    settings = Settings(
        _env_file=None,
        allow_private_networks=True,
        concurrency=16,  # type: ignore[call-arg]
        per_host_concurrency=16,
    )
    sources = [
        Source(url=f"http://127.0.0.1:{port}/feed/{n}", name=f"b{n}", kind="http", interval_s=300)
        for n in range(feeds)
    ]
    async with Fetcher(settings) as fetcher:
        for _ in range(rounds):
            states = {s.key: SourceState() for s in sources}
            changed = await fetch_round(fetcher, sources, states, settings, parse=True)
            unchanged = await fetch_round(fetcher, sources, states, settings, parse=False)
            report(changed, unchanged)
    await address_check_cost(feeds)


async def address_check_cost(feeds: int) -> None:
    """The SSRF pre-check is off here (the server is on loopback); measure what it adds."""

    async def check() -> None:
        all(is_public_address(a) for a in await resolve_host("localhost", 80))

    cpu = time.process_time()
    await asyncio.gather(*(check() for _ in range(feeds)))
    per_ms = (time.process_time() - cpu) / feeds * 1000
    print(f"address check (getaddrinfo + is_public_address): {per_ms:.3f} ms CPU/feed extra")


def report(changed: Round, unchanged: Round) -> None:
    per_304_ms = unchanged.cpu_s / unchanged.feeds * 1000
    share = per_304_ms / 1000 * GOAL_FEEDS_PER_MIN / 60
    print(
        f"changed (200, fetch+parse): {changed.feeds / changed.wall_s:7.1f} feeds/s wall, "
        f"{changed.cpu_s / changed.feeds * 1000:6.2f} ms CPU/feed, {changed.entries} entries\n"
        f"unchanged (304, fetch+next_state): "
        f"{unchanged.feeds / unchanged.wall_s:7.1f} feeds/s wall, "
        f"{per_304_ms:6.3f} ms CPU/feed -> {GOAL_FEEDS_PER_MIN}/min = {share:.1%} of one core "
        f"({'within' if share < GOAL_CORE_SHARE else 'OVER'} the {GOAL_CORE_SHARE:.0%} goal)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--feeds", type=int, default=400)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    ports: multiprocessing.Queue = multiprocessing.Queue()  # type: ignore[type-arg]
    child = multiprocessing.Process(target=serve, args=(ports, args.feeds, args.items), daemon=True)
    child.start()
    try:
        port = ports.get(timeout=30)
        print(f"{args.feeds} feeds x {args.items} items, server pid {child.pid} on port {port}")
        asyncio.run(bench(port, args.feeds, args.rounds))
    finally:
        child.terminate()
        child.join(timeout=5)


if __name__ == "__main__":
    main()
