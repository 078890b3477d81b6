"""feeds.yaml edited as text: new entries at the end of the list in its own layout, every comment
and blank line kept (feedsedit/NAME.yaml -> NAME.expected.yaml, or NAME.error: nothing written)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.errors import ConfigError
from ingest.fetch.feedsedit import (
    NewEntry,
    append_entries,
    known_urls,
    url_identity,
    yaml_scalar,
)
from ingest.fetch.sources import load_sources
from ingest.yamlfile import load_yaml_text

pytestmark = pytest.mark.timeout(30)

CASES = Path(__file__).parent / "feedsedit"
INPUTS = sorted(p for p in CASES.glob("*.yaml") if not p.name.endswith(".expected.yaml"))
NEW = [
    NewEntry("https://new.example/rss", "New: one", "World"),
    NewEntry("https://two.example/feed?a=1&b=2", "yes"),
]


@pytest.mark.parametrize("case", INPUTS, ids=lambda p: p.stem)
def test_case(case: Path, tmp_path: Path, make_settings) -> None:  # type: ignore[no-untyped-def]
    target = tmp_path / "feeds.yaml"
    original = case.read_bytes()
    target.write_bytes(original)
    error = case.with_suffix(".error")
    if error.exists():
        line, message = error.read_text(encoding="utf-8").strip().split(": ", 1)
        with pytest.raises(ConfigError) as caught:
            append_entries(target, NEW, "imported from x.opml")
        assert str(caught.value).startswith(f"{target}:{line}: "), caught.value
        assert message in str(caught.value)
        assert target.read_bytes() == original
        return
    append_entries(target, NEW, "imported from x.opml")
    assert target.read_bytes() == case.with_name(f"{case.stem}.expected.yaml").read_bytes()
    listing = load_sources(target, make_settings())
    added = [(s.url, s.name, s.group) for s in listing.sources[-2:]]
    assert added == [
        ("https://new.example/rss", "New: one", "World"),
        ("https://two.example/feed?a=1&b=2", "yes", None),
    ]


def test_a_missing_file_is_created(tmp_path: Path) -> None:
    target = tmp_path / "conf" / "feeds.yaml"
    append_entries(target, NEW[:1])
    assert target.read_text(encoding="utf-8") == (
        'feeds:\n  - url: https://new.example/rss\n    name: "New: one"\n    group: World\n'
    )


def test_the_file_keeps_its_mode_and_a_symlink_stays_one(tmp_path: Path) -> None:
    real = tmp_path / "real.yaml"
    real.write_text("feeds:\n  - url: https://a.example/rss\n", encoding="utf-8")
    real.chmod(0o640)
    link = tmp_path / "feeds.yaml"
    link.symlink_to(real)
    append_entries(link, NEW[:1])
    assert link.is_symlink() and "new.example" in real.read_text(encoding="utf-8")
    assert real.stat().st_mode & 0o777 == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_known_urls_also_count_broken_entries(tmp_path: Path) -> None:
    target = tmp_path / "feeds.yaml"
    target.write_text(
        "feeds:\n  - url: HTTPS://A.example:443/rss#top\n    interval_s: soon\n"
        "  - https://b.example\n  - name: no url\n",
        encoding="utf-8",
    )
    assert known_urls(target) == {"https://a.example/rss": 2, "https://b.example/": 4}
    assert known_urls(tmp_path / "absent.yaml") == {}


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("https://a.example/rss", "HTTPS://A.EXAMPLE/rss"),
        ("http://a.example:80/x?y=1", "http://a.example/x?y=1#frag"),
        ("https://a.example", "https://a.example/"),
    ],
)
def test_the_same_address_spelled_differently(one: str, other: str) -> None:
    assert url_identity(one) == url_identity(other)


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("https://a.example/rss", "http://a.example/rss"),
        ("https://a.example/RSS", "https://a.example/rss"),
        ("https://a.example/x?y=1", "https://a.example/x?y=2"),
    ],
)
def test_different_addresses(one: str, other: str) -> None:
    assert url_identity(one) != url_identity(other)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60))
def test_any_text_is_written_so_it_reads_back_as_itself(value: str) -> None:
    loaded = load_yaml_text(f"key: {yaml_scalar(value)}\n", "t.yaml")
    assert loaded["key"] == value


@pytest.mark.parametrize(
    "value", ["yes", "on", "null", "~", "12", "1.5", "0x1F", "2026-12-02", "- a", "#x", "a: b"]
)
def test_words_yaml_would_read_as_something_else_are_quoted(value: str) -> None:
    assert yaml_scalar(value).startswith('"')


def test_a_file_changed_on_disk_meanwhile_is_not_half_written(tmp_path: Path) -> None:
    """The write is a rename: a reader sees the old file or the new one, never a part."""
    target = tmp_path / "feeds.yaml"
    target.write_text("feeds:\n  - url: https://a.example/rss\n", encoding="utf-8")
    before = os.stat(target).st_ino
    append_entries(target, NEW)
    assert os.stat(target).st_ino != before


# feeds.yaml as people write it: any indentation of the list, comments and blank lines anywhere,
# items long or short, keys after the list.
INDENTS = st.sampled_from([(0, 2), (2, 4), (4, 6), (2, 6), (4, 8)])  # (dash column, key column)
NOISE = st.lists(st.sampled_from(["", "# a note", "   # indented note", "#"]), max_size=2)
ITEMS = st.lists(
    st.tuples(
        st.sampled_from(["https://a.example/rss", "https://b.example/x?y=1", "https://c.example/"]),
        st.sampled_from([None, "Name", "Quoted: name", "y"]),
        st.booleans(),  # the shorthand `- URL`
        st.sampled_from(["", "  # trailing"]),
        NOISE,
    ),
    max_size=4,
)


@settings(max_examples=200, deadline=None)
@given(INDENTS, ITEMS, NOISE, st.booleans(), st.lists(st.sampled_from(NEW), min_size=1, max_size=2))
def test_any_layout_keeps_every_line_and_gains_the_entries(
    tmp_path_factory: pytest.TempPathFactory,
    indent: tuple[int, int],
    items: list[tuple[str, str | None, bool, str, list[str]]],
    head: list[str],
    key_after: bool,
    new: list[NewEntry],
) -> None:
    dash, key = indent
    lines = [*head, "feeds:" if items else "feeds: []"]
    for url, name, short, trailing, noise in items:
        if short:
            lines.append(f"{' ' * dash}- {url}{trailing}")
        else:
            lines.append(f"{' ' * dash}-{' ' * (key - dash - 1)}url: {url}{trailing}")
            if name:
                lines.append(f"{' ' * key}name: {yaml_scalar(name)}")
        lines += [f"{' ' * dash}{n}" if n.strip() else n for n in noise]
    if key_after:
        lines += ["", "# the next key", "other:", "  key: 1"]
    target = tmp_path_factory.mktemp("layout") / "feeds.yaml"
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    append_entries(target, new)
    after = target.read_text(encoding="utf-8").split("\n")
    kept = iter(after)
    for line in lines:
        if line.startswith("feeds:"):
            line = "feeds:"
        assert any(line == candidate for candidate in kept), line  # every line, in order
    data = load_yaml_text("\n".join(after), "t.yaml")
    assert data["feeds"][-len(new) :] == [entry.as_data() for entry in new]
    assert ("other" in data) is key_after
