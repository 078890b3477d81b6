"""Which sources to poll next: the most overdue first, within the global and per-host limits.

Pure functions of the sources, what is known of their state and what is in flight, so the
fairness is tested with tables, not with timing. Taking sources in feeds.yaml order (as the
first version did) starved the late ones whenever the service could not keep up; taking the
earliest `next_due_at` first spreads any lag evenly over every source.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from urllib.parse import urlsplit

from ingest.fetch.schedule import SourceState, interval_in_force_s
from ingest.models import Source
from ingest.settings import Settings

StateOf = Callable[[Source], SourceState]
BEHIND_RATIO = 1.0  # overdue by more than a whole interval: the service is behind
CAUGHT_UP_RATIO = 0.25  # every source within a quarter interval of its time: caught up again


@lru_cache(maxsize=65_536)  # the dispatcher asks for every due source on every wake
def host_of(source: Source) -> str | None:
    """What per-host politeness counts by; local sources have no host."""
    if source.kind != "http":
        return None
    return (urlsplit(source.url).hostname or "").lower()


def due_order(
    sources: Iterable[Source],
    state_of: StateOf,
    now: datetime,
    busy: Collection[str],
    poked: Collection[str],
) -> list[Source]:
    """Sources that may be polled now, the ones asked for at once (a spool file landed) first,
    then the longest overdue; never-polled sources count as due since the beginning."""
    ready = []
    for index, source in enumerate(sources):
        if source.key in busy:
            continue
        due_at = state_of(source).next_due_at
        if source.key in poked:
            ready.append(((0, 0.0, index), source))
        elif due_at is None or due_at <= now:
            since = due_at.timestamp() if due_at else float("-inf")
            ready.append(((1, since, index), source))
    return [source for _, source in sorted(ready, key=lambda item: item[0])]


def pick(
    ordered: Sequence[Source], in_flight: Iterable[Source], room: int, per_host: int
) -> list[Source]:
    """The first `room` sources of `ordered` whose host has a free slot."""
    load = Counter(host_of(s) for s in in_flight)
    chosen: list[Source] = []
    for source in ordered:
        if len(chosen) >= room:
            break
        host = host_of(source)
        if host is not None and load[host] >= per_host:
            continue
        load[host] += 1
        chosen.append(source)
    return chosen


def seconds_to_next_due(
    sources: Iterable[Source], state_of: StateOf, now: datetime, busy: Collection[str]
) -> float | None:
    """How long until the next idle source falls due (0 if one is due); None: none is idle."""
    waits = []
    for source in sources:
        if source.key in busy:
            continue
        due_at = state_of(source).next_due_at
        waits.append(0.0 if due_at is None else max(0.0, (due_at - now).total_seconds()))
    return min(waits) if waits else None


@dataclass(frozen=True, slots=True)
class Lag:
    """How far behind the schedule the sources are, measured in their own intervals."""

    overdue: int  # sources overdue by more than BEHIND_RATIO of their interval
    worst_s: float  # the most overdue source, in seconds
    worst_ratio: float  # the most overdue source, in intervals


def measure_lag(
    sources: Iterable[Source],
    state_of: StateOf,
    now: datetime,
    settings: Settings,
    started_at: datetime,
    listed_at: Mapping[str, float] | None = None,
    polling: Collection[str] = frozenset(),
) -> Lag:
    """Lag now, of the sources whose poll has not started (`polling`: being polled by some
    worker). A source never polled has been due since it was first listed (`listed_at`, unix
    s, shared by every worker), else since `started_at`."""
    overdue, worst_s, worst_ratio = 0, 0.0, 0.0
    listed = listed_at or {}
    for source in sources:
        if source.key in polling:
            continue
        due_at = state_of(source).next_due_at
        if due_at is None:
            first = listed.get(source.key)
            due_at = datetime.fromtimestamp(first, now.tzinfo) if first else started_at
        late_s = (now - due_at).total_seconds()
        ratio = late_s / interval_in_force_s(source, settings)
        overdue += ratio > BEHIND_RATIO
        worst_s, worst_ratio = max(worst_s, late_s), max(worst_ratio, ratio)
    return Lag(overdue, worst_s, worst_ratio)
