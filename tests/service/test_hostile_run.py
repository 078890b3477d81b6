"""One run over every kind of hostile source beside a good one: each hostile source ends as a
recorded error within its time bound, the good source still alerts, nothing crashes."""

from __future__ import annotations

import gzip
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.delivery.store import Store
from ingest.fetch.feedstate import FeedStateStore
from ingest.fetch.fetcher import Fetcher
from ingest.match.matcher import Matcher
from ingest.match.nlp import load_nlp
from ingest.models import Source
from ingest.rules.files import load_rules_dir
from ingest.service.metrics import Metrics
from ingest.service.pipeline import Pipeline
from tests.conftest import ROOT
from tests.fetch.server import LocalServer, Reply, serve
from tests.fetch.test_http import slow_drip
from tests.service.feedserver import rss, story_item

SEED = ROOT / "seeds" / "000_820d276074f311ca.txt"
RSS = {"Content-Type": "application/rss+xml"}

pytestmark = [pytest.mark.usefixtures("real_redis_cleanup"), pytest.mark.timeout(60)]


def hostile_routes(server: LocalServer, secret: Path) -> dict[str, Reply | object]:
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024))
    item = "<item><title>&x;</title><link>https://e.example/1</link><description>&x;</description></item>"
    return {
        "/404": Reply(404, b"gone"),
        "/410": Reply(410, b"gone for good"),
        "/500": Reply(500, b"oops"),
        "/429": Reply(429, headers={"Retry-After": "120"}),
        "/loop-a": Reply(302, headers={"Location": "/loop-b"}),
        "/loop-b": Reply(302, headers={"Location": "/loop-a"}),
        "/drip": slow_drip(server.stop),
        "/huge": Reply(body=b"<rss>" + b"x" * (3 * 1024 * 1024), headers=RSS),
        "/bomb": Reply(body=bomb, headers={**RSS, "Content-Encoding": "gzip"}),
        "/laughs": Reply(body=(
            b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            b'<rss version="2.0"><channel><title>&lol2;</title></channel></rss>'), headers=RSS),
        "/xxe": Reply(body=(
            f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY x SYSTEM "{secret.as_uri()}">]>'
            f'<rss version="2.0"><channel><title>t</title>{item}</channel></rss>').encode(),
            headers=RSS),
        "/html": Reply(body=b"<!doctype html><html><body><p>Hello</p></body></html>",
                       headers={"Content-Type": "text/html"}),
        "/junk": Reply(body=bytes(range(256)) * 64,
                       headers={"Content-Type": "application/octet-stream"}),
        "/empty": Reply(body=b"", headers=RSS),
    }  # fmt: skip


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serve() as local:
        yield local


async def test_hostile_sources_fail_alone(server: LocalServer, make_settings, tmp_path) -> None:  # type: ignore[no-untyped-def]
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CEASEFIRE Vladimir Putin", encoding="utf-8")
    server.routes.update(hostile_routes(server, secret))  # type: ignore[arg-type]
    item = story_item(
        SEED, "https://wire.example/good", "good", "Seed", "2025-03-17T09:00:00+00:00"
    )
    wrong_charset = rss([item]).replace(b'encoding="UTF-8"', b'encoding="ISO-8859-7"')
    server.routes["/good"] = Reply(
        body=wrong_charset, headers={"Content-Type": "text/xml; charset=koi8-r"}
    )
    settings = make_settings(
        http_read_timeout_s=0.5, http_total_timeout_s=2.0, max_body_bytes=1024 * 1024
    )
    paths = ["/good", *(p for p in server.routes if p not in ("/good", "/loop-b"))]
    sources = [Source(server.url(p), p.strip("/"), "http", 60.0) for p in paths]
    store = Store.from_settings(settings)
    matcher = Matcher(load_rules_dir(ROOT / "rules"), load_nlp("auto", 8))
    started = time.monotonic()
    async with Fetcher(settings) as fetcher:
        pipeline = Pipeline(settings, store, fetcher, lambda: matcher, Metrics())
        report = await pipeline.poll_many(sources)
    elapsed_s = time.monotonic() - started
    states = FeedStateStore(store.client, settings.key_prefix)
    errors = {s.name: (await states.get(s.key)).last_error for s in sources}
    await store.close()

    assert elapsed_s < 15, "a hostile source held up the run"
    assert [a.article.url for a in report.alerts if a.match.rule_id == "ceasefire-leader"] == [
        "https://wire.example/good"
    ]
    assert errors.pop("good") is None
    missing = [name for name, error in errors.items() if not error]
    assert not missing, f"no error recorded for {missing}"
    assert report.failed == len(sources) - 1
    assert "TOP-SECRET" not in str(report.alerts)
