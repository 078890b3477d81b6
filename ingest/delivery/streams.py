"""Reading the alert streams (one capped Redis Stream per channel, field `alert`) by position.

A position is a stream id per channel. Reading *after* a position, never "from now", is what
lets a reader that went away come back without a gap or a double: the web console's event
stream and its JSON API use these. The client comes from `Store` (this module does not import
redis).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ingest.delivery.store import Store

START = "0-0"  # the position before every entry: an empty or missing stream


@dataclass(frozen=True, slots=True)
class StreamEntry:
    """One alert as its channel's stream holds it."""

    channel: str
    id: str  # the stream id, `1732950000000-0`
    payload: str  # the alert JSON, as published


def id_key(stream_id: str) -> tuple[int, int]:
    """Sort key of a stream id (`ms-seq`); raises ValueError when it is not one."""
    ms, _, seq = stream_id.partition("-")
    return int(ms), int(seq or 0)


def is_stream_id(text: str) -> bool:
    try:
        id_key(text)
    except ValueError:
        return False
    return "-" in text and not text.startswith("-")


def _entries(channel: str, rows: Sequence[tuple[str, dict[str, str]]]) -> list[StreamEntry]:
    # Entries without an `alert` field are not ours (someone else wrote to the key): skipped.
    return [StreamEntry(channel, i, f["alert"]) for i, f in rows if "alert" in f]


async def last_ids(store: Store, channels: Sequence[str]) -> dict[str, str]:
    """Each channel's newest stream id now (START for an empty or missing stream)."""
    async with store.client.pipeline(transaction=False) as pipe:
        for channel in channels:
            pipe.xrevrange(channel, count=1)
        newest = await store.guard(pipe.execute())
    return {c: rows[0][0] if rows else START for c, rows in zip(channels, newest, strict=True)}


async def read_after(
    store: Store, positions: Mapping[str, str], block_ms: int, count: int = 100
) -> list[StreamEntry]:
    """Entries after each channel's position, oldest first; waits up to `block_ms` for one."""
    if not positions:
        return []
    streams: dict[Any, Any] = dict(positions)
    found = await store.guard(store.client.xread(streams, count=count, block=block_ms))
    entries = [e for channel, rows in found or [] for e in _entries(channel, rows)]
    return sorted(entries, key=lambda e: id_key(e.id))


async def newest(store: Store, channels: Sequence[str], limit: int) -> list[StreamEntry]:
    """The `limit` newest entries over these channels, newest first."""
    async with store.client.pipeline(transaction=False) as pipe:
        for channel in channels:
            pipe.xrevrange(channel, count=limit)
        found = await store.guard(pipe.execute())
    entries = [e for c, rows in zip(channels, found, strict=True) for e in _entries(c, rows)]
    return sorted(entries, key=lambda e: id_key(e.id), reverse=True)[:limit]


async def since(
    store: Store, channels: Sequence[str], start: str, limit: int, *, inclusive: bool
) -> list[StreamEntry]:
    """The first `limit` entries from stream id `start` on, over these channels, oldest first."""
    low = start if inclusive else f"({start}"
    async with store.client.pipeline(transaction=False) as pipe:
        for channel in channels:
            pipe.xrange(channel, min=low, count=limit)
        found = await store.guard(pipe.execute())
    entries = [e for c, rows in zip(channels, found, strict=True) for e in _entries(c, rows)]
    return sorted(entries, key=lambda e: id_key(e.id))[:limit]
