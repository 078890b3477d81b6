"""The seen set with entry versions, as properties on fakeredis: an entry is new, changed or
the same as a version recorded before, and the set never outgrows its cap."""

from __future__ import annotations

import asyncio

import fakeredis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.fetch.feedstate import FeedStateStore

ENTRY_IDS = st.sampled_from([f"e{n}" for n in range(12)])
POLL = st.dictionaries(ENTRY_IDS, st.sampled_from(["v1", "v2", "v3"]), max_size=12)


@pytest.mark.timeout(60)
@settings(max_examples=120, deadline=None)
@given(polls=st.lists(POLL, min_size=1, max_size=6))
def test_new_changed_and_unchanged_entries(polls: list[dict[str, str]]) -> None:
    """Without trimming (a cap larger than any history), each poll's entries are classified
    against everything recorded by the polls before it."""

    async def scenario() -> list[tuple[set[str], set[str], bool, int]]:
        client = fakeredis.aioredis.FakeRedis()
        states = FeedStateStore(client, "p:", max_seen=1000)
        seen = []
        for poll in polls:
            found = await states.versions("src", poll)
            await states.mark_versions("src", poll)
            seen.append((set(found.new), set(found.changed), found.first_poll,
                         await client.zcard(states.seen_key("src"))))  # fmt: skip
        await client.aclose()
        return seen

    recorded_ids: set[str] = set()
    recorded_versions: set[tuple[str, str]] = set()
    for poll, (new, changed, first, _size) in zip(polls, asyncio.run(scenario()), strict=True):
        assert new == {e for e in poll if e not in recorded_ids}
        assert changed == {e for e, v in poll.items()
                           if e in recorded_ids and (e, v) not in recorded_versions}  # fmt: skip
        assert first is (not recorded_ids) or not poll
        recorded_ids |= set(poll)
        recorded_versions |= set(poll.items())


@pytest.mark.timeout(60)
@settings(max_examples=60, deadline=None)
@given(polls=st.lists(POLL, min_size=1, max_size=8), cap=st.integers(2, 20))
def test_the_seen_set_stays_within_its_cap(polls: list[dict[str, str]], cap: int) -> None:
    async def scenario() -> list[int]:
        client = fakeredis.aioredis.FakeRedis()
        states = FeedStateStore(client, "p:", max_seen=cap)
        sizes = []
        for poll in polls:
            await states.mark_versions("src", poll)
            sizes.append(await client.zcard(states.seen_key("src")))
        await client.aclose()
        return sizes

    assert all(size <= cap for size in asyncio.run(scenario()))
