"""`wirewatch feeds`: each source's state, as a table.

Besides what the last polls brought, it shows the interval in force (and why it differs from
feeds.yaml when it does: the http(s) floor, or adaptation to a quiet feed) and how far behind
its schedule each source is, so a slow service is visible at a glance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ingest.delivery.store import Store
from ingest.fetch.feedstate import FeedStateStore
from ingest.fetch.schedule import SourceState, interval_in_force_s, is_stale
from ingest.fetch.sources import load_sources
from ingest.models import Source, utcnow
from ingest.service.discovery import page_note
from ingest.settings import Settings

HEADER = [
    "SOURCE", "GROUP", "LAST SUCCESS", "LAST ERROR", "NEXT POLL", "LAG", "INTERVAL", "ITEMS SEEN"
]  # fmt: skip
# Put before ITEMS SEEN (by `wirewatch feeds` and the web console's /feeds): pages fetched for
# full text and pages that could not be had, and first-poll entries skipped as old.
COUNT_HEADER = ["PAGES", "OLD SKIPPED"]


def _span(seconds: float) -> str:
    span = abs(seconds)
    if span < 120:
        return f"{span:.0f}s"
    return f"{span / 60:.0f}m" if span < 7200 else f"{span / 3600:.1f}h"


def _seconds(seconds: float) -> str:
    return f"{seconds:.0f}s"


def when_text(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "-"
    seconds = (moment - now).total_seconds()
    return f"in {_span(seconds)}" if seconds > 0 else f"{_span(seconds)} ago"


def interval_text(source: Source, state: SourceState, settings: Settings) -> str:
    """The interval in force, with the reason when it is not the one written in feeds.yaml."""
    in_force_s = interval_in_force_s(source, settings)
    current_s = state.interval_s or in_force_s
    text = _seconds(current_s)
    if current_s > in_force_s * 1.01:
        text += f" (asked {_seconds(source.interval_s)}: quiet feed, polled less often)"
    elif current_s < in_force_s * 0.99:
        text += f" (asked {_seconds(source.interval_s)}: busy feed, polled more often)"
    elif in_force_s != source.interval_s:
        text += f" (asked {_seconds(source.interval_s)}: the http(s) floor)"
    return text


def lag_s(state: SourceState, now: datetime, listed_at: float | None) -> float:
    """How long the source has been due without a poll starting."""
    due_at = state.next_due_at
    if due_at is None and state.last_success_at is None and state.last_error_at is None:
        due_at = datetime.fromtimestamp(listed_at, now.tzinfo) if listed_at else None
    return max(0.0, (now - due_at).total_seconds()) if due_at else 0.0


def flagged_stale(
    state: SourceState, now: datetime, settings: Settings, listed_at: float | None
) -> bool:
    """STALE in the table: failing or silent, or never (or no longer) polled, for too long."""
    starved = lag_s(state, now, listed_at) >= settings.stale_after_s
    return is_stale(state, now, settings) or starved


def format_row(
    source: Source,
    state: SourceState,
    now: datetime,
    settings: Settings,
    listed_at: float | None = None,
) -> list[str]:
    late_s = lag_s(state, now, listed_at)
    flag = "STALE " if flagged_stale(state, now, settings, listed_at) else ""
    error = (state.last_error or "-").replace("\n", " ")
    return [
        source.name,
        when_text(state.last_success_at, now),
        f"{flag}{when_text(state.last_error_at, now)} {error}" if state.last_error else flag + "-",
        when_text(state.next_due_at, now) if state.next_due_at else "now",
        _span(late_s) if late_s >= 1 else "-",
        interval_text(source, state, settings),
        str(state.items_seen),
    ]


@dataclass(frozen=True, slots=True)
class FeedsTable:
    """Each source of feeds.yaml with its state (and when it was first listed, unix s), and the
    errors and notes of feeds.yaml itself."""

    sources: tuple[tuple[Source, SourceState, float | None], ...]
    errors: tuple[str, ...]
    notes: tuple[str, ...]
    now: datetime
    # per source key: pages fetched and failed for full text, first-poll entries skipped as old
    counts: dict[str, dict[str, int]]


async def feeds_table(settings: Settings, store: Store) -> FeedsTable:
    """What `wirewatch feeds` shows, as values (the web console shows the same)."""
    listing = load_sources(settings.feeds_file, settings)
    states = FeedStateStore(store.client, settings.key_prefix)
    listed = await store.guard(states.listed_at([s.key for s in listing.sources]))
    rows = [(s, await store.guard(states.get(s.key)), listed.get(s.key)) for s in listing.sources]
    pages = [
        page_note(settings.feeds_file, s, state.feed_url) for s, state, _ in rows if state.feed_url
    ]
    notes = (*map(str, listing.notes), *pages)
    counts = await store.guard(states.counts([s.key for s in listing.sources]))
    return FeedsTable(tuple(rows), tuple(map(str, listing.errors)), notes, utcnow(), counts)


def count_cells(source: Source, counts: dict[str, int]) -> list[str]:
    """PAGES ("12 ok, 1 failed"; "-" for a source that never fetches pages), OLD SKIPPED."""
    pages = "-"
    if source.full_text != "never" or counts["pages_fetched"] or counts["pages_failed"]:
        pages = f"{counts['pages_fetched']} ok, {counts['pages_failed']} failed"
    return [pages, str(counts["backfill_skipped"])]


def _with_counts(row: list[str], counts: list[str]) -> list[str]:
    return [*row[:-1], *counts, row[-1]]


async def feeds_report(settings: Settings) -> str:
    store = Store.from_settings(settings)
    try:
        await store.ping()
        table = await feeds_table(settings, store)
    finally:
        await store.close()
    rows = [_with_counts(HEADER, COUNT_HEADER)]
    for source, state, listed_at in table.sources:
        cells = format_row(source, state, table.now, settings, listed_at)
        counted = count_cells(source, table.counts[source.key])
        rows.append(_with_counts([cells[0], source.group or "-", *cells[1:]], counted))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1]
        for row in rows
    ]
    lines += [f"error: {e}" for e in table.errors]
    lines += [f"note: {n}" for n in table.notes]
    return "\n".join(lines)
