"""SIGTERM at random moments of a loaded run: every stop ends within the grace period plus a
bounded margin, whatever is in flight (polls, spaCy matching, publishing, outbox replay), and
what it cut off is done by the next start: every expected alert is in the stream exactly once.

Each run brings new work: stories added to slow and fast feeds, wire stories dropped into a
watched spool, and alerts left in the outbox by an earlier run (written in the outbox's own
format, as a run that lost Redis leaves them)."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from ingest.service.stopping import STOP_MARGIN_S
from tests.service.conftest import PrivateRedis, Workers, story_text, worker_env
from tests.service.feedserver import rss, serve
from tests.service.workload import wait_for

RUNS = 10
GRACE_S = 2.0
FEEDS = 6
STORIES_PER_FEED_PER_RUN = 6
SPOOL_FILES_PER_RUN = 4
OUTBOX_PER_RUN = 1000
RULE = (
    "rules:\n  - id: putin-ceasefire\n    channel: {channel}\n    all: [ceasefire]\n"
    "    entities:\n      PERSON: [Vladimir Putin]\n"
)


def story(n: int) -> dict[str, str]:
    return {
        "title": f"Putin and the ceasefire, story {n}",
        "link": f"https://wire.example/stop/{n}",
        "guid": f"stop-{n}",
        "published": "2026-03-18T10:00:00+00:00",
        "body": story_text(n, words=160),
    }


def outbox_alert(outbox: Path, channel: str, n: int) -> str:
    """An alert as the outbox keeps it; returns its title."""
    alert_id = f"{uuid.uuid4().hex[:24]}"
    title = f"Kept in the outbox, alert {n}"
    alert = {
        "schema": 1, "alert_id": alert_id, "rule_id": "putin-ceasefire", "channel": channel,
        "article": {"id": f"outbox-{n}", "url": f"https://wire.example/outbox/{n}",
                    "title": title},
    }  # fmt: skip
    record = {"story_id": f"outbox-story-{n}", "alert": json.dumps(alert)}
    (outbox / f"{alert_id}.json").write_text(json.dumps(record), encoding="utf-8")
    return title


def titles_in_stream(private_redis: PrivateRedis, channel: str) -> dict[str, int]:
    client = private_redis.client()
    try:
        entries = client.xrange(channel)
    finally:
        client.close()
    counts: dict[str, int] = {}
    for _, fields in entries:
        title = json.loads(fields["alert"])["article"]["title"]
        counts[title] = counts.get(title, 0) + 1
    return counts


def stop_at_random(process: subprocess.Popen[bytes], rng: random.Random, workers: Workers) -> float:
    """SIGTERM at a random moment (one stop in four while the worker starts, the others once
    it runs); returns how long the stop took."""
    if rng.random() < 0.25:
        time.sleep(rng.uniform(0.5, 3.0))
    else:
        log = workers.log_dir / f"worker-{len(workers.processes) - 1}.log"
        wait_for(lambda: "running:" in log.read_text() or process.poll() is not None, 90,
                 "the worker to start", workers)  # fmt: skip
        time.sleep(rng.uniform(0.0, 4.0))
    process.send_signal(signal.SIGTERM)
    started = time.monotonic()
    try:
        process.wait(timeout=GRACE_S + STOP_MARGIN_S + 30)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGABRT)  # PYTHONFAULTHANDLER: every thread's stack
        process.wait(timeout=10)
        raise AssertionError(f"did not stop after SIGTERM\n{workers.logs()}") from None
    return time.monotonic() - started


@pytest.mark.timeout(600)
def test_sigterm_at_random_moments_loses_and_doubles_nothing(
    tmp_path: Path, private_redis: PrivateRedis, workers: Workers
) -> None:
    rng = random.Random(int(os.environ.get("STOP_SEED", "22")))
    channel = f"alerts:stop:{uuid.uuid4().hex[:6]}"
    spool, outbox = tmp_path / "spool", tmp_path / "outbox"
    spool.mkdir()
    outbox.mkdir()
    expected: set[str] = set()
    feeds: dict[int, list[dict[str, str]]] = {f: [] for f in range(FEEDS)}
    with serve() as server:
        urls = [f"{server.base_url}/feed/{f}.xml" for f in range(FEEDS)]
        workers.env = {
            **worker_env(tmp_path, private_redis.url, [*urls, str(spool)], channel),
            "WIREWATCH_SHUTDOWN_GRACE_S": str(GRACE_S),
            "WIREWATCH_STREAM_MAXLEN": "100000",
            "WIREWATCH_NER_BATCH_SIZE": "4",
            "PYTHONFAULTHANDLER": "1",
        }
        (tmp_path / "rules" / "watch.yaml").write_text(RULE.format(channel=channel))
        took: list[float] = []
        number = 0
        for run in range(RUNS):
            for f in range(FEEDS):
                for _ in range(STORIES_PER_FEED_PER_RUN):
                    feeds[f].append(story(number))
                    expected.add(feeds[f][-1]["title"])
                    number += 1
                server.pages[f"/feed/{f}.xml"] = rss(feeds[f], f"Feed {f}")
                # Some answers outlast the grace period: those polls are cut off.
                server.delays_s[f"/feed/{f}.xml"] = rng.choice([0.0, 0.3, 1.0, 2.5, 6.0])
            for _ in range(SPOOL_FILES_PER_RUN):
                text = story(number)
                (spool / f"{number}.txt").write_text(f"{text['title']}\n\n{text['body']}\n")
                expected.add(text["title"])
                number += 1
            expected |= {outbox_alert(outbox, channel, run * OUTBOX_PER_RUN + i)
                         for i in range(OUTBOX_PER_RUN)}  # fmt: skip
            process = workers.start()
            took.append(stop_at_random(process, rng, workers))
            # 0, or killed by the signal itself before the service set its handlers up; never
            # the hard stop's status (the drain itself ended in time).
            assert process.returncode in (0, -signal.SIGTERM), workers.logs()
        assert max(took) <= GRACE_S + STOP_MARGIN_S, (took, workers.logs())

        for f in range(FEEDS):
            server.delays_s[f"/feed/{f}.xml"] = 0.0
        last = workers.start()
        wait_for(lambda: set(titles_in_stream(private_redis, channel)) >= expected, 120,
                 f"{len(expected)} alerts", workers)  # fmt: skip
        time.sleep(3.0)  # a few more polls: a double would show
        last.send_signal(signal.SIGTERM)
        last.wait(timeout=GRACE_S + STOP_MARGIN_S + 30)
    counts = titles_in_stream(private_redis, channel)
    assert set(counts) == expected
    doubled = {title: n for title, n in counts.items() if n != 1}
    assert not doubled, doubled
    print(f"stops took {min(took):.2f}-{max(took):.2f} s (grace {GRACE_S} s)")
