"""The whole path on real components: a local HTTP feed, the real Redis, the `wirewatch` CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
import redis

from tests.conftest import ROOT, TEST_REDIS_URL
from tests.service.feedserver import rss, serve, story_item

SEED = ROOT / "seeds" / "000_820d276074f311ca.txt"
WIREWATCH = [sys.executable, "-m", "ingest"]


def cli_env(tmp_path: Path, key_prefix: str, feeds_url: str) -> dict[str, str]:
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(f"feeds:\n  - url: {feeds_url}\n    name: Local wire\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
    env.update(
        WIREWATCH_REDIS_URL=TEST_REDIS_URL,
        WIREWATCH_KEY_PREFIX=key_prefix,
        WIREWATCH_FEEDS_FILE=str(feeds),
        WIREWATCH_RULES_DIR=str(ROOT / "rules"),
        WIREWATCH_ALLOW_PRIVATE_NETWORKS="true",
        WIREWATCH_BACKFILL_S="0",  # the test feeds carry 2025 dates
        WIREWATCH_OUTBOX_DIR=str(tmp_path / "outbox"),
        WIREWATCH_LOG_FORMAT="text",
    )
    return env


def wait_for_subscriber(channel: str, timeout_s: float = 15.0) -> None:
    client = redis.Redis.from_url(TEST_REDIS_URL)
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            counts = dict(client.pubsub_numsub(channel))
            if counts.get(channel.encode(), 0) > 0:
                return
            time.sleep(0.05)
    finally:
        client.close()
    raise AssertionError(f"no subscriber on {channel} after {timeout_s} s")


@pytest.mark.timeout(150)
@pytest.mark.usefixtures("real_redis_cleanup")
def test_seed_story_over_http_alerts_once(tmp_path: Path, key_prefix: str) -> None:
    marker = uuid.uuid4().hex[:8]
    link = f"https://wire.example/world/{marker}/trump-putin-call?utm_source=rss&utm_medium=feed"
    item = story_item(
        SEED, link, f"seed-{marker}", "Trump to speak with Putin", "2025-03-17T09:30:00+00:00"
    )
    with serve() as server:
        server.pages["/world.xml"] = rss([item])
        env = cli_env(tmp_path, key_prefix, f"{server.base_url}/world.xml")
        subscriber = subprocess.Popen(
            [*WIREWATCH, "subscribe", "alerts:ceasefire", "--timeout", "60"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for_subscriber("alerts:ceasefire")
            for _ in range(2):
                done = subprocess.run(
                    [*WIREWATCH, "run", "--once"],
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                assert done.returncode == 0, done.stderr
            time.sleep(1.0)
        finally:
            subscriber.terminate()
            out, _ = subscriber.communicate(timeout=10)
        assert server.hits("/world.xml") == 2
    alerts = [json.loads(line) for line in out.splitlines() if line.strip()]
    ours = [a for a in alerts if marker in a["article"]["url"]]
    assert len(ours) == 1, out
    alert = ours[0]
    assert alert["schema"] == 1
    assert alert["rule_id"] == "ceasefire-leader"
    assert alert["channel"] == "alerts:ceasefire"
    assert alert["article"]["dateline"] == {
        "place": "WASHINGTON",
        "date": "March 17",
        "agency": "Alliance News",
    }
    assert alert["article"]["url"] == f"https://wire.example/world/{marker}/trump-putin-call"
    assert alert["matched"]["terms"] == ["ceasefire"]
    names = {e["name"] for e in alert["matched"]["entities"]}
    assert {"Donald Trump", "Vladimir Putin"} <= names
    assert all(e["label"] == "PERSON" for e in alert["matched"]["entities"])
    assert "ceasefire" in alert["snippet"].lower()
    assert alert["article"]["published"] == "2025-03-17T09:30:00Z"
