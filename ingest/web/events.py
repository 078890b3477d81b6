"""The Server-Sent Events stream of alerts: XREAD BLOCK on the channels' streams, each event's
`id` the position after it, so a client that reconnects with `Last-Event-ID` gets every later
alert once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from ingest.delivery.store import Store
from ingest.delivery.streams import read_after
from ingest.errors import StoreError
from ingest.web.positions import encode

log = logging.getLogger(__name__)

# XREAD waits this long for an alert before a keep-alive comment goes out: under the Redis
# client's 10 s socket timeout, and often enough that a vanished client is noticed.
BLOCK_MS = 5000
RETRY_MS = 2000  # how soon a browser's EventSource reconnects after a drop
STORE_RETRY_S = 1.0


def event(position: str, payload: str) -> str:
    """One `alert` event; a payload with line breaks becomes several `data:` lines."""
    data = "".join(f"data: {line}\n" for line in payload.split("\n"))
    return f"id: {position}\nevent: alert\n{data}\n"


async def alert_events(store: Store, positions: dict[str, str]) -> AsyncIterator[str]:
    """Events for every alert after `positions` (channel -> stream id), until cancelled."""
    yield f"retry: {RETRY_MS}\n\n"
    while True:
        try:
            entries = await read_after(store, positions, BLOCK_MS)
        except StoreError as exc:
            log.warning("event stream: %s", exc)
            yield ": redis unavailable, retrying\n\n"
            await asyncio.sleep(STORE_RETRY_S)
            continue
        if not entries:
            yield ": keep-alive\n\n"
            continue
        for entry in entries:
            positions[entry.channel] = entry.id
            yield event(encode(positions), entry.payload)
