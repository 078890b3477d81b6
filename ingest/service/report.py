"""`wirewatch feeds`: each source's state, as a table."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ingest.delivery.store import Store
from ingest.fetch.feedstate import FeedStateStore
from ingest.fetch.schedule import SourceState, is_stale
from ingest.fetch.sources import load_sources
from ingest.models import Source, utcnow
from ingest.settings import Settings


def when_text(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "-"
    seconds = (moment - now).total_seconds()
    span = abs(seconds)
    text = (
        f"{span:.0f}s"
        if span < 120
        else f"{span / 60:.0f}m"
        if span < 7200
        else f"{span / 3600:.1f}h"
    )
    return f"in {text}" if seconds > 0 else f"{text} ago"


def format_row(name: str, state: SourceState, now: datetime, settings: Settings) -> list[str]:
    flag = "STALE " if is_stale(state, now, settings) else ""
    error = (state.last_error or "-").replace("\n", " ")
    return [
        name,
        when_text(state.last_success_at, now),
        f"{flag}{when_text(state.last_error_at, now)} {error}" if state.last_error else flag + "-",
        when_text(state.next_due_at, now) if state.next_due_at else "now",
        str(state.items_seen),
    ]


HEADER = ["SOURCE", "LAST SUCCESS", "LAST ERROR", "NEXT POLL", "ITEMS SEEN"]


@dataclass(frozen=True, slots=True)
class FeedsTable:
    """Each source of feeds.yaml with its state, and the problems of feeds.yaml itself."""

    sources: tuple[tuple[Source, SourceState], ...]
    errors: tuple[str, ...]
    now: datetime


async def feeds_table(settings: Settings, store: Store) -> FeedsTable:
    """What `wirewatch feeds` shows, as values (the web console shows the same)."""
    listing = load_sources(settings.feeds_file, settings)
    states = FeedStateStore(store.client, settings.key_prefix)
    rows = [(s, await store.guard(states.get(s.key))) for s in listing.sources]
    return FeedsTable(tuple(rows), tuple(str(e) for e in listing.errors), utcnow())


async def feeds_report(settings: Settings) -> str:
    store = Store.from_settings(settings)
    try:
        await store.ping()
        table = await feeds_table(settings, store)
    finally:
        await store.close()
    rows = [HEADER] + [
        format_row(source.name, state, table.now, settings) for source, state in table.sources
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1]
        for row in rows
    ]
    lines += [f"error: {e}" for e in table.errors]
    return "\n".join(lines)
