"""Seen-entry and seen-article bookkeeping as properties, on fakeredis: many examples, fast.

(Redis semantics that matter - scripts, streams, pub/sub, TTLs - are tested on the real server
elsewhere; these are plain set semantics over any ids.)
"""

from __future__ import annotations

import asyncio

import fakeredis
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.delivery.store import Store
from ingest.fetch.feedstate import FeedStateStore
from ingest.settings import Settings

ids = st.lists(st.text(min_size=1, max_size=12), max_size=30)


@pytest.mark.timeout(60)
@settings(max_examples=150, deadline=None)
@given(marked=ids, queried=ids, max_seen=st.integers(1, 50))
def test_filter_new_is_what_was_not_marked(
    marked: list[str], queried: list[str], max_seen: int
) -> None:
    async def scenario() -> list[str]:
        client = fakeredis.aioredis.FakeRedis()
        states = FeedStateStore(client, "p:", max_seen=max_seen)
        await states.mark_seen("src", marked)
        found = await states.filter_new("src", queried)
        await client.aclose()
        return found

    found = asyncio.run(scenario())
    unique = list(dict.fromkeys(queried))
    never_marked = [q for q in unique if q not in set(marked)]
    if len(set(marked)) <= max_seen:
        assert found == never_marked  # in order, without repeats
    else:  # trimmed to max_seen ids: never a false "seen", at most max_seen remembered
        assert set(never_marked) <= set(found) <= set(unique)
        assert len(set(unique) - set(found)) <= max_seen


@pytest.mark.timeout(60)
@settings(max_examples=100, deadline=None)
@given(marked=ids, queried=ids)
def test_unseen_articles_is_what_was_not_marked(marked: list[str], queried: list[str]) -> None:
    async def scenario() -> set[str]:
        store = Store(fakeredis.aioredis.FakeRedis(decode_responses=True), Settings(_env_file=None))  # type: ignore[call-arg]
        await store.mark_articles_seen(marked)
        unseen = await store.unseen_articles(queried)
        await store.close()
        return unseen

    assert asyncio.run(scenario()) == set(queried) - set(marked)
