"""OPML files in the shapes feed readers write (opml/*.opml, expectations beside each), bad ones
refused with `path:line: message`, and what export writes read back as it was."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.errors import OpmlError
from ingest.parse.opml import Subscription, read_opml, write_opml

pytestmark = pytest.mark.timeout(30)

CASES = Path(__file__).parent / "opml"
CASE_FILES = sorted(CASES.glob("*.opml"))


def expected(path: Path) -> dict[str, Any]:
    return json.loads(path.with_suffix(".expected.json").read_text(encoding="utf-8"))


def test_every_case_has_expectations() -> None:
    assert len(CASE_FILES) >= 12
    for path in CASE_FILES:
        assert path.with_suffix(".expected.json").is_file(), path.name


@pytest.mark.parametrize("path", CASE_FILES, ids=lambda p: p.name)
def test_case(path: Path) -> None:
    want = expected(path)
    if "errors" in want:
        with pytest.raises(OpmlError) as caught:
            read_opml(path.read_bytes(), str(path))
        problems = caught.value.problems
        assert len(problems) == len(want["errors"]), problems
        for problem, wanted in zip(problems, want["errors"], strict=True):
            assert problem.startswith(f"{path}:{wanted.split(':', 1)[0]}: "), problem
            assert wanted.split(": ", 1)[1] in problem, problem
        return
    opml = read_opml(path.read_bytes(), str(path))
    got = [[s.url, s.name, s.group, s.line] for s in opml.subscriptions]
    assert got == want["feeds"]
    assert opml.empty_folders == want["empty_folders"]


def test_a_file_in_latin1_and_utf16_reads_the_same() -> None:
    text = (
        '<?xml version="1.0" encoding="{}"?>\n<opml version="2.0"><body>'
        '<outline text="Zürich Süd" xmlUrl="https://z.example/rss"/></body></opml>'
    )
    for codec in ("iso-8859-1", "utf-16"):
        opml = read_opml(text.format(codec).encode(codec), "x.opml")
        assert [(s.name, s.url) for s in opml.subscriptions] == [
            ("Zürich Süd", "https://z.example/rss")
        ]


def test_export_is_opml_2_with_folders_where_their_first_feed_stands() -> None:
    feeds = [
        Subscription("https://a.example/rss", "A", None, 0),
        Subscription("https://b.example/rss", 'B & "b"', "Tech", 0),
        Subscription("https://c.example/rss", "C", None, 0),
        Subscription("https://d.example/rss?x=1&y=2", "D", "Tech", 0),
    ]
    text = write_opml(feeds, "wirewatch sources", datetime(2026, 12, 2, tzinfo=UTC))
    assert '<opml version="2.0">' in text
    assert "<dateCreated>Wed, 02 Dec 2026 00:00:00 +0000</dateCreated>" in text
    back = read_opml(text.encode("utf-8"), "export.opml").subscriptions
    assert [(s.url, s.name, s.group) for s in back] == [
        ("https://a.example/rss", "A", None),
        ("https://b.example/rss", 'B & "b"', "Tech"),
        ("https://d.example/rss?x=1&y=2", "D", "Tech"),
        ("https://c.example/rss", "C", None),
    ]


# Names as feeds.yaml gives them: stripped (sources.py strips), any character XML can carry.
NAMES = (
    st.text(
        st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffe\uffff"),
        max_size=40,
    )
    .map(lambda text: " ".join(text.split()))
    .filter(bool)
)
HOSTS = st.from_regex(r"[a-z][a-z0-9-]{0,20}\.example", fullmatch=True)
PATHS = st.text(st.sampled_from("abcxyz019/-_.~%?=&;:@!$'()*+,"), max_size=30)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(HOSTS, PATHS, NAMES, st.one_of(st.none(), NAMES)), max_size=8))
def test_what_export_writes_imports_as_it_was(
    items: list[tuple[str, str, str, str | None]],
) -> None:
    feeds = [Subscription(f"https://{h}/{p}", name, group, 0) for h, p, name, group in items]
    text = write_opml(feeds, "t", datetime(2026, 12, 2, tzinfo=UTC))
    if not feeds:
        with pytest.raises(OpmlError, match="no outlines"):
            read_opml(text.encode("utf-8"), "t.opml")
        return
    back = read_opml(text.encode("utf-8"), "t.opml").subscriptions
    assert sorted((s.url, s.name, s.group or "") for s in back) == sorted(
        (f.url, f.name, f.group or "") for f in feeds
    )


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_junk_is_refused_with_a_line_never_a_crash(junk: bytes) -> None:
    try:
        read_opml(b"<opml><body>" + junk, "junk.opml")
    except OpmlError as exc:
        assert all(problem.startswith("junk.opml:") for problem in exc.problems)
