"""How `connect` turns each URL form into a client (no server needed: clients connect lazily).
The behaviour against real sentinels is in tests/service/test_failover*.py."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis
import redis.asyncio.sentinel as aiosentinel

from ingest.delivery.connections import CLIENT_OPTIONS, connect, connect_sync
from ingest.errors import ConfigError


async def test_one_server_url_is_one_server() -> None:
    client = connect("redis://:pw@127.0.0.1:6390/4")
    try:
        kwargs = client.connection_pool.connection_kwargs
        assert (kwargs["host"], kwargs["port"], kwargs["db"], kwargs["password"]) == (
            "127.0.0.1",
            6390,
            4,
            "pw",
        )
        assert not isinstance(client.connection_pool, aiosentinel.SentinelConnectionPool)
    finally:
        await client.aclose()


async def test_sentinel_url_gives_the_primary_of_the_service_with_both_passwords() -> None:
    client = connect("redis+sentinel://:redis-pw@s1:26379,s2/svc/3?sentinel_password=s-pw")
    try:
        pool = client.connection_pool
        assert isinstance(pool, aiosentinel.SentinelConnectionPool)
        assert pool.service_name == "svc" and pool.is_master
        assert pool.connection_kwargs["db"] == 3
        assert pool.connection_kwargs["password"] == "redis-pw"
        assert pool.connection_kwargs["decode_responses"] is CLIENT_OPTIONS["decode_responses"]
        sentinels = pool.sentinel_manager.sentinels
        assert [(s.connection_pool.connection_kwargs["host"],
                 s.connection_pool.connection_kwargs["port"]) for s in sentinels] == [
            ("s1", 26379), ("s2", 26379)
        ]  # fmt: skip
        assert all(s.connection_pool.connection_kwargs["password"] == "s-pw" for s in sentinels)
    finally:
        await client.aclose()


async def test_tls_sentinel_url_speaks_tls_to_sentinels_and_primary() -> None:
    client = connect("rediss+sentinel://s1/svc?ssl_ca_certs=/etc/ca.pem&ssl_cert_reqs=required")
    try:
        pool = client.connection_pool
        assert issubclass(pool.connection_class, aiosentinel.SentinelManagedSSLConnection)
        assert pool.connection_kwargs["ssl_ca_certs"] == "/etc/ca.pem"
        (sentinel,) = pool.sentinel_manager.sentinels
        assert issubclass(sentinel.connection_pool.connection_class, aioredis.SSLConnection)
        assert sentinel.connection_pool.connection_kwargs["ssl_ca_certs"] == "/etc/ca.pem"
    finally:
        await client.aclose()


def test_blocking_client_takes_the_same_forms() -> None:
    client = connect_sync("redis+sentinel://:pw@s1:26380/svc/2")
    try:
        pool = client.connection_pool
        assert pool.service_name == "svc"  # type: ignore[attr-defined]
        assert pool.connection_kwargs["db"] == 2 and pool.connection_kwargs["password"] == "pw"
    finally:
        client.close()


@pytest.mark.parametrize("url", ["redis+sentinel://s1", "redis+sentinel://s1/svc/x"])
def test_a_malformed_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="WIREWATCH_REDIS_URL"):
        connect(url)
