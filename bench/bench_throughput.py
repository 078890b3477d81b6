"""Throughput: the articles per second one `wirewatch run` worker sustains with a full story
window, at an offered load above that, and its memory over time.

    .venv/bin/python bench/bench_throughput.py [--stories 100000] [--feeds 200] [--new 10]
        [--interval 10] [--minutes 3]

Starts a Redis of its own, fills the story window with N stories as `bench_stories.py` does
(templated bulletins and diverse news, half each), then serves `--feeds` feeds from a local HTTP
server, each with `--new` new items on every fetch (half of them bulletins, half news; one in
three mentions a ceasefire, which the one rule looks for), and runs one worker polling each feed
every `--interval` seconds: `feeds * new / interval` articles per second are offered. Every 30 s
it prints the articles the worker processed per second (its `wirewatch_articles_total` metric),
its RSS, and Redis memory; at the end the rate after the first minute and RSS growth from the
end of the first minute to the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
import redis.asyncio as aioredis  # noqa: E402
from bench_stories import News, bulletin, fill, free_port, start_redis  # noqa: E402

from ingest.stories.registry import StoryRegistry  # noqa: E402

PREFIX = "tp:"
WINDOW_S = 3 * 86400


class Feeds:
    """Feeds whose every fetch brings `new` new items (the newest 2 * new are shown)."""

    def __init__(self, new: int) -> None:
        self.new = new
        self.fetches: dict[int, int] = {}
        self.lock = threading.Lock()

    def body(self, feed: int) -> bytes:
        with self.lock:
            fetch = self.fetches[feed] = self.fetches.get(feed, 0) + 1
        first = max(1, (fetch - 2) * self.new + 1)
        items = "".join(self.item(feed, n) for n in range(fetch * self.new, first - 1, -1))
        return (
            f'<?xml version="1.0"?><rss version="2.0"><channel><title>Feed {feed}</title>'
            f"<link>https://wire.example/{feed}</link>{items}</channel></rss>"
        ).encode()

    def item(self, feed: int, n: int) -> str:
        rng = random.Random(feed * 1_000_003 + n)
        title, body = bulletin(rng) if n % 2 else News(rng).article()
        if n % 3 == 0:
            body = f"Officials discussed a ceasefire on {n}. {body}"
        link = f"https://wire.example/{feed}/{n}"
        return (
            f"<item><title>{escape(title)}</title><link>{link}</link><guid>{link}</guid>"
            f"<pubDate>{formatdate(usegmt=True)}</pubDate>"
            f"<description>{escape(body)}</description></item>"
        )


@contextmanager
def serve(feeds: Feeds) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            feed = int(self.path.removeprefix("/feed/").removesuffix(".xml"))
            body = feeds.body(feed)
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.2", 0), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.2:{server.server_address[1]}"
    finally:
        server.shutdown()


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def articles_done(metrics_url: str) -> float:
    try:
        text = urllib.request.urlopen(metrics_url, timeout=5).read().decode()
    except OSError:
        return 0.0
    found = re.search(r"^wirewatch_articles_total (\S+)$", text, re.MULTILINE)
    return float(found.group(1)) if found else 0.0


async def prefill(url: str, stories: int) -> None:
    client = aioredis.Redis.from_url(url)
    try:
        await fill(StoryRegistry(client, PREFIX, WINDOW_S), stories, random.Random(11))
    finally:
        await client.aclose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--new", type=int, default=10)
    parser.add_argument("--interval", type=float, default=10)
    parser.add_argument("--minutes", type=float, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-throughput-"))
    with start_redis() as url:
        started = time.monotonic()
        asyncio.run(prefill(url, args.stories))
        print(f"window filled with {args.stories} stories in {time.monotonic() - started:.0f} s")
        run_worker(url, work, args)


def run_worker(url: str, work: Path, args: argparse.Namespace) -> None:
    client = redis.Redis.from_url(url)
    (work / "rules").mkdir()
    (work / "rules" / "r.yaml").write_text(
        f"rules:\n  - id: ceasefire\n    channel: alerts:tp:{uuid.uuid4().hex[:6]}\n"
        "    all: [ceasefire]\n",
        encoding="utf-8",
    )
    metrics_port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
    env.update(
        WIREWATCH_REDIS_URL=url, WIREWATCH_KEY_PREFIX=PREFIX,
        WIREWATCH_FEEDS_FILE=str(work / "feeds.yaml"), WIREWATCH_RULES_DIR=str(work / "rules"),
        WIREWATCH_OUTBOX_DIR=str(work / "outbox"), WIREWATCH_ALLOW_PRIVATE_NETWORKS="true",
        WIREWATCH_MIN_INTERVAL_S=str(args.interval), WIREWATCH_LOG_FORMAT="text",
        WIREWATCH_METRICS_PORT=str(metrics_port),
    )  # fmt: skip
    offered = args.feeds * args.new / args.interval
    with serve(Feeds(args.new)) as base:
        lines = [f"  - url: {base}/feed/{n}.xml\n    interval_s: {args.interval:g}\n"
                 for n in range(args.feeds)]  # fmt: skip
        (work / "feeds.yaml").write_text("feeds:\n" + "".join(lines), encoding="utf-8")
        print(f"offered: {offered:.0f} articles/s ({args.feeds} feeds, {args.new} new per poll)")
        with (work / "worker.log").open("wb") as log:
            worker = subprocess.Popen(
                [sys.executable, "-m", "ingest", "run"], env=env, stdout=log, stderr=log, cwd=ROOT
            )
            try:
                samples = sample(
                    worker.pid, f"http://127.0.0.1:{metrics_port}/metrics", client, args
                )
            finally:
                worker.send_signal(signal.SIGTERM)
                worker.wait(60)
    report(samples)


def sample(
    pid: int, metrics_url: str, client: redis.Redis, args: argparse.Namespace
) -> list[tuple[float, float, float]]:
    """(seconds, articles done, RSS MB) every 30 s."""
    started = time.monotonic()
    samples = [(0.0, 0.0, rss_mb(pid))]
    while time.monotonic() - started < args.minutes * 60:
        time.sleep(30)
        now = (time.monotonic() - started, articles_done(metrics_url), rss_mb(pid))
        rate = (now[1] - samples[-1][1]) / (now[0] - samples[-1][0])
        used = int(client.info("memory")["used_memory"]) / 1e6
        print(
            f"  {now[0]:5.0f} s: {rate:6.1f} articles/s, RSS {now[2]:6.1f} MB, Redis {used:.0f} MB"
        )
        samples.append(now)
    return samples


def report(samples: list[tuple[float, float, float]]) -> None:
    warm = next((s for s in samples if s[0] >= 60), samples[0])
    last = samples[-1]
    if last[0] > warm[0]:
        rate = (last[1] - warm[1]) / (last[0] - warm[0])
        print(f"sustained after the first minute: {rate:.1f} articles/s")
        growth = (last[2] - warm[2]) / warm[2] * 100
        print(
            f"RSS {warm[2]:.1f} MB at {warm[0]:.0f} s, {last[2]:.1f} MB at the end ({growth:+.1f}%)"
        )


if __name__ == "__main__":
    main()
