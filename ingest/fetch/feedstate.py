"""Per-source state and seen entry ids in Redis.

    {prefix}feed:state               hash: source key -> SourceState JSON
    {prefix}feed:listed              hash: source key -> when a worker first saw it in feeds.yaml
                                     (unix s), so a source never polled can be flagged stale
    {prefix}feed:seen:{digest}       sorted set: entry id -> last new or changed (unix s), and
                                     "entry id#version" -> first seen, one member per version of
                                     its title and text; trimmed to `max_seen` newest and
                                     `seen_ttl_s` of age
    {prefix}feed:counts:{digest}     hash: pages_fetched, pages_failed, backfill_skipped

The client is a `redis.asyncio.Redis` built by the caller (this module does not import redis).
Redis failures leave as StoreError.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from ingest.errors import StoreError
from ingest.fetch.schedule import SourceState

log = logging.getLogger(__name__)

DEFAULT_MAX_SEEN = 10_000  # entry ids kept per source: far more than any feed shows at once
DEFAULT_SEEN_TTL_S = 30 * 86400
COUNTS = ("pages_fetched", "pages_failed", "backfill_skipped")


@dataclass(frozen=True, slots=True)
class Versions:
    """Which entries of a poll are new, which came back changed, and whether the source had
    no seen entries at all (its first poll, as far as Redis knows)."""

    new: frozenset[str]
    changed: frozenset[str]
    first_poll: bool


class FeedStateStore:
    def __init__(
        self,
        client: Any,
        key_prefix: str,
        *,
        max_seen: int = DEFAULT_MAX_SEEN,
        seen_ttl_s: int = DEFAULT_SEEN_TTL_S,
    ) -> None:
        self._client = client
        self._state_key = f"{key_prefix}feed:state"
        self._listed_key = f"{key_prefix}feed:listed"
        self._seen_prefix = f"{key_prefix}feed:seen:"
        self._counts_prefix = f"{key_prefix}feed:counts:"
        self._max_seen = max_seen
        self._seen_ttl_s = seen_ttl_s

    def seen_key(self, source_key: str) -> str:
        return f"{self._seen_prefix}{_source_digest(source_key)}"

    def counts_key(self, source_key: str) -> str:
        return f"{self._counts_prefix}{_source_digest(source_key)}"

    async def get(self, source_key: str) -> SourceState:
        """The stored state, or a fresh one (also when the stored JSON is unreadable)."""
        async with _redis_errors("read feed state"):
            raw = await self._client.hget(self._state_key, source_key)
        return _decode_state(source_key, raw) if raw is not None else SourceState()

    async def get_many(self, source_keys: list[str]) -> dict[str, SourceState]:
        """The stored states of these sources (a fresh one where none is stored), one HMGET."""
        if not source_keys:
            return {}
        async with _redis_errors("read feed states"):
            raw = await self._client.hmget(self._state_key, source_keys)
        return {
            key: _decode_state(key, value) if value is not None else SourceState()
            for key, value in zip(source_keys, raw, strict=True)
        }

    async def put(self, source_key: str, state: SourceState) -> None:
        payload = json.dumps(state.to_json(), separators=(",", ":"))
        async with _redis_errors("write feed state"):
            await self._client.hset(self._state_key, source_key, payload)

    async def mark_listed(self, source_keys: Iterable[str]) -> None:
        """Note when each source was first seen in feeds.yaml (kept if known already)."""
        now_s = time.time()
        async with _redis_errors("write feed listing"):
            pipe = self._client.pipeline(transaction=False)
            for key in source_keys:
                pipe.hsetnx(self._listed_key, key, f"{now_s:.0f}")
            await pipe.execute()

    async def listed_at(self, source_keys: list[str]) -> dict[str, float]:
        """When each of these sources was first seen in feeds.yaml (unix s), where known."""
        if not source_keys:
            return {}
        async with _redis_errors("read feed listing"):
            values = await self._client.hmget(self._listed_key, source_keys)
        return {k: float(v) for k, v in zip(source_keys, values, strict=True) if v is not None}

    async def delete(self, source_key: str) -> None:
        """Forget a source that left feeds.yaml."""
        async with _redis_errors("delete feed state"):
            await self._client.hdel(self._state_key, source_key)
            await self._client.hdel(self._listed_key, source_key)
            await self._client.delete(self.seen_key(source_key), self.counts_key(source_key))

    async def all(self) -> dict[str, SourceState]:
        """Every source's state, for `wirewatch feeds`."""
        async with _redis_errors("read feed states"):
            raw = await self._client.hgetall(self._state_key)
        return {_text(key): _decode_state(_text(key), value) for key, value in raw.items()}

    async def filter_new(self, source_key: str, entry_ids: Iterable[str]) -> list[str]:
        """The ids not seen before for this source, in the given order, without repeats."""
        unique = list(dict.fromkeys(entry_ids))
        if not unique:
            return []
        async with _redis_errors("read seen entries"):
            scores = await self._client.zmscore(self.seen_key(source_key), unique)
        return [entry_id for entry_id, score in zip(unique, scores, strict=True) if score is None]

    async def mark_seen(self, source_key: str, entry_ids: Iterable[str]) -> None:
        """Remember ids; keeps the first-seen time of ids already known, trims by age and count."""
        unique = list(dict.fromkeys(entry_ids))
        if not unique:
            return
        now_s = time.time()
        key = self.seen_key(source_key)
        async with _redis_errors("write seen entries"):
            pipe = self._client.pipeline(transaction=True)
            pipe.zadd(key, dict.fromkeys(unique, now_s), nx=True)
            pipe.zremrangebyscore(key, "-inf", now_s - self._seen_ttl_s)
            pipe.zremrangebyrank(key, 0, -(self._max_seen + 1))
            pipe.expire(key, self._seen_ttl_s)
            await pipe.execute()

    async def versions(self, source_key: str, entries: Mapping[str, str]) -> Versions:
        """Classify entries (id -> version digest) against the seen set: one round trip.
        An entry whose version is known costs nothing more; one whose id is known but not
        its version came back changed."""
        ids = list(entries)
        if not ids:
            return Versions(frozenset(), frozenset(), first_poll=False)
        key = self.seen_key(source_key)
        members = ids + [version_member(i, entries[i]) for i in ids]
        async with _redis_errors("read seen entries"):
            pipe = self._client.pipeline(transaction=False)
            pipe.zmscore(key, members)
            pipe.exists(key)
            scores, exists = await pipe.execute()
        known_ids, known_versions = scores[: len(ids)], scores[len(ids) :]
        new: set[str] = set()
        changed: set[str] = set()
        for entry_id, id_score, version_score in zip(ids, known_ids, known_versions, strict=True):
            if version_score is not None:
                continue
            (changed if id_score is not None else new).add(entry_id)
        return Versions(frozenset(new), frozenset(changed), first_poll=not exists)

    async def mark_versions(self, source_key: str, entries: Mapping[str, str]) -> None:
        """Remember these entries (id -> version digest): the id's time moves to now, so an
        entry that keeps changing is trimmed last; each version keeps its first-seen time."""
        if not entries:
            return
        now_s = time.time()
        key = self.seen_key(source_key)
        versions = {version_member(i, v): now_s for i, v in entries.items()}
        async with _redis_errors("write seen entries"):
            pipe = self._client.pipeline(transaction=True)
            pipe.zadd(key, dict.fromkeys(entries, now_s))
            pipe.zadd(key, versions, nx=True)
            pipe.zremrangebyscore(key, "-inf", now_s - self._seen_ttl_s)
            pipe.zremrangebyrank(key, 0, -(self._max_seen + 1))
            pipe.expire(key, self._seen_ttl_s)
            await pipe.execute()

    async def add_counts(self, source_key: str, **counts: int) -> None:
        """Add to the source's page and backfill counters (`COUNTS`)."""
        wanted = {name: n for name, n in counts.items() if n}
        if not wanted:
            return
        async with _redis_errors("write feed counters"):
            pipe = self._client.pipeline(transaction=False)
            for name, n in wanted.items():
                pipe.hincrby(self.counts_key(source_key), name, n)
            await pipe.execute()

    async def counts(self, source_keys: list[str]) -> dict[str, dict[str, int]]:
        """Each source's counters (every name of `COUNTS`, 0 when never counted)."""
        async with _redis_errors("read feed counters"):
            pipe = self._client.pipeline(transaction=False)
            for key in source_keys:
                pipe.hmget(self.counts_key(key), list(COUNTS))
            rows = await pipe.execute() if source_keys else []
        return {
            key: {name: int(v or 0) for name, v in zip(COUNTS, row, strict=True)}
            for key, row in zip(source_keys, rows, strict=True)
        }


def version_member(entry_id: str, version: str) -> str:
    """The seen-set member of one version of an entry."""
    return f"{entry_id}#{version}"


def _source_digest(source_key: str) -> str:
    return hashlib.sha256(source_key.encode("utf-8")).hexdigest()[:24]


@asynccontextmanager
async def _redis_errors(action: str) -> AsyncIterator[None]:
    """Translate the client's exceptions (not imported here) into StoreError."""
    try:
        yield
    except StoreError:
        raise
    except Exception as exc:
        raise StoreError(f"cannot {action} in Redis: {type(exc).__name__}: {exc}") from exc


def _text(value: bytes | str) -> str:
    return value.decode("utf-8") if isinstance(value, bytes) else value


def _decode_state(source_key: str, raw: bytes | str) -> SourceState:
    try:
        return SourceState.from_json(json.loads(raw))
    except (ValueError, TypeError, KeyError) as exc:
        log.warning("feed state of %s is unreadable (%s); starting afresh", source_key, exc)
        return SourceState()
