"""One destination's runner in process, on the real Redis and a real webhook: it keeps delivering
when its stream is deleted and comes back (the group is made again), and it stops on request."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from ingest.delivery.store import Store
from ingest.notify.config import load_notify_file
from ingest.notify.runner import Runner
from ingest.notify.secrets import Redactor
from ingest.service.metrics import Metrics
from tests.notify.helpers import Webhook, make_alert

pytestmark = [pytest.mark.timeout(60), pytest.mark.redis]


async def until(check: Any, what: str, timeout_s: float = 30) -> None:
    for _ in range(int(timeout_s * 20)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


async def test_a_deleted_stream_gets_its_group_back(
    tmp_path: Path, make_settings: Any, real_redis_cleanup: None, channel_base: str
) -> None:
    channel = f"{channel_base}:runner"
    hook = Webhook()
    hook.start()
    path = tmp_path / "notify.yaml"
    path.write_text(f'notify:\n  - id: r\n    channels: ["{channel}"]\n    to: "{hook.url()}"\n')
    (destination,) = load_notify_file(path, Redactor()).destinations
    settings = make_settings()
    store = Store.from_settings(settings)
    runner = Runner(destination, store, settings, Metrics(), str, "c", "owner-1")
    task = asyncio.create_task(runner.run())

    async def publish(n: int) -> None:
        alert = make_alert(channel, n)
        await store.publish_payload("r", channel, alert["alert_id"], alert["alert_id"],
                                    json.dumps(alert))  # fmt: skip

    try:
        await until(lambda: runner.prepared, "the runner's groups")
        await publish(1)
        await until(lambda: len(hook.messages()) == 1, "the first alert")
        await store.client.delete(channel)  # trimmed away, or deleted by an operator
        await publish(2)
        await until(lambda: len(hook.messages()) == 2, "an alert on the stream made anew")
    finally:
        runner.stop.set()
        await asyncio.wait_for(task, 10)
        await store.close()
        hook.stop()
    assert [m["title"] for m in hook.messages()] == [
        "Ceasefire talks, story 1", "Ceasefire talks, story 2"
    ]  # fmt: skip


@pytest.mark.parametrize("digest", [False, True])
async def test_an_alert_a_failover_brings_back_is_not_sent_twice(
    tmp_path: Path, make_settings: Any, real_redis_cleanup: None, channel_base: str, digest: bool
) -> None:
    """A failover can lose the "delivered" mark of an alert sent just before (the primary died
    before its replica had it) and the alert's stream entry with it, which the worker's outbox
    then publishes anew: the runner that sent it marks and acknowledges it, sends it once."""
    channel = f"{channel_base}:again"
    hook = Webhook()
    hook.start()
    path = tmp_path / "notify.yaml"
    every = "\n    digest_s: 1" if digest else ""
    path.write_text(
        f'notify:\n  - id: r\n    channels: ["{channel}"]\n    to: "{hook.url()}"{every}\n'
    )
    (destination,) = load_notify_file(path, Redactor()).destinations
    settings = make_settings()
    store = Store.from_settings(settings)
    runner = Runner(destination, store, settings, Metrics(), str, "c", "owner-1")
    task = asyncio.create_task(runner.run())
    first, second = make_alert(channel, 1), make_alert(channel, 2)

    async def publish(alert: dict[str, Any], story: str) -> None:
        await store.publish_payload("r", channel, alert["alert_id"], story, json.dumps(alert))

    try:
        await until(lambda: runner.prepared, "the runner's groups")
        await publish(first, "s1")
        await until(lambda: "story 1" in json.dumps(hook.messages()), "the first alert")
        mark = runner.state.mark_key(first["alert_id"])
        await until_done(store, mark)
        # The failover: the mark gone, and the same alert in the stream again (a new entry).
        assert await store.client.delete(mark) == 1
        await publish(first, "s1-again")
        await publish(second, "s2")
        await until(lambda: "story 2" in json.dumps(hook.messages()), "the second alert")
        await asyncio.sleep(1.5)
    finally:
        runner.stop.set()
        await asyncio.wait_for(task, 10)
        await store.close()
        hook.stop()
    sent = json.dumps(hook.messages())
    assert sent.count("example.org/story/1") == 1, hook.messages()
    assert sent.count("example.org/story/2") == 1, hook.messages()


async def until_done(store: Store, mark: str) -> None:
    for _ in range(200):
        if await store.client.get(mark) == "done":
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{mark} never marked done")
