"""Delivery you can trust, against real Redis servers and real `wirewatch run` processes:
Redis away for 30 s, a worker killed with SIGKILL, two workers sharing sources."""

from __future__ import annotations

import json
import random
import signal
import time
import uuid
from pathlib import Path

import pytest

from tests.service.conftest import PrivateRedis, Workers, story_text, worker_env
from tests.service.feedserver import FeedServer, rss, serve


def item(n: int) -> dict[str, str]:
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


def alert_counts(private_redis: PrivateRedis, channel: str) -> dict[str, int]:
    """How often each article (by GUID-derived link) was alerted, from the stream."""
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


def wait_for(condition, timeout_s: float, what: str, workers: Workers) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}\n--- worker logs ---\n{workers.logs()}")


def expected_urls(numbers: range) -> set[str]:
    return {f"https://wire.example/story/{n}" for n in numbers}


@pytest.mark.timeout(180)
def test_redis_away_for_30s_loses_and_doubles_nothing(
    tmp_path: Path, private_redis: PrivateRedis, workers: Workers
) -> None:
    channel = f"alerts:outage:{uuid.uuid4().hex[:6]}"
    with serve() as server:
        publish_feeds(server, {0: [0, 1], 1: [2]})
        urls = [f"{server.base_url}/feed/{i}.xml" for i in range(2)]
        workers.env = worker_env(tmp_path, private_redis.url, urls, channel)
        workers.start()
        wait_for(
            lambda: len(alert_counts(private_redis, channel)) == 3, 60, "first alerts", workers
        )
        private_redis.stop()
        publish_feeds(server, {0: [0, 1, 3, 4], 1: [2, 5]})  # news arrives while Redis is away
        time.sleep(30)
        kept = list((tmp_path / "outbox").glob("*.json"))
        assert kept, f"alerts were not kept in the outbox\n{workers.logs()}"
        private_redis.start()
        wait_for(
            lambda: len(alert_counts(private_redis, channel)) == 6, 60, "outbox drained", workers
        )
        time.sleep(3)  # a few more polls: nothing may be doubled
        counts = alert_counts(private_redis, channel)
    assert set(counts) == expected_urls(range(6))
    assert all(n == 1 for n in counts.values()), counts
    assert not list((tmp_path / "outbox").glob("*.json"))


def wait_for_first_entry(private_redis: PrivateRedis, channel: str, timeout_s: float) -> None:
    client = private_redis.client()
    try:
        assert client.xread({channel: "0-0"}, count=1, block=int(timeout_s * 1000)), "no alert"
    finally:
        client.close()


@pytest.mark.timeout(240)
def test_kill_9_mid_batch_then_restart(
    tmp_path: Path, private_redis: PrivateRedis, workers: Workers
) -> None:
    channel = f"alerts:kill:{uuid.uuid4().hex[:6]}"
    feeds, per_feed = 30, 20
    total = feeds * per_feed
    with serve() as server:
        publish_feeds(server, consecutive(feeds, per_feed))
        urls = [f"{server.base_url}/feed/{i}.xml" for i in range(feeds)]
        workers.env = worker_env(tmp_path, private_redis.url, urls, channel)
        first = workers.start()
        wait_for_first_entry(private_redis, channel, 120)
        first.send_signal(signal.SIGKILL)  # while it is publishing the batch
        first.wait(timeout=10)
        published_before_kill = len(alert_counts(private_redis, channel))
        workers.start()
        wait_for(
            lambda: len(alert_counts(private_redis, channel)) == total,
            120,
            "every alert after the restart",
            workers,
        )
        time.sleep(3)
        counts = alert_counts(private_redis, channel)
    assert 0 < published_before_kill < total, f"the kill landed after {published_before_kill}"
    assert set(counts) == expected_urls(range(total))
    assert all(n == 1 for n in counts.values()), counts


@pytest.mark.timeout(180)
def test_two_workers_split_100_sources(
    tmp_path: Path, private_redis: PrivateRedis, workers: Workers
) -> None:
    channel = f"alerts:pair:{uuid.uuid4().hex[:6]}"
    feeds = 100
    with serve() as server:
        publish_feeds(server, {f: [f] for f in range(feeds)})
        urls = [f"{server.base_url}/feed/{i}.xml" for i in range(feeds)]
        workers.env = worker_env(tmp_path, private_redis.url, urls, channel)
        workers.start()
        workers.start()
        wait_for(
            lambda: len(alert_counts(private_redis, channel)) == feeds, 90, "100 alerts", workers
        )
        time.sleep(3)
        counts = alert_counts(private_redis, channel)
    workers.stop_all()
    assert set(counts) == expected_urls(range(feeds))
    assert all(n == 1 for n in counts.values()), counts
    for log in sorted(tmp_path.glob("logs/*.log")):  # both took a share of the sources
        assert "alerts from" in log.read_text(), workers.logs()


@pytest.mark.timeout(240)
def test_fetch_and_match_roles_split_the_work(
    tmp_path: Path, private_redis: PrivateRedis, workers: Workers
) -> None:
    channel = f"alerts:roles:{uuid.uuid4().hex[:6]}"
    feeds, per_feed = 20, 10
    total = feeds * per_feed
    with serve() as server:
        publish_feeds(server, consecutive(feeds, per_feed))
        urls = [f"{server.base_url}/feed/{i}.xml" for i in range(feeds)]
        workers.env = worker_env(tmp_path, private_redis.url, urls, channel)
        workers.start("--role", "fetch")
        matcher = workers.start("--role", "match")
        wait_for_first_entry(private_redis, channel, 120)
        matcher.send_signal(signal.SIGKILL)  # its unacknowledged articles go to the next one
        matcher.wait(timeout=10)
        workers.start("--role", "match")
        wait_for(
            lambda: len(alert_counts(private_redis, channel)) == total,
            120,
            "every alert through the hand-off",
            workers,
        )
        time.sleep(2)
        counts = alert_counts(private_redis, channel)
    assert set(counts) == expected_urls(range(total))
    assert all(n == 1 for n in counts.values()), counts
    assert "matching from" in workers.logs()


@pytest.mark.timeout(300)
@pytest.mark.parametrize("seed", [11])
def test_kill_9_at_random_points_then_restart(
    tmp_path: Path, private_redis: PrivateRedis, workers: Workers, seed: int
) -> None:
    channel = f"alerts:kills:{uuid.uuid4().hex[:6]}"
    feeds, per_feed = 30, 20
    total = feeds * per_feed
    rng = random.Random(seed)
    with serve() as server:
        publish_feeds(server, consecutive(feeds, per_feed))
        urls = [f"{server.base_url}/feed/{i}.xml" for i in range(feeds)]
        workers.env = worker_env(tmp_path, private_redis.url, urls, channel)
        for _ in range(4):  # start-up, fetching, NER, publishing, state writes: wherever it lands
            victim = workers.start()
            time.sleep(rng.uniform(0.5, 5.0))
            victim.send_signal(signal.SIGKILL)
            victim.wait(timeout=10)
        workers.start()
        wait_for(
            lambda: len(alert_counts(private_redis, channel)) == total,
            150,
            "every alert after the kills",
            workers,
        )
        time.sleep(3)
        counts = alert_counts(private_redis, channel)
    assert set(counts) == expected_urls(range(total))
    assert all(n == 1 for n in counts.values()), counts
