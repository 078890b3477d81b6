"""The parse stage's output, and the one rule every format adapter shares about links."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ingest.models import RawEntry

DocumentKind = Literal["feed", "json", "text"]


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    entries: tuple[RawEntry, ...]
    ttl_s: float | None = None  # the feed's <ttl>, in seconds
    title: str = ""
    kind: DocumentKind = "feed"


def web_link(value: Any) -> str | None:
    """An http(s) link, or None (feedparser also offers ids like `urn:` as links)."""
    if isinstance(value, str) and value.strip().lower().startswith(("http://", "https://")):
        return value.strip()
    return None
