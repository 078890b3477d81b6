"""A web page's feeds: the `<link rel="alternate" type="...">` elements in its head.

This is how every reader turns a site's address into its feed. The kinds looked for are RSS,
Atom and JSON Feed; hrefs are resolved against the page's address (or its `<base href>`), and
only http(s) results are kept. Pages list their main feed first (a blog's posts before its
comments), so the first link of each kind leads the list. Pure: text in, links out.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

FEED_TYPES = {
    "application/rss+xml": "RSS",
    "application/atom+xml": "Atom",
    "application/feed+json": "JSON Feed",
}
CHUNK_CHARS = 65_536  # the head is read in pieces; the body, where no feed link belongs, is not
# A head that never ends is not read past this: markup made to be slow to read (a megabyte of
# "<") takes Python's HTML parser about 2.7 s per megabyte; real heads, inline scripts and
# styles included, stay far below it.
MAX_SCAN_CHARS = 1_000_000


@dataclass(frozen=True, slots=True)
class FeedLink:
    url: str  # absolute
    kind: str  # "RSS", "Atom" or "JSON Feed"
    title: str  # the link's own title attribute, often "Comments feed" and the like


class _HeadLinks(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = page_url
        self.links: list[tuple[str, str, str]] = []  # (href, kind, title) as written
        self.done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.done:  # the rest of a chunk that went past the head
            return
        values = {name.lower(): (value or "") for name, value in attrs}
        if tag == "base" and values.get("href"):
            self.base = urljoin(self.base, values["href"].strip())
        elif tag == "link":
            self._link(values)
        elif tag == "body":
            self.done = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self.done = True

    def _link(self, values: dict[str, str]) -> None:
        rels = values.get("rel", "").lower().split()
        mime = values.get("type", "").split(";", 1)[0].strip().lower()
        href = values.get("href", "").strip()
        if "alternate" in rels and mime in FEED_TYPES and href:
            self.links.append((urljoin(self.base, href), FEED_TYPES[mime], values.get("title", "")))


def feed_links(html: str, page_url: str) -> list[FeedLink]:
    """The feeds the page names: the first of each kind first, then the rest, without repeats."""
    parser = _HeadLinks(page_url)
    for at in range(0, min(len(html), MAX_SCAN_CHARS), CHUNK_CHARS):
        parser.feed(html[at : at + CHUNK_CHARS])
        if parser.done:
            break
    links: dict[str, FeedLink] = {}
    for url, kind, title in parser.links:
        absolute = url.split("#", 1)[0]
        if urlsplit(absolute).scheme.lower() in ("http", "https") and absolute not in links:
            links[absolute] = FeedLink(absolute, kind, " ".join(title.split()))
    firsts: dict[str, FeedLink] = {}
    for link in links.values():
        firsts.setdefault(link.kind, link)
    leading = list(firsts.values())
    return leading + [link for link in links.values() if link not in leading]
