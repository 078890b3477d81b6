"""`cancel_all` ends tasks that lose cancellations (as redis-py calls do on Python 3.11, inside
`asyncio.wait_for`), and gives up on the ones that never end once its bound has passed."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time

import pytest
import redis.asyncio as aioredis

from ingest.service.stopping import EXIT_HARD, cancel_all
from tests.conftest import TEST_REDIS_URL

pytestmark = pytest.mark.timeout(60)


async def swallowing(lost: int) -> None:
    """Loses the first `lost` cancellations, then ends at the next."""
    while True:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            if lost == 0:
                raise
            lost -= 1


async def test_a_task_that_loses_cancels_still_ends() -> None:
    task = asyncio.create_task(swallowing(lost=7), name="swallowing")
    await asyncio.sleep(0)
    assert await cancel_all([task], within_s=2.0) == set()
    assert task.cancelled()


async def test_a_task_that_never_ends_is_named_after_the_bound() -> None:
    task = asyncio.create_task(swallowing(lost=10**9), name="stubborn")
    await asyncio.sleep(0)
    started = time.monotonic()
    assert await cancel_all([task], within_s=0.3) == {"stubborn"}
    assert 0.3 <= time.monotonic() - started < 1.0
    task.get_coro().close()  # type: ignore[union-attr]


async def test_tasks_making_redis_calls_back_to_back_end(key_prefix: str) -> None:
    client = aioredis.Redis.from_url(TEST_REDIS_URL, socket_timeout=10)
    script = client.register_script("return redis.call('GET', KEYS[1])")

    async def calls() -> None:
        while True:
            await script(keys=[f"{key_prefix}stop"], args=[1])

    try:
        for _ in range(20):
            task = asyncio.create_task(calls(), name="calls")
            await asyncio.sleep(0.005)
            assert await cancel_all([task], within_s=2.0) == set()
    finally:
        await client.aclose()


HOLDS_THE_PROCESS = """
import threading, time
from ingest.service.stopping import HardStop
stop = HardStop(lambda: "a thread in C code")
stop.arm(0.3)
threading.Thread(target=time.sleep, args=(60,), name="stuck").start()  # not a daemon
"""


def test_the_hard_stop_ends_a_process_that_a_thread_holds() -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", HOLDS_THE_PROCESS], capture_output=True, text=True, timeout=30
    )
    assert done.returncode == EXIT_HARD
    assert time.monotonic() - started < 10  # not the thread's 60 s
    assert "Still running: a thread in C code" in done.stderr
