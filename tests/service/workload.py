"""A workload for service tests: numbered wire stories in feeds served over HTTP, `wirewatch
run` workers pointed at them, and what reached the alert stream."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from tests.service.conftest import PrivateRedis, Workers, story_text, worker_env
from tests.service.feedserver import FeedServer, rss

SETTLE_S = 3.0  # after the last expected alert: a few more polls, so a double would show


def item(n: int) -> dict[str, str]:
    """Story n, which the test rule (Putin + ceasefire) matches; its link names n."""
    return {
        "title": f"Putin and the ceasefire, part {n}",
        "link": f"https://wire.example/story/{n}",
        "guid": f"story-{n}",
        "published": "2025-03-18T10:00:00+00:00",
        "body": story_text(n),
    }


def consecutive(feeds: int, per_feed: int) -> dict[int, list[int]]:
    """Feed f carries stories f*per_feed ... (f+1)*per_feed - 1."""
    return {f: list(range(f * per_feed, (f + 1) * per_feed)) for f in range(feeds)}


def publish_feeds(server: FeedServer, items_by_feed: dict[int, list[int]]) -> None:
    for feed, numbers in items_by_feed.items():
        server.pages[f"/feed/{feed}.xml"] = rss([item(n) for n in numbers], f"Feed {feed}")


def feed_workers(
    server: FeedServer,
    workers: Workers,
    tmp_path: Path,
    redis_url: str,
    channel: str,
    items_by_feed: dict[int, list[int]],
    **env: str,
) -> None:
    """Serve the feeds and point the workers (not started yet) at them and at `channel`."""
    publish_feeds(server, items_by_feed)
    urls = [f"{server.base_url}/feed/{feed}.xml" for feed in items_by_feed]
    workers.env = {**worker_env(tmp_path, redis_url, urls, channel), **env}


def alert_counts(private_redis: PrivateRedis, channel: str) -> dict[str, int]:
    """How often each article (by its link) was alerted, from the stream."""
    counts: dict[str, int] = {}
    client = private_redis.client()
    try:
        entries = client.xrange(channel)
    finally:
        client.close()
    for _, fields in entries:
        url = json.loads(fields["alert"])["article"]["url"]
        counts[url] = counts.get(url, 0) + 1
    return counts


def alerts_for(private_redis: PrivateRedis, channel: str, number: int) -> int:
    return alert_counts(private_redis, channel).get(f"https://wire.example/story/{number}", 0)


def wait_for(condition: Callable[[], bool], timeout_s: float, what: str, workers: Workers) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n--- worker logs ---\n{workers.logs()}")


def wait_for_first_entry(private_redis: PrivateRedis, channel: str, timeout_s: float) -> None:
    client = private_redis.client()
    try:
        assert client.xread({channel: "0-0"}, count=1, block=int(timeout_s * 1000)), "no alert"
    finally:
        client.close()


def expected_urls(numbers: range) -> set[str]:
    return {f"https://wire.example/story/{n}" for n in numbers}


def assert_each_alerted_once(
    private_redis: PrivateRedis, channel: str, total: int, workers: Workers, timeout_s: float
) -> None:
    """Stories 0 .. total-1 each alerted exactly once: none lost, none doubled."""
    wait_for(lambda: len(alert_counts(private_redis, channel)) == total, timeout_s,
             f"{total} alerts", workers)  # fmt: skip
    time.sleep(SETTLE_S)
    counts = alert_counts(private_redis, channel)
    assert set(counts) == expected_urls(range(total))
    assert all(n == 1 for n in counts.values()), counts
