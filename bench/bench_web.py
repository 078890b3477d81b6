"""Web console benchmark: how soon a published alert reaches an open event stream, and how long
the pages and the API take.

    .venv/bin/python bench/bench_web.py [--alerts 300] [--requests 50]

Needs the Redis of WIREWATCH_TEST_REDIS_URL (default redis://127.0.0.1:6379/15); starts
`wirewatch web` on a free port, writes under a throwaway key prefix and deletes it afterwards.
Prints:
- publish-to-event latency (p50, p99): an alert published through the service's script, until
  its `alert` event is read off /api/events;
- the median time of GET /, /rules, /api/alerts (100 alerts) and POST /api/try.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx
import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.delivery.store import Store  # noqa: E402
from ingest.settings import Settings  # noqa: E402
from tests.web.conftest import WebServer, web_env  # noqa: E402

REDIS_URL = os.environ.get("WIREWATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RULES = "rules:\n  - id: bench\n    channel: {channel}\n    all: [ceasefire]\n"


def payload(channel: str, n: int) -> str:
    article = {"id": f"a{n}", "url": f"https://wire.example/{n}", "title": f"Story {n}",
               "published": None, "source": {"name": "Wire", "url": ""}, "dateline": None,
               "summary": "", "language": "en"}  # fmt: skip
    return json.dumps({"schema": 1, "alert_id": f"b{n}", "rule_id": "bench", "channel": channel,
                       "matched": {"terms": ["ceasefire"], "entities": []}, "article": article,
                       "snippet": "a ceasefire", "created_at": "2026-11-30T10:00:00Z"})  # fmt: skip


async def publish_all(settings: Settings, channel: str, count: int, sent: dict[str, float]) -> None:
    store = Store.from_settings(settings)
    try:
        for n in range(count):
            sent[f"Story {n}"] = time.perf_counter()
            await store.publish_payload("bench", channel, f"b{n}", f"s{n}", payload(channel, n))
            await asyncio.sleep(0.01)
    finally:
        await store.close()


def event_latencies(server: WebServer, settings: Settings, channel: str, count: int) -> list[float]:
    sent: dict[str, float] = {}
    got: list[float] = []
    with (
        httpx.Client(timeout=30) as client,
        client.stream("GET", f"{server.url}/api/events", params={"channel": channel}) as response,
    ):
        lines = response.iter_lines()
        next(lines)  # retry: the stream is open, so no alert can be missed from here
        publisher = threading.Thread(
            target=lambda: asyncio.run(publish_all(settings, channel, count, sent))
        )
        publisher.start()
        for line in lines:
            if line.startswith("data: "):
                title = json.loads(line[6:])["article"]["title"]
                got.append((time.perf_counter() - sent[title]) * 1000)
                if len(got) == count:
                    break
        publisher.join()
    return got


def median_ms(call, times: int) -> float:  # type: ignore[no-untyped-def]
    spent = []
    for _ in range(times):
        started = time.perf_counter()
        answer = call()
        spent.append((time.perf_counter() - started) * 1000)
        assert answer.status_code == 200, answer.text
    return statistics.median(spent)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--alerts", type=int, default=300)
    parser.add_argument("--requests", type=int, default=50)
    args = parser.parse_args()
    prefix = f"wwbench:{uuid.uuid4().hex[:8]}:"
    channel = f"{prefix}alerts:bench"
    settings = Settings(_env_file=None, redis_url=REDIS_URL, key_prefix=prefix)  # type: ignore[call-arg]
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder)
        (home / "rules").mkdir()
        (home / "rules" / "bench.yaml").write_text(RULES.format(channel=channel))
        (home / "feeds.yaml").write_text("feeds: []\n")
        env = web_env(REDIS_URL, prefix, home / "rules", home / "feeds.yaml")
        server = WebServer(env, home / "web.log").start()
        try:
            latencies = sorted(event_latencies(server, settings, channel, args.alerts))
            p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
            print(f"publish -> SSE event: p50 {statistics.median(latencies):.1f} ms, "
                  f"p99 {p99:.1f} ms over {len(latencies)} alerts")  # fmt: skip
            body = {"title": "Truce", "text": "KYIV, March 18 (Reuters) - A ceasefire held."}
            with httpx.Client(base_url=server.url, timeout=30) as client:
                client.post("/api/try", json=body)  # the first builds the matcher
                for name, call in [
                    ("GET /", lambda: client.get("/")),
                    ("GET /rules", lambda: client.get("/rules")),
                    ("GET /api/alerts?limit=100", lambda: client.get("/api/alerts?limit=100")),
                    ("POST /api/try", lambda: client.post("/api/try", json=body)),
                ]:
                    print(f"{name}: median {median_ms(call, args.requests):.1f} ms")
        finally:
            server.stop()
            client_ = redis.Redis.from_url(REDIS_URL)
            keys = list(client_.scan_iter(match=f"{prefix}*", count=1000))
            if keys:
                client_.delete(*keys)
            client_.close()


if __name__ == "__main__":
    main()
