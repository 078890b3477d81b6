"""Lag is a fact of the shared state: a second worker that joins a service already behind its
schedule reports the same lag as the first (`wirewatch_sources_overdue`, `wirewatch_lag_seconds`)
and says it is behind, never "caught up", though it has polled almost nothing itself."""

from __future__ import annotations

import time
import urllib.request
import uuid
from pathlib import Path

import pytest

from tests.service.conftest import PrivateRedis, Workers, free_port
from tests.service.feedserver import serve
from tests.service.workload import feed_workers, wait_for

FEEDS = 20
ANSWER_S = 3.0  # each feed answers this slowly; one poll at a time per worker: far behind
INTERVAL_S = 10  # long enough that a worker judging by its own polls would see no lag


def lag_of(port: int) -> tuple[float, float]:
    """(sources overdue, worst lag in s) as a worker's metrics say."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as answer:
        text = answer.read().decode()
    values = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name in ("wirewatch_sources_overdue", "wirewatch_lag_seconds"):
            values[name] = float(value)
    return values["wirewatch_sources_overdue"], values["wirewatch_lag_seconds"]


@pytest.mark.timeout(150)
def test_a_worker_that_joins_late_reports_the_same_lag(
    tmp_path: Path, private_redis: PrivateRedis, workers: Workers
) -> None:
    channel = f"alerts:lag:{uuid.uuid4().hex[:6]}"
    first, second = free_port(), free_port()
    with serve() as server:
        feed_workers(
            server, workers, tmp_path, private_redis.url, channel,
            {f: [f] for f in range(FEEDS)}, WIREWATCH_CONCURRENCY="1",
        )  # fmt: skip
        for f in range(FEEDS):
            server.delays_s[f"/feed/{f}.xml"] = ANSWER_S
        feeds = Path(workers.env["WIREWATCH_FEEDS_FILE"])
        feeds.write_text(
            feeds.read_text().replace("interval_s: 1\n", f"interval_s: {INTERVAL_S}\n")
        )
        base = dict(workers.env)
        workers.env = {**base, "WIREWATCH_METRICS_PORT": str(first)}
        workers.start()
        wait_for(
            lambda: "falling behind" in workers.logs(), 90, "the first to fall behind", workers
        )
        workers.env = {**base, "WIREWATCH_METRICS_PORT": str(second)}
        workers.start()
        log = workers.log_dir / "worker-1.log"
        wait_for(lambda: "running:" in log.read_text(), 90, "the second to start", workers)
        time.sleep(4.0)  # a couple of lag reports from the second
        pairs = []
        for _ in range(6):
            pairs.append((lag_of(first), lag_of(second)))
            time.sleep(1.0)
    second_log = log.read_text()
    assert "falling behind" in second_log, second_log
    assert "caught up" not in second_log, second_log
    for (overdue_a, worst_a), (overdue_b, worst_b) in pairs:
        assert overdue_a >= FEEDS // 2, pairs  # far behind, as both know
        # The same schedule read at most a report period (2 s) apart: polls start meanwhile
        # (one every 1.5 s between the two) and the worst lag grows a second a second.
        assert abs(overdue_a - overdue_b) <= 3, pairs
        assert abs(worst_a - worst_b) <= 5.0, pairs
