"""Delivery to one destination: read its channels' streams through its consumer group, send, mark,
acknowledge; back off while it is down; take over what a dead notifier left.

Per alert: `begin` marks it as being sent by this process (or finds it delivered, or being sent
by another), the message goes out, and only once the destination accepted it is it marked done
and acknowledged. The one window for a second copy is a crash between the destination's answer
and the mark. Within a run the alert ids sent lately are also kept in memory, so a failover
that loses a mark (written on a primary that died before its replica had it), or an alert that
the outbox publishes anew because the failover lost its stream entry, is not sent again: it is
marked and acknowledged. A digest destination is served by one notifier at a time (a lease): it
sends what is pending every `digest_s` seconds, in messages of at most
`notify_digest_max_alerts` lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Callable

from ingest.delivery.notifystate import Entry, NotifyState, stream_keys_matching
from ingest.delivery.store import Store
from ingest.errors import StoreError
from ingest.notify.config import Destination
from ingest.notify.health import Health
from ingest.notify.messages import Message, alert_message, digest_message, digest_that_fits
from ingest.notify.sender import Outcome, send
from ingest.service.metrics import Metrics
from ingest.settings import Settings

log = logging.getLogger("ingest.notify")

BATCH = 20
BLOCK_MS = 1000
REPORT_EVERY_S = 5.0
IDLE_WAIT_S = 1.0
SENT_MEMORY = 100_000  # alert ids a runner remembers having sent


class _Sent:
    """The alert ids sent lately (bounded, oldest forgotten first)."""

    def __init__(self) -> None:
        self.ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, alert_id: str) -> bool:
        return alert_id in self.ids

    def add(self, alert_id: str) -> None:
        self.ids[alert_id] = None
        if len(self.ids) > SENT_MEMORY:
            self.ids.popitem(last=False)


class Runner:
    def __init__(self, destination: Destination, store: Store, settings: Settings,
                 metrics: Metrics, redact: Callable[[str], str], consumer: str,
                 owner: str) -> None:  # fmt: skip
        self.dest = destination
        self.store = store
        self.settings = settings
        self.metrics = metrics
        self.redact = redact
        self.owner = owner
        self.state = NotifyState(store, destination.id, consumer, owner)
        self.health = Health(destination.id, redact(destination.shown), settings.stale_after_s)
        self.stop = asyncio.Event()
        self.streams: list[str] = []
        self._start_id = "0-0"
        self._next_scan = self._next_claim = self._next_report = 0.0
        self._holds_digest = False
        self.prepared = False
        self.sent = _Sent()

    async def run(self) -> None:
        """Deliver until `stop` is set; a Redis outage is waited out."""
        try:
            while not self.stop.is_set():
                try:
                    if not self.prepared:
                        await self.prepare()
                    await self._step()
                except StoreError as exc:
                    # Redis away, or a stream deleted under its group: wait, then make sure
                    # every group exists again.
                    log.warning("destination %s: %s", self.dest.id, exc)
                    self.prepared = False
                    await self._wait(2.0)
                except Exception:  # a bug must not silence a destination for good
                    log.exception("destination %s: delivery failed; retrying", self.dest.id)
                    await self._wait(5.0)
        finally:
            if self._holds_digest:
                with contextlib.suppress(StoreError):
                    await self.state.release_digest_lease()

    async def prepare(self) -> None:
        """Create the destination's groups, so alerts published from now on are waiting."""
        self._start_id = await self.state.start_id(self.settings.notify_backlog_s)
        self.streams = []  # ensure every group, not only those of new streams
        await self._refresh_streams()
        self._next_scan = time.time() + self.settings.notify_scan_interval_s
        self.prepared = True

    async def _step(self) -> None:
        now = time.time()
        if now >= self._next_scan:
            await self._refresh_streams()
            self._next_scan = now + self.settings.notify_scan_interval_s
        if now >= self._next_report:
            await self._report(now)
            self._next_report = now + REPORT_EVERY_S
        if self.dest.digest_s > 0:
            await self._digest_step()
        else:
            await self._instant_step()

    async def _refresh_streams(self) -> None:
        streams = set(self.dest.names)
        for pattern in self.dest.patterns:
            streams |= await stream_keys_matching(self.store, pattern)
        new = sorted(streams - set(self.streams))
        await self.state.ensure_groups(new, self._start_id)
        self.streams = sorted(streams)

    async def _report(self, now: float) -> None:
        pending, oldest = await self.state.backlog(self.streams)
        self.health.pending = pending
        self.health.oldest_pending_s = max(0.0, now - oldest) if oldest is not None else 0.0
        self.metrics.notify_backlog(self.dest.id, pending, self.health.oldest_pending_s,
                                    self.health.failing)  # fmt: skip
        await self.state.write_status(self.health.as_json(now))

    async def _wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.stop.wait(), max(0.0, seconds))

    # -- one message per alert -------------------------------------------------------------

    async def _instant_step(self) -> None:
        # Own unacknowledged entries first (also from a past run under the same consumer name),
        # then what a dead notifier left, then new ones. Entries another notifier is sending
        # right now do not hold up the rest.
        own = await self.state.own_pending(self.streams, BATCH)
        if own and await self._deliver_each(own):
            return
        if time.time() >= self._next_claim:
            idle_ms = int(self.settings.notify_claim_idle_s * 1000)
            claimed = await self.state.claim_idle(self.streams, idle_ms, BATCH)
            self._next_claim = time.time() + self.settings.notify_claim_idle_s / 4
            if claimed and await self._deliver_each(claimed):
                return
        if not self.streams:
            return await self._wait(IDLE_WAIT_S)
        new = await self.state.new_entries(self.streams, BATCH, BLOCK_MS)
        if new:
            await self._deliver_each(new)
        elif own:
            await self._wait(IDLE_WAIT_S)  # only entries another notifier is sending: let it

    async def _deliver_each(self, entries: list[Entry]) -> bool:
        """Deliver in order until one fails (then back off); True if any entry was settled."""
        progress = False
        for entry in entries:
            if self.stop.is_set():
                break  # drain: the rest stays pending and comes back first on the next start
            alert = await self._readable(entry)
            if alert is None:
                progress = True
                continue
            if entry.alert_id in self.sent:
                await self._sent_before([entry])
                progress = True
                continue
            verdict = (await self.state.begin([entry], self._lock_ms))[0]
            if verdict == "busy":
                continue
            progress = True
            if verdict == "done":
                await self.state.ack([entry])
                self.metrics.notify_outcome(self.dest.id, "already_delivered")
                continue
            message = alert_message(alert, self.dest.service.body_format)
            if not await self._send(message, [entry]):
                break
        return progress

    async def _sent_before(self, entries: list[Entry]) -> None:
        """Alerts this runner sent already, met again after a failover: marked, acknowledged."""
        await self.state.delivered(entries, self.settings.notify_mark_ttl_s)
        self.metrics.notify_outcome(self.dest.id, "already_delivered", len(entries))

    @property
    def _lock_ms(self) -> int:
        return int(self.settings.notify_lock_ttl_s * 1000)

    async def _readable(self, entry: Entry) -> dict[str, object] | None:
        """The alert of an entry; None (and acknowledged) when it was trimmed or is not JSON."""
        try:
            alert = json.loads(entry.payload) if entry.payload is not None else None
        except ValueError:
            alert = None
        if isinstance(alert, dict):
            return alert
        log.error("destination %s: %s entry %s is %s; skipped", self.dest.id, entry.stream,
                  entry.entry_id, "gone (stream trimmed)" if entry.payload is None
                  else "not an alert")  # fmt: skip
        await self.state.ack([entry])
        self.metrics.notify_outcome(self.dest.id, "unreadable")
        return None

    async def _send(self, message: Message, entries: list[Entry]) -> bool:
        """Send; on success mark and acknowledge, on failure release and back off."""
        outcome: Outcome = await asyncio.to_thread(
            send, self.dest.service, message.title, message.body,
            self.settings.notify_send_timeout_s,
        )  # fmt: skip
        now = time.time()
        if outcome.ok:
            for entry in entries:  # before the mark, which a failover may lose
                self.sent.add(entry.alert_id)
            await self.state.delivered(entries, self.settings.notify_mark_ttl_s)
            self.metrics.notify_outcome(self.dest.id, "ok", len(entries))
            was_failing = self.health.failing
            self.health.succeeded(now)
            if was_failing:  # the status others read says so at once, not in a few seconds
                await self._report(now)
            return True
        await self.state.release(entries)
        self.metrics.notify_outcome(self.dest.id, "failed", len(entries))
        delay_s = self.health.failed(self.redact(outcome.error), now,
                                     self.settings.notify_backoff_min_s,
                                     self.settings.notify_backoff_max_s)  # fmt: skip
        await self._report(now)
        await self._wait(delay_s)
        return False

    # -- digests ----------------------------------------------------------------------------

    async def _digest_step(self) -> None:
        if not await self._hold_digest_lease():
            return await self._wait(IDLE_WAIT_S)
        due_s = await self.state.digest_due_ms(self.dest.digest_s) / 1000
        if time.time() < due_s:
            return await self._wait(min(IDLE_WAIT_S, due_s - time.time()))
        while not self.stop.is_set():
            entries = await self._digest_entries()
            if not entries:
                await self.state.digest_sent(self.dest.digest_s)
                return
            if not await self._send_digest(entries):
                return

    async def _hold_digest_lease(self) -> bool:
        # A dead holder's lease runs out after the claim idle time; then another notifier takes
        # over the digest, with every entry the dead one had read.
        ttl_ms = int(self.settings.notify_claim_idle_s * 1000)
        self._holds_digest = await self.state.hold_digest_lease(self._holds_digest, ttl_ms)
        return self._holds_digest

    async def _digest_entries(self) -> list[Entry]:
        """Up to one message's worth: own pending first, then anyone's, then new entries."""
        room = self.settings.notify_digest_max_alerts
        entries = await self.state.own_pending(self.streams, room)
        if len(entries) < room:  # the lease holder owns the whole group: claim without waiting
            entries += await self.state.claim_idle(self.streams, 0, room - len(entries))
        if len(entries) < room:
            entries += await self.state.new_entries(self.streams, room - len(entries), None)
        unique = {(e.stream, e.entry_id): e for e in entries}
        return sorted(unique.values(), key=lambda e: e.order)[:room]

    async def _send_digest(self, entries: list[Entry]) -> bool:
        readable = [(e, a) for e in entries if (a := await self._readable(e)) is not None]
        again = [e for e, _ in readable if e.alert_id in self.sent]
        if again:
            await self._sent_before(again)
            readable = [(e, a) for e, a in readable if e.alert_id not in self.sent]
            if not readable:
                return True
        # As many as one message to this service can hold: the rest stay pending (this
        # notifier's own) and go in the next message of this digest.
        fmt, limit = self.dest.service.body_format, self.dest.service.limit
        readable = readable[: max(1, digest_that_fits([a for _, a in readable], fmt, limit))]
        verdicts = await self.state.begin([e for e, _ in readable], self._lock_ms)
        done = [e for (e, _), v in zip(readable, verdicts, strict=True) if v == "done"]
        await self.state.ack(done)
        chosen = [(e, a) for (e, a), v in zip(readable, verdicts, strict=True) if v == "go"]
        if not chosen:
            if any(v == "busy" for v in verdicts):  # another notifier is sending them: wait
                await self._wait(IDLE_WAIT_S)
                return False
            return True
        message = digest_message([a for _, a in chosen], self.dest.service.body_format)
        return await self._send(message, [e for e, _ in chosen])
