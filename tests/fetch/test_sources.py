"""feeds.yaml loading: kinds, relative paths, defaults, and bad entries reported by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.errors import ConfigError
from ingest.fetch.sources import load_sources

pytestmark = pytest.mark.timeout(10)


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "spool").mkdir(exist_ok=True)
    (tmp_path / "local.xml").write_text("<rss/>", encoding="utf-8")
    path = tmp_path / "conf" / "feeds.yaml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_kinds_paths_and_defaults(tmp_path: Path, make_settings) -> None:
    path = write(
        tmp_path,
        f"""feeds:
  - url: https://example.org/world/rss.xml
    name: Example World
    interval_s: 120
  - url: ../spool
  - url: {(tmp_path / "local.xml").as_uri()}
    allow_private: true
  - url: ../local.xml
  - http://intranet.example/feed
""",
    )
    listing = load_sources(path, make_settings(default_interval_s=600))
    assert listing.errors == []
    got = [(s.kind, s.name, s.interval_s, s.allow_private, s.line) for s in listing.sources]
    assert got == [
        ("http", "Example World", 120.0, False, 2),
        ("spool", "spool", 600.0, False, 5),
        ("file", "local.xml", 600.0, True, 6),
        ("file", "local.xml", 600.0, False, 8),
        ("http", "intranet.example/feed", 600.0, False, 9),
    ]
    assert listing.sources[1].url == str(tmp_path / "spool")
    assert listing.sources[3].url == str(tmp_path / "local.xml")


BAD_ENTRIES = [
    ("  - name: no url\n", "2: `url` must be a non-empty string"),
    ("  - url: ''\n", "2: `url` must be a non-empty string"),
    (
        "  - url: https://a.example/\n    interval_s: -5\n",
        "3: `interval_s` must be a positive number",
    ),
    (
        "  - url: https://a.example/\n    interval_s: soon\n",
        "3: `interval_s` must be a positive number",
    ),
    (
        "  - url: https://a.example/\n    interval_s: true\n",
        "3: `interval_s` must be a positive number",
    ),
    (
        "  - url: https://a.example/\n    allow_private: yes please\n",
        "3: `allow_private` must be true or false",
    ),
    ("  - url: https://a.example/\n    intervall_s: 60\n", "3: unknown key 'intervall_s'"),
    ("  - url: ftp://files.example/feed\n", "2: unsupported URL scheme 'ftp:'"),
    ("  - url: https:///no-host\n", "2: `url` has no host"),
    ("  - url: ../missing.xml\n", "2: no such file or folder: ../missing.xml"),
    ("  - [1, 2]\n", "2: a source must be a mapping"),
    ("  - url: https://good.example/\n  - url: https://good.example/\n", "3: duplicate source"),
]


@pytest.mark.parametrize(("entry", "message"), BAD_ENTRIES)
def test_bad_entry_is_reported_and_the_rest_load(
    tmp_path: Path, make_settings, entry, message
) -> None:
    path = write(tmp_path, "feeds:\n" + entry + "  - url: https://ok.example/rss\n")
    listing = load_sources(path, make_settings())
    assert len(listing.errors) == 1
    assert listing.errors[0].startswith(f"{path}:{message}")
    assert listing.sources[-1].url == "https://ok.example/rss"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", ":1: empty file"),
        ("feeds: [\n", "invalid YAML"),
        ("- url: https://a.example/\n", ":1: expected a mapping with a `feeds:` list"),
        ("other: 1\n", ":1: expected a mapping with a `feeds:` list"),
        ("\nfeeds: https://a.example/\n", ":2: `feeds` must be a list"),
    ],
)
def test_unusable_file(tmp_path: Path, make_settings, text, message) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_sources(path, make_settings())
    assert str(caught.value).startswith(str(path))
    assert message in str(caught.value)


def test_empty_feed_list(tmp_path: Path, make_settings) -> None:
    listing = load_sources(write(tmp_path, "feeds:\n"), make_settings())
    assert (listing.sources, listing.errors) == ([], [])


def test_missing_file(tmp_path: Path, make_settings) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_sources(tmp_path / "nope.yaml", make_settings())
