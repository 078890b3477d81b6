"""Pure scheduling: what we know about a source, and when to poll it next.

`next_state(state, outcome, now, source, settings, rng)` is a pure function: the worker
feeds it the outcome of one poll and stores the state it returns. The interval adapts to
how often the feed really publishes; the server's hints (Retry-After, Cache-Control max-age,
the feed's <ttl>) are lower bounds; errors back off exponentially with jitter and never stop
polling for good.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any

from ingest.models import FetchResult, Source
from ingest.settings import Settings

SHORTEN_FACTOR = 0.75  # a poll that brought new items: come back sooner
LENGTHEN_FACTOR = 1.5  # a poll that brought nothing: come back later
ADAPT_FLOOR_FACTOR = 0.25  # adaptation never goes below a quarter of the feeds.yaml interval...
ADAPT_CEIL_FACTOR = 8.0  # ... nor above eight times it (and always within min..max settings)
SUCCESS_JITTER = 0.05  # +-5 % so sources added together drift apart
SPOOL_SEEN_MAX = 5_000  # spool file signatures kept; older ones fold into the horizon

RECENT_POLLS_MAX = 30  # poll outcomes kept per source, for the web console's strip

SpoolSeen = tuple[tuple[str, int, int], ...]  # (file name, size bytes, mtime ns)
PollMark = tuple[int, str]  # (unix s, "ok" | "not_modified" | "error")
_MOMENTS = frozenset(
    {"last_success_at", "last_error_at", "failing_since", "next_due_at", "last_new_item_at"}
)  # the datetime fields, stored as ISO 8601 text


@dataclass(frozen=True, slots=True)
class SourceState:
    """Everything remembered about one source between polls."""

    etag: str | None = None  # for files: "mtime_ns-size" of the last read
    last_modified: str | None = None
    permanent_url: str | None = None
    feed_url: str | None = None  # the feed a web page named, when the source is a site's page
    last_status: int | None = None
    last_success_at: datetime | None = None
    last_error_at: datetime | None = None
    last_error: str | None = None
    failing_since: datetime | None = None  # first error of the current streak
    error_count: int = 0  # consecutive errors
    next_due_at: datetime | None = None  # None: due now
    items_seen: int = 0  # new entries over the source's life
    last_new_item_at: datetime | None = None
    interval_s: float | None = None  # the current adaptive interval; None: not adapted yet
    spool_seen: SpoolSeen = field(default=())
    spool_horizon_ns: int = 0  # spool files with mtime at or below this count as processed
    recent_polls: tuple[PollMark, ...] = ()  # the last RECENT_POLLS_MAX outcomes, oldest first

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for item in fields(self):
            name, value = item.name, getattr(self, item.name)
            if isinstance(value, datetime):
                value = value.isoformat()
            elif name in ("spool_seen", "recent_polls"):
                value = [list(item) for item in value]
            data[name] = value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> SourceState:
        """Build from `to_json()` output; unknown keys (from newer versions) are ignored."""
        known = {item.name for item in fields(cls)}
        values: dict[str, Any] = {}
        for name, value in data.items():
            if name not in known:
                continue
            if name in _MOMENTS and isinstance(value, str):
                value = datetime.fromisoformat(value)
            elif name == "spool_seen":
                value = tuple((str(n), int(s), int(m)) for n, s, m in value)
            elif name == "recent_polls":
                value = tuple((int(t), str(kind)) for t, kind in value)
            values[name] = value
        return cls(**values)


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What one poll came to: a fetch result (and how many entries were new), or an error."""

    result: FetchResult | None = None
    new_items: int = 0
    ttl_s: float | None = None  # the feed's <ttl>, from parse
    error: str | None = None
    retry_after_s: float | None = None  # from an HttpStatusError

    @classmethod
    def success(
        cls, result: FetchResult, new_items: int, ttl_s: float | None = None
    ) -> PollOutcome:
        return cls(result=result, new_items=new_items, ttl_s=ttl_s or result.ttl_s)

    @classmethod
    def failure(cls, error: BaseException, result: FetchResult | None = None) -> PollOutcome:
        """A failed poll. Pass the fetch result when fetching worked but parsing did not:
        spool files that were read then count as processed and are not read again."""
        retry_after_s = getattr(error, "retry_after_s", None)
        message = f"{type(error).__name__}: {error}"
        return cls(result=result, error=message, retry_after_s=retry_after_s)


def next_state(
    state: SourceState,
    outcome: PollOutcome,
    now: datetime,
    source: Source,
    settings: Settings,
    rng: random.Random,
) -> SourceState:
    """The state after one poll, with `next_due_at` set."""
    if outcome.error is not None or outcome.result is None:
        return _after_error(state, outcome, now, source, settings, rng)
    return _after_success(state, outcome, outcome.result, now, source, settings, rng)


def _after_success(
    state: SourceState,
    outcome: PollOutcome,
    result: FetchResult,
    now: datetime,
    source: Source,
    settings: Settings,
    rng: random.Random,
) -> SourceState:
    interval_s = adapt_interval_s(state.interval_s, outcome.new_items, source, settings)
    jittered_s = interval_s * rng.uniform(1 - SUCCESS_JITTER, 1 + SUCCESS_JITTER)
    hints = (result.retry_after_s, result.max_age_s, outcome.ttl_s)
    delay_s = max(jittered_s, _hint_floor_s(hints, settings))
    if result.more_pending:  # a spool burst: the next files at once
        delay_s = 0.0
    elif result.settles_in_s is not None:  # a spool file still being written
        delay_s = min(delay_s, result.settles_in_s)
    seen, horizon_ns = _merge_spool(state, result)
    got_new = outcome.new_items > 0
    return replace(
        state,
        etag=result.etag,
        last_modified=result.last_modified,
        # A newly found feed starts afresh: a move recorded before was the old address's.
        permanent_url=result.permanent_url
        or (state.permanent_url if result.feed_url == state.feed_url else None),
        feed_url=result.feed_url,
        last_status=result.status,
        last_success_at=now,
        failing_since=None,
        error_count=0,
        next_due_at=now + timedelta(seconds=delay_s),
        items_seen=state.items_seen + max(outcome.new_items, 0),
        last_new_item_at=now if got_new else state.last_new_item_at,
        interval_s=interval_s,
        spool_seen=seen,
        spool_horizon_ns=horizon_ns,
        recent_polls=_marked(state, now, "not_modified" if result.not_modified else "ok"),
    )


def _marked(state: SourceState, now: datetime, kind: str) -> tuple[PollMark, ...]:
    """The recent poll outcomes with this one added, bounded."""
    return (*state.recent_polls, (int(now.timestamp()), kind))[-RECENT_POLLS_MAX:]


def _after_error(
    state: SourceState,
    outcome: PollOutcome,
    now: datetime,
    source: Source,
    settings: Settings,
    rng: random.Random,
) -> SourceState:
    error_count = state.error_count + 1
    delay_s = backoff_s(error_count, state.interval_s or source.interval_s, settings, rng)
    delay_s = max(delay_s, _hint_floor_s((outcome.retry_after_s,), settings))
    seen, horizon_ns = (
        _merge_spool(state, outcome.result)
        if outcome.result is not None
        else (state.spool_seen, state.spool_horizon_ns)
    )
    return replace(
        state,
        spool_seen=seen,
        spool_horizon_ns=horizon_ns,
        last_error_at=now,
        last_error=outcome.error,
        failing_since=state.failing_since or now,
        error_count=error_count,
        next_due_at=now + timedelta(seconds=delay_s),
        recent_polls=_marked(state, now, "error"),
    )


def adapt_interval_s(
    current_s: float | None, new_items: int, source: Source, settings: Settings
) -> float:
    """Shorten the interval when a poll brings news, lengthen it when it brings nothing."""
    floor_s, ceil_s = interval_bounds_s(source, settings)
    current = current_s if current_s is not None else source.interval_s
    factor = SHORTEN_FACTOR if new_items > 0 else LENGTHEN_FACTOR
    return min(max(current * factor, floor_s), ceil_s)


def interval_in_force_s(source: Source, settings: Settings) -> float:
    """The interval as written in feeds.yaml, raised to the politeness floor for http(s)."""
    if source.kind != "http":
        return source.interval_s
    return max(source.interval_s, settings.min_interval_s)


def interval_bounds_s(source: Source, settings: Settings) -> tuple[float, float]:
    """Where adaptation may move the interval. Local files and spools keep theirs as written:
    reading them costs no one anything, and a spool is watched anyway."""
    if source.kind != "http":
        return source.interval_s, source.interval_s
    floor_s = max(settings.min_interval_s, source.interval_s * ADAPT_FLOOR_FACTOR)
    ceil_s = min(settings.max_interval_s, source.interval_s * ADAPT_CEIL_FACTOR)
    ceil_s = max(ceil_s, settings.min_interval_s)
    return min(floor_s, ceil_s), ceil_s


def backoff_s(error_count: int, base_s: float, settings: Settings, rng: random.Random) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random, capped."""
    exponent = min(error_count - 1, 32)  # 2**32 times any interval is past every cap
    full_s = min(base_s * 2.0**exponent, settings.max_backoff_s)
    return full_s / 2 + rng.uniform(0, full_s / 2)


def _hint_floor_s(hints: tuple[float | None, ...], settings: Settings) -> float:
    """The largest server hint, capped so that no hint can stop polling for good."""
    cap_s = max(settings.max_interval_s, settings.max_backoff_s)
    given = [h for h in hints if h is not None and h > 0]
    return min(max(given), cap_s) if given else 0.0


def _merge_spool(state: SourceState, result: FetchResult) -> tuple[SpoolSeen, int]:
    if result.source.kind != "spool":
        return state.spool_seen, state.spool_horizon_ns
    fresh = [spool_signature(doc.url, dict(doc.headers)) for doc in result.documents]
    merged = {name: (name, size, mtime) for name, size, mtime in state.spool_seen}
    merged.update((sig[0], sig) for sig in fresh if sig is not None)
    ordered = sorted(merged.values(), key=lambda item: item[2])
    kept, dropped = ordered[-SPOOL_SEEN_MAX:], ordered[:-SPOOL_SEEN_MAX]
    horizon_ns = max([state.spool_horizon_ns, *(item[2] for item in dropped)])
    return tuple(kept), horizon_ns


def spool_signature(url: str, headers: dict[str, str]) -> tuple[str, int, int] | None:
    """(name, size, mtime_ns) of a spool document, from the headers fetch gives it."""
    try:
        size = int(headers["content-length"])
        mtime_ns = int(headers["x-file-mtime-ns"])
    except (KeyError, ValueError):
        return None
    return url.rsplit("/", 1)[-1], size, mtime_ns


def is_due(state: SourceState, now: datetime) -> bool:
    return state.next_due_at is None or state.next_due_at <= now


def is_stale(state: SourceState, now: datetime, settings: Settings) -> bool:
    """True when the source has failed, or brought nothing new, for `stale_after_s`."""
    limit = timedelta(seconds=settings.stale_after_s)
    if state.failing_since is not None and now - state.failing_since >= limit:
        return True
    last_news = state.last_new_item_at or state.last_success_at
    return last_news is not None and now - last_news >= limit
