"""What the pages and the API show, built from the stores: plain values, no markup.

Every text here may come from a feed or a rule file; the templates escape it (autoescape), and
links are kept only when they are http(s), so a `javascript:` URL in a feed never becomes one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from ingest.delivery.store import RuleActivity
from ingest.delivery.streams import StreamEntry
from ingest.fetch.schedule import SourceState
from ingest.models import Source, iso_utc
from ingest.service.report import FeedsTable, count_cells, flagged_stale, format_row, when_text
from ingest.settings import Settings
from ingest.web.rules import LoadedRules

HOURS_SHOWN = 24


def safe_url(url: Any) -> str | None:
    """The URL if it is http(s), else None (never a `javascript:` or `data:` link)."""
    if isinstance(url, str) and url.strip().lower().startswith(("http://", "https://")):
        return url.strip()
    return None


def alert_record(entry: StreamEntry) -> dict[str, Any] | None:
    """`{"id", "channel", "alert"}` as the API gives it; None for an entry that is not JSON."""
    try:
        alert = json.loads(entry.payload)
    except ValueError:
        return None
    if not isinstance(alert, dict):
        return None
    return {"id": entry.id, "channel": entry.channel, "alert": alert}


def alert_card(record: dict[str, Any]) -> dict[str, Any]:
    """The fields one alert shows on `/`, tolerant of missing parts."""
    alert = record["alert"]
    article = alert.get("article") or {}
    matched = alert.get("matched") or {}
    dateline = article.get("dateline") or {}
    outlets = [
        {"name": o.get("name") or o.get("url") or "", "url": safe_url(o.get("url"))}
        for o in alert.get("also_seen_in") or []
        if isinstance(o, dict)
    ]
    return {
        "key": alert.get("alert_id") or f"{record['channel']} {record['id']}",
        "rule_id": alert.get("rule_id", ""),
        "channel": record["channel"],
        "title": article.get("title") or "(no title)",
        "url": safe_url(article.get("url")),
        "source": (article.get("source") or {}).get("name", ""),
        "dateline": " · ".join(
            str(dateline[k]) for k in ("place", "date", "agency") if dateline.get(k)
        ),
        "terms": matched.get("terms") or [],
        "entities": [
            f"{e.get('label', '')} {e.get('name', '')}"
            for e in matched.get("entities") or []
            if isinstance(e, dict)
        ],
        "snippet": alert.get("snippet", ""),
        "created_at": alert.get("created_at", ""),
        "outlets": outlets,
    }


@dataclass(frozen=True, slots=True)
class FeedRow:
    """One source as /feeds shows it: the cells `wirewatch feeds` prints, split up."""

    source: Source
    state: SourceState
    stale: bool
    last_success: str
    last_error_when: str
    next_poll: str
    lag: str
    interval: str
    pages: str  # "12 ok, 1 failed", or "-" for a source that never fetches pages
    old_skipped: str


def feed_rows(table: FeedsTable, settings: Settings) -> list[FeedRow]:
    rows = []
    for source, state, listed_at in table.sources:
        cells = format_row(source, state, table.now, settings, listed_at)
        pages, old_skipped = count_cells(source, table.counts[source.key])
        rows.append(FeedRow(
            source, state, flagged_stale(state, table.now, settings, listed_at),
            last_success=cells[1],
            last_error_when=when_text(state.last_error_at, table.now) if state.last_error else "-",
            next_poll=cells[3], lag=cells[4], interval=cells[5],
            pages=pages, old_skipped=old_skipped,
        ))  # fmt: skip
    return rows


def feeds_json(table: FeedsTable, settings: Settings) -> dict[str, Any]:
    feeds = []
    for row in feed_rows(table, settings):
        state = row.state
        feeds.append({
            "name": row.source.name,
            "url": row.source.url,
            "kind": row.source.kind,
            "group": row.source.group,
            "feed_url": state.feed_url,
            "interval_s": row.source.interval_s,
            "interval": row.interval,
            "last_success_at": iso_utc(state.last_success_at),
            "last_error_at": iso_utc(state.last_error_at),
            "last_error": state.last_error,
            "next_poll_at": iso_utc(state.next_due_at),
            "lag": row.lag,
            "items_seen": state.items_seen,
            **table.counts[row.source.key],  # pages_fetched, pages_failed, backfill_skipped
            "stale": row.stale,
            "recent_polls": [
                {"at": iso_utc(datetime.fromtimestamp(t, UTC)), "outcome": kind}
                for t, kind in state.recent_polls
            ],
        })  # fmt: skip
    return {"feeds": feeds, "errors": list(table.errors), "notes": list(table.notes)}


def rules_json(loaded: LoadedRules, activity: dict[str, RuleActivity]) -> dict[str, Any]:
    rules = []
    for rule in loaded.rules:
        seen = activity.get(rule.id, RuleActivity((0,) * HOURS_SHOWN, None))
        rules.append({
            "id": rule.id,
            "channel": rule.channel,
            "file": rule.path,
            "line": rule.line,
            "alerts_24h": sum(seen.per_hour),
            "alerts_per_hour": list(seen.per_hour),
            "last_alert_at": _ms_iso(seen.last_alert_ms),
        })  # fmt: skip
    return {"rules": rules, "errors": [str(e) for e in loaded.errors]}


def _ms_iso(ms: int | None) -> str | None:
    return iso_utc(datetime.fromtimestamp(ms / 1000, UTC)) if ms else None
