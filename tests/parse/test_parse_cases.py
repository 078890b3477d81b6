"""Every file in cases/ runs through parse_document; its expectations sit beside it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ingest.errors import ParseError
from ingest.models import Document, Source, iso_utc
from ingest.parse.documents import parse_document

CASES = Path(__file__).parent / "cases"
CASE_FILES = sorted(p for p in CASES.iterdir() if not p.name.endswith(".expected.json"))


def _expected(path: Path) -> dict[str, Any]:
    return json.loads((CASES / f"{path.stem}.expected.json").read_text(encoding="utf-8"))


def _source() -> Source:
    return Source(url=CASES.as_uri(), name="cases", kind="spool", interval_s=300)


def test_every_case_has_expectations() -> None:
    assert len(CASE_FILES) >= 20
    for path in CASE_FILES:
        assert (CASES / f"{path.stem}.expected.json").is_file(), path.name


@pytest.mark.timeout(10)
@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.name)
def test_case(path: Path) -> None:
    expected = _expected(path)
    doc = Document(
        url=path.as_uri(), body=path.read_bytes(), content_type=expected.get("content_type", "")
    )
    if "error" in expected:
        with pytest.raises(ParseError, match=None) as caught:
            parse_document(doc, _source())
        assert expected["error"] in str(caught.value)
        return
    parsed = parse_document(doc, _source())
    assert len(parsed.entries) == expected["entries"]
    for entry in parsed.entries:
        assert entry.source_url == path.as_uri()
        assert entry.source_name == "cases"
        assert entry.published is None or entry.published.utcoffset() is not None
    if "title" in expected:
        assert parsed.title == expected["title"]
    if "ttl_s" in expected:
        assert parsed.ttl_s == expected["ttl_s"]
    if parsed.entries:
        _check_first(parsed.entries[0], expected)


def _check_first(entry: Any, expected: dict[str, Any]) -> None:
    checks = {
        "first_title": entry.title,
        "first_link": entry.link,
        "first_guid": entry.guid,
        "published": iso_utc(entry.published),
        "content_is_html": entry.content_is_html,
        "language": entry.language,
    }
    for key, actual in checks.items():
        if key in expected:
            assert actual == expected[key], key
    for key, actual in (
        ("first_title_contains", entry.title),
        ("content_contains", entry.content),
        ("summary_contains", entry.summary),
    ):
        if key in expected:
            assert expected[key] in actual, key
    if "content_starts_with" in expected:
        assert entry.content.startswith(expected["content_starts_with"]), entry.content[:80]
