"""normalize() on the seed stories and on feed-shaped entries."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.models import Dateline, RawEntry, SourceRef
from ingest.normalize.article import normalize
from ingest.normalize.simhash import hamming, simhash
from tests.normalize.casefiles import SEEDS

SEED = SEEDS / "000_820d276074f311ca.txt"
PUBLISHED = datetime(2025, 3, 17, tzinfo=UTC)


def seed_entry(**overrides: object) -> RawEntry:
    values: dict[str, object] = {
        "source_name": "Seeds",
        "source_url": SEED.as_uri(),
        "title": "",
        "content": SEED.read_text(encoding="utf-8"),
        "content_is_html": False,
        "published": PUBLISHED,
    }
    values.update(overrides)
    return RawEntry(**values)  # type: ignore[arg-type]


@pytest.mark.timeout(10)
def test_seed_story_dateline_is_parsed_and_removed() -> None:
    article = normalize(seed_entry())
    assert article.dateline == Dateline(
        place="WASHINGTON", date="March 17", agency="Alliance News", iso_date="2025-03-17"
    )
    assert article.body.startswith("US President Donald Trump has announced plans")
    assert "Alliance News" not in article.body


@pytest.mark.timeout(10)
def test_seed_story_fields() -> None:
    article = normalize(seed_entry())
    assert article.language == "en"
    assert article.url == SEED.as_uri()
    assert article.source == SourceRef("Seeds", SEED.as_uri())
    assert article.published == PUBLISHED
    assert article.summary.startswith("US President Donald Trump has announced plans")
    assert article.summary.endswith("in Moscow.")
    assert len(article.summary) <= 300
    assert "“We want to see if we can bring that war to an end." in article.body  # quotes kept
    assert len(article.id) == 20 and len(article.fingerprint) == 64


@pytest.mark.timeout(10)
def test_same_text_from_two_files_has_one_fingerprint_and_two_ids() -> None:
    first = normalize(seed_entry(guid="a"))
    second = normalize(seed_entry(guid="b", source_url="file:///elsewhere/copy.txt"))
    assert first.fingerprint == second.fingerprint
    assert first.body == second.body
    assert first.id != second.id


@pytest.mark.timeout(10)
def test_id_prefers_guid_then_link_then_text() -> None:
    by_guid = normalize(seed_entry(guid="urn:x", link="https://wire.example/a"))
    by_link = normalize(seed_entry(link="https://wire.example/a?utm_source=x"))
    by_same_link = normalize(seed_entry(link="https://WIRE.example/a#top", title="Other"))
    by_text = normalize(seed_entry())
    assert by_link.id == by_same_link.id  # the canonical URL, not the spelling
    assert len({by_guid.id, by_link.id, by_text.id}) == 3


@pytest.mark.timeout(10)
def test_feed_entry_with_html() -> None:
    entry = RawEntry(
        source_name="Wire Example",
        source_url="https://wire.example/rss.xml",
        title="Zelenskiy backs energy truce &amp; more",
        content=(
            "<p>KYIV, March 18 (Reuters) - Zelenskiy said Kyiv would back a halt to strikes.</p>"
            "<p>He spoke to reporters.</p><p>Sign up for our newsletter</p>"
            "<script>track()</script>"
        ),
        content_is_html=True,
        guid="wire.example:001",
        link="https://wire.example/world/zelenskiy?utm_source=rss&id=4",
        published=datetime(2025, 3, 18, 19, 42, tzinfo=UTC),
        language="en-GB",
    )
    article = normalize(entry)
    assert article.title == "Zelenskiy backs energy truce & more"
    assert (
        article.body == "Zelenskiy said Kyiv would back a halt to strikes.\nHe spoke to reporters."
    )
    assert article.url == "https://wire.example/world/zelenskiy?id=4"
    assert article.dateline is not None and article.dateline.agency == "Reuters"
    assert article.language == "en"


@pytest.mark.timeout(10)
def test_feed_summary_used_when_body_empty() -> None:
    entry = RawEntry(
        source_name="Wire Example",
        source_url="https://wire.example/rss.xml",
        title="Quake",
        content="",
        content_is_html=False,
        summary="<p>ATHENS (AFP) - A strong earthquake struck off Crete. No one was hurt.</p>",
        language=None,
    )
    article = normalize(entry)
    assert article.body == ""
    assert article.summary == "A strong earthquake struck off Crete. No one was hurt."
    assert article.url == "https://wire.example/rss.xml"


@pytest.mark.timeout(10)
def test_language_detected_when_not_declared() -> None:
    entry = seed_entry(content="PARIS (AFP) - Le gouvernement a annoncé mardi un cessez-le-feu.")
    article = normalize(entry)
    assert article.language == "fr"


@pytest.mark.timeout(10)
@pytest.mark.parametrize("path", sorted(SEEDS.glob("*.txt")), ids=lambda p: p.name)
def test_every_seed_normalizes_with_its_dateline_removed(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    article = normalize(seed_entry(content=text, source_url=path.as_uri()))
    first_line = text.split("\n", 1)[0]
    if article.dateline is None:
        assert article.body.split("\n", 1)[0] == first_line  # the story without a dateline
    else:
        assert first_line.endswith(article.body.split("\n", 1)[0])
        assert len(article.body.split("\n", 1)[0]) < len(first_line)
    assert article.language == "en"


@pytest.mark.timeout(10)
def test_seed_dateline_styles() -> None:
    found = {
        path.name[:3]: normalize(seed_entry(content=path.read_text(encoding="utf-8"))).dateline
        for path in SEEDS.glob("*.txt")
    }
    assert found["001"] == Dateline("KYIV", "March 18", "Reuters", "2025-03-18")
    assert found["002"] == Dateline("UNITED NATIONS", None, "AP", None)
    assert found["003"] == Dateline("ATHENS", None, "AFP", None)
    assert found["004"] == Dateline("FRANKFURT", "March 18", "dpa", "2025-03-18")
    assert found["005"] is None


@pytest.mark.timeout(10)
def test_credit_line_does_not_change_the_story_hash_much() -> None:
    text = (SEEDS / "001_reuters_zelenskiy_energy_truce.txt").read_text(encoding="utf-8")
    original = normalize(seed_entry(content=text))
    without_credit = normalize(seed_entry(content=text.rsplit("\n(Reporting", 1)[0]))
    assert original.body == without_credit.body  # the credit line is boilerplate
    assert hamming(simhash(original.body), simhash(without_credit.body)) == 0
