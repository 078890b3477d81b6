"""`wirewatch feeds`: each source's state, as a table."""

from __future__ import annotations

from datetime import datetime

from ingest.delivery.store import Store
from ingest.fetch.feedstate import FeedStateStore
from ingest.fetch.schedule import SourceState, is_stale
from ingest.fetch.sources import load_sources
from ingest.models import utcnow
from ingest.settings import Settings


def _when(moment: datetime | None, now: datetime) -> str:
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
        _when(state.last_success_at, now),
        f"{flag}{_when(state.last_error_at, now)} {error}" if state.last_error else flag + "-",
        _when(state.next_due_at, now) if state.next_due_at else "now",
        str(state.items_seen),
    ]


async def feeds_report(settings: Settings) -> str:
    listing = load_sources(settings.feeds_file, settings)
    store = Store.from_settings(settings)
    try:
        await store.ping()
        states = FeedStateStore(store.client, settings.key_prefix)
        now = utcnow()
        rows = [["SOURCE", "LAST SUCCESS", "LAST ERROR", "NEXT POLL", "ITEMS SEEN"]]
        for source in listing.sources:
            state = await store.guard(states.get(source.key))
            rows.append(format_row(source.name, state, now, settings))
    finally:
        await store.close()
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1]
        for row in rows
    ]
    lines += [f"error: {e}" for e in listing.errors]
    return "\n".join(lines)
