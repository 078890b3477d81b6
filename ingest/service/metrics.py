"""Prometheus metrics and the health endpoint. One `Metrics` per process, passed in.

The HTTP server answers `/metrics` (Prometheus text) and `/healthz`: 200 while the scheduler
heartbeat is fresh, 503 when the loop has stalled (a liveness probe restarts the process).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, make_wsgi_app

HEALTHY_WITHIN_S = 60.0  # the heartbeat beats every second; a minute of silence is a stall

StartResponse = Callable[[str, list[tuple[str, str]]], Any]


@dataclass
class Metrics:
    registry: CollectorRegistry = field(default_factory=CollectorRegistry)
    last_beat: float = 0.0  # time.time() of the last heartbeat; 0: none yet

    def __post_init__(self) -> None:
        r = self.registry
        self.polls = Counter("wirewatch_polls", "Source polls", ["outcome"], registry=r)
        self.errors = Counter("wirewatch_poll_errors", "Poll errors", ["kind"], registry=r)
        self.not_modified = Counter(
            "wirewatch_not_modified", "Polls answered 304 / unchanged files", registry=r
        )
        self.articles = Counter("wirewatch_articles", "New articles processed", registry=r)
        self.candidates = Counter(
            "wirewatch_candidates", "Articles some rule could match after presearch", registry=r
        )
        self.ner_articles = Counter(
            "wirewatch_ner_articles", "Articles the NER model read", registry=r
        )
        self.ner_seconds = Counter(
            "wirewatch_match_seconds", "Time spent matching (presearch, NER, rules)", registry=r
        )
        self.alerts = Counter("wirewatch_alerts", "Alerts published", ["rule_id"], registry=r)
        self.story_copies = Counter(
            "wirewatch_story_copies",
            "Articles taken as a copy of a story seen before (they alert no rule the story did):"
            " how=exact (the same text) or near (a syndicated copy)",
            ["how"], registry=r,
        )  # fmt: skip
        self.pages = Counter(
            "wirewatch_pages", "Entry pages asked for (full_text), by outcome: used, shorter "
            "(no more text than the feed), http_error, timeout, not_html, too_large, refused, "
            "paused (the host asked for a pause), error",
            ["outcome"], registry=r,
        )  # fmt: skip
        self.page_extract_seconds = Histogram(
            "wirewatch_page_extract_seconds", "Main-text extraction time of one page",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
            registry=r,
        )  # fmt: skip
        self.backfill_skipped = Counter(
            "wirewatch_backfill_skipped", "Entries of a source's first poll older than "
            "WIREWATCH_BACKFILL_S: recorded as seen, never matched", registry=r,
        )  # fmt: skip
        self.outbox_depth = Gauge("wirewatch_outbox_depth", "Alerts waiting", registry=r)
        self.latency = Histogram(
            "wirewatch_fetch_to_alert_seconds",
            "From the start of a poll to the alert being published",
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120),
            registry=r,
        )
        self.stale = Gauge(
            "wirewatch_source_stale", "1 while a source fails or brings nothing new for long",
            ["source"], registry=r,
        )  # fmt: skip
        self.last_tick = Gauge("wirewatch_last_tick_timestamp", "Scheduler heartbeat", registry=r)
        self.poll_lag = Histogram(
            "wirewatch_poll_lag_seconds",
            "How overdue a source was when its poll started",
            buckets=(0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900, 3600),
            registry=r,
        )
        self.match_queue = Gauge(
            "wirewatch_match_queue_depth", "Finished polls waiting for the matching stage",
            registry=r,
        )  # fmt: skip
        self.overdue = Gauge(
            "wirewatch_sources_overdue",
            "Sources overdue by more than their interval (from the schedule in Redis: every "
            "worker reports the same)", registry=r,
        )  # fmt: skip
        self.worst_lag = Gauge(
            "wirewatch_lag_seconds",
            "How long the most overdue source has waited for its poll (from Redis)", registry=r,
        )  # fmt: skip
        self.story_features = Gauge(
            "wirewatch_story_features_kept",
            "Decoded features of candidate stories kept in memory (a bounded cache, ~20 kB "
            "each)", registry=r,
        )  # fmt: skip
        # `wirewatch notify`: labelled by destination id, never by URL (URLs hold secrets).
        self.notify_deliveries = Counter(
            "wirewatch_notify_deliveries", "Notification sends by destination and outcome",
            ["destination", "outcome"], registry=r,
        )  # fmt: skip
        self.notify_pending = Gauge(
            "wirewatch_notify_pending", "Alerts not yet delivered to a destination",
            ["destination"], registry=r,
        )  # fmt: skip
        self.notify_oldest = Gauge(
            "wirewatch_notify_oldest_pending_seconds", "Age of the oldest undelivered alert",
            ["destination"], registry=r,
        )  # fmt: skip
        self.notify_failing = Gauge(
            "wirewatch_notify_failing", "1 while a destination does not accept messages",
            ["destination"], registry=r,
        )  # fmt: skip

    def alert_published(self, rule_id: str) -> None:
        self.alerts.labels(rule_id=rule_id).inc()

    def story_copy(self, how: str) -> None:
        self.story_copies.labels(how=how).inc()

    def outbox_depth_is(self, depth: int) -> None:
        self.outbox_depth.set(depth)

    def notify_outcome(self, destination: str, outcome: str, count: int = 1) -> None:
        self.notify_deliveries.labels(destination=destination, outcome=outcome).inc(count)

    def notify_backlog(
        self, destination: str, pending: int, oldest_s: float, failing: bool
    ) -> None:
        self.notify_pending.labels(destination=destination).set(pending)
        self.notify_oldest.labels(destination=destination).set(oldest_s)
        self.notify_failing.labels(destination=destination).set(1 if failing else 0)

    def heartbeat(self) -> None:
        self.last_beat = time.time()
        self.last_tick.set(self.last_beat)

    def healthy(self) -> bool:
        return time.time() - self.last_beat < HEALTHY_WITHIN_S

    def app(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        """WSGI: /healthz, and Prometheus metrics on every other path."""
        if environ.get("PATH_INFO") == "/healthz":
            ok = self.healthy()
            start_response(
                "200 OK" if ok else "503 Service Unavailable", [("Content-Type", "text/plain")]
            )
            return [b"ok\n" if ok else b"stalled: no scheduler heartbeat\n"]
        return make_wsgi_app(self.registry)(environ, start_response)

    def serve(self, port: int, host: str = "0.0.0.0") -> WSGIServer:
        """Serve /metrics and /healthz on `port` from a daemon thread."""
        server = make_server(host, port, self.app, handler_class=_QuietHandler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass
