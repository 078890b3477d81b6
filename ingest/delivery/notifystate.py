"""Redis state of `wirewatch notify`: a consumer group per destination on each channel stream,
delivered marks, digest timing and the status the web console shows.

    {p}notify:{dest}                    consumer group name on every stream the destination reads
    {p}notify:since:{dest}              ms time the destination was first seen (groups start there,
                                        less the backlog), so every notifier starts them alike
    {p}notify:mark:{dest}:{alert_id}    "done" once the destination accepted the alert (EX
                                        mark_ttl_s); "sending:{owner}" while a notifier sends it
                                        (PX lock_ttl_ms), so two notifiers never send it together
    {p}notify:digest:{dest}             ms time the destination's next digest is due
    {p}notify:digest-lease:{dest}       the notifier sending this destination's digests (PX)
    {p}notify:status                    hash: destination id -> JSON status (no secrets)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from ingest.delivery.store import REDIS_ERRORS, Store
from ingest.errors import StoreError

# 'go' when this owner may send now, 'done' when it was delivered already, 'busy' when another
# notifier is sending it at this moment.
_BEGIN = """
local v = redis.call('GET', KEYS[1])
if v == 'done' then return 'done' end
if v and v ~= ARGV[1] then return 'busy' end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 'go'
"""

_RENEW = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
"""

_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


_MAX_SEQ = 2**64 - 1  # the largest sequence part of a stream id


@dataclass(frozen=True, slots=True)
class Entry:
    """One stream entry a destination has to deliver; `payload` None when the stream trimmed it."""

    stream: str
    entry_id: str
    alert_id: str
    payload: str | None

    @property
    def order(self) -> tuple[int, int]:
        ms, _, seq = self.entry_id.partition("-")
        return int(ms), int(seq or 0)


def _entries(stream: str, found: list[Any]) -> list[Entry]:
    result = []
    for entry_id, fields in found:
        fields = fields or {}
        alert_id = fields.get("alert_id") or entry_id
        result.append(Entry(stream, entry_id, alert_id, fields.get("alert")))
    return result


class NotifyState:
    """The Redis side of one destination."""

    def __init__(self, store: Store, destination_id: str, consumer: str, owner: str) -> None:
        self.store = store
        self.client = store.client
        self.dest = destination_id
        self.consumer = consumer  # stable across restarts: its own pending entries come back
        self.owner = f"sending:{owner}"  # unique per process
        p = store.prefix
        self.group = f"{p}notify:{destination_id}"
        self._since_key = f"{p}notify:since:{destination_id}"
        self._digest_key = f"{p}notify:digest:{destination_id}"
        self._lease_key = f"{p}notify:digest-lease:{destination_id}"
        self.status_key = f"{p}notify:status"
        self._begin = self.client.register_script(_BEGIN)
        self._release = self.client.register_script(_RELEASE)
        self._renew = self.client.register_script(_RENEW)

    def mark_key(self, alert_id: str) -> str:
        return f"{self.store.prefix}notify:mark:{self.dest}:{alert_id}"

    # -- groups -----------------------------------------------------------------------------

    async def start_id(self, backlog_s: float) -> str:
        """Where this destination's groups start: when it was first seen, less the backlog."""
        now_ms = int(time.time() * 1000)
        await self.store.guard(self.client.set(self._since_key, now_ms, nx=True))
        since_ms = int(await self.store.guard(self.client.get(self._since_key)) or now_ms)
        first_ms = since_ms - int(backlog_s * 1000)
        # A group delivers what comes after its id: end it at the last entry of the previous
        # millisecond, so an alert of the very millisecond the destination appeared is included.
        return f"{first_ms - 1}-{_MAX_SEQ}" if first_ms > 0 else "0-0"

    async def ensure_groups(self, streams: list[str], start_id: str) -> None:
        for stream in streams:
            await self.store.ensure_group(stream, self.group, start_id)

    async def own_pending(self, streams: list[str], count: int) -> list[Entry]:
        """Entries this consumer read before and never acknowledged (also from a past run)."""
        return await self._read(streams, "0", count, None)

    async def new_entries(
        self, streams: list[str], count: int, block_ms: int | None
    ) -> list[Entry]:
        """Entries no consumer of the group has read yet (waiting up to block_ms; None: not)."""
        return await self._read(streams, ">", count, block_ms)

    async def _read(
        self, streams: list[str], cursor: str, count: int, block_ms: int | None
    ) -> list[Entry]:
        if not streams:
            return []
        batches = await self.store.guard(
            self.client.xreadgroup(
                self.group, self.consumer, dict.fromkeys(streams, cursor), count=count,
                block=block_ms,
            )
        )  # fmt: skip
        found = [e for stream, entries in batches or [] for e in _entries(stream, entries)]
        return sorted(found, key=lambda e: e.order)

    async def claim_idle(self, streams: list[str], min_idle_ms: int, count: int) -> list[Entry]:
        """Take over entries other consumers (a dead notifier) left unacknowledged that long."""
        found: list[Entry] = []
        for stream in streams:
            claimed = await self.store.guard(
                self.client.xautoclaim(
                    stream, self.group, self.consumer, min_idle_ms, "0-0", count=count
                )
            )
            found += _entries(stream, claimed[1])
        return sorted(found, key=lambda e: e.order)

    async def ack(self, entries: list[Entry]) -> None:
        by_stream: dict[str, list[str]] = {}
        for entry in entries:
            by_stream.setdefault(entry.stream, []).append(entry.entry_id)
        for stream, ids in by_stream.items():
            await self.store.guard(self.client.xack(stream, self.group, *ids))

    # -- delivered marks --------------------------------------------------------------------

    async def begin(self, entries: list[Entry], lock_ms: int) -> list[str]:
        """For each entry: 'go' (send it now), 'done' (delivered before) or 'busy'."""
        async with self.client.pipeline(transaction=False) as pipe:
            for entry in entries:
                await self._begin(keys=[self.mark_key(entry.alert_id)], args=[self.owner, lock_ms],
                            client=pipe)  # fmt: skip
            return [str(r) for r in await self.store.guard(pipe.execute())]

    async def delivered(self, entries: list[Entry], mark_ttl_s: int) -> None:
        """The destination accepted them: mark, then acknowledge (a crash between the answer and
        this call is the one window where a copy is sent twice)."""
        async with self.client.pipeline(transaction=False) as pipe:
            for entry in entries:
                pipe.set(self.mark_key(entry.alert_id), "done", ex=mark_ttl_s)
            await self.store.guard(pipe.execute())
        await self.ack(entries)

    async def release(self, entries: list[Entry]) -> None:
        async with self.client.pipeline(transaction=False) as pipe:
            for entry in entries:
                await self._release(
                    keys=[self.mark_key(entry.alert_id)], args=[self.owner], client=pipe
                )
            await self.store.guard(pipe.execute())

    # -- digests, backlog, status -----------------------------------------------------------

    async def hold_digest_lease(self, held: bool, ttl_ms: int) -> bool:
        """Take (or keep) the right to send this destination's digests; False: another has it."""
        if held:
            renewed = await self.store.guard(
                self._renew(keys=[self._lease_key], args=[self.owner, ttl_ms])
            )
            return bool(renewed)
        took = await self.store.guard(
            self.client.set(self._lease_key, self.owner, nx=True, px=ttl_ms)
        )
        return bool(took)

    async def release_digest_lease(self) -> None:
        await self.store.guard(self._release(keys=[self._lease_key], args=[self.owner]))

    async def digest_due_ms(self, digest_s: float) -> int:
        """When the next digest is due (set on first use, kept across restarts)."""
        first = int((time.time() + digest_s) * 1000)
        await self.store.guard(self.client.set(self._digest_key, first, nx=True))
        return int(await self.store.guard(self.client.get(self._digest_key)) or first)

    async def digest_sent(self, digest_s: float) -> None:
        due = int((time.time() + digest_s) * 1000)
        await self.store.guard(self.client.set(self._digest_key, due))

    async def backlog(self, streams: list[str]) -> tuple[int, float | None]:
        """Alerts not yet delivered (read or not) and the time of the oldest, in unix seconds."""
        count, oldest_ms = 0, None
        groups = {}
        for stream in streams:
            for info in await self.store.guard(self.client.xinfo_groups(stream)):
                if info["name"] == self.group:
                    groups[stream] = info
        for stream, info in groups.items():
            count += int(info.get("pending") or 0) + int(info.get("lag") or 0)
            first = await self._oldest_ms(stream, info)
            if first is not None:
                oldest_ms = first if oldest_ms is None else min(oldest_ms, first)
        return count, (oldest_ms / 1000 if oldest_ms is not None else None)

    async def _oldest_ms(self, stream: str, info: dict[str, Any]) -> int | None:
        if info.get("pending"):
            summary = await self.store.guard(self.client.xpending(stream, self.group))
            return int(str(summary["min"]).partition("-")[0])
        if info.get("lag"):
            after = await self.store.guard(
                self.client.xrange(stream, min=f"({info['last-delivered-id']}", count=1)
            )
            if after:
                return int(after[0][0].partition("-")[0])
        return None

    async def write_status(self, status_json: str) -> None:
        await self.store.guard(self.client.hset(self.status_key, self.dest, status_json))


async def stream_keys_matching(store: Store, pattern: str) -> set[str]:
    """Alert streams whose channel name matches a glob (wirewatch's own state keys left out)."""
    keys: set[str] = set()
    try:
        async for key in store.client.scan_iter(match=pattern, _type="STREAM", count=1000):
            if not key.startswith(store.prefix):
                keys.add(key)
    except REDIS_ERRORS as exc:
        raise StoreError(f"Redis failed listing streams like {pattern!r}: {exc}") from exc
    return keys


async def read_statuses(store: Store) -> dict[str, str]:
    return dict(await store.guard(store.client.hgetall(f"{store.prefix}notify:status")))
