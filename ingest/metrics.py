"""Prometheus metrics and the health endpoint. One `Metrics` per process, passed in."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)

    def __post_init__(self) -> None:
        r = self.registry
        self.polls = Counter("wirewatch_polls", "Source polls", ["outcome"], registry=r)
        self.errors = Counter("wirewatch_poll_errors", "Poll errors", ["kind"], registry=r)
        self.articles = Counter("wirewatch_articles", "New articles processed", registry=r)
        self.candidates = Counter(
            "wirewatch_candidates", "Articles some rule could match after presearch", registry=r
        )
        self.ner_seconds = Counter("wirewatch_ner_seconds", "Time spent matching", registry=r)
        self.alerts = Counter("wirewatch_alerts", "Alerts published", ["rule_id"], registry=r)
        self.outbox_depth = Gauge("wirewatch_outbox_depth", "Alerts waiting", registry=r)
        self.latency = Histogram(
            "wirewatch_fetch_to_alert_seconds",
            "From the start of a poll to the alert being published",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
            registry=r,
        )
        self.last_tick = Gauge("wirewatch_last_tick_timestamp", "Scheduler heartbeat", registry=r)
        self.redis_up = Gauge("wirewatch_redis_up", "1 when the last Redis call worked", registry=r)

    def heartbeat(self) -> None:
        self.last_tick.set(time.time())

    def serve(self, port: int) -> None:
        """Expose /metrics (and everything else) on `port`; the scrape doubles as a health check."""
        start_http_server(port, registry=self.registry)
