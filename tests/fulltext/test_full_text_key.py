"""`full_text:` in feeds.yaml: auto by default for http(s), never for local sources (a value
written there is reported, not honoured), anything else a `path:line:` error."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.fetch.sources import load_sources

pytestmark = pytest.mark.timeout(10)


def load(tmp_path: Path, make_settings, body: str):  # type: ignore[no-untyped-def]
    (tmp_path / "spool").mkdir(exist_ok=True)
    (tmp_path / "local.xml").write_text("<rss/>", encoding="utf-8")
    path = tmp_path / "feeds.yaml"
    path.write_text("feeds:\n" + body, encoding="utf-8")
    return path, load_sources(path, make_settings())


def test_modes_and_defaults(tmp_path: Path, make_settings) -> None:  # type: ignore[no-untyped-def]
    _path, listing = load(tmp_path, make_settings, (
        "  - url: https://a.example/rss\n"
        "  - url: https://b.example/rss\n    full_text: always\n"
        "  - url: https://c.example/rss\n    full_text: never\n"
        "  - url: local.xml\n"
        "  - url: spool\n"
    ))  # fmt: skip
    assert [s.full_text for s in listing.sources] == ["auto", "always", "never", "never", "never"]
    assert listing.errors == [] and listing.notes == []


def test_a_local_source_never_fetches_and_says_so(tmp_path: Path, make_settings) -> None:  # type: ignore[no-untyped-def]
    path, listing = load(tmp_path, make_settings, "  - url: spool\n\n    full_text: always\n")
    assert listing.sources[0].full_text == "never"
    assert listing.notes == [
        f"{path}:4: full_text always is ignored for {listing.sources[0].url}: "
        "local files and spools never fetch pages"
    ]


@pytest.mark.parametrize("value", ["sometimes", "yes", "1", "[auto]"])
def test_a_bad_value_is_a_path_line_error(tmp_path: Path, make_settings, value: str) -> None:  # type: ignore[no-untyped-def]
    path, listing = load(tmp_path, make_settings, (
        f"  - url: https://a.example/rss\n    full_text: {value}\n  - url: https://ok.example/\n"
    ))  # fmt: skip
    assert len(listing.errors) == 1
    assert listing.errors[0].startswith(f"{path}:3: `full_text` must be auto, always or never")
    assert [s.url for s in listing.sources] == ["https://ok.example/"]
