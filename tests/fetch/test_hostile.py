"""Hostile XML over real HTTP: entity expansion and external entities never happen."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.errors import ParseError
from ingest.fetch.fetcher import Fetcher
from ingest.fetch.schedule import SourceState
from ingest.models import RawEntry
from ingest.parse.documents import parse_document
from tests.fetch.helpers import http_source
from tests.fetch.server import LocalServer, Reply, serve

pytestmark = pytest.mark.timeout(10)

SECRET = "TOP-SECRET-9f8e7d6c5b4a"
CASES = Path(__file__).parents[1] / "parse" / "cases"


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with serve() as local:
        yield local


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


def entity_documents(secret: Path) -> dict[str, bytes]:
    uri = secret.as_uri()
    dtd = secret.parent / "evil.dtd"
    dtd.write_text(f'<!ENTITY xxe SYSTEM "{uri}">', encoding="utf-8")
    item = "<item><title>&xxe;</title><link>https://evil.example/1</link><description>&xxe;</description></item>"
    return {
        "general": f'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY xxe SYSTEM "{uri}">]>'
        f'<rss version="2.0"><channel><title>t</title>{item}</channel></rss>',
        "parameter": '<?xml version="1.0"?>'
        f'<!DOCTYPE rss [<!ENTITY % p SYSTEM "{dtd.as_uri()}"> %p;]>'
        f'<rss version="2.0"><channel><title>t</title>{item}</channel></rss>',
        "atom": f'<?xml version="1.0"?><!DOCTYPE feed [<!ENTITY xxe SYSTEM "{uri}">]>'
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        "<entry><title>&xxe;</title><id>urn:x</id><content>&xxe;</content></entry></feed>",
    }


def leaked(entries: tuple[RawEntry, ...]) -> bool:
    return any(SECRET in " ".join(str(v) for v in vars_of(e)) for e in entries)


def vars_of(entry: RawEntry) -> list[object]:
    return [getattr(entry, name) for name in entry.__slots__]


async def fetch_body(server: LocalServer, make_settings, body: bytes):  # type: ignore[no-untyped-def]
    server.routes["/feed"] = Reply(body=body, headers={"Content-Type": "application/rss+xml"})
    async with Fetcher(make_settings()) as fetcher:
        return await fetcher.fetch(http_source(server.url("/feed")), SourceState())


async def test_billion_laughs_is_refused(server, make_settings) -> None:
    result = await fetch_body(server, make_settings, (CASES / "billion_laughs.xml").read_bytes())
    with pytest.raises(ParseError, match="declares XML entities"):
        parse_document(result.documents[0], result.source)


@pytest.mark.parametrize("variant", ["general", "parameter", "atom"])
async def test_xxe_declarations_are_refused(server, make_settings, secret_file, variant) -> None:
    body = entity_documents(secret_file)[variant].encode()
    result = await fetch_body(server, make_settings, body)
    with pytest.raises(ParseError, match="declares XML entities") as caught:
        parse_document(result.documents[0], result.source)
    assert SECRET not in str(caught.value)


async def test_external_dtd_is_never_loaded(server, make_settings, secret_file) -> None:
    """No entity declared in the document itself: parsing goes on, and nothing is read."""
    dtd = secret_file.parent / "evil.dtd"
    dtd.write_text(f'<!ENTITY xxe SYSTEM "{secret_file.as_uri()}">', encoding="utf-8")
    body = (
        f'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "{dtd.as_uri()}">'
        '<rss version="2.0"><channel><title>t</title><item><title>before &xxe; after</title>'
        "<link>https://evil.example/1</link></item></channel></rss>"
    ).encode()
    result = await fetch_body(server, make_settings, body)
    parsed = parse_document(result.documents[0], result.source)
    assert [e.link for e in parsed.entries] == ["https://evil.example/1"]
    assert not leaked(parsed.entries)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-8-sig"])
async def test_entities_refused_in_other_encodings(server, make_settings, encoding) -> None:
    text = (CASES / "billion_laughs.xml").read_text(encoding="utf-8")
    text = text.replace('<?xml version="1.0"?>', f'<?xml version="1.0" encoding="{encoding}"?>')
    result = await fetch_body(server, make_settings, text.encode(encoding))
    with pytest.raises(ParseError, match="declares XML entities"):
        parse_document(result.documents[0], result.source)
