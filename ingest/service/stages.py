"""The running service's two stages, side by side, as `--role fetch` and `--role match` are
across processes:

- fetching: a dispatcher starts a poll whenever one of `concurrency` slots is free and a source
  is due, the most overdue first within the per-host limit (`dispatch.py`), for sources whose
  lease this worker takes (so several workers on one Redis split them);
- matching: finished polls wait in a bounded queue; one task matches and publishes them in
  batches. A full queue holds the fetch slots, so fetching slows instead of memory growing,
  and a slow NER batch never stops new polls.

A source stays busy (not polled again) from the start of its poll until its articles are
matched and its state saved, and its lease is held and renewed all that time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from asyncio import FIRST_COMPLETED
from collections.abc import Callable, Sequence
from datetime import datetime

from ingest.delivery.store import Store
from ingest.errors import StoreError
from ingest.fetch.schedule import SourceState, is_due
from ingest.models import Source, utcnow
from ingest.service.dispatch import due_order, pick, seconds_to_next_due
from ingest.service.metrics import Metrics
from ingest.service.pipeline import Pipeline, SourcePoll
from ingest.settings import Settings

log = logging.getLogger("ingest.service.worker")

WAKE_EVERY_S = 1.0
LEASE_ROUNDS = 3  # passes over the due sources when other workers hold the first choices


class Stages:
    def __init__(
        self,
        settings: Settings,
        pipeline: Pipeline,
        store: Store,
        sources: Callable[[], Sequence[Source]],
        metrics: Metrics,
        worker_id: str,
    ) -> None:
        self.settings = settings
        self.pipeline = pipeline
        self.store = store
        self.sources = sources
        self.metrics = metrics
        self.worker_id = worker_id
        self.in_flight: dict[str, asyncio.Task[None]] = {}  # source key -> its fetch
        self.fetching: set[str] = set()  # counts against WIREWATCH_CONCURRENCY
        self.busy: set[str] = set()  # fetching, queued or matching: not polled again yet
        self.poked: set[str] = set()  # a file landed in these spools: poll at once
        self.matching = 0  # polls in the batch being matched
        self.match_queue: asyncio.Queue[tuple[SourcePoll, asyncio.Task[None]]] = asyncio.Queue(
            settings.match_queue_polls
        )
        self.started_at = utcnow()
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    def landed(self, source_key: str) -> None:
        """A file landed in this spool: poll it at once."""
        self.poked.add(source_key)
        self._wake.set()

    def cancel_fetches(self) -> None:
        for task in set(self.in_flight.values()):
            task.cancel()

    async def run(self, stopping: asyncio.Event, stopped_hard: asyncio.Event) -> None:
        """Fetch and match until `stopping`, then drain within the grace period."""
        self.started_at = utcnow()
        matching = asyncio.create_task(self._match_loop())
        dispatching = asyncio.create_task(self._dispatch_loop(stopping))
        try:
            await stopping.wait()
            dispatching.cancel()
            await self.drain(stopped_hard)
        finally:
            for task in (dispatching, matching):
                task.cancel()
            await asyncio.gather(dispatching, matching, return_exceptions=True)

    async def _dispatch_loop(self, stopping: asyncio.Event) -> None:
        """Start polls whenever there is room and a source is due; sleep until the next is."""
        while not stopping.is_set():
            self._wake.clear()
            await self._start_due()
            busy = self.busy | self.poked
            wait_s = seconds_to_next_due(self.sources(), self.pipeline.known_state, utcnow(), busy)
            timeout_s = WAKE_EVERY_S if wait_s is None else min(WAKE_EVERY_S, max(wait_s, 0.005))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout_s)

    async def _start_due(self) -> None:
        if len(self.fetching) >= self.settings.concurrency:
            return
        now = utcnow()
        ordered = due_order(self.sources(), self.pipeline.known_state, now, self.busy, self.poked)
        # Another worker may hold the lease of the first choices: then take the next ones.
        for _round in range(LEASE_ROUNDS):
            room = self.settings.concurrency - len(self.fetching)
            fetching = [s for s in self.sources() if s.key in self.fetching]
            chosen = pick(ordered, fetching, room, self.settings.per_host_concurrency)
            if not chosen:
                return
            for source in chosen:
                await self._start(source, now)
            ordered = [s for s in ordered if s.key not in self.busy and s not in chosen]

    async def _start(self, source: Source, now: datetime) -> None:
        poked = source.key in self.poked
        self.poked.discard(source.key)
        state = await self._lease(source, now, poked)
        if state is None:
            return
        self._observe_lag(source, state, now)
        self.busy.add(source.key)
        self.fetching.add(source.key)
        self.in_flight[source.key] = asyncio.create_task(self._poll(source, state))

    async def _lease(self, source: Source, now: datetime, poked: bool) -> SourceState | None:
        """The source's state if this worker took its lease and it is still due."""
        try:
            if not await self.store.acquire_lease(source.key, self.worker_id):
                return None
            # Re-read under the lease: another worker may have just polled it.
            state = await self.pipeline.state_of(source)
            if poked or is_due(state, now):
                return state
            await self.store.release_lease(source.key, self.worker_id)
            return None
        except StoreError:  # Redis away: keep polling, the outbox keeps alerts
            return self.pipeline.known_state(source)

    def _observe_lag(self, source: Source, state: SourceState, now: datetime) -> None:
        due_at = state.next_due_at or self.started_at
        self.metrics.poll_lag.observe(max(0.0, (now - due_at).total_seconds()))

    async def _poll(self, source: Source, state: SourceState) -> None:
        """Fetch one source and queue what it brought for matching. The fetch slot is held
        until the queue takes the poll, so a full queue slows fetching (back-pressure)."""
        renew = asyncio.create_task(self._renew_leases([source]))
        queued = False
        try:
            poll = await self.pipeline.poll(source, state)
            log.debug("polled %s: %d new entries", source.name, len(poll.entries))
            await self.match_queue.put((poll, renew))
            queued = True
        except Exception:
            log.exception("poll of %s failed", source.name)
        finally:
            self.fetching.discard(source.key)
            self.in_flight.pop(source.key, None)
            if not queued:
                await self._settled(source, renew)
            self._wake.set()

    async def _match_loop(self) -> None:
        """The matching stage: takes finished polls in batches, so a slow NER batch never
        stops fetching; polls wait in the bounded queue meanwhile."""
        while True:
            batch = [await self.match_queue.get()]
            articles = len(batch[0][0].entries)
            while articles < self.settings.match_batch_articles and not self.match_queue.empty():
                batch.append(self.match_queue.get_nowait())
                articles += len(batch[-1][0].entries)
            self.matching = len(batch)
            try:
                report = await self.pipeline.handle([poll for poll, _ in batch])
                if report.alerts:
                    log.info("%d alerts from %d polls", len(report.alerts), len(batch))
            except Exception:
                log.exception("matching %d polls failed; they are polled again", len(batch))
            finally:
                self.matching = 0
                for poll, renew in batch:
                    await self._settled(poll.source, renew)
                    self.match_queue.task_done()
                self._wake.set()

    async def _settled(self, source: Source, renew: asyncio.Task[None]) -> None:
        """A poll is done with: its lease goes back and the source may be polled again."""
        renew.cancel()
        self.busy.discard(source.key)
        with contextlib.suppress(StoreError):
            await self.store.release_lease(source.key, self.worker_id)

    async def _renew_leases(self, sources: Sequence[Source]) -> None:
        while True:
            await asyncio.sleep(self.settings.lease_ttl_s / 3)
            for source in sources:
                with contextlib.suppress(StoreError):
                    await self.store.renew_lease(source.key, self.worker_id)

    async def drain(self, stopped_hard: asyncio.Event) -> None:
        """Let the polls in flight finish and their articles be matched, within the grace."""
        deadline = time.monotonic() + self.settings.shutdown_grace_s
        fetches = set(self.in_flight.values())
        if fetches:
            await asyncio.wait(fetches, timeout=self.settings.shutdown_grace_s)
        remaining_s = max(0.0, deadline - time.monotonic())
        joined = asyncio.create_task(self.match_queue.join())
        hard = asyncio.create_task(stopped_hard.wait())
        done, _ = await asyncio.wait(
            {joined, hard}, timeout=remaining_s, return_when=FIRST_COMPLETED
        )
        joined.cancel()
        hard.cancel()
        if joined not in done:
            cut = len(self.in_flight) + self.match_queue.qsize() + self.matching
            log.warning("%d polls cut off after the grace period", cut)
            for task in set(self.in_flight.values()):
                task.cancel()
