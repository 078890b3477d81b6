"""The notification destinations as `wirewatch notify` last reported them (`{prefix}notify:status`,
written by each notifier, secrets already masked): shown under the feeds, so a destination that
has not accepted messages for long is seen where the sources' health is."""

from __future__ import annotations

import json
from typing import Any

from ingest.delivery.notifystate import read_statuses
from ingest.delivery.store import Store

STATES = ("ok", "failing", "stale")


async def notify_destinations(store: Store) -> list[dict[str, Any]]:
    """One dict per destination (id, to, state, failing_since, last_error, last_ok, pending,
    oldest_pending_s, updated), by id; unreadable entries are left out."""
    found = []
    for raw in (await read_statuses(store)).values():
        try:
            status = json.loads(raw)
        except ValueError:
            continue
        if isinstance(status, dict) and status.get("state") in STATES:
            found.append(status)
    return sorted(found, key=lambda status: str(status.get("id")))
