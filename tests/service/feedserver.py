"""A real HTTP server on 127.0.0.1 serving feeds from memory, for end-to-end tests."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class FeedServer:
    def __init__(self) -> None:
        self.pages: dict[str, bytes] = {}
        self.hits: dict[str, int] = {}
        self.delays_s: dict[str, float] = {}  # answer these paths only after a pause
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.hits[self.path] = outer.hits.get(self.path, 0) + 1
                time.sleep(outer.delays_s.get(self.path, 0.0))
                body = outer.pages.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "application/rss+xml; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@contextmanager
def serve() -> Iterator[FeedServer]:
    feeds = FeedServer()
    thread = threading.Thread(target=feeds.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield feeds
    finally:
        feeds.server.shutdown()
        feeds.server.server_close()


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
