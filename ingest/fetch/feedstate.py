"""Per-source state and seen entry ids in Redis.

    {prefix}feed:state               hash: source key -> SourceState JSON
    {prefix}feed:listed              hash: source key -> when a worker first saw it in feeds.yaml
                                     (unix s), so a source never polled can be flagged stale
    {prefix}feed:seen:{digest}       sorted set: entry id -> first seen (unix s), trimmed to
                                     `max_seen` newest and `seen_ttl_s` of age

The client is a `redis.asyncio.Redis` built by the caller (this module does not import redis).
Redis failures leave as StoreError.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from ingest.errors import StoreError
from ingest.fetch.schedule import SourceState

log = logging.getLogger(__name__)

DEFAULT_MAX_SEEN = 10_000  # entry ids kept per source: far more than any feed shows at once
DEFAULT_SEEN_TTL_S = 30 * 86400


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
        self._max_seen = max_seen
        self._seen_ttl_s = seen_ttl_s

    def seen_key(self, source_key: str) -> str:
        digest = hashlib.sha256(source_key.encode("utf-8")).hexdigest()[:24]
        return f"{self._seen_prefix}{digest}"

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
            await self._client.delete(self.seen_key(source_key))

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
