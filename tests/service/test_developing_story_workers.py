"""A developing story under two `wirewatch run` processes sharing one Redis: the versions of
tests/fulltext/cases/developing (a leader, then the ceasefire added, a typo fixed, the same text
under a new GUID) give exactly one alert per rule, the second one `updated`."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.fulltext.helpers import feed, item
from tests.service.conftest import PrivateRedis, Workers, worker_env
from tests.service.feedserver import FeedServer, serve
from tests.service.workload import wait_for

STORY = Path(__file__).resolve().parents[1] / "fulltext" / "cases" / "developing"
V1 = (STORY / "v1.txt").read_text(encoding="utf-8").strip()
V2 = V1 + "\n" + (STORY / "v2_added.txt").read_text(encoding="utf-8").strip()
V3 = V2.replace("envyos", "envoys")
TITLE = "Putin receives envoys in Moscow as regional talks open"
CHANNEL = "alerts:developing"
RULES = (
    "rules:\n"
    f"  - id: leader\n    channel: {CHANNEL}\n    all: [Putin]\n"
    f"  - id: ceasefire-leader\n    channel: {CHANNEL}\n    all: [ceasefire, Putin]\n"
)


def alerts(redis_server: PrivateRedis) -> list[tuple[str, bool]]:
    client = redis_server.client()
    try:
        entries = client.xrange(CHANNEL)
    finally:
        client.close()
    found = [json.loads(fields["alert"]) for _, fields in entries]
    return [(a["rule_id"], a["article"]["updated"]) for a in found]


def publish(server: FeedServer, body: bytes, workers: Workers) -> None:
    """Serve a new version and wait until two more polls have read it (so the first of them
    has been matched: a source is not polled again before its articles are)."""
    server.pages["/wire.xml"] = body
    seen = server.hits("/wire.xml")
    wait_for(lambda: server.hits("/wire.xml") >= seen + 2, 60, "two polls", workers)


@pytest.mark.timeout(240)
def test_two_workers_alert_each_rule_once_for_a_developing_story(
    tmp_path: Path, private_redis: PrivateRedis, workers: Workers
) -> None:
    with serve() as server:
        link = f"{server.base_url}/world/putin-envoys"
        server.pages["/wire.xml"] = feed(item("wire-2291", TITLE, V1, link))
        workers.env = worker_env(tmp_path, private_redis.url, [server.base_url + "/wire.xml"],
                                 CHANNEL)  # fmt: skip
        (tmp_path / "rules" / "watch.yaml").write_text(RULES, encoding="utf-8")
        workers.start()
        workers.start()
        wait_for(lambda: alerts(private_redis) == [("leader", False)], 90, "version 1", workers)
        publish(server, feed(item("wire-2291", TITLE, V2, link)), workers)
        wait_for(lambda: len(alerts(private_redis)) >= 2, 30, "version 2", workers)
        publish(server, feed(item("wire-2291", TITLE, V3, link)), workers)
        publish(server, feed(item("wire-2291", TITLE, V3, link),
                             item("wire-2307", TITLE, V3, link + "-2")), workers)  # fmt: skip
        time.sleep(1.0)  # anything late would show now
        workers.stop_all()
    assert alerts(private_redis) == [("leader", False), ("ceasefire-leader", True)]
    assert server.hits("/world/putin-envoys") == 0  # whole stories: no page fetched
