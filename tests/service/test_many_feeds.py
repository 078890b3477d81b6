"""600 feeds on seven loopback hosts, all due every 10 s and changing on every fetch, served
slower than the service can poll them all: every feed is still polled, the least-polled gets
at least half the mean, and the service says once that it is behind."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from tests.service.conftest import PrivateRedis, Workers, worker_env
from tests.service.manyfeeds import feeds_yaml, serve_many
from tests.service.workload import wait_for

FEEDS, HOSTS, INTERVAL_S = 600, 7, 10
# One poll at a time per host and 150 ms per answer: at most ~47 polls/s against the 60/s the
# schedule asks for, so the service cannot keep up, whatever the machine.
DELAY_S, RUN_S = 0.15, 90


@pytest.mark.slow
@pytest.mark.timeout(240)
def test_every_feed_gets_its_turn_when_the_service_cannot_keep_up(
    tmp_path: Path, private_redis: PrivateRedis, workers: Workers
) -> None:
    channel = f"alerts:many:{uuid.uuid4().hex[:6]}"
    with serve_many(FEEDS, HOSTS, DELAY_S) as many:
        env = worker_env(tmp_path, private_redis.url, [], channel)
        (tmp_path / "rules" / "watch.yaml").write_text(
            f"rules:\n  - id: ceasefire\n    channel: {channel}\n    all: [ceasefire]\n",
            encoding="utf-8",
        )
        (tmp_path / "feeds.yaml").write_text(feeds_yaml(many, INTERVAL_S), encoding="utf-8")
        env.update(WIREWATCH_MIN_INTERVAL_S="10", WIREWATCH_PER_HOST_CONCURRENCY="1")
        workers.env = env
        workers.start()
        wait_for(lambda: " running: " in workers.logs(), 60, "the worker to run", workers)
        time.sleep(RUN_S)
        polls = many.polls()
    workers.stop_all()
    never = [feed for feed, count in polls.items() if count == 0]
    assert not never, f"{len(never)} feeds never polled, e.g. {never[:5]}"
    mean = sum(polls.values()) / len(polls)
    assert min(polls.values()) >= mean / 2, (min(polls.values()), mean)
    assert workers.logs().count("falling behind") == 1, workers.logs()[-3000:]
