"""The Redis side of notify, on the real server: delivered marks (SET NX semantics with owners),
group start, pending take-over, backlog figures and the digest lease."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from ingest.delivery.notifystate import NotifyState
from ingest.delivery.store import Store
from tests.notify.helpers import make_alert

pytestmark = [pytest.mark.timeout(60), pytest.mark.redis]


@pytest.fixture
async def store(make_settings: Any, real_redis_cleanup: None) -> AsyncIterator[Store]:
    opened = Store.from_settings(make_settings())
    yield opened
    await opened.close()


async def published(store: Store, channel: str, count: int) -> None:
    import json

    for n in range(count):
        alert = make_alert(channel, n)
        await store.publish_payload("r", channel, alert["alert_id"], alert["alert_id"],
                                    json.dumps(alert))  # fmt: skip


async def test_marks_one_sender_at_a_time_and_done_is_final(
    store: Store, channel_base: str
) -> None:
    channel = f"{channel_base}:m"
    a = NotifyState(store, "dest", "consumer-a", "proc-a")
    b = NotifyState(store, "dest", "consumer-b", "proc-b")
    await a.ensure_groups([channel], await a.start_id(3600))
    await published(store, channel, 2)
    first, second = await a.new_entries([channel], 10, None)
    assert await a.begin([first], 10_000) == ["go"]
    assert await b.begin([first], 10_000) == ["busy"]  # another process is sending it
    assert await a.begin([first], 10_000) == ["go"]  # its own retry may go on
    await a.release([first])
    assert await b.begin([first], 10_000) == ["go"]  # released after a failure: anyone may
    await b.delivered([first], 60)
    assert await a.begin([first, second], 10_000) == ["done", "go"]


async def test_a_dead_consumers_entries_are_claimed_and_counted(
    store: Store, channel_base: str
) -> None:
    channel = f"{channel_base}:c"
    dead = NotifyState(store, "dest", "dead", "proc-dead")
    live = NotifyState(store, "dest", "live", "proc-live")
    await dead.ensure_groups([channel], await dead.start_id(3600))
    await published(store, channel, 3)
    taken = await dead.new_entries([channel], 2, None)
    assert [len(taken)] == [2]
    assert (await live.backlog([channel]))[0] == 3  # 2 pending + 1 never read
    claimed = await live.claim_idle([channel], 0, 10)
    assert [e.entry_id for e in claimed] == [e.entry_id for e in taken]
    assert await dead.own_pending([channel], 10) == []
    await live.delivered(claimed, 60)
    count, oldest = await live.backlog([channel])
    assert count == 1 and oldest is not None


async def test_groups_start_when_the_destination_was_first_seen(
    store: Store, channel_base: str
) -> None:
    channel = f"{channel_base}:s"
    await published(store, channel, 2)  # history from before the destination existed
    await asyncio.sleep(0.01)  # alerts of the very millisecond it appears are included
    state = NotifyState(store, "new-dest", "c", "p")
    await state.ensure_groups([channel], await state.start_id(0))  # no backlog wanted
    assert await state.new_entries([channel], 10, None) == []
    await published(store, channel, 1)
    assert len(await state.new_entries([channel], 10, None)) == 1
    again = NotifyState(store, "new-dest", "c", "p2")
    assert await again.start_id(0) == await state.start_id(0)  # every notifier agrees


async def test_one_digest_sender_at_a_time(store: Store) -> None:
    a = NotifyState(store, "digest", "a", "pa")
    b = NotifyState(store, "digest", "b", "pb")
    assert await a.hold_digest_lease(False, 10_000)
    assert not await b.hold_digest_lease(False, 10_000)
    assert await a.hold_digest_lease(True, 10_000)  # renewed by its holder
    await a.release_digest_lease()
    assert await b.hold_digest_lease(False, 10_000)
    assert not await a.hold_digest_lease(True, 10_000)  # lost: renewing does not steal it
