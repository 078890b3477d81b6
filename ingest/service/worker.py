"""The service: start (clients, rules, model) -> loop -> drain -> close, always in `finally`.

`run_forever` runs the fetching and matching stages (`stages.py`) until a signal. APScheduler
drives the heartbeat job (`tick`, every second, max_instances=1, coalesced): it reloads
feeds.yaml (and which spools are watched, `spoolwatch.py`), delivers the outbox and reports lag
and Redis outages once (`reporter.py`). A first SIGTERM/SIGINT stops new polls and lets in-flight
ones be fetched and matched within `shutdown_grace_s`; a second one stops at once. `run_once`
polls every source once; `consume` is `--role match`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator
from typing import Literal

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.schedulers.base import STATE_RUNNING

from ingest.delivery.handoff import ArticleQueue
from ingest.delivery.store import Store, describe_url
from ingest.errors import StoreError
from ingest.fetch.fetcher import Fetcher
from ingest.fetch.localsource import local_path
from ingest.fetch.sources import SourcesFile
from ingest.match.matcher import Matcher
from ingest.match.nlp import Ner, load_nlp
from ingest.models import utcnow
from ingest.service.metrics import Metrics
from ingest.service.pipeline import BatchReport, Pipeline
from ingest.service.reporter import Reporter, read_schedule
from ingest.service.rulebook import RuleBook
from ingest.service.spoolwatch import SpoolWatcher
from ingest.service.stages import CANCEL_WITHIN_S, Stages
from ingest.service.stopping import STOP_MARGIN_S, HardStop, cancel_all
from ingest.settings import Settings

log = logging.getLogger(__name__)

TICK_S = 1.0
PROBE_EVERY_S = 1.0
LAG_EVERY_S = 2.0  # the shared schedule is read this often for the lag report
Role = Literal["all", "fetch", "match"]
PROGRESS_FROM_SOURCES = 20  # `run --once` over this many sources shows its progress
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
        self.stages: Stages | None = None  # while the service runs
        self.spools = SpoolWatcher(self._landed)
        self.reporter = Reporter(settings, self.metrics)
        self.hard_stop = HardStop(self._still_running)
        self._signals = 0
        self._tick: asyncio.Task[object] | None = None  # the heartbeat running now, if any
        self._probing: asyncio.Task[None] | None = None  # the Redis health probe
        self._lag_read_at = float("-inf")  # time.monotonic() of the last schedule read
        self._signalled_at: float | None = None  # time.monotonic() of the first signal

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
            await store.wait_until_answering(self.stopping)
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
                self._probing = asyncio.create_task(self._probe_redis(pipeline), name="probe")
                if role == "match" and queue is not None:
                    log.info("wirewatch %s running: matching from %s", self.worker_id, queue.key)
                    await self.consume(pipeline, queue)
                else:
                    await self._poll_until_stopped(scheduler, pipeline, store)
        finally:
            await self._stop_ticks(scheduler)
            # Nothing of ours outlives the service: asyncio.run would cancel each task only
            # once and then wait for it without a bound (see `stopping.py`).
            others = asyncio.all_tasks() - {asyncio.current_task()}
            left = await cancel_all([t for t in others if t is not None], CANCEL_WITHIN_S)
            if left:
                log.warning("tasks still running at exit: %s", ", ".join(sorted(left)))
            closing = asyncio.create_task(store.close(), name="closing Redis")
            await asyncio.wait({closing}, timeout=CANCEL_WITHIN_S)
            await cancel_all([closing], CANCEL_WITHIN_S)  # a dead Redis: let go
            if self._signalled_at is not None:
                took_s = time.monotonic() - self._signalled_at
                log.info("stopped %.1f s after the signal", took_s)

    async def _probe_redis(self, pipeline: Pipeline) -> None:
        """PING Redis every second on a connection of its own, so trouble is said within
        about two seconds even while other calls wait for their socket timeout."""
        while not self.stopping.is_set():
            await pipeline.store.probe()
            self.reporter.redis(pipeline.store.health, pipeline.publisher.outbox.depth())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stopping.wait(), PROBE_EVERY_S)

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
        stages = Stages(
            self.settings, pipeline, store, lambda: self.sources.sources, self.metrics,
            self.worker_id,
        )  # fmt: skip
        self.stages = stages
        self._watch_spools()
        await pipeline.note_sources(self.sources.sources)
        self._start_ticks(scheduler, pipeline, store)
        sources, redis = len(self.sources.sources), describe_url(self.settings.redis_url)
        log.info("wirewatch %s running: %d sources, Redis %s", self.worker_id, sources, redis)
        try:
            await stages.run(self.stopping, self.stopped_hard)
        finally:
            await self._stop_ticks(scheduler)
            await self.spools.close()

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

    # -- loop -------------------------------------------------------------------------------

    async def tick(self, pipeline: Pipeline, store: Store) -> None:
        """The heartbeat: reload feeds.yaml, deliver the outbox, report lag and Redis, and
        wake the dispatcher (which also wakes itself whenever a poll ends or a file lands)."""
        if self.stopping.is_set():
            return
        self._tick = asyncio.current_task()
        self.metrics.heartbeat()
        if self.sources.refresh():
            self._watch_spools()
            await pipeline.note_sources(self.sources.sources)
        delivered = await pipeline.publisher.deliver_outbox(self.stopping.is_set)
        self.reporter.redis(store.health, pipeline.publisher.outbox.depth(), delivered)
        if self.stages is not None:
            await self._report_lag(store)
            self.metrics.match_queue.set(self.stages.match_queue.qsize())
            self.stages.wake()

    async def _report_lag(self, store: Store) -> None:
        now = time.monotonic()
        if now - self._lag_read_at < LAG_EVERY_S or not store.health.up:
            return  # (Redis away: the probe says so; no heartbeat waits for a timeout here)
        self._lag_read_at = now
        sources = self.sources.sources
        try:
            shared = await read_schedule(store, sources)
        except StoreError:
            return  # the outage is reported by the probe
        self.reporter.lag(sources, shared, utcnow())

    def _watch_spools(self) -> None:
        folders = {local_path(s.url): s.key for s in self.sources.sources if s.kind == "spool"}
        self.spools.watch(folders)

    def _landed(self, source_key: str) -> None:
        if self.stages is not None:
            self.stages.landed(source_key)

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
            self._signalled_at = time.monotonic()
            self.hard_stop.arm(self.settings.shutdown_grace_s + STOP_MARGIN_S)
        else:
            log.warning("second signal: stopping now")
            self.stopped_hard.set()
            self.stopping.set()
            self.hard_stop.arm(STOP_MARGIN_S)

    async def _stop_ticks(self, scheduler: AsyncIOScheduler) -> None:
        """No more heartbeats, and the one running (an outbox replay, say) ends now."""
        if scheduler.state == STATE_RUNNING:
            scheduler.shutdown(wait=False)  # takes effect later in the loop ...
            scheduler.pause()  # ... so no tick starts meanwhile, and no second shutdown
        if self._tick is not None:
            await cancel_all([self._tick], CANCEL_WITHIN_S)
            self._tick = None

    def _still_running(self) -> str:
        """For the hard stop's last line (called from its thread: plain reads only)."""
        cut = self.stages.cut_off if self.stages is not None else ()
        threads = [t.name for t in threading.enumerate() if not t.daemon and t.is_alive()]
        threads = [name for name in threads if name != "MainThread"]
        parts = [f"polls of {', '.join(cut)}" if cut else "", f"threads {', '.join(threads)}"]
        return "; ".join(p for p in parts if p and not p.endswith("threads "))
