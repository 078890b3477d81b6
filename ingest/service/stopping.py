"""Stopping tasks for sure, and a process that ends within its grace period plus a margin.

Why a single `Task.cancel()` is not enough here: on Python 3.11 `asyncio.wait_for` returns the
inner result and drops the cancellation when both land in the same turn of the loop, and
redis-py wraps every socket write of every command in `wait_for` (whenever a socket timeout is
set). A task making Redis calls back to back therefore loses most cancellations (measured: 80
to 90 of 100 cancels during EVALSHA or GET loops). The drain used to cancel the matching stage
once and then wait for it without a bound: the stage lost the cancel, matched the whole queue
after the cut-off ("N alerts from M polls" after "polls cut off"), then waited on the empty
queue for ever at 0% CPU. `cancel_all` cancels again until the tasks have ended, within a bound.

`HardStop` is the backstop for what no cancel reaches (a thread in C code, a DNS lookup): once
armed it ends the process when the bound has passed, after saying what was still running.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

log = logging.getLogger("ingest.service.worker")

RECANCEL_EVERY_S = 0.01  # each try lands at the task's next await; most are lost there
STOP_MARGIN_S = 5.0  # past the grace period, the process ends at the latest after this
EXIT_HARD = 70  # the hard stop's exit status (EX_SOFTWARE): the drain did not finish in time


async def cancel_all(tasks: Iterable[asyncio.Task[Any]], within_s: float) -> set[str]:
    """Cancel these tasks, again and again until each has ended or `within_s` has passed;
    returns the names of those still running."""
    pending = {task for task in tasks if not task.done()}
    deadline = time.monotonic() + within_s
    while pending:
        for task in pending:
            task.cancel()
        left_s = deadline - time.monotonic()
        if left_s <= 0:
            break
        _done, pending = await asyncio.wait(pending, timeout=min(RECANCEL_EVERY_S, left_s))
    return {task.get_name() for task in pending}


class HardStop:
    """Ends the process `after_s` from when it is armed unless it has exited by then."""

    def __init__(self, still_running: Callable[[], str]) -> None:
        self._still_running = still_running
        self._timer: threading.Timer | None = None
        self._due = float("inf")  # time.monotonic() of the hard stop

    def arm(self, after_s: float) -> None:
        """Stop hard `after_s` from now, or earlier if already armed for earlier."""
        due = time.monotonic() + after_s
        if due >= self._due:
            return
        self.disarm()
        self._due = due
        self._timer = threading.Timer(after_s, self._fire)
        self._timer.daemon = True  # never what keeps the process alive
        self._timer.start()

    def disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._due = float("inf")

    def _fire(self) -> None:
        try:
            log.error(
                "the stop took longer than the grace period plus %.0f s; exiting now. Still "
                "running: %s. Nothing is lost: whatever was not finished is done again at "
                "the next start.",
                STOP_MARGIN_S,
                self._still_running() or "nothing of the service's own",
            )
            logging.shutdown()
            sys.stderr.flush()
        finally:
            os._exit(EXIT_HARD)
