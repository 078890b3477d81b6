"""A Redis that stops answering (paused: connections stay open, replies never come) is noticed
by the health probe long before any call's 10 s socket timeout, and the outage is reported with
its length as measured, not from when it was noticed."""

from __future__ import annotations

import os
import re
import signal
import time
import uuid
from pathlib import Path

import pytest

from ingest.delivery.connections import CLIENT_OPTIONS
from tests.service.conftest import PrivateRedis, Workers
from tests.service.feedserver import serve
from tests.service.workload import feed_workers, wait_for

PAUSE_S = 6.0
SOCKET_TIMEOUT_S = float(CLIENT_OPTIONS["socket_timeout"])


@pytest.mark.timeout(120)
def test_a_paused_redis_is_noticed_at_once_and_its_outage_measured(
    tmp_path: Path, private_redis: PrivateRedis, workers: Workers
) -> None:
    channel = f"alerts:watch:{uuid.uuid4().hex[:6]}"
    assert private_redis.process is not None
    with serve() as server:
        feed_workers(server, workers, tmp_path, private_redis.url, channel, {0: [0], 1: [1]})
        workers.start()
        wait_for(lambda: "running:" in workers.logs(), 60, "the worker to start", workers)
        time.sleep(2.0)
        os.kill(private_redis.process.pid, signal.SIGSTOP)
        paused = time.monotonic()
        try:
            noticed = lambda: "is not answering" in workers.logs()  # noqa: E731
            wait_for(noticed, SOCKET_TIMEOUT_S, "the outage to be noticed", workers)
            noticed_s = time.monotonic() - paused
            time.sleep(max(0.0, PAUSE_S - (time.monotonic() - paused)))
        finally:
            os.kill(private_redis.process.pid, signal.SIGCONT)
        resumed_s = time.monotonic() - paused
        wait_for(lambda: "is back after" in workers.logs(), 30, "the end of the outage", workers)
    found = re.search(r"is back after ([0-9.]+) s", workers.logs())
    assert found, workers.logs()
    measured_s = float(found.group(1))
    # Noticed by the probe (about a second), not by a call's socket timeout.
    assert noticed_s < SOCKET_TIMEOUT_S / 2, noticed_s
    # The outage began at most a probe period before the pause was noticed, and ended at
    # most one probe period after the resume.
    assert resumed_s - 2.5 <= measured_s <= resumed_s + 1.5, (measured_s, resumed_s)
