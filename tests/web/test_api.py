"""The JSON API over real HTTP: alerts by position and time, rules with their counts and
errors, feeds with their polls, /try, the body cap, and the token."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from ingest.fetch.feedstate import FeedStateStore
from ingest.fetch.schedule import SourceState
from ingest.settings import Settings
from tests.service.conftest import free_port
from tests.web.conftest import Publisher, WebServer, web_env

pytestmark = [pytest.mark.usefixtures("real_redis_cleanup"), pytest.mark.timeout(90)]

RULES = """rules:
  - id: truce
    channel: {channel}
    all: [ceasefire]
  - id: rates
    channel: {channel}
    all: [rate]
    any: [cut, hike]
"""


def test_alerts_oldest_first_from_a_position_or_a_time(
    start_web, publisher: Publisher, key_prefix: str
) -> None:
    a, b = f"{key_prefix}alerts:a", f"{key_prefix}alerts:b"
    ids = [publisher.alert(a, 0), publisher.alert(b, 1), publisher.alert(a, 2)]
    server = start_web()
    every = httpx.get(f"{server.url}/api/alerts", params={"channel": [a, b]}).json()["alerts"]
    assert [x["id"] for x in every] == ids
    assert [x["channel"] for x in every] == [a, b, a]
    assert every[1]["alert"]["article"]["title"] == "Story 1"
    after = httpx.get(f"{server.url}/api/alerts", params={"channel": [a, b], "since": ids[0]})
    assert [x["id"] for x in after.json()["alerts"]] == ids[1:]
    newest = httpx.get(f"{server.url}/api/alerts", params={"channel": [a, b], "limit": 2})
    assert [x["id"] for x in newest.json()["alerts"]] == ids[1:]
    first_ms = int(ids[0].split("-")[0])
    for since in (str(first_ms / 1000), datetime.fromtimestamp(first_ms / 1000, UTC).isoformat()):
        timed = httpx.get(f"{server.url}/api/alerts", params={"channel": a, "since": since})
        assert [x["id"] for x in timed.json()["alerts"]] == [ids[0], ids[2]], since
    for bad in ({"since": "yesterday-ish"}, {"limit": "0"}, {"limit": "many"}):
        answer = httpx.get(f"{server.url}/api/alerts", params={"channel": a, **bad})
        assert answer.status_code == 400 and answer.json()["error"], bad


def test_rules_with_counts_last_alert_and_errors(
    start_web, publisher: Publisher, key_prefix: str, console_files: tuple[Path, Path]
) -> None:
    rules_dir, _ = console_files
    channel = f"{key_prefix}alerts:rules"
    (rules_dir / "watch.yaml").write_text(RULES.format(channel=channel), encoding="utf-8")
    (rules_dir / "broken.yaml").write_text("rules:\n  - id: x\n    channel: c\n    all: []\n")
    server = start_web()
    for n in range(3):
        publisher.alert(channel, n, rule_id="truce")
    answer = httpx.get(f"{server.url}/api/rules").json()
    by_id = {r["id"]: r for r in answer["rules"]}
    assert set(by_id) == {"truce", "rates"}
    assert by_id["truce"]["alerts_24h"] == 3
    assert (
        by_id["truce"]["alerts_per_hour"][-1] == 3 and len(by_id["truce"]["alerts_per_hour"]) == 24
    )
    assert by_id["rates"]["alerts_24h"] == 0 and by_id["rates"]["last_alert_at"] is None
    last = datetime.fromisoformat(by_id["truce"]["last_alert_at"].replace("Z", "+00:00"))
    assert abs(last - datetime.now(UTC)) < timedelta(minutes=5)
    assert by_id["truce"]["file"] == str(rules_dir / "watch.yaml") and by_id["truce"]["line"] == 2
    assert answer["errors"] and all(
        e.startswith(f"{rules_dir / 'broken.yaml'}:") for e in answer["errors"]
    )


def test_feeds_with_state_and_recent_polls(
    start_web, make_settings, console_files: tuple[Path, Path], tmp_path: Path
) -> None:
    _, feeds = console_files
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    feeds.write_text(
        f"feeds:\n  - url: {inbox}\n    name: Inbox\n    group: Desk\n  - url: 42\n",
        encoding="utf-8",
    )
    settings: Settings = make_settings()
    now = datetime.now(UTC).replace(microsecond=0)
    polls = ((int(now.timestamp()) - 60, "ok"), (int(now.timestamp()), "error"))
    state = SourceState(last_success_at=now, items_seen=7, last_error="HttpStatusError: 500",
                        last_error_at=now, recent_polls=polls)  # fmt: skip
    asyncio.run(_put_state(settings, str(inbox), state))
    server = start_web()
    answer = httpx.get(f"{server.url}/api/feeds").json()
    (feed,) = answer["feeds"]
    assert feed["name"] == "Inbox" and feed["kind"] == "spool" and feed["items_seen"] == 7
    assert feed["group"] == "Desk"
    assert feed["last_error"] == "HttpStatusError: 500"
    assert [p["outcome"] for p in feed["recent_polls"]] == ["ok", "error"]
    assert len(answer["errors"]) == 1 and ":5:" in answer["errors"][0]
    page = httpx.get(f"{server.url}/feeds").text
    assert "<th>Group</th>" in page and "<td>Desk</td>" in page


def test_feeds_show_pages_for_full_text_and_entries_skipped_as_old(
    start_web, make_settings, console_files: tuple[Path, Path]
) -> None:
    _, feeds = console_files
    url = "http://127.0.0.1:9/summaries.xml"  # never polled here: only its counters are shown
    feeds.write_text(
        f"feeds:\n  - url: {url}\n    name: Summaries\n  - url: http://127.0.0.1:9/b.xml\n"
        "    name: Whole\n    full_text: never\n",
        encoding="utf-8",
    )
    settings: Settings = make_settings()
    asyncio.run(_add_counts(settings, url, pages_fetched=12, pages_failed=1, backfill_skipped=40))
    server = start_web()
    summaries, whole = httpx.get(f"{server.url}/api/feeds").json()["feeds"]
    assert (summaries["pages_fetched"], summaries["pages_failed"]) == (12, 1)
    assert summaries["backfill_skipped"] == 40
    assert (whole["pages_fetched"], whole["pages_failed"], whole["backfill_skipped"]) == (0, 0, 0)
    page = httpx.get(f"{server.url}/feeds").text
    assert "<th>Pages</th>" in page and '<th class="num">Old skipped</th>' in page
    rows = {n: row for row in page.split("<tr")[1:] for n in ("Summaries", "Whole") if n in row}
    assert "<td>12 ok, 1 failed</td>" in rows["Summaries"]
    assert '<td class="num">40</td>' in rows["Summaries"]
    assert "ok," not in rows["Whole"]  # full_text: never fetches no page


async def _add_counts(settings: Settings, key: str, **counts: int) -> None:
    from ingest.delivery.store import Store

    store = Store.from_settings(settings)
    try:
        await FeedStateStore(store.client, settings.key_prefix).add_counts(key, **counts)
    finally:
        await store.close()


async def _put_state(settings: Settings, key: str, state: SourceState) -> None:
    from ingest.delivery.store import Store

    store = Store.from_settings(settings)
    try:
        await FeedStateStore(store.client, settings.key_prefix).put(key, state)
    finally:
        await store.close()


def test_try_matches_and_explains_a_near_miss(
    start_web, key_prefix: str, console_files: tuple[Path, Path]
) -> None:
    rules_dir, _ = console_files
    channel = f"{key_prefix}alerts:try"
    (rules_dir / "watch.yaml").write_text(RULES.format(channel=channel), encoding="utf-8")
    server = start_web()
    body = {
        "title": "Talks resume",
        "text": "KYIV, March 18 (Reuters) - A ceasefire held.",
        "rule": "rates",
    }
    answer = httpx.post(f"{server.url}/api/try", json=body, timeout=30).json()
    assert [m["rule_id"] for m in answer["matches"]] == ["truce"]
    assert answer["matches"][0]["matched"]["terms"] == ["ceasefire"]
    assert answer["matches"][0]["channel"] == channel
    assert answer["article"]["dateline"]["place"] == "KYIV"
    assert answer["near_miss"]["rule_id"] == "rates"
    assert "term 'rate' not found" in answer["near_miss"]["missing"]
    for bad in ({"title": 3}, [1, 2], {"title": " ", "text": ""}):
        assert httpx.post(f"{server.url}/api/try", json=bad).status_code == 400, bad


def test_bodies_over_the_cap_are_refused(start_web) -> None:
    server = start_web(WIREWATCH_WEB_MAX_BODY_BYTES="1000", WIREWATCH_WEB_TRY_MAX_CHARS="500")
    big = {"title": "t", "text": "ceasefire " * 200}
    assert httpx.post(f"{server.url}/api/try", json=big).status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: the cap applies while reading
        yield b'{"title": "t", "text": "'
        for _ in range(50):
            yield b"x" * 100
        yield b'"}'

    chunked = httpx.post(f"{server.url}/api/try", content=chunks())
    assert chunked.status_code == 413
    over_chars = {"title": "t", "text": "word " * 120}  # under 1000 bytes, over 500 characters
    assert httpx.post(f"{server.url}/api/try", json=over_chars).status_code == 413


def test_with_a_token_every_path_but_healthz_needs_it(start_web) -> None:
    token = "s3cret-token-for-tests"
    server = start_web(WIREWATCH_WEB_TOKEN=token)
    assert httpx.get(f"{server.url}/healthz").status_code == 200
    for path in ("/api/alerts", "/api/rules", "/api/feeds", "/api/events"):
        answer = httpx.get(f"{server.url}{path}")
        assert answer.status_code == 401 and answer.headers["www-authenticate"] == "Bearer", path
        wrong = httpx.get(f"{server.url}{path}", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401, path
    assert httpx.post(f"{server.url}/api/try", json={"title": "x"}).status_code == 401
    ok = httpx.get(f"{server.url}/api/rules", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    for path in ("/", "/feeds", "/rules", "/try"):
        page = httpx.get(f"{server.url}{path}?x=1")
        assert page.status_code == 303 and page.headers["location"].startswith("/signin?next="), (
            path
        )
    signed = httpx.post(f"{server.url}/signin", data={"token": token, "next": "/rules"})
    assert signed.status_code == 303 and signed.headers["location"] == "/rules"
    cookie = signed.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and token not in cookie
    elsewhere = httpx.post(f"{server.url}/signin", data={"token": token, "next": "//evil.example/"})
    assert elsewhere.headers["location"] == "/"
    assert httpx.post(f"{server.url}/signin", data={"token": "guess"}).status_code == 401


def test_healthz_and_pages_say_when_redis_is_away(
    tmp_path: Path, console_files: tuple[Path, Path]
) -> None:
    rules, feeds = console_files
    env = web_env(f"redis://127.0.0.1:{free_port()}/0", "x:", rules, feeds)
    server = WebServer(env, tmp_path / "web.log").start(healthy=False)
    try:
        health = httpx.get(f"{server.url}/healthz", timeout=15)
        assert health.status_code == 503 and "Redis" in health.text
        page = httpx.get(f"{server.url}/?channel=x", timeout=15)
        assert page.status_code == 503 and "Redis" in page.text
        api = httpx.get(f"{server.url}/api/alerts?channel=x", timeout=15)
        assert api.status_code == 503 and "Redis" in api.json()["error"]
    finally:
        server.stop()


def test_feeds_page_shows_notification_destinations(
    start_web, make_settings, console_files: tuple[Path, Path]
) -> None:
    settings: Settings = make_settings()
    statuses = {
        "desk-mail": {"id": "desk-mail", "to": "mailto://***@smtp.example.org", "state": "ok",
                      "failing_since": None, "last_error": "", "last_ok": "2026-11-30T06:00:00Z",
                      "pending": 0, "oldest_pending_s": 0.0, "updated": "2026-11-30T06:00:01Z"},
        "chat": {"id": "chat", "to": "json://hooks.example/***", "state": "stale",
                 "failing_since": "2026-11-28T06:00:00Z", "last_error": "HTTP 503 <b>down</b>",
                 "last_ok": None, "pending": 12, "oldest_pending_s": 7200.0,
                 "updated": "2026-11-30T06:00:01Z"},
    }  # fmt: skip
    asyncio.run(_put_statuses(settings, {k: json.dumps(v) for k, v in statuses.items()}))
    page = httpx.get(f"{start_web().url}/feeds").text
    assert "Notification destinations" in page
    assert page.index(">chat") < page.index(">desk-mail")
    assert "STALE" in page.split(">chat", 1)[1].split("</tr>", 1)[0]
    assert "HTTP 503 &lt;b&gt;down&lt;/b&gt;" in page  # a destination's error is text, too


async def _put_statuses(settings: Settings, statuses: dict[str, str]) -> None:
    from ingest.delivery.store import Store

    store = Store.from_settings(settings)
    try:
        await store.client.hset(f"{settings.key_prefix}notify:status", mapping=statuses)
    finally:
        await store.close()
