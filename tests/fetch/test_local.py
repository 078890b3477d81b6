"""Local sources: a feed file (changed or not) and a spool folder (each file once)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ingest.errors import FetchError, TooLarge
from ingest.fetch import localsource, schedule
from ingest.fetch.fetcher import Fetcher
from ingest.fetch.schedule import PollOutcome, SourceState, interval_in_force_s, next_state
from ingest.models import FetchResult, Source
from ingest.parse.documents import parse_document
from tests.fetch.helpers import MidRandom, rss

pytestmark = pytest.mark.timeout(10)

SEED = Path(__file__).resolve().parents[2] / "seeds" / "000_820d276074f311ca.txt"


def make_old(path: Path, seconds_ago: float = 60) -> None:
    stamp = time.time() - seconds_ago
    os.utime(path, (stamp, stamp))


async def poll(settings, source: Source, state: SourceState) -> tuple[FetchResult, SourceState]:  # type: ignore[no-untyped-def]
    async with Fetcher(settings) as fetcher:
        result = await fetcher.fetch(source, state)
    outcome = PollOutcome.success(result, len(result.documents))
    return result, next_state(state, outcome, datetime.now(UTC), source, settings, MidRandom())


def file_source(path: Path) -> Source:
    return Source(url=str(path), name="file", kind="file", interval_s=60)


def spool_source(path: Path) -> Source:
    return Source(url=path.as_uri(), name="spool", kind="spool", interval_s=60)


async def test_file_source_changes(tmp_path: Path, make_settings) -> None:
    feed = tmp_path / "feed.xml"
    feed.write_bytes(rss(2))
    settings = make_settings()
    first, state = await poll(settings, file_source(feed), SourceState())
    assert len(first.documents) == 1 and not first.not_modified
    assert first.documents[0].url == feed.as_uri()
    assert len(parse_document(first.documents[0], first.source).entries) == 2

    unchanged, state = await poll(settings, file_source(feed), state)
    assert unchanged.not_modified and unchanged.documents == ()

    feed.write_bytes(rss(3))
    changed, _ = await poll(settings, file_source(feed), state)
    assert len(parse_document(changed.documents[0], changed.source).entries) == 3


async def test_file_uri_source(tmp_path: Path, make_settings) -> None:
    story = tmp_path / "a story.txt"
    story.write_bytes(SEED.read_bytes())
    source = Source(url=story.as_uri(), name="f", kind="file", interval_s=60)
    result, _ = await poll(make_settings(), source, SourceState())
    entry = parse_document(result.documents[0], source).entries[0]
    assert entry.source_url == story.as_uri()
    assert entry.title.startswith("US President Donald Trump has announced")


async def test_file_over_cap(tmp_path: Path, make_settings) -> None:
    feed = tmp_path / "big.xml"
    feed.write_bytes(rss(50))
    with pytest.raises(TooLarge):
        await poll(make_settings(max_body_bytes=1000), file_source(feed), SourceState())


async def test_missing_file(tmp_path: Path, make_settings) -> None:
    with pytest.raises(FetchError, match="cannot read"):
        await poll(make_settings(), file_source(tmp_path / "gone.xml"), SourceState())


async def test_spool_ingests_each_file_once(tmp_path: Path, make_settings) -> None:
    for name in ("b.txt", "a.txt", ".hidden.txt", "c.txt.part", "d.xml~"):
        (tmp_path / name).write_bytes(SEED.read_bytes())
        make_old(tmp_path / name)
    (tmp_path / "sub").mkdir()
    (tmp_path / "fresh.txt").write_bytes(b"STILL BEING WRITTEN")  # mtime: now
    # A settle time well above the time between the polls, however loaded the machine: the
    # fresh file is still being written at the second poll (with 0.25 s a slow second poll
    # found it settled).
    settings = make_settings(spool_settle_s=10)
    first, state = await poll(settings, spool_source(tmp_path), SourceState())
    assert sorted(d.url.rsplit("/", 1)[-1] for d in first.documents) == ["a.txt", "b.txt"]

    second, state = await poll(settings, spool_source(tmp_path), state)
    assert second.not_modified and second.documents == ()

    make_old(tmp_path / "fresh.txt", 30)
    (tmp_path / "a.txt").write_bytes(b"LONDON (Reuters) - A corrected story. More.")
    make_old(tmp_path / "a.txt", 20)
    third, _ = await poll(settings, spool_source(tmp_path), state)
    assert [d.url.rsplit("/", 1)[-1] for d in third.documents] == ["fresh.txt", "a.txt"]


async def test_spool_feed_file_and_story(tmp_path: Path, make_settings) -> None:
    (tmp_path / "feed.xml").write_bytes(rss(4))
    (tmp_path / "story.txt").write_bytes(SEED.read_bytes())
    for path in tmp_path.iterdir():
        make_old(path)
    source = spool_source(tmp_path)
    result, _ = await poll(make_settings(), source, SourceState())
    counts = {
        d.url.rsplit("/", 1)[-1]: len(parse_document(d, source).entries) for d in result.documents
    }
    assert counts == {"feed.xml": 4, "story.txt": 1}


async def test_spool_oversized_file_is_skipped(tmp_path: Path, make_settings) -> None:
    (tmp_path / "big.txt").write_bytes(b"word " * 1000)
    (tmp_path / "small.txt").write_bytes(b"word " * 10)
    for path in tmp_path.iterdir():
        make_old(path)
    result, _ = await poll(
        make_settings(max_body_bytes=1000), spool_source(tmp_path), SourceState()
    )
    assert [d.url.rsplit("/", 1)[-1] for d in result.documents] == ["small.txt"]


async def test_spool_memory_is_bounded(tmp_path: Path, make_settings, monkeypatch) -> None:
    monkeypatch.setattr(schedule, "SPOOL_SEEN_MAX", 2)
    for n in range(5):
        (tmp_path / f"{n}.txt").write_bytes(f"Story number {n}.".encode())
        make_old(tmp_path / f"{n}.txt", 100 - n)
    settings = make_settings()
    first, state = await poll(settings, spool_source(tmp_path), SourceState())
    assert len(first.documents) == 5
    assert len(state.spool_seen) == 2 and state.spool_horizon_ns > 0
    again, state = await poll(settings, spool_source(tmp_path), state)
    assert again.documents == ()
    (tmp_path / "5.txt").write_bytes(b"Story number 5.")
    make_old(tmp_path / "5.txt", 10)
    latest, _ = await poll(settings, spool_source(tmp_path), state)
    assert [d.url.rsplit("/", 1)[-1] for d in latest.documents] == ["5.txt"]


async def test_missing_spool_folder(tmp_path: Path, make_settings) -> None:
    with pytest.raises(FetchError):
        await poll(make_settings(), spool_source(tmp_path / "nope"), SourceState())


async def test_spool_says_when_to_look_again_and_what_it_left(
    tmp_path: Path, make_settings
) -> None:
    (tmp_path / "old.txt").write_bytes(SEED.read_bytes())
    make_old(tmp_path / "old.txt")
    (tmp_path / "fresh.txt").write_bytes(SEED.read_bytes())  # still changing: mtime now
    (tmp_path / "big.txt.part").write_bytes(b"half")
    settings = make_settings(spool_settle_s=2.0)
    result, state = await poll(settings, spool_source(tmp_path), SourceState())
    assert [d.url.rsplit("/", 1)[-1] for d in result.documents] == ["old.txt"]
    assert result.left_for_later == ("big.txt.part",)
    assert result.settles_in_s is not None and 0 < result.settles_in_s <= 2.01
    assert state.next_due_at is not None  # the re-poll is set for when fresh.txt has landed
    delay_s = (state.next_due_at - datetime.now(UTC)).total_seconds()
    assert delay_s <= 2.01


async def test_spool_burst_is_read_in_bounded_polls(
    tmp_path: Path, make_settings, monkeypatch
) -> None:
    monkeypatch.setattr(localsource, "SPOOL_MAX_FILES_PER_POLL", 3)
    for n in range(7):
        (tmp_path / f"s{n}.txt").write_bytes(SEED.read_bytes())
        make_old(tmp_path / f"s{n}.txt", 60 - n)
    settings = make_settings()
    state, names = SourceState(), []
    for _ in range(3):
        result, state = await poll(settings, spool_source(tmp_path), state)
        names += [d.url.rsplit("/", 1)[-1] for d in result.documents]
        assert result.more_pending == (len(names) < 7)
    assert names == [f"s{n}.txt" for n in range(7)]


def test_local_sources_keep_their_interval_and_http_has_a_floor(make_settings) -> None:
    settings = make_settings(min_interval_s=60)
    spool = Source(url="/spool", name="s", kind="spool", interval_s=1)
    feed = Source(url="https://wire.example/rss", name="w", kind="http", interval_s=10)
    assert interval_in_force_s(spool, settings) == 1
    assert interval_in_force_s(feed, settings) == 60
    quiet = PollOutcome.success(FetchResult(source=spool, documents=()), 0)
    state = next_state(SourceState(), quiet, datetime.now(UTC), spool, settings, MidRandom())
    assert state.interval_s == 1  # no adaptation, no floor
