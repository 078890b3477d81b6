"""An alert (or a digest of alerts) as a message people read on a phone: a title and a body in
the format the service takes best (plain text, Markdown or HTML). Pure functions of the alert JSON.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import Any, Literal

Format = Literal["text", "markdown", "html"]
UNTITLED = "(untitled article)"
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~])")


@dataclass(frozen=True, slots=True)
class Message:
    title: str
    body: str


def _escape(text: str, fmt: Format) -> str:
    if fmt == "html":
        return html.escape(text)
    if fmt == "markdown":
        return _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    return text


def _link(label: str, url: str, fmt: Format) -> str:
    if not url:
        return _escape(label, fmt)
    if fmt == "html":
        return f'<a href="{html.escape(url, quote=True)}">{html.escape(label)}</a>'
    if fmt == "markdown":
        return f"[{_escape(label, fmt)}](<{url}>)"
    return f"{label}: {url}" if label != url else url


def _field(label: str, value: str, fmt: Format) -> str:
    if fmt == "html":
        return f"<b>{html.escape(label)}:</b> {value}"
    if fmt == "markdown":
        return f"**{label}:** {value}"
    return f"{label}: {value}"


def _join(lines: list[str], fmt: Format) -> str:
    return ("<br>\n" if fmt == "html" else "\n\n" if fmt == "markdown" else "\n").join(lines)


def dateline_text(article: dict[str, Any]) -> str:
    dateline = article.get("dateline") or {}
    where = ", ".join(v for v in (dateline.get("place"), dateline.get("date")) if v)
    agency = dateline.get("agency")
    return f"{where} ({agency})" if where and agency else where or agency or ""


def entities_text(matched: dict[str, Any]) -> str:
    parts = []
    for entity in matched.get("entities") or []:
        mentions = [m for m in entity.get("mentions") or [] if m != entity.get("name")]
        said = f" as {', '.join(mentions)}" if mentions else ""
        parts.append(f"{entity.get('name')} ({entity.get('label')}){said}")
    return "; ".join(parts)


def alert_message(alert: dict[str, Any], fmt: Format) -> Message:
    """One alert: title = the article title; body = rule, channel, dateline, why, snippet, link."""
    article, matched = alert.get("article") or {}, alert.get("matched") or {}
    e = lambda text: _escape(text, fmt)  # noqa: E731
    lines = [_field("Rule", e(str(alert.get("rule_id", ""))), fmt),
             _field("Channel", e(str(alert.get("channel", ""))), fmt)]  # fmt: skip
    optional = [
        ("Dateline", dateline_text(article)),
        ("Terms", ", ".join(matched.get("terms") or [])),
        ("Entities", entities_text(matched)),
    ]
    lines += [_field(label, e(value), fmt) for label, value in optional if value]
    if alert.get("snippet"):
        lines.append(e(f"“{alert['snippet']}”"))
    url = str(article.get("url") or "")
    if url:
        lines.append(_link(url, url, fmt))
    others = [_link(str(o.get("name") or o.get("url")), str(o.get("url") or ""), fmt)
              for o in alert.get("also_seen_in") or []]  # fmt: skip
    if others:
        lines.append(_field("Also seen in", ", ".join(others), fmt))
    return Message(str(article.get("title") or UNTITLED), _join(lines, fmt))


def digest_message(alerts: list[dict[str, Any]], fmt: Format) -> Message:
    """Several alerts in one message: one line per alert with its link."""
    channels = sorted({str(a.get("channel", "")) for a in alerts})
    noun = "alert" if len(alerts) == 1 else "alerts"
    title = f"wirewatch: {len(alerts)} {noun} on {', '.join(channels)}"
    lines = [_digest_line(alert, fmt) for alert in alerts]
    if fmt == "html":
        items = "\n".join(f"<li>{line}</li>" for line in lines)
        return Message(title, f"<ul>\n{items}\n</ul>")
    return Message(title, "\n".join(f"- {line}" for line in lines))


def digest_that_fits(alerts: list[dict[str, Any]], fmt: Format, limit: Limit) -> int:
    """How many of the first `alerts` one digest message can list within the service's limits:
    the most that fit, and at least one (a single alert too long for the service is the
    service's to cut or refuse); 0 for none."""
    fits, over = 1, len(alerts) + 1  # a message of `fits` alerts is sent; `over` is too many
    while over - fits > 1:  # one more alert never makes a message smaller: halve the range
        middle = (fits + over) // 2
        if limit.holds(digest_message(alerts[:middle], fmt)):
            fits = middle
        else:
            over = middle
    return min(fits, len(alerts)) if alerts else 0


@dataclass(frozen=True, slots=True)
class Limit:
    """What one message to a service may hold: characters of body (with the title, where the
    service has no title field) and lines (0: any number)."""

    chars: int
    lines: int = 0
    title_in_body: bool = False

    def size(self, message: Message) -> int:
        return len(message.body) + (len(message.title) + 2 if self.title_in_body else 0)

    def holds(self, message: Message) -> bool:
        lines = message.body.count("\n") + 1 + (1 if self.title_in_body else 0)
        return self.size(message) <= self.chars and (not self.lines or lines <= self.lines)


def _digest_line(alert: dict[str, Any], fmt: Format) -> str:
    article = alert.get("article") or {}
    title = str(article.get("title") or UNTITLED)
    where = dateline_text(article)
    rule = _escape(f"[{alert.get('rule_id', '')}]", fmt)
    tail = _escape(f" ({where})", fmt) if where else ""
    return f"{rule} {_link(title, str(article.get('url') or ''), fmt)}{tail}"
