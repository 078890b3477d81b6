"""feeds.yaml as the running service sees it: re-read on change, last good sources kept."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from ingest.errors import ConfigError
from ingest.fetch.sources import SourcesFile

pytestmark = pytest.mark.timeout(10)


def write(path: Path, text: str, mtime_ns: int) -> None:
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_reload_on_change_and_keep_last_good(make_settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings()
    feeds = settings.feeds_file
    write(feeds, "feeds:\n  - url: https://a.example/rss\n", 1_000_000_000)
    watched = SourcesFile(settings)
    assert watched.refresh() and [s.url for s in watched.sources] == ["https://a.example/rss"]
    assert not watched.refresh()  # unchanged: not re-read

    write(feeds, "feeds:\n  - url: https://a.example/rss\n  - url: https://b.example/rss\n",
          2_000_000_000)  # fmt: skip
    assert watched.refresh() and len(watched.sources) == 2

    write(feeds, "feeds: [unclosed\n", 3_000_000_000)  # a broken edit
    assert not watched.refresh()
    assert len(watched.sources) == 2  # still polling what was there


def test_first_load_of_a_broken_file_is_an_error(make_settings) -> None:  # type: ignore[no-untyped-def]
    settings = make_settings()
    settings.feeds_file.write_text("feeds: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"feeds\.yaml:1:"):
        SourcesFile(settings).refresh()


def test_an_http_interval_below_the_floor_is_reported_once_with_its_line(  # type: ignore[no-untyped-def]
    make_settings, tmp_path: Path, caplog
) -> None:
    (tmp_path / "inbox").mkdir()
    feeds = tmp_path / "feeds.yaml"
    feeds.write_text(
        "feeds:\n"
        "  - url: https://wire.example/rss\n"
        "    interval_s: 10\n"
        "  - url: inbox\n"
        "    interval_s: 1\n",
        encoding="utf-8",
    )
    sources = SourcesFile(make_settings(feeds_file=feeds, min_interval_s=60))
    with caplog.at_level(logging.WARNING):
        sources.refresh()
        sources.refresh()  # unchanged: not said again
    notes = [r.getMessage() for r in caplog.records]
    assert notes == [
        f"{feeds}:3: interval_s 10 is below the floor for http(s) sources "
        "(WIREWATCH_MIN_INTERVAL_S=60); https://wire.example/rss is polled every 60 s at the most"
    ]
