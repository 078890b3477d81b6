"""`wirewatch notify --test [ID]`: send a test message to each destination (or one) and print,
per destination, ok or the error, plus what the running notifier reports when it is stale."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable

from ingest.delivery.notifystate import read_statuses
from ingest.delivery.store import Store
from ingest.errors import StoreError
from ingest.notify.config import Destination
from ingest.notify.sender import send
from ingest.settings import Settings

Redact = Callable[[str], str]
log = logging.getLogger("ingest.notify")


def test_message(destination: Destination) -> tuple[str, str]:
    channels = ", ".join(destination.channels)
    how = f"a digest every {destination.digest_s:g} s" if destination.digest_s else "each alert"
    return (
        "wirewatch test message",
        f"Destination {destination.id} is set up: alerts on {channels} arrive here, {how}.",
    )


async def probe(
    destinations: list[Destination], settings: Settings, redact: Redact, emit: Callable[[str], None]
) -> int:
    """Send to each destination in turn; return how many failed."""
    statuses = await _statuses(settings)
    failed = 0
    for destination in destinations:
        title, body = test_message(destination)
        outcome = await asyncio.to_thread(
            send, destination.service, title, body, settings.notify_send_timeout_s
        )
        said = "ok" if outcome.ok else f"error: {outcome.error}"
        line = f"{destination.id}: {said}"
        failed += 0 if outcome.ok else 1
        emit(redact(line + _stale_note(statuses.get(destination.id))))
    return failed


async def _statuses(settings: Settings) -> dict[str, str]:
    """What running notifiers reported; without Redis the test messages still go out."""
    store = Store.from_settings(settings)
    try:
        return await read_statuses(store)
    except StoreError as exc:
        log.warning("no notifier status (stale destinations unknown): %s", exc)
        return {}
    finally:
        await store.close()


def _stale_note(status_json: str | None) -> str:
    """What the running notifier knows when it has not delivered here for too long."""
    if not status_json:
        return ""
    status = json.loads(status_json)
    if status.get("state") != "stale":
        return ""
    age = _age(status.get("updated"))
    return (
        f"; STALE: the notifier has not delivered here since {status.get('failing_since')}"
        f" (last error: {status.get('last_error')}; {status.get('pending')} pending; "
        f"status {age})"
    )


def _age(iso: str | None) -> str:
    if not iso:
        return "of unknown age"
    then = time.mktime(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ")) - time.timezone
    return f"{max(0, time.time() - then):.0f} s old"
