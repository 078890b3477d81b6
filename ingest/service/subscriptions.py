"""`wirewatch feeds import / export / add`: sources brought the way feed readers bring them.

import: an OPML file's feeds appended to feeds.yaml (new addresses only, folders as `group`).
export: every http(s) source as OPML 2.0, groups as folders. add: a site's or a feed's address,
the feed discovered on the page when it is one, checked to parse, then appended. feeds.yaml is
edited as text (`ingest.fetch.feedsedit`): comments and order stay as the user wrote them, and
bad input changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ingest.errors import ConfigError, FeedNotFound, ParseError
from ingest.fetch.feedsedit import NewEntry, append_entries, known_urls, url_identity
from ingest.fetch.fetcher import Fetcher
from ingest.fetch.schedule import SourceState
from ingest.fetch.sources import default_name, load_sources
from ingest.models import FetchResult, Source, utcnow
from ingest.parse.documents import parse_document
from ingest.parse.feedlinks import FeedLink
from ingest.parse.opml import Subscription, read_opml, write_opml
from ingest.service.discovery import page_of
from ingest.settings import Settings

EXPORT_TITLE = "wirewatch sources"
Chooser = Callable[[Sequence[FeedLink]], FeedLink]  # which of a page's feeds to add


@dataclass(frozen=True, slots=True)
class ImportReport:
    added: int
    already: int  # in feeds.yaml before
    repeated: int  # listed more than once in the OPML file (a feed in two folders)
    empty_folders: int


def import_opml(opml_path: Path, feeds_file: Path) -> ImportReport:
    """Append the file's new feeds to feeds.yaml; OpmlError / ConfigError change nothing."""
    try:
        raw = opml_path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{opml_path}:1: cannot read: {exc.strerror or exc}") from exc
    opml = read_opml(raw, str(opml_path))
    known = known_urls(feeds_file)
    taken: set[str] = set()
    new: list[NewEntry] = []
    for feed in opml.subscriptions:
        key = url_identity(feed.url)
        if key not in known and key not in taken:
            new.append(NewEntry(feed.url, feed.name, feed.group))
        taken.add(key)
    already = sum(1 for key in taken if key in known)
    comment = f"imported from {opml_path.name} on {utcnow():%Y-%m-%d}"
    append_entries(feeds_file, new, comment)
    repeated = len(opml.subscriptions) - len(taken)
    return ImportReport(len(new), already, repeated, opml.empty_folders)


@dataclass(frozen=True, slots=True)
class Export:
    opml: str
    count: int  # feeds in it
    left_out: tuple[Source, ...]  # local files and spools: no reader can poll them
    errors: tuple[str, ...]  # feeds.yaml entries that did not load (left out too)


def export_opml(settings: Settings) -> Export:
    listing = load_sources(settings.feeds_file, settings)
    feeds = [
        Subscription(s.url, s.name, s.group, s.line) for s in listing.sources if s.kind == "http"
    ]
    left_out = tuple(s for s in listing.sources if s.kind != "http")
    opml = write_opml(feeds, EXPORT_TITLE, utcnow())
    return Export(opml, len(feeds), left_out, tuple(listing.errors))


@dataclass(frozen=True, slots=True)
class Found:
    """A feed ready to be added: its address, title, and the page it was found on."""

    url: str
    title: str
    page_url: str | None = None
    choices: tuple[FeedLink, ...] = field(default=())  # every feed the page named


def first_choice(choices: Sequence[FeedLink]) -> FeedLink:
    return choices[0]


async def find_feed(
    settings: Settings, url: str, allow_private: bool, choose: Chooser = first_choice
) -> Found:
    """The feed at `url`, or the one the page at `url` names; FetchError/ParseError when none."""
    source = Source(url, default_name(url, "http"), "http", 0.0, allow_private)
    async with Fetcher(settings) as fetcher:
        result = await fetcher.fetch(source, SourceState())
        page = await page_of(result)
        if page is None:
            return Found(url, _feed_title(result, source))
        if not page.links:
            raise FeedNotFound(f"{url}: no feed found on this page")
        chosen = choose(page.links)
        result = await fetcher.fetch(replace(source, url=chosen.url), SourceState())
        if await page_of(result) is not None:
            raise FeedNotFound(f"{url}: the feed this page names, {chosen.url}, is a page too")
        title = _feed_title(result, replace(source, url=chosen.url))
        return Found(chosen.url, title, page.url, page.links)


def _feed_title(result: FetchResult, source: Source) -> str:
    """The feed's own title; ParseError when what came back is not a feed we can read."""
    if not result.documents:
        raise ParseError(f"{source.url}: the server sent nothing to read")
    try:
        parsed = parse_document(result.documents[0], source)
    except ParseError as exc:
        raise ParseError(f"not a feed wirewatch can read: {exc}") from exc
    if parsed.kind == "text":
        raise ParseError(f"{source.url}: not a feed (plain text)")
    return " ".join(parsed.title.split())


def already_listed(feeds_file: Path, *urls: str) -> int | None:
    """The feeds.yaml line of the first of these addresses already listed, if any."""
    known = known_urls(feeds_file)
    for url in urls:
        line = known.get(url_identity(url))
        if line is not None:
            return line
    return None


def add_found(
    feeds_file: Path, found: Found, name: str | None, group: str | None, allow_private: bool
) -> int:
    """Append the feed to feeds.yaml; returns its line there."""
    entry = NewEntry(found.url, name or found.title or None, group, allow_private)
    comment = f"found on {found.page_url}" if found.page_url else None
    append_entries(feeds_file, [entry], comment)
    return known_urls(feeds_file)[url_identity(found.url)]
