"""One typed, immutable model per stage output.

    Source -> FetchResult(Document...) -> RawEntry -> Article -> Match -> Alert

Stages take and return these, never loose dicts. Only `Alert.to_json()` builds the wire format.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

SourceKind = Literal["http", "file", "spool"]
FullText = Literal["auto", "always", "never"]  # when an entry's linked page is fetched
TextFrom = Literal["feed", "page"]  # where an article's body came from


@dataclass(frozen=True, slots=True)
class Source:
    """One entry of feeds.yaml."""

    url: str  # as written: http(s)://, file://, a local feed file or a folder (spool)
    name: str
    kind: SourceKind
    interval_s: float
    allow_private: bool = False
    line: int = 0  # where it stands in feeds.yaml, for messages
    group: str | None = None  # a folder, as in a reader's OPML ("News", "News/Europe")
    full_text: FullText = "never"  # feeds.yaml gives http(s) sources `auto` unless told

    @property
    def key(self) -> str:
        """Stable identity used for state in Redis."""
        return self.url


@dataclass(frozen=True, slots=True)
class Document:
    """One fetched document: an http body, a feed file, or one file from a spool folder."""

    url: str  # final URL after redirects, or a file:// URI
    body: bytes
    content_type: str = ""
    headers: tuple[tuple[str, str], ...] = ()  # response headers (lower-cased names)


@dataclass(frozen=True, slots=True)
class FetchResult:
    """What one poll of a source brought back."""

    source: Source
    documents: tuple[Document, ...]
    status: int | None = None  # HTTP status of the last response; None for files
    not_modified: bool = False  # 304, or a file/spool with nothing new
    etag: str | None = None
    last_modified: str | None = None
    permanent_url: str | None = None  # set when a permanent redirect moved the feed
    feed_url: str | None = None  # the source's address is a web page; this is the feed it names
    retry_after_s: float | None = None  # the server asked us to wait (Retry-After)
    max_age_s: float | None = None  # Cache-Control: max-age
    ttl_s: float | None = None  # the feed's own <ttl>, once parsed (see parse)
    elapsed_s: float = 0.0
    # Spool folders: files not read this time, and when to look again.
    settles_in_s: float | None = None  # a file still changing will have landed by then
    more_pending: bool = False  # a burst over the per-poll cap: poll again at once
    left_for_later: tuple[str, ...] = ()  # names still being written (.part, .tmp, ~, .name)


PageOutcome = Literal[
    "fetched", "http_error", "timeout", "not_html", "too_large", "refused", "paused", "error"
]


@dataclass(frozen=True, slots=True)
class Page:
    """An entry's linked page as fetched for its full text, or why it could not be had."""

    url: str  # the link as the entry gave it
    outcome: PageOutcome
    final_url: str = ""  # after redirects
    html: bytes = b""  # only when fetched
    content_type: str = ""
    detail: str = ""  # what went wrong, for the log

    @property
    def fetched(self) -> bool:
        return self.outcome == "fetched"


@dataclass(frozen=True, slots=True)
class RawEntry:
    """One item as the source gave it (feed entry or wire text file), before normalization."""

    source_name: str
    source_url: str  # the feed URL, or the file:// URI of the file it came from
    title: str
    content: str  # body: HTML or plain text, see `content_is_html`
    content_is_html: bool
    guid: str | None = None
    link: str | None = None
    summary: str = ""  # the feed's summary/description when it also gave full content
    published: datetime | None = None  # aware, UTC
    language: str | None = None  # as declared by the feed, if any
    text_from: TextFrom = "feed"  # "page": `content` is the linked page's main text


@dataclass(frozen=True, slots=True)
class Dateline:
    """The wire dateline: `WASHINGTON, March 17 (Alliance News): ...`."""

    place: str | None = None
    date: str | None = None  # as written ("March 17", "18 March")
    agency: str | None = None  # as written ("Reuters", "AP", "Alliance News")
    iso_date: str | None = None  # YYYY-MM-DD when the year could be settled

    def to_json(self) -> dict[str, Any]:
        return {"place": self.place, "date": self.date, "agency": self.agency}


@dataclass(frozen=True, slots=True)
class SourceRef:
    name: str
    url: str


@dataclass(frozen=True, slots=True)
class Article:
    """A normalized article: clean text, canonical URL, dateline fields, stable ids."""

    id: str  # stable: from the GUID or canonical URL, else from the text
    url: str  # canonical (tracking parameters removed)
    title: str
    body: str  # clean text, dateline removed, paragraphs separated by "\n"
    published: datetime | None
    source: SourceRef
    dateline: Dateline | None
    summary: str
    language: str
    fingerprint: str = ""  # hash of the folded text: the same story text gives the same value
    guid: str | None = None
    text_from: TextFrom = "feed"
    updated: bool = False  # an entry seen before came back with a changed title or text

    @property
    def text(self) -> str:
        """Everything rules match against: title, then body."""
        return f"{self.title}\n{self.body}" if self.title else self.body

    def to_record(self) -> dict[str, Any]:
        """Everything, body included: how an article is kept in Redis and sent between roles."""
        return {
            **self.to_json(),
            "body": self.body,
            "fingerprint": self.fingerprint,
            "guid": self.guid,
            "iso_date": self.dateline.iso_date if self.dateline else None,
        }

    @classmethod
    def from_record(cls, data: dict[str, Any]) -> Article:
        dateline = data.get("dateline")
        published = data.get("published")
        return cls(
            id=data["id"],
            url=data["url"],
            title=data["title"],
            body=data["body"],
            published=datetime.fromisoformat(published) if published else None,
            source=SourceRef(data["source"]["name"], data["source"]["url"]),
            dateline=Dateline(**dateline, iso_date=data.get("iso_date")) if dateline else None,
            summary=data.get("summary", ""),
            language=data.get("language", "und"),
            fingerprint=data.get("fingerprint", ""),
            guid=data.get("guid"),
            text_from="page" if data.get("text_from") == "page" else "feed",
            updated=bool(data.get("updated", False)),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "url": self.url,
            "title": self.title,
            "published": iso_utc(self.published),
            "source": {"name": self.source.name, "url": self.source.url},
            "dateline": self.dateline.to_json() if self.dateline else None,
            "summary": self.summary,
            "language": self.language,
            "text_from": self.text_from,
            "updated": self.updated,
        }


@dataclass(frozen=True, slots=True)
class EntityHit:
    label: str  # PERSON, ORG, GPE, ...
    name: str  # the name as the rule lists it, or the mention itself for `any`
    mentions: tuple[str, ...]  # how the article wrote it

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "name": self.name, "mentions": list(self.mentions)}


@dataclass(frozen=True, slots=True)
class Match:
    """A rule that matched an article, and why."""

    rule_id: str
    channel: str
    terms: tuple[str, ...]
    entities: tuple[EntityHit, ...]
    snippet: str

    def matched_json(self) -> dict[str, Any]:
        return {"terms": list(self.terms), "entities": [e.to_json() for e in self.entities]}

    def to_json(self) -> dict[str, Any]:
        return {
            "rule_id": self.rule_id,
            "channel": self.channel,
            "matched": self.matched_json(),
            "snippet": self.snippet,
        }


@dataclass(frozen=True, slots=True)
class Alert:
    """What is published: one match of one rule on one article."""

    alert_id: str
    match: Match
    article: Article
    created_at: datetime
    also_seen_in: tuple[SourceRef, ...] = field(default=())  # other outlets carrying the story

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "schema": 1,
            "alert_id": self.alert_id,
            "rule_id": self.match.rule_id,
            "channel": self.match.channel,
            "matched": self.match.matched_json(),
            "article": self.article.to_json(),
            "snippet": self.match.snippet,
            "created_at": iso_utc(self.created_at),
        }
        if self.also_seen_in:
            data["also_seen_in"] = [{"name": s.name, "url": s.url} for s in self.also_seen_in]
        return data

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, separators=(",", ":"))


def iso_utc(moment: datetime | None) -> str | None:
    """`2025-03-17T00:00:00Z` for an aware datetime; None stays None."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def utcnow() -> datetime:
    return datetime.now(UTC)
