"""`wirewatch subscribe`: alerts as JSON lines, live (pub/sub), replayed (stream) or acknowledged
(consumer group).

Replay and live meet without a gap or a double: the pub/sub subscription is made *before* the
stream is read, and live messages whose alert id was already replayed are skipped.

Redis going away (or failing over to a replica) does not end a subscription: it is said once,
waited out and taken up again. A group consumer then reads its own unacknowledged entries
first, and skips (acknowledging) alerts it printed already, so a failover that loses an
acknowledgement, or an alert published again after it, prints nothing twice.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ingest.delivery.store import Store
from ingest.errors import StoreError

log = logging.getLogger(__name__)

Emit = Callable[[str], None]
PRINTED_MEMORY = 100_000  # alert ids a group consumer remembers having printed
RETRY_S = 1.0  # between attempts while Redis is away


@dataclass(frozen=True, slots=True)
class SubscribeOptions:
    channels: tuple[str, ...]
    pattern: bool = False
    count: int | None = None  # stop after this many alerts
    timeout_s: float | None = None  # stop after this long in all
    replay: bool = False  # first print what the channel streams hold
    since: str | None = None  # replay from a stream id or a time (ISO 8601 or unix seconds)
    group: str | None = None  # consumer group: at-least-once with acknowledgement
    consumer: str = "wirewatch-subscribe"


class _Budget:
    """Counts alerts and time left."""

    def __init__(self, options: SubscribeOptions) -> None:
        self.left = options.count
        self.deadline = time.monotonic() + options.timeout_s if options.timeout_s else None

    def spend(self) -> None:
        if self.left is not None:
            self.left -= 1

    @property
    def done(self) -> bool:
        return (self.left is not None and self.left <= 0) or self.remaining_s == 0.0

    @property
    def remaining_s(self) -> float | None:
        if self.deadline is None:
            return None
        return max(0.0, self.deadline - time.monotonic())

    def wait_s(self, cap_s: float = 1.0) -> float:
        remaining = self.remaining_s
        return cap_s if remaining is None else min(cap_s, remaining)


def since_to_stream_id(since: str) -> str:
    """A stream id from `1700000000000-0`, unix seconds, or an ISO 8601 time."""
    if "-" in since and since.split("-")[0].isdigit() and len(since.split("-")) == 2:
        return since
    try:
        seconds = float(since)
    except ValueError:
        moment = datetime.fromisoformat(since.replace("Z", "+00:00"))
        seconds = moment.timestamp()
    return f"{int(seconds * 1000)}-0"


async def stream_keys(store: Store, options: SubscribeOptions) -> list[str]:
    """The alert streams behind the channels (patterns are matched against existing streams)."""
    if not options.pattern:
        return list(options.channels)
    keys: set[str] = set()
    for pattern in options.channels:
        async for key in store.client.scan_iter(match=pattern, _type="STREAM", count=1000):
            keys.add(key)
    return sorted(keys)


async def replay(store: Store, options: SubscribeOptions, emit: Emit, budget: _Budget) -> set[str]:
    """Print what the streams hold (from --since); return the alert ids printed."""
    start = since_to_stream_id(options.since) if options.since else "-"
    entries: list[tuple[str, dict[str, str]]] = []
    for key in await stream_keys(store, options):
        entries.extend(await store.guard(store.client.xrange(key, min=start)))
    entries.sort(key=lambda entry: _id_order(entry[0]))
    printed: set[str] = set()
    for _, fields in entries:
        if budget.done:
            break
        emit(fields["alert"])
        printed.add(fields["alert_id"])
        budget.spend()
    return printed


async def subscribe(store: Store, options: SubscribeOptions, emit: Emit) -> int:
    """Print alerts until the count or the time is spent; return how many were printed."""
    if options.group:
        return await consume_group(store, options, emit)
    budget = _Budget(options)
    outage = _Outage()
    printed = 0
    seen: set[str] = set()
    replayed = False

    def counted(payload: str) -> None:
        nonlocal printed
        emit(payload)
        printed += 1

    while not budget.done:
        pubsub = store.client.pubsub(ignore_subscribe_messages=True)
        try:
            if options.pattern:
                await store.guard(pubsub.psubscribe(*options.channels))
            else:
                await store.guard(pubsub.subscribe(*options.channels))
            if (options.replay or options.since) and not replayed:
                seen = await replay(store, options, counted, budget)
                replayed = True
            outage.over()
            await _listen(store, pubsub, seen, counted, budget)
        except StoreError as exc:
            await outage.wait(exc, budget)
        finally:
            await pubsub.aclose()
    return printed


async def _listen(store: Store, pubsub: Any, seen: set[str], emit: Emit, budget: _Budget) -> None:
    while not budget.done:
        message = await store.guard(
            pubsub.get_message(ignore_subscribe_messages=True, timeout=budget.wait_s())
        )
        if message is None or message.get("type") not in {"message", "pmessage"}:
            continue
        payload = message["data"]
        if seen and _alert_id(payload) in seen:
            continue
        emit(payload)
        budget.spend()


class _Outage:
    """Redis trouble said once (and its end once), waited out a second at a time."""

    def __init__(self) -> None:
        self.since: float | None = None

    async def wait(self, exc: StoreError, budget: _Budget) -> None:
        if self.since is None:
            self.since = time.monotonic()
            log.warning("%s Waiting for it.", exc)
        await asyncio.sleep(budget.wait_s(RETRY_S))

    def over(self) -> None:
        if self.since is not None:
            log.info("Redis answers again after %.0f s", time.monotonic() - self.since)
            self.since = None


def alert_as_text(payload: str) -> str:
    """A few readable lines for one alert (`subscribe --format text`)."""
    try:
        alert = json.loads(payload)
        article, matched = alert["article"], alert["matched"]
        who = ", ".join(f"{e['name']} ({e['label']})" for e in matched["entities"]) or "-"
        dateline = article.get("dateline") or {}
        where = ", ".join(v for v in (dateline.get("place"), dateline.get("agency")) if v)
        return "\n".join(
            [
                f"{alert['created_at']}  {alert['channel']}  rule {alert['rule_id']}",
                f"  {article['title']}" + (f"  [{where}]" if where else ""),
                f"  terms: {', '.join(matched['terms']) or '-'}; entities: {who}",
                f'  "{alert["snippet"]}"',
                f"  {article['url']}",
            ]
        )
    except (ValueError, KeyError, TypeError):
        return payload


def _alert_id(payload: str) -> str | None:
    try:
        data: Any = json.loads(payload)
    except ValueError:
        return None
    return data.get("alert_id") if isinstance(data, dict) else None


async def consume_group(store: Store, options: SubscribeOptions, emit: Emit) -> int:
    """At-least-once delivery: read through a consumer group, acknowledge after printing.

    Entries this consumer read but did not acknowledge (it crashed) come back first.
    """
    budget = _Budget(options)
    outage = _Outage()
    printed = _Printed()
    keys: list[str] | None = None
    cursor = "0"  # "0": this consumer's unacknowledged entries; ">": new ones
    read_up_to: dict[str, str] = {}  # stream -> the last entry id this consumer was given
    while not budget.done and keys != []:
        try:
            if keys is None:  # again after an outage: the new primary may lack a group
                keys = await _groups(store, options, read_up_to)
            batches = await _read_group(store, options, keys, cursor, budget)
            outage.over()
            if cursor == "0" and not any(entries for _, entries in batches):
                cursor = ">"
            for key, entries in batches:
                if entries:
                    read_up_to[key] = _later(read_up_to.get(key), entries[-1][0])
            await _print_and_ack(store, options.group or "", batches, emit, budget, printed)
        except StoreError as exc:
            keys, cursor = None, "0"
            await outage.wait(exc, budget)
    return printed.count


async def _groups(store: Store, options: SubscribeOptions, read_up_to: dict[str, str]) -> list[str]:
    """Create the group on each stream unless it exists. A group made again (a new primary
    that lacks it) starts where this consumer had read to, not at the stream's end ("$"),
    which would pass over the alerts published since; the first time, "$" is resolved to
    the id it stood for, so that this holds before anything was read."""
    keys = await stream_keys(store, options)
    start = since_to_stream_id(options.since) if options.since else ("0" if options.replay else "$")
    group = options.group or ""
    for key in keys:
        await store.ensure_group(key, group, read_up_to.get(key, start))
        if key not in read_up_to:
            read_up_to[key] = await _group_position(store, key, group)
    return keys


async def _group_position(store: Store, key: str, group: str) -> str:
    """The id of the last entry the group has handed out ("0-0" for none)."""
    for info in await store.guard(store.client.xinfo_groups(key)):
        if info.get("name") == group:
            return str(info.get("last-delivered-id") or "0-0")
    return "0-0"


def _later(known: str | None, entry_id: str) -> str:
    """The later of two stream ids."""
    if known is None or _id_order(entry_id) > _id_order(known):
        return entry_id
    return known


def _id_order(entry_id: str) -> tuple[int, ...]:
    return tuple(int(part) for part in entry_id.split("-"))


class _Printed:
    """The alert ids printed lately (bounded), so a redelivered one is acknowledged, not shown."""

    def __init__(self) -> None:
        self.ids: OrderedDict[str, None] = OrderedDict()
        self.count = 0

    def __contains__(self, alert_id: str) -> bool:
        return alert_id in self.ids

    def add(self, alert_id: str) -> None:
        self.ids[alert_id] = None
        self.count += 1
        if len(self.ids) > PRINTED_MEMORY:
            self.ids.popitem(last=False)


async def _read_group(
    store: Store, options: SubscribeOptions, keys: list[str], cursor: str, budget: _Budget
) -> list[tuple[str, list[tuple[str, dict[str, str]]]]]:
    block_ms = None if cursor == "0" else max(1, int(budget.wait_s() * 1000))
    batches = await store.guard(
        store.client.xreadgroup(
            options.group or "", options.consumer, dict.fromkeys(keys, cursor),
            count=min(budget.left or 100, 100), block=block_ms,
        )
    )  # fmt: skip
    return list(batches or [])


async def _print_and_ack(
    store: Store,
    group: str,
    batches: list[tuple[str, list[tuple[str, dict[str, str]]]]],
    emit: Emit,
    budget: _Budget,
    printed: _Printed,
) -> None:
    for key, entries in batches:
        for entry_id, fields in entries:
            if budget.done:
                return  # the rest stays pending and comes back on the next start
            alert_id = fields.get("alert_id", entry_id)
            if alert_id not in printed:
                emit(fields["alert"])
                printed.add(alert_id)
                budget.spend()
            await store.guard(store.client.xack(key, group, entry_id))
