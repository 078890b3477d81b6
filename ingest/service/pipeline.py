"""The one place that knows every stage: poll sources, turn entries into articles, match, publish.

    fetch -> parse -> (new or changed entries) -> pages (full_text) -> normalize
          -> (new or changed articles) -> story -> match -> publish

An entry is known by its id (GUID, else link) and a version digest of its title and text: an
unchanged entry costs one Redis lookup and nothing else; a changed one is normalized and matched
again (its article then says `updated`). On a source's first poll, entries published before
`backfill_s` are recorded as seen and never matched (http(s) sources only).

Everything below is a function of its inputs; this module wires them to Redis and the outbox.
Articles are marked seen only after their alerts are published or safely in the outbox, so a
crash at any point redoes work rather than losing it; the claims in Redis stop any double.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from ingest.delivery.handoff import ArticleQueue
from ingest.delivery.outbox import Outbox
from ingest.delivery.publisher import Publisher
from ingest.delivery.store import Store
from ingest.errors import FetchError, ParseError, StoreError
from ingest.fetch.feedstate import FeedStateStore, Versions
from ingest.fetch.fetcher import Fetcher
from ingest.fetch.schedule import PollOutcome, SourceState, is_stale, next_state
from ingest.match.matcher import Matcher, MatchStats
from ingest.models import Alert, Article, RawEntry, Source, utcnow
from ingest.normalize.article import normalize
from ingest.parse.documents import parse_documents
from ingest.service.discovery import fetch_feed, page_note
from ingest.service.fulltext import PageTexts
from ingest.service.metrics import Metrics
from ingest.settings import Settings
from ingest.stories.registry import Story, StoryRegistry

log = logging.getLogger(__name__)

NEVER_POLLED = SourceState()
MATCH_CHUNK_NER_BATCHES = 2  # NER batches matched per thread call
MatcherSource = Callable[[], Matcher]  # the current matcher (rules reload underneath)
Progress = Callable[[int, int], None]  # (sources polled so far, sources in all)


@dataclass(frozen=True, slots=True)
class SourcePoll:
    """What one poll of one source produced, before matching."""

    source: Source
    state: SourceState
    outcome: PollOutcome
    entries: tuple[tuple[str, RawEntry], ...] = ()  # (entry key, entry): new or changed ones
    started_at: float = 0.0  # time.monotonic() at the start of the poll
    after: SourceState | None = None  # the state this poll leads to (next_due_at set)
    # Every entry version to record as seen once the poll is handled (backfill ones included).
    versions: tuple[tuple[str, str], ...] = ()
    backfill_skipped: int = 0  # entries of a first poll older than backfill_s
    pages: tuple[tuple[str, int], ...] = ()  # page outcome -> count (full_text)


@dataclass
class BatchReport:
    polled: int = 0
    failed: int = 0
    articles: int = 0
    alerts: list[Alert] = field(default_factory=list)
    queued: int = 0  # alerts kept in the outbox (Redis away)
    # Spools with files not read yet: source -> seconds until they can be (a burst over the
    # per-poll cap: 0; a file still being written: until it has been quiet long enough).
    follow_up: dict[Source, float] = field(default_factory=dict)
    left_for_later: dict[str, tuple[str, ...]] = field(default_factory=dict)  # name -> files

    def add(self, other: BatchReport) -> None:
        """Fold a follow-up round into this report."""
        self.failed += other.failed
        self.articles += other.articles
        self.alerts += other.alerts
        self.queued += other.queued
        self.follow_up = other.follow_up
        self.left_for_later.update(other.left_for_later)


def entry_key(entry: RawEntry) -> str:
    """Identity of an entry within its source: GUID, else link, else its text."""
    basis = entry.guid or entry.link or f"{entry.title}\n{entry.content}"
    return hashlib.sha256(basis.encode("utf-8", "replace")).hexdigest()[:24]


def entry_version(entry: RawEntry) -> str:
    """Digest of what an entry says (title and text): a changed entry has a new one."""
    text = entry.content or entry.summary
    return hashlib.sha256(f"{entry.title}\x00{text}".encode("utf-8", "replace")).hexdigest()[:16]


def too_old(entries: dict[str, RawEntry], now: datetime, backfill_s: float) -> set[str]:
    """Keys of the entries published more than `backfill_s` before `now` (undated: none)."""
    if backfill_s <= 0:
        return set()
    cutoff = now - timedelta(seconds=backfill_s)
    return {k for k, e in entries.items() if e.published is not None and e.published < cutoff}


def alert_id(rule_id: str, article_id: str) -> str:
    return hashlib.sha256(f"{rule_id}\x00{article_id}".encode()).hexdigest()[:24]


class Pipeline:
    """Polls sources and publishes alerts. Built once per process with its clients."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        fetcher: Fetcher,
        matcher_of: MatcherSource,
        metrics: Metrics,
        handoff: ArticleQueue | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.fetcher = fetcher
        self.matcher_of = matcher_of
        self.metrics = metrics
        self.handoff = handoff  # set for --role fetch: matching happens in other processes
        self.feed_states = FeedStateStore(store.client, settings.key_prefix)
        self.stories = StoryRegistry(store.client, settings.key_prefix, settings.story_window_s)
        metrics.story_features.set_function(self.stories.kept_features.__len__)
        outbox = Outbox(settings.outbox_dir, settings.outbox_max_items)
        self.publisher = Publisher(store, outbox, metrics)
        self.pages = PageTexts(fetcher, settings, metrics)
        self.rng = random.Random()
        self._states: dict[str, SourceState] = {}  # last known, for when Redis is away
        self._feeds_said: dict[str, str] = {}  # source key -> the feed its page named

    def close(self) -> None:
        """End what the pipeline started besides its clients (the page extraction processes)."""
        self.pages.close()

    # -- polling ----------------------------------------------------------------------------

    def known_state(self, source: Source) -> SourceState:
        """The last state this process saw (no Redis round trip)."""
        return self._states.get(source.key, NEVER_POLLED)

    async def note_sources(self, sources: Sequence[Source]) -> None:
        """Record when each source was first listed, so one never polled shows as stale."""
        try:
            await self.store.guard(self.feed_states.mark_listed(s.key for s in sources))
        except StoreError as exc:
            log.debug("could not note the sources: %s", exc)

    async def state_of(self, source: Source) -> SourceState:
        try:
            state = await self.store.guard(self.feed_states.get(source.key))
        except StoreError as exc:  # the outage itself is reported once, by the worker
            log.debug("source state unavailable (%s); using the last known", exc)
            return self._states.get(source.key, SourceState())
        self._states[source.key] = state
        return state

    async def poll(self, source: Source, state: SourceState | None = None) -> SourcePoll:
        """Fetch and parse one source; errors become part of the result. The state it leads
        to is known at once (`after`), so the scheduler never polls the source twice over."""
        started = time.monotonic()
        if state is None:
            state = await self.state_of(source)
        fetched = await self._fetch_and_parse(source, state, started)
        after = next_state(state, fetched.outcome, utcnow(), source, self.settings, self.rng)
        self._states[source.key] = after
        return replace(fetched, after=after)

    async def _fetch_and_parse(
        self, source: Source, state: SourceState, started: float
    ) -> SourcePoll:
        try:
            result = await fetch_feed(self.fetcher, source, state)
        except FetchError as exc:
            return SourcePoll(source, state, PollOutcome.failure(exc), started_at=started)
        self._say_feed(source, result.feed_url)
        # feedparser is CPU-bound (~14 ms per 50-item feed): keep the event loop free.
        parsed = await asyncio.to_thread(parse_documents, source, result.documents)
        if parsed.errors and not parsed.entries:
            # With the result, so spool files that failed to parse are not read again forever.
            failure = PollOutcome.failure(ParseError("; ".join(parsed.errors)), result)
            return SourcePoll(source, state, failure, started_at=started)
        for message in parsed.errors:
            log.warning("source %s: %s", source.name, message)
        keyed = {entry_key(e): e for e in parsed.entries}
        versions = {k: entry_version(e) for k, e in keyed.items()}
        known = await self._versions(source, versions)
        fresh = {k: keyed[k] for k in keyed if known is None or k in known.new | known.changed}
        skipped: set[str] = set()
        if known is not None and known.first_poll and source.kind == "http":
            skipped = too_old(fresh, utcnow(), self.settings.backfill_s)
        if skipped:
            log.info("source %s: first poll, %d entries older than %g s recorded as seen",
                     source.name, len(skipped), self.settings.backfill_s)  # fmt: skip
        keys = [k for k in fresh if k not in skipped]
        entries, pages = [fresh[k] for k in keys], Counter[str]()
        if known is not None:  # Redis away: pages wait, so that none is ever fetched twice
            entries, pages = await self.pages.fill(source, entries)
        new_items = len(keys) if known is None else len([k for k in keys if k in known.new])
        outcome = PollOutcome.success(result, new_items, parsed.ttl_s)
        return SourcePoll(
            source, state, outcome, tuple(zip(keys, entries, strict=True)), started,
            versions=tuple((k, versions[k]) for k in fresh),
            backfill_skipped=len(skipped), pages=tuple(pages.items()),
        )  # fmt: skip

    def _say_feed(self, source: Source, feed_url: str | None) -> None:
        """Once per process (and again if it changes): which feed a site's page led to."""
        if feed_url and self._feeds_said.get(source.key) != feed_url:
            self._feeds_said[source.key] = feed_url
            log.info("%s", page_note(self.settings.feeds_file, source, feed_url))

    async def _versions(self, source: Source, versions: dict[str, str]) -> Versions | None:
        """Which entries are new or changed; None when Redis cannot say (then all are)."""
        try:
            found: Versions = await self.store.guard(
                self.feed_states.versions(source.key, versions)
            )
            return found
        except StoreError:
            return None  # Redis away: redo; claims stop doubles once it is back

    async def poll_many(
        self, sources: Sequence[Source], progress: Progress | None = None
    ) -> BatchReport:
        """Poll these sources concurrently, then match and publish their new articles as one
        batch (so syndicated copies arriving together make one alert listing every outlet)."""
        polls = await self._poll_all(sources, progress)
        await self.publisher.deliver_outbox()
        return await self.handle(polls)

    async def handle(self, polls: Sequence[SourcePoll]) -> BatchReport:
        """Match and publish what these finished polls brought, then save their state."""
        report = BatchReport(polled=len(polls))
        report.failed = sum(1 for p in polls if p.outcome.error)
        for poll in polls:
            result = poll.outcome.result
            if result is None:
                continue
            if result.more_pending or result.settles_in_s is not None:
                report.follow_up[poll.source] = (
                    0.0 if result.more_pending else result.settles_in_s or 0.0
                )
            if result.left_for_later:
                report.left_for_later[poll.source.name] = result.left_for_later
        await self.process(polls, report)
        await self.finish_polls(polls)
        return report

    async def _poll_all(
        self, sources: Sequence[Source], progress: Progress | None
    ) -> list[SourcePoll]:
        if progress is None:
            return list(await asyncio.gather(*(self.poll(s) for s in sources)))
        polls: list[SourcePoll] = []
        for finished in asyncio.as_completed([self.poll(s) for s in sources]):
            polls.append(await finished)
            progress(len(polls), len(sources))
        return polls

    async def finish_polls(self, polls: Sequence[SourcePoll]) -> None:
        now = utcnow()
        for poll in polls:
            state = poll.after or next_state(
                poll.state, poll.outcome, now, poll.source, self.settings, self.rng
            )
            self._count(poll, state, now)
            try:
                await self.store.guard(self.feed_states.put(poll.source.key, state))
                key = poll.source.key
                await self.store.guard(self.feed_states.mark_versions(key, dict(poll.versions)))
                await self.store.guard(self.feed_states.add_counts(key, **_counts(poll)))
            except StoreError as exc:  # the outage itself is reported once, by the worker
                log.debug("could not save the state of %s: %s", poll.source.name, exc)

    def _count(self, poll: SourcePoll, state: SourceState, now: datetime) -> None:
        """Metrics and log lines for one finished poll; a source going stale is reported once."""
        self.metrics.polls.labels(outcome="error" if poll.outcome.error else "ok").inc()
        self.metrics.backfill_skipped.inc(poll.backfill_skipped)
        if poll.outcome.result is not None and poll.outcome.result.not_modified:
            self.metrics.not_modified.inc()
        if poll.outcome.error:
            self.metrics.errors.labels(kind=poll.outcome.error.split(":", 1)[0]).inc()
            log.warning("source %s failed: %s", poll.source.name, poll.outcome.error)
        elif poll.state.error_count:
            log.info(
                "source %s recovered after %d failed polls (last: %s)",
                poll.source.name,
                poll.state.error_count,
                poll.state.last_error,
            )
        stale = is_stale(state, now, self.settings)
        self.metrics.stale.labels(source=poll.source.name).set(1 if stale else 0)
        if stale and not self._was_stale(poll.state):
            why = f"failing: {state.last_error}" if state.error_count else "nothing new"
            log.warning(
                "source %s is stale (%s) for %.0f h or more",
                poll.source.name,
                why,
                self.settings.stale_after_s / 3600,
            )

    def _was_stale(self, state: SourceState) -> bool:
        """Whether the source was already stale when it was last polled (so reported then)."""
        polls = [t for t in (state.last_success_at, state.last_error_at) if t is not None]
        return bool(polls) and is_stale(state, max(polls), self.settings)

    # -- articles ---------------------------------------------------------------------------

    async def process(self, polls: Sequence[SourcePoll], report: BatchReport) -> None:
        """New entries -> alerts, `match_batch_articles` at a time, so a burst (a backlog after
        an outage, a huge feed) never holds more than one batch of articles in flight."""
        entries = [e for p in polls for _, e in p.entries]
        started = {p.source.url: p.started_at for p in polls}
        size = self.settings.match_batch_articles
        for at in range(0, len(entries), size):
            await self._process_batch(entries[at : at + size], report, started)

    async def _process_batch(
        self, entries: list[RawEntry], report: BatchReport, started: dict[str, float]
    ) -> None:
        # In a thread: a batch of page-length texts takes the loop from the polls (and the
        # page fetches and extraction processes waiting on it) for a tenth of a second or more.
        articles, kept = await self._unseen(await asyncio.to_thread(self.normalize_all, entries))
        report.articles += len(articles)
        if not articles:
            return
        self.metrics.articles.inc(len(articles))
        stories = await self._assign_stories(articles, kept)
        unsettled: set[str] = set()
        if self.handoff is not None:
            await self.handoff.put([(a, stories[a.id]) for a in articles])
        else:
            unsettled = await self.match_and_publish(articles, stories, report, started)
        await self._remember([a for a in articles if a.id not in unsettled], stories)

    async def match_and_publish(
        self,
        articles: list[Article],
        stories: dict[str, Story],
        report: BatchReport,
        started: dict[str, float] | None = None,
    ) -> set[str]:
        """Match, then publish every alert (or keep it in the outbox). Returns the ids of
        articles with an alert that could be neither published nor kept: not done yet."""
        unsettled: set[str] = set()
        alerts = await self.match(articles, stories)
        outcomes = await self.publisher.publish_many([(a, s.story_id) for a, s in alerts])
        for (alert, _story), outcome in zip(alerts, outcomes, strict=True):
            if outcome == "queued":
                report.queued += 1
            elif outcome == "dropped":
                unsettled.add(alert.article.id)
            elif outcome == "published":
                report.alerts.append(alert)
                origin = (started or {}).get(alert.article.source.url)
                if origin:
                    self.metrics.latency.observe(time.monotonic() - origin)
        return unsettled

    @staticmethod
    def normalize_all(entries: Iterable[RawEntry]) -> list[Article]:
        articles: dict[str, Article] = {}
        for entry in entries:
            article = normalize(entry)
            articles.setdefault(article.id, article)
        return list(articles.values())

    async def _unseen(self, articles: list[Article]) -> tuple[list[Article], dict[str, str]]:
        """The articles never handled, and those handled before in another version (marked
        `updated`), with the story each of those joined then (article id -> story id)."""
        try:
            marks = await self.store.article_marks([a.id for a in articles])
        except StoreError:
            return articles, {}
        fresh: list[Article] = []
        kept: dict[str, str] = {}
        legacy: dict[str, str] = {}
        for article, mark in zip(articles, marks, strict=True):
            if mark is None:
                fresh.append(article)
                continue
            if "|" not in mark:  # handled by an older wirewatch, version unknown: now known
                legacy[article.id] = f"{article.fingerprint}|"
                continue
            fingerprint, _, story_id = mark.partition("|")
            if fingerprint == article.fingerprint:
                continue  # handled in this version
            fresh.append(replace(article, updated=True))
            # Story unknown (marked by an older wirewatch): the one a new article starts.
            kept[article.id] = story_id or article.id
        if legacy:
            with contextlib.suppress(StoreError):
                await self.store.mark_articles_handled(legacy)
        return fresh, kept

    async def _assign_stories(
        self, articles: list[Article], kept: dict[str, str]
    ) -> dict[str, Story]:
        by_article: dict[str, Story] = {}
        latest: dict[str, Story] = {}
        try:
            assigned = await self.store.guard(self.stories.assign_many(articles, kept))
        except StoreError:
            assigned = [Story(kept.get(a.id, a.id), (a.source,), True) for a in articles]
        for article, story in zip(articles, assigned, strict=True):
            if not story.is_new and article.id not in kept:  # logged by the registry
                self.metrics.story_copy(story.how)
            by_article[article.id] = story
            latest[story.story_id] = story
        # Every copy in this batch reports the outlets known at the end of the batch.
        return {a: latest[s.story_id] for a, s in by_article.items()}

    async def match(
        self, articles: list[Article], stories: dict[str, Story]
    ) -> list[tuple[Alert, Story]]:
        matcher = self.matcher_of()
        started = time.perf_counter()
        stats = MatchStats()
        # A chunk per thread call: a cancelled match (the stop's cut-off) leaves at most one
        # chunk running in its thread, which the process waits for when it exits.
        chunk = self.settings.ner_batch_size * MATCH_CHUNK_NER_BATCHES
        results = []
        for at in range(0, len(articles), chunk):
            part = articles[at : at + chunk]
            results += await asyncio.to_thread(matcher.match_many, part, stats)
        self.metrics.ner_seconds.inc(time.perf_counter() - started)
        self.metrics.candidates.inc(stats.candidates)
        self.metrics.ner_articles.inc(stats.ner_articles)
        now = utcnow()
        alerts: list[tuple[Alert, Story]] = []
        for article, matches in zip(articles, results, strict=True):
            story = stories[article.id]
            others = tuple(s for s in story.sources if s != article.source)
            for match in matches:
                alert = Alert(alert_id(match.rule_id, article.id), match, article, now, others)
                alerts.append((alert, story))
        return alerts

    async def _remember(self, articles: list[Article], stories: dict[str, Story]) -> None:
        marks = {a.id: f"{a.fingerprint}|{stories[a.id].story_id}" for a in articles}
        try:
            await self.store.mark_articles_handled(marks)
            await self.store.remember_articles(articles)
        except StoreError as exc:  # the outage itself is reported once, by the worker
            log.debug("could not mark articles seen: %s", exc)


def _counts(poll: SourcePoll) -> dict[str, int]:
    """What one poll adds to its source's counters in `wirewatch feeds`."""
    pages = dict(poll.pages)
    return {
        "pages_fetched": pages.get("used", 0),
        "pages_failed": sum(pages.values()) - pages.get("used", 0),
        "backfill_skipped": poll.backfill_skipped,
    }
