"""The real Redis for the story tests (story assignment is a Lua script: its semantics matter)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis

from tests.conftest import TEST_REDIS_URL


@pytest.fixture
async def client() -> AsyncIterator[aioredis.Redis]:
    """A client on WIREWATCH_TEST_REDIS_URL; fails (does not skip) when Redis is down."""
    connection = aioredis.Redis.from_url(TEST_REDIS_URL)
    try:
        await connection.ping()
        yield connection
    finally:
        await connection.aclose()
