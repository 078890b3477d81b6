"""The running service: feeds.yaml and rule edits without a restart, and the two-stage stop."""

from __future__ import annotations

import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from tests.service.conftest import PrivateRedis, Workers, worker_env
from tests.service.feedserver import FeedServer, rss, serve
from tests.service.workload import (
    alert_counts,
    alerts_for,
    feed_workers,
    item,
    publish_feeds,
    wait_for,
)

TAKES_EFFECT_S = 2.0  # rule edits take effect within this (DESIGN.md)


def feed_with(server: FeedServer, items: list[dict[str, str]]) -> None:
    server.pages["/feed/0.xml"] = rss(items, "Feed 0")


def with_words(n: int, words: str) -> dict[str, str]:
    story = item(n)
    return {**story, "body": f"{story['body']} {words}"}


@pytest.mark.timeout(120)
def test_feeds_yaml_edit_is_picked_up(
    tmp_path: Path, private_redis: PrivateRedis, workers: Workers
) -> None:
    channel = f"alerts:feeds:{uuid.uuid4().hex[:6]}"
    with serve() as server:
        publish_feeds(server, {0: [0], 1: [1]})
        first = f"{server.base_url}/feed/0.xml"
        workers.env = worker_env(tmp_path, private_redis.url, [first], channel)
        workers.start()
        wait_for(lambda: alerts_for(private_redis, channel, 0) == 1, 60, "feed 0", workers)
        feeds = Path(workers.env["WIREWATCH_FEEDS_FILE"])
        feeds.write_text(
            feeds.read_text() + f"  - url: {server.base_url}/feed/1.xml\n    interval_s: 1\n"
        )
        wait_for(lambda: alerts_for(private_redis, channel, 1) == 1, 30, "the added feed", workers)


@pytest.mark.timeout(180)
def test_rule_file_edit_break_fix_while_running(
    tmp_path: Path, private_redis: PrivateRedis, workers: Workers
) -> None:
    channel = f"alerts:base:{uuid.uuid4().hex[:6]}"
    animals = f"alerts:animals:{uuid.uuid4().hex[:6]}"
    extra = tmp_path / "rules" / "animals.yaml"
    animal_rule = "rules:\n  - id: animal\n    channel: {channel}\n    all: [{term}]\n"
    with serve() as server:
        items = [item(0)]
        feed_with(server, items)
        workers.env = worker_env(
            tmp_path, private_redis.url, [f"{server.base_url}/feed/0.xml"], channel
        )
        workers.start()
        wait_for(lambda: alerts_for(private_redis, channel, 0) == 1, 60, "first alert", workers)

        extra.write_text(animal_rule.format(channel=animals, term="zebra"), encoding="utf-8")
        time.sleep(TAKES_EFFECT_S)
        items.append(with_words(1, "A zebra crossed the road."))
        feed_with(server, items)
        wait_for(lambda: alerts_for(private_redis, animals, 1) == 1, 30, "the new rule", workers)

        extra.write_text("rules:\n  - id: animal\n    all: [zebra\n", encoding="utf-8")  # broken
        time.sleep(TAKES_EFFECT_S)
        items.append(with_words(2, "Another zebra appeared."))
        feed_with(server, items)
        wait_for(
            lambda: alerts_for(private_redis, animals, 2) == 1,
            30,
            "the broken file's last good version",
            workers,
        )
        wait_for(lambda: alerts_for(private_redis, channel, 2) == 1, 30, "the other rules", workers)

        extra.write_text(animal_rule.format(channel=animals, term="giraffe"), encoding="utf-8")
        time.sleep(TAKES_EFFECT_S)
        items.append(with_words(3, "A giraffe and a zebra."))
        feed_with(server, items)
        wait_for(lambda: alerts_for(private_redis, animals, 3) == 1, 30, "the fixed rule", workers)
        items.append(with_words(4, "Only a zebra this time."))
        feed_with(server, items)
        wait_for(lambda: alerts_for(private_redis, channel, 4) == 1, 30, "story 4", workers)
    assert alerts_for(private_redis, animals, 4) == 0  # the fixed file replaced zebra
    assert "animals.yaml:3:" in workers.logs()  # the broken edit was reported with its line


@pytest.mark.timeout(120)
def test_sigterm_finishes_the_poll_in_flight(
    tmp_path: Path, private_redis: PrivateRedis, workers: Workers
) -> None:
    channel = f"alerts:drain:{uuid.uuid4().hex[:6]}"
    with serve() as server:
        feed_workers(server, workers, tmp_path, private_redis.url, channel, {0: [0]})
        server.delays_s["/feed/0.xml"] = 3.0
        process = workers.start()
        wait_for(lambda: server.hits("/feed/0.xml") >= 1, 60, "the poll to start", workers)
        process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"did not exit after SIGTERM\n{workers.logs()}") from None
        assert code == 0, workers.logs()
    assert alerts_for(private_redis, channel, 0) == 1, workers.logs()
    assert "finishing in-flight polls" in workers.logs()


@pytest.mark.timeout(120)
def test_second_signal_stops_at_once(
    tmp_path: Path, private_redis: PrivateRedis, workers: Workers
) -> None:
    channel = f"alerts:stop:{uuid.uuid4().hex[:6]}"
    with serve() as server:
        feed_workers(
            server, workers, tmp_path, private_redis.url, channel, {0: [0]},
            WIREWATCH_SHUTDOWN_GRACE_S="30",
        )  # fmt: skip
        server.delays_s["/feed/0.xml"] = 40.0
        process = workers.start()
        wait_for(lambda: server.hits("/feed/0.xml") >= 1, 60, "the poll to start", workers)
        process.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running after a second signal\n{workers.logs()}") from None
        assert time.monotonic() - started < 10
    assert alerts_for(private_redis, channel, 0) == 0


@pytest.mark.timeout(120)
def test_story_dropped_into_a_spool_folder_alerts_once(
    tmp_path: Path, private_redis: PrivateRedis, workers: Workers
) -> None:
    channel = f"alerts:spool:{uuid.uuid4().hex[:6]}"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    workers.env = worker_env(tmp_path, private_redis.url, [str(inbox)], channel)
    workers.start()
    time.sleep(1)
    story = item(0)
    (inbox / "story-0.txt").write_text(f"{story['title']}\n\n{story['body']}", encoding="utf-8")
    wait_for(
        lambda: sum(alert_counts(private_redis, channel).values()) == 1, 60, "spool alert", workers
    )
    (inbox / "story-0-again.txt").write_text(story["body"], encoding="utf-8")  # the same story
    time.sleep(5)  # several polls of the folder
    assert sum(alert_counts(private_redis, channel).values()) == 1, workers.logs()
