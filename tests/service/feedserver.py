"""Feeds served over real HTTP on 127.0.0.1 for end-to-end tests, and RSS built from stories.

The server is the scriptable one of tests/fetch/server.py; this adds feeds set by path
(`server.pages[path] = rss(...)`, replaceable at any time) and per-path answer delays.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.fetch.server import LocalServer
from tests.fetch.server import serve as serve_local


class FeedServer:
    def __init__(self, local: LocalServer) -> None:
        self.local = local
        self.pages = _Pages(self._route)
        self.delays_s: dict[str, float] = {}  # answer these paths only after a pause

    @property
    def base_url(self) -> str:
        return self.local.url("")

    def hits(self, path: str) -> int:
        return self.local.hits(path)

    def _route(self, path: str) -> None:
        def answer(handler: BaseHTTPRequestHandler) -> None:
            time.sleep(self.delays_s.get(path, 0.0))
            body = self.pages[path]
            handler.send_response(200)
            handler.send_header("Content-Type", "application/rss+xml; charset=utf-8")
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)

        self.local.routes[path] = answer


class _Pages(dict[str, bytes]):
    """Feed bodies by path; a new path gets its route on the server."""

    def __init__(self, on_new: Callable[[str], None]) -> None:
        super().__init__()
        self._on_new = on_new

    def __setitem__(self, path: str, body: bytes) -> None:
        if path not in self:
            self._on_new(path)
        super().__setitem__(path, body)


@contextmanager
def serve() -> Iterator[FeedServer]:
    with serve_local() as local:
        yield FeedServer(local)


def rss(items: list[dict[str, str]], title: str = "Test wire") -> bytes:
    """An RSS 2.0 document; each item has title, link, guid, pubDate (datetime iso), body."""
    parts = []
    for item in items:
        paragraphs = "".join(f"<p>{escape(p)}</p>" for p in item["body"].split("\n") if p.strip())
        published = format_datetime(datetime.fromisoformat(item["published"]))
        parts.append(
            "<item>"
            f"<title>{escape(item['title'])}</title>"
            f"<link>{escape(item['link'])}</link>"
            f'<guid isPermaLink="false">{escape(item["guid"])}</guid>'
            f"<pubDate>{published}</pubDate>"
            f"<description>{escape(paragraphs)}</description>"
            "</item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://wire.example/</link>"
        f"<description>test</description>{''.join(parts)}</channel></rss>"
    ).encode()


def story_item(path: Path, link: str, guid: str, title: str, published: str) -> dict[str, str]:
    return {
        "title": title,
        "link": link,
        "guid": guid,
        "published": published,
        "body": path.read_text(encoding="utf-8"),
    }
