"""Messages people read: title = the article title; the body names rule, channel, dateline,
terms and entities, snippet, link and other outlets, escaped for the service's format."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.notify.messages import Format, Limit, alert_message, digest_message, digest_that_fits
from tests.notify.helpers import make_alert

pytestmark = pytest.mark.timeout(60)
FORMATS: list[Format] = ["text", "markdown", "html"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_alert_message_says_why_and_links(fmt: Format) -> None:
    alert = make_alert("alerts:ceasefire", 3, rule_id="ceasefire-leader")
    message = alert_message(alert, fmt)
    assert message.title == "Ceasefire talks, story 3"
    plain = unescape(message.body, fmt)
    for part in ("ceasefire-leader", "alerts:ceasefire", "WASHINGTON, March 17 (Alliance News)",
                 "Terms: ceasefire", "Vladimir Putin (PERSON) as Putin",
                 "Putin spoke of a ceasefire in story 3.", "https://news.example.org/story/3",
                 "Other Wire"):  # fmt: skip
        assert part in plain, (fmt, part)


def test_missing_optional_parts_leave_no_empty_lines() -> None:
    alert: dict[str, Any] = {"rule_id": "r", "channel": "c", "article": {"title": ""},
                             "matched": {"terms": [], "entities": []}}  # fmt: skip
    message = alert_message(alert, "text")
    assert message.title == "(untitled article)"
    assert message.body == "Rule: r\nChannel: c"


@pytest.mark.parametrize("fmt", FORMATS)
def test_digest_lists_one_line_per_alert_with_its_link(fmt: Format) -> None:
    alerts = [make_alert("alerts:a" if n % 2 else "alerts:b", n) for n in range(5)]
    message = digest_message(alerts, fmt)
    assert message.title == "wirewatch: 5 alerts on alerts:a, alerts:b"
    lines = [line for line in message.body.splitlines() if "story/" in line]
    assert len(lines) == 5
    for n, line in enumerate(lines):
        assert f"https://news.example.org/story/{n}" in line
        assert f"story {n}" in unescape(line, fmt)


def unescape(text: str, fmt: Format) -> str:
    if fmt == "html":
        return html.unescape(re.sub(r"<[^>]+>", "", text))
    if fmt == "markdown":
        return re.sub(r"\\(.)", r"\1", text.replace("**", ""))
    return text


@settings(deadline=None)
@given(st.text(min_size=1, max_size=80))
def test_html_title_in_the_body_never_becomes_markup(hostile: str) -> None:
    alert = make_alert("alerts:x", 1, title=hostile)
    alert["snippet"] = hostile
    body = alert_message(alert, "html").body
    tags = re.findall(r"<(/?[a-z]+)", body)
    assert set(tags) <= {"b", "/b", "br", "a", "/a"}
    assert html.escape(hostile) in body


@settings(max_examples=200, deadline=None)
@given(
    titles=st.lists(st.text(min_size=1, max_size=300), min_size=1, max_size=60),
    fmt=st.sampled_from(FORMATS),
    chars=st.integers(min_value=50, max_value=20_000),
    lines=st.sampled_from([0, 3, 10, 40]),
    title_in_body=st.booleans(),
)
def test_a_digest_takes_the_most_alerts_that_fit_the_service(
    titles: list[str], fmt: Format, chars: int, lines: int, title_in_body: bool
) -> None:
    alerts = [make_alert(f"alerts:{n % 3}", n, title=t) for n, t in enumerate(titles)]
    limit = Limit(chars, lines, title_in_body)
    count = digest_that_fits(alerts, fmt, limit)
    assert 1 <= count <= len(alerts)
    if count > 1:
        assert limit.holds(digest_message(alerts[:count], fmt))
    if count < len(alerts):
        assert not limit.holds(digest_message(alerts[: count + 1], fmt))


def test_a_long_digest_goes_in_parts_of_the_services_size() -> None:
    # 300 alerts for a Telegram-sized service (4,096 characters, Apprise's figure, less room
    # for conversion): every alert in exactly one part, each part within the limit.
    alerts = [make_alert("alerts:x", n, title=f"Story number {n} " + "x" * 60) for n in range(300)]
    limit = Limit(4096 * 9 // 10)
    parts, rest = [], alerts
    while rest:
        count = digest_that_fits(rest, "markdown", limit)
        parts.append(digest_message(rest[:count], "markdown"))
        rest = rest[count:]
    assert len(parts) > 1 and all(limit.holds(p) for p in parts)
    linked = [int(n) for p in parts for n in re.findall(r"story/(\d+)>", p.body)]
    assert linked == list(range(300))
