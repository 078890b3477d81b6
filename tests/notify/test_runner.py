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
