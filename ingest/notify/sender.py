"""The one module that talks to Apprise: parse a URL, send one message, say why it failed."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import apprise
from apprise.manager_plugins import NotificationManager

from ingest.notify.messages import Format, Limit

_FORMATS: dict[str, Format] = {"text": "text", "markdown": "markdown", "html": "html"}


@dataclass(frozen=True, slots=True)
class Service:
    """A parsed Apprise URL: the plugin, its privacy rendering and its preferred body format."""

    plugin: Any
    shown: str  # the URL as Apprise shows it, passwords and tokens masked, without its query
    body_format: Format
    limit: Limit  # what one message may hold: a digest is cut to fit


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    error: str = ""  # Apprise's own words; may hold secrets: redact before showing


def known_scheme(url: str) -> bool:
    scheme = url.partition("://")[0].lower()
    return bool(scheme) and scheme in NotificationManager()


def parse(url: str) -> Service | None:
    """The service behind an Apprise URL, or None when the URL does not parse."""
    plugin = apprise.Apprise.instantiate(url, suppress_exceptions=True)
    if plugin is None:
        return None
    # Apprise's privacy rendering masks passwords and tokens it knows, but shows header and
    # parameter values (`+X-Token=...`), so the query is not shown at all.
    shown = str(plugin.url(privacy=True)).partition("?")[0]
    return Service(plugin, shown, _preferred_format(plugin), _limit(plugin))


def _limit(plugin: Any) -> Limit:
    # Apprise's own numbers for the service (Telegram 4,096 characters, SMS 160, ...), with room
    # for what Apprise adds when it converts the format. Beyond them a service refuses a message
    # or cuts it, and a refused digest would be retried for ever.
    chars = int(getattr(plugin, "body_maxlen", 0) or 0)
    return Limit(
        chars=max(chars * 9 // 10, 1) if chars > 0 else 1 << 30,
        lines=max(int(getattr(plugin, "body_max_line_count", 0) or 0), 0),
        title_in_body=int(getattr(plugin, "title_maxlen", 1) or 0) <= 0,
    )


def _preferred_format(plugin: Any) -> Format:
    # A plugin names the formats it takes, its native one first (e-mail: html, Slack: markdown).
    formats = plugin.notify_format
    first = formats[0] if isinstance(formats, tuple | list) else formats
    return _FORMATS.get(str(getattr(first, "value", first)), "text")


def send(service: Service, title: str, body: str, timeout_s: float) -> Outcome:
    """Send one message (blocking); Outcome.ok once the service accepted it."""
    lines: list[str] = []

    def collect(entry: Any, _plugin: Any) -> None:
        if entry.level in ("WARNING", "ERROR", "CRITICAL") or "Exception" in entry.message:
            lines.append(str(entry.message))

    sender = apprise.Apprise()
    sender.add(service.plugin)
    try:
        result = sender.notify(
            body=body, title=title, body_format=service.body_format,
            timeout=timeout_s, log_callback=collect, log_level=logging.DEBUG,
        )  # fmt: skip
    except Exception as exc:  # a plugin bug must not stop the notifier; it is this send's failure
        return Outcome(False, f"{type(exc).__name__}: {exc}")
    if result:
        return Outcome(True)
    return Outcome(False, " ".join(lines[-3:]) or "the service did not accept the message")
