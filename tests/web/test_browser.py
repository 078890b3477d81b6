"""The console in a real browser (Playwright driving the system's headless Chromium), over a
real `wirewatch run` polling a spool folder and the bundled sample feed, on a Redis of its own.

Screenshots are saved under the test's temporary folder; with CONSOLE_SCREENSHOTS=DIR set they
are also written there (`CONSOLE_SCREENSHOTS=docs` refreshes the README's picture).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from ingest.settings import Settings
from tests.conftest import ROOT
from tests.service.conftest import PrivateRedis, Workers
from tests.web.conftest import Publisher, WebServer, web_env

pytestmark = [pytest.mark.timeout(180), pytest.mark.browser]

ALERT_TIMEOUT_S = 90  # the spool is polled at its interval on this branch: be generous
MARKUP_TITLE = (
    '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">Truce <b>holds</b>'
)


@dataclass
class Stack:
    redis: PrivateRedis
    workers: Workers
    web: WebServer
    rules_dir: Path
    inbox: Path
    shots: Path

    def publisher(self) -> Publisher:
        return Publisher(Settings(_env_file=None, redis_url=self.redis.url, key_prefix="ww:"))  # type: ignore[call-arg]

    def logs(self) -> str:
        return f"--- worker ---\n{self.workers.logs()}\n--- web ---\n{self.web.logs()}"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Redis, one `wirewatch run` and one `wirewatch web`, on the sample rules and feed plus a
    spool folder polled every second."""
    home = tmp_path_factory.mktemp("console")
    (home / "redis").mkdir()
    redis = PrivateRedis(home / "redis")
    redis.start()
    rules_dir = home / "rules"
    shutil.copytree(ROOT / "rules", rules_dir, ignore=shutil.ignore_patterns("*.md"))
    inbox = home / "inbox"
    inbox.mkdir()
    feeds = home / "feeds.yaml"
    feeds.write_text(
        f"feeds:\n  - url: {ROOT / 'seeds' / 'sample-feed.xml'}\n    name: Sample wire feed\n"
        f"  - url: {inbox}\n    name: Desk inbox\n    interval_s: 1\n    group: Desk\n",
        encoding="utf-8",
    )
    env = web_env(redis.url, "ww:", rules_dir, feeds, WIREWATCH_MIN_INTERVAL_S="1",
                  WIREWATCH_OUTBOX_DIR=str(home / "outbox"))  # fmt: skip
    (home / "logs").mkdir()
    workers = Workers(env, home / "logs")
    web = WebServer(env, home / "web.log")
    try:
        workers.start()
        web.start()
        yield Stack(redis, workers, web, rules_dir, inbox, home)
    finally:
        web.stop()
        workers.stop_all()
        redis.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()


def screenshot(page: Any, stack_or_dir: Stack | Path, name: str) -> Path:
    folder = stack_or_dir.shots if isinstance(stack_or_dir, Stack) else stack_or_dir
    path = folder / name
    page.screenshot(path=str(path))
    wanted = os.environ.get("CONSOLE_SCREENSHOTS")
    if wanted:
        target = ROOT / wanted
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target / name)
    return path


def drop_story(inbox: Path, title: str) -> None:
    """A wire story lands whole in the spool: written aside, then renamed in."""
    text = (
        f"{title}\n\nGENEVA, Nov. 30 (Reuters) - Russian President Vladimir Putin said on "
        "Monday he was ready to discuss a ceasefire, as envoys met in Geneva for a second day.\n"
    )
    part = inbox / f".{uuid.uuid4().hex}.part"
    part.write_text(text, encoding="utf-8")
    part.rename(inbox / f"{uuid.uuid4().hex}.txt")


def eventually(check: Callable[[], bool], timeout_s: float, what: str, stack: Stack) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}\n{stack.logs()}")


def test_a_story_dropped_into_the_spool_appears_without_a_reload(stack: Stack, page: Any) -> None:
    title = f"Putin ready for ceasefire talks, envoys say ({uuid.uuid4().hex[:6]})"
    page.goto(stack.web.url + "/")
    page.wait_for_selector("#live:not([hidden])")
    page.evaluate("window.__samePage = true")
    drop_story(stack.inbox, title)
    try:
        page.locator("li.alert .title", has_text=title).wait_for(timeout=ALERT_TIMEOUT_S * 1000)
    except Exception as exc:
        raise AssertionError(f"the alert did not appear\n{stack.logs()}") from exc
    assert page.evaluate("window.__samePage") is True, "the page was reloaded"
    card = page.locator("li.alert", has_text=title)
    assert card.locator(".rule").inner_text() == "ceasefire-leader"
    assert card.locator(".channel").inner_text() == "alerts:ceasefire"
    assert "PERSON Vladimir Putin" in card.locator(".matched").inner_text()
    assert "GENEVA" in card.locator(".dateline").inner_text()
    # The sample feed's alerts too (published live or before the page opened), for the picture.
    eventually(lambda: page.locator("li.alert").count() >= 5, 60, "the sample alerts", stack)
    page.reload()
    screenshot(page, stack, "console.png")
    rules = httpx.get(f"{stack.web.url}/api/rules").json()["rules"]
    assert {r["id"]: r["alerts_24h"] for r in rules}["ceasefire-leader"] >= 1


def test_feeds_page_shows_each_source_and_its_polls(stack: Stack, page: Any) -> None:
    def polled() -> bool:
        page.goto(stack.web.url + "/feeds")
        row = page.locator("tr", has_text="Desk inbox")
        return (
            row.count() == 1
            and row.locator("svg.polls rect.poll-ok, svg.polls rect.poll-same").count() > 0
        )

    eventually(polled, 60, "a poll of the inbox on /feeds", stack)
    assert page.locator("tr", has_text="Sample wire feed").count() == 1
    inbox_row = page.locator("tr", has_text="Desk inbox")
    assert str(stack.inbox) in inbox_row.inner_text()
    assert "spool" in inbox_row.inner_text()
    assert inbox_row.locator("td").nth(1).inner_text() == "Desk"  # the Group column
    screenshot(page, stack, "console-feeds.png")


def test_a_broken_rule_file_shows_its_error_until_fixed(stack: Stack, page: Any) -> None:
    broken = stack.rules_dir / "desk.yaml"
    good = "rules:\n  - id: desk-watch\n    channel: alerts:desk\n    all: [harbour]\n"
    broken.write_text(
        good.replace("all: [harbour]", "all: [harbour]\n    entities:\n      PERSN: [Somebody]")
    )
    try:
        page.goto(stack.web.url + "/rules")
        errors = page.locator("#rule-errors").inner_text()
        assert re.search(rf"{re.escape(str(broken))}:\d+: .*PERSN", errors), errors
        assert page.locator("td.name", has_text="desk-watch").count() == 0
        broken.write_text(good)
        page.reload()
        assert str(broken) not in page.locator("#rule-errors").inner_text()
        assert page.locator("td.name", has_text="desk-watch").count() == 1
        screenshot(page, stack, "console-rules.png")
    finally:
        broken.unlink()


def test_try_explains_a_match_and_a_near_miss(stack: Stack, page: Any) -> None:
    page.goto(stack.web.url + "/try")
    page.fill("input[name=title]", "Putin agrees to talks")
    page.fill(
        "textarea[name=text]",
        "MOSCOW, March 18 (Reuters) - Russian President Vladimir Putin agreed to a ceasefire.",
    )
    page.select_option("select[name=rule]", "central-bank-rates")
    page.click("button[type=submit]")
    result = page.locator("#result")
    result.wait_for(timeout=60_000)  # the first /try loads the NER model
    match = result.locator(".match", has_text="ceasefire-leader")
    assert "ceasefire" in match.locator(".term").all_inner_texts()
    assert "PERSON Vladimir Putin" in match.locator(".entity").all_inner_texts()
    assert "ceasefire" in match.locator(".snippet").inner_text()
    assert "central-bank-rates" in result.locator("h3").inner_text()
    assert "term 'rate' not found" in result.locator("ul.missing").inner_text()
    assert page.locator("input[name=title]").input_value() == "Putin agrees to talks"


def test_a_title_with_markup_is_shown_as_text(stack: Stack, page: Any) -> None:
    publisher = stack.publisher()
    publisher.alert("alerts:ceasefire", 1, MARKUP_TITLE, rule_id="ceasefire-leader")
    page.goto(stack.web.url + "/?channel=alerts:ceasefire")
    page.wait_for_selector("#live:not([hidden])")
    publisher.alert("alerts:ceasefire", 2, MARKUP_TITLE + " (live)", rule_id="ceasefire-leader")
    page.locator("li.alert .title", has_text=MARKUP_TITLE + " (live)").wait_for(timeout=30_000)
    titles = page.locator("li.alert .title").all_inner_texts()
    assert MARKUP_TITLE in titles and MARKUP_TITLE + " (live)" in titles  # rendered, and live
    assert page.evaluate("window.__pwned") is None
    assert page.locator("li.alert .title img, li.alert .title b, li.alert script").count() == 0


def test_with_a_token_pages_ask_to_sign_in_and_the_api_answers_401(
    start_web: Callable[..., WebServer], browser: Any, tmp_path: Path
) -> None:
    token = uuid.uuid4().hex
    server = start_web(WIREWATCH_WEB_TOKEN=token)
    context = browser.new_context()
    page = context.new_page()
    try:
        assert page.request.get(f"{server.url}/api/rules").status == 401
        page.goto(f"{server.url}/rules")
        assert page.url.startswith(f"{server.url}/signin?next=")
        page.fill("input[name=token]", "wrong")
        page.click("button[type=submit]")
        assert "not the token" in page.locator(".errors").inner_text()
        page.fill("input[name=token]", token)
        page.click("button[type=submit]")
        page.wait_for_url(f"{server.url}/rules")
        assert page.locator("h1").inner_text() == "Rules"
        assert token not in page.evaluate("document.cookie")  # HttpOnly: scripts cannot read it
        (cookie,) = context.cookies()
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["value"] != token
        assert page.request.get(f"{server.url}/api/rules").status == 200  # the cookie counts
        assert json.loads(page.request.get(f"{server.url}/api/rules").text())["rules"] == []
    finally:
        context.close()
