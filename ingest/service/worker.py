"""The service: start (clients, rules, model) -> loop -> drain -> close, always in `finally`.

Two stages run side by side, as `--role fetch` and `--role match` do across processes:
- fetching: a dispatcher starts a poll whenever a fetch slot is free and a source is due, the
  most overdue first within the per-host limit (`dispatch.py`), for sources whose lease this
  worker takes (so several workers on one Redis split them). A file landing in a watched spool
  (`spoolwatch.py`) makes that spool due at once.
- matching: finished polls wait in a bounded queue; one task matches and publishes them in
  batches. A full queue holds the fetch slots, so fetching slows instead of memory growing.
APScheduler drives the heartbeat job (`tick`, every second, max_instances=1, coalesced): it
reloads feeds.yaml, delivers the outbox and reports lag and Redis outages once (`reporter.py`).
A first SIGTERM/SIGINT stops new polls and lets in-flight ones be fetched and matched within
`shutdown_grace_s`; a second one stops at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import time
import uuid
from asyncio import FIRST_COMPLETED
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Literal

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from ingest.delivery.handoff import ArticleQueue
from ingest.delivery.store import Store, describe_url
from ingest.errors import StoreError
from ingest.fetch.fetcher import Fetcher
from ingest.fetch.localsource import local_path
from ingest.fetch.schedule import SourceState, is_due
from ingest.fetch.sources import SourcesFile
from ingest.match.matcher import Matcher
from ingest.match.nlp import Ner, load_nlp
from ingest.models import Source, utcnow
from ingest.service.dispatch import due_order, pick, seconds_to_next_due
from ingest.service.metrics import Metrics
from ingest.service.pipeline import BatchReport, Pipeline, SourcePoll
from ingest.service.reporter import Reporter
from ingest.service.rulebook import RuleBook
from ingest.service.spoolwatch import SpoolWatcher
from ingest.settings import Settings

log = logging.getLogger(__name__)

TICK_S = 1.0
Role = Literal["all", "fetch", "match"]
PROGRESS_FROM_SOURCES = 20  # `run --once` over this many sources shows its progress
LEASE_ROUNDS = 3  # passes over the due sources when other workers hold the first choices
ONCE_SETTLE_WAITS = 3  # `run --once` waits this many times for spool files still being written


def show_progress(done: int, total: int) -> None:
    """A live counter on a terminal; a log line every tenth otherwise."""
    if sys.stderr.isatty():
        end = "\n" if done == total else ""
        print(f"\rpolled {done}/{total} sources", end=end, file=sys.stderr, flush=True)
    elif done == total or done % max(1, total // 10) == 0:
        log.info("polled %d/%d sources", done, total)


def _matcher(book: RuleBook | None) -> Matcher:
    if book is None:
        raise RuntimeError("a --role fetch worker does not match articles")
    return book.matcher


class Worker:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.metrics = Metrics()
        self.sources = SourcesFile(settings)
        self.stopping = asyncio.Event()
        self.stopped_hard = asyncio.Event()  # a second signal
        self.in_flight: dict[str, asyncio.Task[None]] = {}  # source key -> its fetch
        self.fetching: set[str] = set()  # counts against WIREWATCH_CONCURRENCY
        self.busy: set[str] = set()  # fetching, queued or matching: not polled again yet
        self.poked: set[str] = set()  # a file landed in these spools: poll at once
        self.matching = 0  # polls in the batch being matched
        self.match_queue: asyncio.Queue[tuple[SourcePoll, asyncio.Task[None]]] = asyncio.Queue(
            settings.match_queue_polls
        )
        self.spools = SpoolWatcher(self._landed)
        self.reporter = Reporter(settings, self.metrics)
        self.started_at = utcnow()
        self._wake = asyncio.Event()
        self._signals = 0

    # -- start ------------------------------------------------------------------------------

    def load_rules(self) -> RuleBook:
        def ner() -> Ner:  # loaded only once some rule asks for entities
            return load_nlp(self.settings.spacy_model, self.settings.ner_batch_size)

        # RuleBook logs each rule-file error itself, as `path:line: message`.
        return RuleBook(self.settings.rules_dir, ner, self.settings.rules_reload_debounce_ms)

    async def run_once(self) -> BatchReport:
        """Poll every source once, publish, return what happened."""
        store = Store.from_settings(self.settings)
        try:
            await store.ping()
            book = self.load_rules()
            self.sources.refresh()
            async with Fetcher(self.settings) as fetcher:
                pipeline = Pipeline(
                    self.settings, store, fetcher, lambda: book.matcher, self.metrics
                )
                await pipeline.publisher.deliver_outbox()
                sources = self.sources.sources
                await pipeline.note_sources(sources)
                progress = show_progress if len(sources) >= PROGRESS_FROM_SOURCES else None
                report = await pipeline.poll_many(sources, progress)
                await self._follow_up(pipeline, report)
                return report
        finally:
            await store.close()

    async def _follow_up(self, pipeline: Pipeline, report: BatchReport) -> None:
        """`run --once` reads every complete spool file: the rest of a burst over the per-poll
        cap, and files still being written once they have landed. Names that wait for a
        rename (`.part`, `.tmp`, ...) are said to be left for later."""
        waits = 0
        while report.follow_up:
            wait_s = max(report.follow_up.values())
            if wait_s > 0:
                waits += 1
                if waits > ONCE_SETTLE_WAITS:
                    break
                await asyncio.sleep(wait_s)
            report.add(await pipeline.poll_many(list(report.follow_up)))
        for source in report.follow_up:
            log.warning("spool %s: files still being written were left for later", source.name)
        for name, files in report.left_for_later.items():
            shown = ", ".join(files[:5]) + (", ..." if len(files) > 5 else "")
            log.warning(
                "spool %s: %d files left for later until renamed (names that mark a file "
                "still being written): %s",
                name,
                len(files),
                shown,
            )

    async def run_forever(self, role: Role = "all") -> None:
        """The service loop, until a signal. `role` splits fetching from matching."""
        store = Store.from_settings(self.settings)
        scheduler = AsyncIOScheduler(timezone="UTC")
        try:
            self._install_signals()  # before anything that waits: PID 1 in a container
            await self._wait_for_redis(store)
            if self.stopping.is_set():
                return
            book = self.load_rules() if role != "fetch" else None
            if self.settings.metrics_port:
                self.metrics.serve(self.settings.metrics_port)
            queue = self._article_queue(store) if role != "all" else None
            async with Fetcher(self.settings) as fetcher, self._watching(book):
                handoff = queue if role == "fetch" else None
                pipeline = Pipeline(
                    self.settings, store, fetcher, lambda: _matcher(book), self.metrics, handoff
                )
                if role == "match" and queue is not None:
                    log.info("wirewatch %s running: matching from %s", self.worker_id, queue.key)
                    await self.consume(pipeline, queue)
                else:
                    await self._poll_until_stopped(scheduler, pipeline, store)
        finally:
            if scheduler.running:
                scheduler.shutdown(wait=False)
            await store.close()

    def _article_queue(self, store: Store) -> ArticleQueue:
        idle_ms = int(self.settings.handoff_claim_idle_s * 1000)
        return ArticleQueue(store, self.settings.handoff_maxlen, idle_ms)

    @contextlib.asynccontextmanager
    async def _watching(self, book: RuleBook | None) -> AsyncIterator[None]:
        """Hot-reload the rules while the body runs."""
        watcher = asyncio.create_task(book.watch(self.stopping)) if book else None
        try:
            yield
        finally:
            if watcher:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher

    async def _poll_until_stopped(
        self, scheduler: AsyncIOScheduler, pipeline: Pipeline, store: Store
    ) -> None:
        self.sources.refresh()
        self.started_at = utcnow()
        self._watch_spools()
        await pipeline.note_sources(self.sources.sources)
        self._start_ticks(scheduler, pipeline, store)
        matching = asyncio.create_task(self._match_loop(pipeline, store))
        dispatching = asyncio.create_task(self._dispatch_loop(pipeline, store))
        sources, redis = len(self.sources.sources), describe_url(self.settings.redis_url)
        log.info("wirewatch %s running: %d sources, Redis %s", self.worker_id, sources, redis)
        try:
            await self.stopping.wait()
            scheduler.shutdown(wait=False)
            await self.spools.close()
            dispatching.cancel()
            await self._drain()
        finally:
            for task in (dispatching, matching):
                task.cancel()
            await asyncio.gather(dispatching, matching, return_exceptions=True)

    def _start_ticks(self, scheduler: AsyncIOScheduler, pipeline: Pipeline, store: Store) -> None:
        scheduler.add_job(
            self.tick,
            "interval",
            args=[pipeline, store],
            seconds=TICK_S,
            max_instances=1,
            coalesce=True,
            next_run_time=utcnow(),
            id="tick",
        )
        scheduler.start()

    async def consume(self, pipeline: Pipeline, queue: ArticleQueue) -> None:
        """`--role match`: match articles handed off by fetch workers until stopped."""
        batch = self.settings.ner_batch_size * 4
        while not self.stopping.is_set():
            self.metrics.heartbeat()
            try:
                await pipeline.publisher.deliver_outbox()
                items = await queue.take(self.worker_id, batch, block_ms=1000)
            except StoreError as exc:
                log.warning("%s", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), 2.0)
                continue
            if not items:
                continue
            report = BatchReport(articles=len(items))
            stories = {item.article.id: item.story for item in items}
            unsettled = await pipeline.match_and_publish(
                [i.article for i in items], stories, report
            )
            done = [item.entry_id for item in items if item.article.id not in unsettled]
            with contextlib.suppress(StoreError):  # unacknowledged: redone, claims stop doubles
                await queue.ack(done)
            if report.alerts:
                log.info("%d alerts from %d handed-off articles", len(report.alerts), len(items))

    async def _wait_for_redis(self, store: Store) -> None:
        delay_s = 1.0
        while not self.stopping.is_set():
            try:
                await store.ping()
                return
            except StoreError as exc:
                log.error("%s Retrying in %.0f s.", exc, delay_s)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.stopping.wait(), delay_s)
                delay_s = min(delay_s * 2, 30.0)

    # -- loop -------------------------------------------------------------------------------

    async def tick(self, pipeline: Pipeline, store: Store) -> None:
        """The heartbeat: reload feeds.yaml, deliver the outbox, report lag and Redis, and
        wake the dispatcher (which also wakes itself whenever a poll ends or a file lands)."""
        if self.stopping.is_set():
            return
        self.metrics.heartbeat()
        if self.sources.refresh():
            self._watch_spools()
            await pipeline.note_sources(self.sources.sources)
        delivered = await pipeline.publisher.deliver_outbox()
        self.reporter.redis(store.health, pipeline.publisher.outbox.depth(), delivered)
        self.reporter.lag(self.sources.sources, pipeline.known_state, self.started_at)
        self.metrics.match_queue.set(self.match_queue.qsize())
        self._wake.set()

    def _watch_spools(self) -> None:
        folders = {local_path(s.url): s.key for s in self.sources.sources if s.kind == "spool"}
        self.spools.watch(folders)

    def _landed(self, source_key: str) -> None:
        self.poked.add(source_key)
        self._wake.set()

    async def _dispatch_loop(self, pipeline: Pipeline, store: Store) -> None:
        """Start polls whenever there is room and a source is due; sleep until the next is."""
        while not self.stopping.is_set():
            self._wake.clear()
            await self._start_due(pipeline, store)
            busy = self.busy | self.poked
            wait_s = seconds_to_next_due(self.sources.sources, pipeline.known_state, utcnow(), busy)
            timeout_s = TICK_S if wait_s is None else min(TICK_S, max(wait_s, 0.005))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout_s)

    async def _start_due(self, pipeline: Pipeline, store: Store) -> None:
        if len(self.fetching) >= self.settings.concurrency:
            return
        now = utcnow()
        ordered = due_order(self.sources.sources, pipeline.known_state, now, self.busy, self.poked)
        # Another worker may hold the lease of the first choices: then take the next ones.
        for _round in range(LEASE_ROUNDS):
            room = self.settings.concurrency - len(self.fetching)
            fetching = [s for s in self.sources.sources if s.key in self.fetching]
            chosen = pick(ordered, fetching, room, self.settings.per_host_concurrency)
            if not chosen:
                return
            for source in chosen:
                await self._start(pipeline, store, source, now)
            ordered = [s for s in ordered if s.key not in self.busy and s not in chosen]

    async def _start(self, pipeline: Pipeline, store: Store, source: Source, now: datetime) -> None:
        poked = source.key in self.poked
        self.poked.discard(source.key)
        state = await self._lease(pipeline, store, source, now, poked)
        if state is None:
            return
        self._observe_lag(source, state, now)
        self.busy.add(source.key)
        self.fetching.add(source.key)
        self.in_flight[source.key] = asyncio.create_task(self._poll(pipeline, store, source, state))

    async def _lease(
        self, pipeline: Pipeline, store: Store, source: Source, now: datetime, poked: bool
    ) -> SourceState | None:
        """The source's state if this worker took its lease and it is still due."""
        try:
            if not await store.acquire_lease(source.key, self.worker_id):
                return None
            # Re-read under the lease: another worker may have just polled it.
            state = await pipeline.state_of(source)
            if poked or is_due(state, now):
                return state
            await store.release_lease(source.key, self.worker_id)
            return None
        except StoreError:  # Redis away: keep polling, the outbox keeps alerts
            return pipeline.known_state(source)

    def _observe_lag(self, source: Source, state: SourceState, now: datetime) -> None:
        due_at = state.next_due_at or self.started_at
        self.metrics.poll_lag.observe(max(0.0, (now - due_at).total_seconds()))

    async def _poll(
        self, pipeline: Pipeline, store: Store, source: Source, state: SourceState
    ) -> None:
        """Fetch one source and queue what it brought for matching. The fetch slot is held
        until the queue takes the poll, so a full queue slows fetching (back-pressure)."""
        renew = asyncio.create_task(self._renew_leases(store, [source]))
        queued = False
        try:
            poll = await pipeline.poll(source, state)
            log.debug("polled %s: %d new entries", source.name, len(poll.entries))
            await self.match_queue.put((poll, renew))
            queued = True
        except Exception:
            log.exception("poll of %s failed", source.name)
        finally:
            self.fetching.discard(source.key)
            self.in_flight.pop(source.key, None)
            if not queued:
                await self._settled(store, source, renew)
            self._wake.set()

    async def _match_loop(self, pipeline: Pipeline, store: Store) -> None:
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
                report = await pipeline.handle([poll for poll, _ in batch])
                if report.alerts:
                    log.info("%d alerts from %d polls", len(report.alerts), len(batch))
            except Exception:
                log.exception("matching %d polls failed; they are polled again", len(batch))
            finally:
                self.matching = 0
                for poll, renew in batch:
                    await self._settled(store, poll.source, renew)
                    self.match_queue.task_done()
                self._wake.set()

    async def _settled(self, store: Store, source: Source, renew: asyncio.Task[None]) -> None:
        """A poll is done with: its lease goes back and the source may be polled again."""
        renew.cancel()
        self.busy.discard(source.key)
        with contextlib.suppress(StoreError):
            await store.release_lease(source.key, self.worker_id)

    async def _renew_leases(self, store: Store, sources: Sequence[Source]) -> None:
        while True:
            await asyncio.sleep(self.settings.lease_ttl_s / 3)
            for source in sources:
                with contextlib.suppress(StoreError):
                    await store.renew_lease(source.key, self.worker_id)

    # -- drain ------------------------------------------------------------------------------

    def _install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self._on_signal, signum)

    def _on_signal(self, signum: int) -> None:
        self._signals += 1
        if self._signals == 1:
            log.info(
                "%s: finishing in-flight polls (up to %.0f s); again to stop now",
                signal.Signals(signum).name,
                self.settings.shutdown_grace_s,
            )
            self.stopping.set()
        else:
            log.warning("second signal: stopping now")
            self.stopped_hard.set()
            for task in set(self.in_flight.values()):
                task.cancel()

    async def _drain(self) -> None:
        """Let the polls in flight finish and their articles be matched, within the grace."""
        deadline = time.monotonic() + self.settings.shutdown_grace_s
        fetches = set(self.in_flight.values())
        if fetches:
            await asyncio.wait(fetches, timeout=self.settings.shutdown_grace_s)
        remaining_s = max(0.0, deadline - time.monotonic())
        joined = asyncio.create_task(self.match_queue.join())
        hard = asyncio.create_task(self.stopped_hard.wait())
        await asyncio.wait({joined, hard}, timeout=remaining_s, return_when=FIRST_COMPLETED)
        joined.cancel()
        hard.cancel()
        if not joined.done() or joined.cancelled():
            cut = len(self.in_flight) + self.match_queue.qsize() + self.matching
            log.warning("%d polls cut off after the grace period", cut)
            for task in set(self.in_flight.values()):
                task.cancel()
