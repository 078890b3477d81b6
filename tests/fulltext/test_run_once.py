"""`wirewatch run --once` on a summary-only feed, as a process: the page's text alerts, and the
process (with its extraction processes) exits at once, with nothing left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis

from tests.conftest import ROOT, TEST_REDIS_URL
from tests.fetch.server import Reply, serve
from tests.fulltext.helpers import HTML, feed, item, write_rules

pytestmark = [pytest.mark.usefixtures("real_redis_cleanup"), pytest.mark.timeout(120)]

PAGES = Path(__file__).resolve().parent / "pages"


def test_run_once_alerts_from_the_page_and_exits(tmp_path: Path, key_prefix: str) -> None:
    rules = write_rules(tmp_path / "rules", {"harvest": ["grain harvest"], "nav": ["volcano"]})
    with serve() as server:
        server.routes["/strike"] = Reply(200, (PAGES / "harbour_strike.html").read_bytes(), HTML)
        server.routes["/feed.xml"] = Reply(200, feed(item(
            "h-1", "Dockworkers walk out", "Dockworkers walked out.", server.url("/strike")
        )), {"Content-Type": "application/rss+xml"})  # fmt: skip
        feeds = tmp_path / "feeds.yaml"
        feeds.write_text(f"feeds:\n  - url: {server.url('/feed.xml')}\n", encoding="utf-8")
        env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
        env.update(
            WIREWATCH_REDIS_URL=TEST_REDIS_URL, WIREWATCH_KEY_PREFIX=key_prefix,
            WIREWATCH_FEEDS_FILE=str(feeds), WIREWATCH_RULES_DIR=str(rules),
            WIREWATCH_OUTBOX_DIR=str(tmp_path / "outbox"), WIREWATCH_ALLOW_PRIVATE_NETWORKS="true",
            WIREWATCH_LOG_FORMAT="text",
        )  # fmt: skip
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "ingest", "run", "--once"],
            env=env, cwd=ROOT, capture_output=True, text=True, timeout=90,
        )  # fmt: skip
        took_s = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    client = redis.Redis.from_url(TEST_REDIS_URL, decode_responses=True)
    try:
        stream = f"{key_prefix}alerts:harvest"
        harvest = [json.loads(f["alert"]) for _, f in client.xrange(stream)]
        nav = client.xlen(f"{key_prefix}alerts:nav")
    finally:
        client.close()
    assert [a["article"]["text_from"] for a in harvest] == ["page"] and nav == 0
    assert took_s < 60
