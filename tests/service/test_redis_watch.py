"""A Redis that stops answering (paused: connections stay open, replies never come) is noticed
by the health probe long before any call's 10 s socket timeout, and the outage is reported with
its length as measured, not from when it was noticed. While the probe gets no answer, alerts go
straight to the outbox, which is delivered once Redis answers again."""

from __future__ import annotations

import os
import re
import signal
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.delivery.connections import CLIENT_OPTIONS
from ingest.delivery.outbox import Outbox
from ingest.delivery.publisher import Publisher
from ingest.delivery.store import Store
from ingest.models import Alert, Article, Match, SourceRef
from ingest.settings import Settings
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


class Counted:
    """The publisher's metrics, counted."""

    def __init__(self) -> None:
        self.published = 0
        self.depth = 0

    def alert_published(self, rule_id: str) -> None:
        self.published += 1

    def outbox_depth_is(self, depth: int) -> None:
        self.depth = depth


def an_alert(channel: str) -> Alert:
    article = Article(
        id="article-1", url="https://wire.example/1", title="Ceasefire talks",
        body="Officials discussed a ceasefire.", published=datetime(2026, 1, 1, tzinfo=UTC),
        source=SourceRef("Wire", "https://wire.example/feed"), dateline=None, summary="",
        language="en", fingerprint="fp1",
    )  # fmt: skip
    match = Match("r1", channel, ("ceasefire",), (), "s")
    return Alert("alert-1", match, article, datetime(2026, 1, 1, tzinfo=UTC))


@pytest.mark.timeout(60)
async def test_alerts_go_to_the_outbox_while_the_probe_gets_no_answer(
    tmp_path: Path,
    private_redis: PrivateRedis,
    make_settings,  # type: ignore[no-untyped-def]
) -> None:
    settings: Settings = make_settings(redis_url=private_redis.url)
    store = Store.from_settings(settings)
    counted = Counted()
    publisher = Publisher(store, Outbox(tmp_path / "outbox", 100), counted)
    channel = f"alerts:probe:{uuid.uuid4().hex[:6]}"
    streams = private_redis.client()
    assert private_redis.process is not None
    try:
        assert await store.probe()
        os.kill(private_redis.process.pid, signal.SIGSTOP)
        try:
            assert not await store.probe()  # its 1 s timeout
        finally:
            os.kill(private_redis.process.pid, signal.SIGCONT)
        # Redis answers again, but the probe has not seen it: nothing is sent to Redis (a call
        # would wait for its socket timeout while it is away), the alert is kept.
        assert await publisher.publish_many([(an_alert(channel), "story-1")]) == ["queued"]
        assert await publisher.deliver_outbox() == 0
        assert streams.xlen(channel) == 0 and counted.depth == 1
        # The probe's next answer lets the outbox go, and the alert is in the stream once.
        assert await store.probe()
        assert await publisher.deliver_outbox() == 1
        assert counted.depth == 0 and streams.xlen(channel) == 1
        assert await publisher.publish_many([(an_alert(channel), "story-1")]) == ["repeat"]
        assert streams.xlen(channel) == 1
    finally:
        streams.close()
        await store.close()
