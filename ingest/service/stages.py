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
from ingest.service.stopping import cancel_all
from ingest.settings import Settings

log = logging.getLogger("ingest.service.worker")

WAKE_EVERY_S = 1.0
LEASE_ROUNDS = 3  # passes over the due sources when other workers hold the first choices
CANCEL_WITHIN_S = 2.0  # tasks told to stop end within this (see `stopping.py`)
RELEASE_WITHIN_S = 0.5  # after a cut-off, leases are given back if Redis answers this quickly


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
        self._renewals: set[asyncio.Task[None]] = set()  # lease renewals of busy sources
        self.cut_off: tuple[str, ...] = ()  # the sources whose polls the stop cut off
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

    async def run(self, stopping: asyncio.Event, stopped_hard: asyncio.Event) -> None:
        """Fetch and match until `stopping`, then drain within the grace period."""
        self.started_at = utcnow()
        matching = asyncio.create_task(self._match_loop(), name="matching")
        dispatching = asyncio.create_task(self._dispatch_loop(stopping), name="dispatching")
        try:
            await stopping.wait()
            await cancel_all([dispatching], CANCEL_WITHIN_S)
            await self.drain(stopped_hard)
        finally:
            await self._cut_off([dispatching, matching])

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
        self.in_flight[source.key] = asyncio.create_task(
            self._poll(source, state), name=f"poll {source.name}"
        )

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
        renew = asyncio.create_task(self._renew_leases([source]), name=f"lease {source.name}")
        self._renewals.add(renew)
        renew.add_done_callback(self._renewals.discard)
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
        finished = asyncio.create_task(self._all_settled(), name="drain")
        hard = asyncio.create_task(stopped_hard.wait(), name="second signal")
        try:
            await asyncio.wait(
                {finished, hard}, timeout=self.settings.shutdown_grace_s,
                return_when=FIRST_COMPLETED,
            )  # fmt: skip
        finally:
            await cancel_all([finished, hard], CANCEL_WITHIN_S)

    async def _all_settled(self) -> None:
        while self.in_flight:
            await asyncio.wait(set(self.in_flight.values()))
        await self.match_queue.join()

    async def _cut_off(self, stages: list[asyncio.Task[None]]) -> None:
        """Stop whatever the drain did not finish. A poll cut off has not saved its state
        nor marked its entries seen: the next start (of any worker) polls it again, and the
        claims in Redis stop any alert it had already published from being doubled."""
        cut = sorted(self._name_of(key) for key in self.busy)
        if cut:
            shown = ", ".join(cut[:10]) + (", ..." if len(cut) > 10 else "")
            log.warning(
                "%d polls cut off after the grace period, left for the next start "
                "(their new entries are not marked seen): %s", len(cut), shown,
            )  # fmt: skip
        self.cut_off = tuple(cut)
        self._take_queued()
        tasks = [*stages, *self.in_flight.values(), *self._renewals]
        left = await cancel_all(tasks, CANCEL_WITHIN_S)
        if left:
            log.warning("still running after the cut-off: %s", ", ".join(sorted(left)))
        await self._release_leases(cut and list(self.busy))

    def _take_queued(self) -> None:
        while not self.match_queue.empty():
            self.match_queue.get_nowait()
            self.match_queue.task_done()

    async def _release_leases(self, keys: list[str]) -> None:
        """Give the cut-off sources back at once rather than after the lease TTL, if Redis
        answers quickly; otherwise their leases simply expire."""
        if not keys:
            return
        releases = [
            asyncio.create_task(self.store.release_lease(key, self.worker_id), name="release")
            for key in keys
        ]
        await asyncio.wait(releases, timeout=RELEASE_WITHIN_S)
        await cancel_all(releases, CANCEL_WITHIN_S)
        for task in releases:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: a lease that expires instead is fine

    def _name_of(self, key: str) -> str:
        return next((s.name for s in self.sources() if s.key == key), key)
