"""What the running service tells its operator about itself: one line when something starts
going wrong and one when it is over, never one per alert or per poll.

- Redis: one warning when it stops answering (with the alerts the outbox holds), one info line
  when it answers again (how long it was away, measured), one when the outbox is delivered.
- Lag: one warning when sources fall behind their schedule by more than an interval, one info
  line when every source is back within a quarter of its interval. Lag is read from the
  schedule in Redis (every source's next poll, when it was first listed, whose poll is running),
  not from what this worker polled itself: every worker says the same, a new one included.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from ingest.delivery.store import RedisHealth, Store, describe_url
from ingest.fetch.feedstate import FeedStateStore
from ingest.fetch.schedule import SourceState
from ingest.models import Source
from ingest.service.dispatch import BEHIND_RATIO, CAUGHT_UP_RATIO, measure_lag
from ingest.service.metrics import Metrics
from ingest.settings import Settings

log = logging.getLogger("ingest.service")
NEVER_POLLED = SourceState()


class Reporter:
    def __init__(self, settings: Settings, metrics: Metrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics
        self.redis_away = False  # the outage was reported and its end not yet
        self.redis_delivered: int | None = None  # from the outbox since Redis came back
        self.behind = False

    def redis(self, health: RedisHealth, outbox_depth: int, delivered: int = 0) -> None:
        """Call after each health probe and each outbox delivery: says once when Redis stops
        answering, once when it answers again (with the outage's length as measured), and
        once when the outbox kept meanwhile has all reached Redis."""
        where = describe_url(self.settings.redis_url)
        if not health.up and not self.redis_away:
            self.redis_away, self.redis_delivered = True, None
            log.warning(
                "Redis at %s is not answering (%s). Polling goes on; alerts are kept in the "
                "outbox (%d there now) and delivered when it is back.",
                where,
                health.error,
                outbox_depth,
            )
        elif health.up and self.redis_away:
            self.redis_away, self.redis_delivered = False, 0
            log.info(
                "Redis at %s is back after %.1f s (from the first call that failed to the "
                "first answer); the outbox holds %d alerts",
                where,
                health.last_outage_s or 0.0,
                outbox_depth,
            )
        if self.redis_delivered is not None and health.up:
            self.redis_delivered += delivered
            if outbox_depth == 0:
                if self.redis_delivered:
                    log.info(
                        "%d alerts kept in the outbox while Redis was away are delivered",
                        self.redis_delivered,
                    )
                self.redis_delivered = None

    def lag(self, sources: Iterable[Source], shared: SharedSchedule, now: datetime) -> None:
        """Call every few seconds with the schedule as Redis holds it (so every worker judges
        the same lag): says once when the service falls behind, once when it has caught up."""
        listed = list(sources)
        lag = measure_lag(
            listed, lambda s: shared.states.get(s.key, NEVER_POLLED), now, self.settings,
            now, shared.listed_at, shared.polling,
        )  # fmt: skip
        if self.metrics is not None:
            self.metrics.overdue.set(lag.overdue)
            self.metrics.worst_lag.set(max(0.0, lag.worst_s))
        if not self.behind and lag.worst_ratio > BEHIND_RATIO:
            self.behind = True
            log.warning(
                "falling behind: %d of %d sources are overdue by more than their interval "
                "(the most by %.0f s); every source still gets its turn, most overdue first",
                lag.overdue,
                len(listed),
                lag.worst_s,
            )
        elif self.behind and lag.worst_ratio < CAUGHT_UP_RATIO:
            self.behind = False
            log.info("caught up: every source is polled on time again")


@dataclass(frozen=True, slots=True)
class SharedSchedule:
    """Every source's schedule as Redis holds it: what each worker judges lag from."""

    states: Mapping[str, SourceState]
    listed_at: Mapping[str, float]  # when each source was first listed (unix s)
    polling: frozenset[str]  # sources some worker is polling now (a lease is held)


async def read_schedule(store: Store, sources: Sequence[Source]) -> SharedSchedule:
    """Three reads, whatever the number of sources; StoreError when Redis does not answer."""
    keys = [s.key for s in sources]
    feed_states = FeedStateStore(store.client, store.prefix)
    states = await store.guard(feed_states.get_many(keys))
    listed_at = await store.guard(feed_states.listed_at(keys))
    return SharedSchedule(states, listed_at, frozenset(await store.leased(keys)))
