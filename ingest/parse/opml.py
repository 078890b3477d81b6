"""OPML, the file every feed reader imports and exports: its outlines in, sources out as OPML 2.0.

Readers write the same thing in different shapes (Feedly, Inoreader, Miniflux, FreshRSS,
NetNewsWire): folders are outlines that hold outlines, a feed is an outline with `xmlUrl`, its
name is in `text` (OPML 2.0 requires it) or only in `title`, and each adds attributes of its own.
Folders become a source's `group` (nested ones joined with "/"); everything else a reader adds
is left alone.

Bad input is refused whole, with every problem as `path:line: message` (`OpmlError`): not XML,
an entity declaration (refused as feeds are: nothing is expanded or fetched), no outlines, a
feed outline without `xmlUrl`, an address that is not http(s). pyexpat gives the line numbers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from urllib.parse import urlsplit
from xml.parsers import expat
from xml.sax.saxutils import escape

from ingest.errors import OpmlError
from ingest.parse.sniff import ENTITIES_REFUSED, decode_text, entity_declaration_at

GROUP_SEPARATOR = "/"
# Outline types that say "this is a feed" even when `xmlUrl` is missing (OPML 2.0 uses "rss"
# for every feed format; readers also write these).
FEED_TYPES = frozenset({"rss", "atom", "feed", "rdf", "json"})
_SPACE = re.compile(r"\s+")
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


@dataclass(frozen=True, slots=True)
class Subscription:
    """One feed outline: the feed's address, its name and folder as the reader had them."""

    url: str
    name: str | None
    group: str | None
    line: int  # in the OPML file, for messages


@dataclass(frozen=True, slots=True)
class OpmlFile:
    subscriptions: tuple[Subscription, ...]
    empty_folders: int  # folders without a feed: nothing to import, not an error


@dataclass
class _Outline:
    line: int
    attrs: dict[str, str]
    children: int = 0


@dataclass
class _Reader:
    """pyexpat callbacks: the outline stack, what was found, what was wrong."""

    path: str
    parser: expat.XMLParserType
    found: list[Subscription] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    stack: list[_Outline] = field(default_factory=list)  # the outlines open around this point
    elements: list[str] = field(default_factory=list)
    outlines: int = 0
    empty_folders: int = 0
    body_line: int = 0

    def start(self, name: str, attrs: dict[str, str]) -> None:
        local = name.rsplit(":", 1)[-1].lower()
        line = self.parser.CurrentLineNumber
        if not self.elements and local != "opml":
            self.problems.append(f"{self.path}:{line}: not an OPML file (its root is <{name}>)")
        self.elements.append(local)
        if local == "body" and self.elements[:-1] == ["opml"]:
            self.body_line = line
        if local != "outline" or "body" not in self.elements[:-1]:
            return
        self.outlines += 1
        if self.stack:
            self.stack[-1].children += 1
        self.stack.append(_Outline(line, {key.lower(): value for key, value in attrs.items()}))

    def end(self, name: str) -> None:
        local = self.elements.pop()
        if local != "outline" or "body" not in self.elements:
            return
        outline = self.stack.pop()
        if "xmlurl" in outline.attrs:
            self._feed(outline)
        elif not outline.children:
            self._childless(outline)

    def entity(self, *_args: object) -> None:
        line = self.parser.CurrentLineNumber
        raise OpmlError([f"{self.path}:{line}: {ENTITIES_REFUSED}"])

    def _feed(self, outline: _Outline) -> None:
        url = outline.attrs["xmlurl"].strip()
        parts = urlsplit(url)
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            self.problems.append(
                f"{self.path}:{outline.line}: {_label(outline)}xmlUrl {url!r} is not an "
                "http(s) address"
            )
            return
        folders = [title for outline in self.stack if (title := _title(outline))]
        group = GROUP_SEPARATOR.join(folders) or None  # a folder without a name is no folder
        self.found.append(Subscription(url, _title(outline), group, outline.line))

    def _childless(self, outline: _Outline) -> None:
        """A folder left empty, or a feed outline that lost its address."""
        kind = outline.attrs.get("type", "").strip().lower()
        if kind in FEED_TYPES or {"htmlurl", "url"} & outline.attrs.keys():
            self.problems.append(
                f"{self.path}:{outline.line}: {_label(outline)}has no xmlUrl (the feed's "
                "address); give it one or remove the outline"
            )
        else:
            self.empty_folders += 1


def _title(outline: _Outline) -> str | None:
    """`text` is what OPML 2.0 requires and readers show; some write only `title`."""
    for key in ("text", "title"):
        value = _SPACE.sub(" ", outline.attrs.get(key, "")).strip()
        if value:
            return value
    return None


def _label(outline: _Outline) -> str:
    title = _title(outline)
    return f"outline {title!r}: " if title else "outline: "


def read_opml(raw: bytes, path: str) -> OpmlFile:
    """The feeds an OPML file lists, in document order; OpmlError names every problem."""
    text = decode_text(raw)
    at = entity_declaration_at(text)
    if at >= 0:  # before any XML parser sees it, as feeds are
        raise OpmlError([f"{path}:{text.count(chr(10), 0, at) + 1}: {ENTITIES_REFUSED}"])
    parser = expat.ParserCreate()
    reader = _Reader(path, parser)
    parser.StartElementHandler = reader.start
    parser.EndElementHandler = reader.end
    parser.EntityDeclHandler = reader.entity
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    try:
        parser.Parse(raw, True)
    except expat.ExpatError as exc:
        message = expat.errors.messages.get(exc.code, str(exc))
        raise OpmlError([f"{path}:{exc.lineno}: not XML: {message}"]) from exc
    if not reader.problems and not reader.outlines:
        line = reader.body_line or 1
        where = "its <body>" if reader.body_line else "it (no <body>)"
        reader.problems.append(f"{path}:{line}: no outlines in {where}; nothing to import")
    if reader.problems:
        raise OpmlError(reader.problems)
    return OpmlFile(tuple(reader.found), reader.empty_folders)


def write_opml(feeds: Iterable[Subscription], title: str, created: datetime) -> str:
    """OPML 2.0 of these feeds; a group is a folder, placed where its first feed stands."""
    folders: dict[str, list[Subscription]] = {}
    order: list[Subscription | str] = []
    for feed in feeds:
        if feed.group is None:
            order.append(feed)
        elif feed.group not in folders:
            folders[feed.group] = [feed]
            order.append(feed.group)
        else:
            folders[feed.group].append(feed)
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        "  <head>",
        f"    <title>{_xml(title)}</title>",
        f"    <dateCreated>{format_datetime(created)}</dateCreated>",
        "  </head>",
        "  <body>",
    ]
    for item in order:
        if isinstance(item, Subscription):
            lines.append("    " + _feed_outline(item))
            continue
        lines.append(f'    <outline text="{_attr(item)}" title="{_attr(item)}">')
        lines += ["      " + _feed_outline(feed) for feed in folders[item]]
        lines.append("    </outline>")
    lines += ["  </body>", "</opml>", ""]
    return "\n".join(lines)


def _feed_outline(feed: Subscription) -> str:
    name = _attr(feed.name or feed.url)
    return f'<outline type="rss" text="{name}" title="{name}" xmlUrl="{_attr(feed.url)}"/>'


def _xml(value: str) -> str:
    return escape(_XML_ILLEGAL.sub("", value))


def _attr(value: str) -> str:
    # Newlines and tabs as character references: an attribute's raw whitespace is normalised
    # to spaces by every XML parser.
    return escape(
        _XML_ILLEGAL.sub("", value), {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}
    )
