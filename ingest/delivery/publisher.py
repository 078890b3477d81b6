"""Publishing alerts: straight to Redis, or into the on-disk outbox while Redis is away.

Delivery is idempotent (the (rule, story) claim in Redis), so an outbox retry never doubles an
alert that did reach Redis before the process lost track of it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Literal, Protocol

from ingest.delivery.outbox import Outbox
from ingest.delivery.store import Store
from ingest.errors import StoreError
from ingest.models import Alert

log = logging.getLogger(__name__)

Delivery = Literal["published", "repeat", "queued", "dropped"]  # dropped: the outbox was full


class PublishCounters(Protocol):
    """What the publisher reports; the service's metrics implement it."""

    def alert_published(self, rule_id: str) -> None: ...

    def outbox_depth_is(self, depth: int) -> None: ...


class Publisher:
    def __init__(self, store: Store, outbox: Outbox, metrics: PublishCounters) -> None:
        self.store = store
        self.outbox = outbox
        self.metrics = metrics

    async def publish(self, alert: Alert, story_id: str) -> Delivery:
        """Publish now, or keep in the outbox."""
        return (await self.publish_many([(alert, story_id)]))[0]

    async def publish_many(self, alerts: Sequence[tuple[Alert, str]]) -> list[Delivery]:
        """Publish (alert, story id) pairs in one round trip, or keep them all in the outbox:
        at once while the health probe finds Redis not answering (no wait for a timeout)."""
        if self.store.health.probe_failing:
            return self._keep(alerts, "the health probe gets no answer")
        try:
            stream_ids = await self.store.publish_many(alerts)
        except StoreError as exc:
            return self._keep(alerts, str(exc))
        return [self._published(a, s) for (a, _), s in zip(alerts, stream_ids, strict=True)]

    def _keep(self, alerts: Sequence[tuple[Alert, str]], why: str) -> list[Delivery]:
        # The outage is reported once by the service, not once per alert.
        log.debug("Redis away (%s): %d alerts kept in the outbox", why, len(alerts))
        kept = [self.outbox.put(a.alert_id, story, a.dumps()) for a, story in alerts]
        self.metrics.outbox_depth_is(self.outbox.depth())
        return ["queued" if ok else "dropped" for ok in kept]

    def _published(self, alert: Alert, stream_id: str | None) -> Delivery:
        if not stream_id:
            return "repeat"
        self.metrics.alert_published(alert.match.rule_id)
        match = alert.match
        log.info("alert %s: %s on %r", match.rule_id, match.channel, alert.article.title)
        return "published"

    async def deliver_outbox(self, stop: Callable[[], bool] = lambda: False) -> int:
        """Publish what the outbox holds, oldest first; stop at the first Redis failure, when
        the health probe finds Redis not answering (it starts again once Redis answers), or
        when `stop()` says so (the rest stays for later: delivery is idempotent)."""
        delivered = 0
        for item in self.outbox.pending():
            if stop() or self.store.health.probe_failing:
                break
            data = json.loads(item.alert_json)
            try:
                await self.store.publish_payload(
                    data["rule_id"], data["channel"], data["alert_id"], item.story_id,
                    item.alert_json,
                )  # fmt: skip
            except StoreError:
                break
            self.outbox.done(item)
            delivered += 1
        if delivered:
            log.debug("delivered %d alerts from the outbox", delivered)
        self.metrics.outbox_depth_is(self.outbox.depth())
        return delivered
