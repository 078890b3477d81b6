"""The metrics and health endpoint over real HTTP."""

from __future__ import annotations

import time
import urllib.error
import urllib.request

import pytest

from ingest.service.metrics import HEALTHY_WITHIN_S, Metrics
from tests.service.conftest import free_port

pytestmark = pytest.mark.timeout(20)


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def test_health_follows_the_heartbeat_and_metrics_are_served() -> None:
    metrics = Metrics()
    port = free_port()
    server = metrics.serve(port, host="127.0.0.1")
    base = f"http://127.0.0.1:{port}"
    try:
        assert get(f"{base}/healthz")[0] == 503  # no heartbeat yet
        metrics.heartbeat()
        assert get(f"{base}/healthz") == (200, "ok\n")
        metrics.last_beat = time.time() - HEALTHY_WITHIN_S - 1
        assert get(f"{base}/healthz")[0] == 503
        metrics.polls.labels(outcome="ok").inc()
        metrics.alerts.labels(rule_id="r1").inc(3)
        status, text = get(f"{base}/metrics")
        assert status == 200
        assert 'wirewatch_polls_total{outcome="ok"} 1.0' in text
        assert 'wirewatch_alerts_total{rule_id="r1"} 3.0' in text
    finally:
        server.shutdown()
        server.server_close()
