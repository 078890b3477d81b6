"""Redis clients, built in one place from `WIREWATCH_REDIS_URL` (see `redisurl.py`).

A `redis://` or `rediss://` URL is one server. A `redis+sentinel://` URL is a Sentinel set: the
client (redis-py's own Sentinel support) asks the sentinels for the primary whenever it opens a
connection, so after a failover the next connection goes to the new primary; connections to
the old one are dropped as they come back to the pool, and one that finds its server demoted to
a replica (READONLY) is closed and the call fails like any Redis outage (the caller retries, the
outbox keeps alerts). The first time a process finds the primary moved it logs one line with the
old and the new address. Scripts are loaded again where the new primary lacks them (redis-py's
Script objects do so on NOSCRIPT, and a pipeline checks SCRIPT EXISTS before it runs).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import redis
import redis.asyncio as aioredis
import redis.asyncio.sentinel as aiosentinel
import redis.sentinel as syncsentinel
from redis import exceptions as redis_errors

from ingest.delivery.redisurl import SentinelUrl, is_sentinel_url, parse_sentinel_url

log = logging.getLogger(__name__)

# One set of client options for every process. The read timeout is longer than any blocking
# read wirewatch makes (XREAD BLOCK 5 s, WAIT up to WIREWATCH_REDIS_MIN_REPLICAS_TIMEOUT_S).
CLIENT_OPTIONS: dict[str, Any] = {
    "decode_responses": True,
    "socket_connect_timeout": 5,
    "socket_timeout": 10,
    "health_check_interval": 30,
}
# The sentinels answer small questions: a dead one is passed over quickly.
SENTINEL_OPTIONS: dict[str, Any] = {"socket_connect_timeout": 2, "socket_timeout": 2}

REDIS_ERRORS = (redis_errors.ConnectionError, redis_errors.TimeoutError, redis_errors.ResponseError)
MasterNotFoundError = aiosentinel.MasterNotFoundError


class UnknownService(aiosentinel.MasterNotFoundError):
    """Every sentinel answered, and none monitors a primary by that name."""


def connect(url: str, overrides: Mapping[str, Any] | None = None) -> aioredis.Redis:
    """An asyncio client for `url` (one server, or the primary a Sentinel set names); lazy.
    `overrides`: client options in place of CLIENT_OPTIONS' (the health probe's timeouts)."""
    options = {**CLIENT_OPTIONS, **(overrides or {})}
    if not is_sentinel_url(url):
        return aioredis.Redis.from_url(url, **options)
    target = parse_sentinel_url(url)
    sentinels = _Sentinels(target.sentinels, sentinel_kwargs=_sentinel_kwargs(target))
    client: aioredis.Redis = sentinels.master_for(
        target.service,
        redis_class=_SentinelRedis,
        connection_pool_class=_FollowingPool,
        **_primary_kwargs(target, options),
    )
    return client


def connect_sync(url: str) -> redis.Redis:
    """A blocking client for `url`, for scripts and benchmarks: the same URL forms."""
    if not is_sentinel_url(url):
        return redis.Redis.from_url(url, **CLIENT_OPTIONS)
    target = parse_sentinel_url(url)
    sentinels = syncsentinel.Sentinel(target.sentinels, sentinel_kwargs=_sentinel_kwargs(target))
    client: redis.Redis = sentinels.master_for(
        target.service, redis_class=_SyncSentinelRedis, **_primary_kwargs(target)
    )
    return client


def sentinel_failure(url: str, exc: BaseException) -> str | None:
    """What a failure to find the primary means, in words; None when it is another failure."""
    if not is_sentinel_url(url) or not isinstance(exc, MasterNotFoundError):
        return None
    target = parse_sentinel_url(url)
    if isinstance(exc, UnknownService):
        return (
            f"the {target.where}: no sentinel monitors a primary named {target.service!r} "
            f"({exc}). Check the service name at the end of WIREWATCH_REDIS_URL"
        )
    return f"the {target.where}: no primary known (down, or a failover under way): {exc}"


def _tls_kwargs(target: SentinelUrl) -> dict[str, Any]:
    return {"ssl": True, **dict(target.tls_options)} if target.tls else {}


def _sentinel_kwargs(target: SentinelUrl) -> dict[str, Any]:
    kwargs: dict[str, Any] = {**SENTINEL_OPTIONS, **_tls_kwargs(target)}
    if target.sentinel_password is not None:
        kwargs["password"] = target.sentinel_password
    if target.sentinel_username is not None:
        kwargs["username"] = target.sentinel_username
    return kwargs


def _primary_kwargs(
    target: SentinelUrl, options: Mapping[str, Any] = CLIENT_OPTIONS
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {**options, **_tls_kwargs(target), "db": target.db}
    if target.password is not None:
        kwargs["password"] = target.password
    if target.username is not None:
        kwargs["username"] = target.username
    return kwargs


def _address(address: Any) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"


class _Sentinels(aiosentinel.Sentinel):
    """Says, when no primary is found, what each sentinel answered, in one line each; and tells
    an unknown service name (a configuration mistake) from a primary that is down."""

    async def discover_master(self, service_name: str) -> Any:
        try:
            return await super().discover_master(service_name)
        except MasterNotFoundError as exc:
            answers = [await self._asked(sentinel, service_name) for sentinel in self.sentinels]
            said = "; ".join(f"{where}: {answer}" for where, answer, _ in answers)
            if all(knows is False for _, _, knows in answers):
                raise UnknownService(said) from exc
            raise MasterNotFoundError(said) from exc

    @staticmethod
    async def _asked(sentinel: aioredis.Redis, service_name: str) -> tuple[str, str, bool | None]:
        """(where, what it said, whether it monitors the service: None when it did not say)."""
        kwargs = sentinel.connection_pool.connection_kwargs
        where = _address((kwargs.get("host"), kwargs.get("port")))
        try:
            masters: Any = await sentinel.sentinel_masters()
        except redis_errors.AuthenticationError:
            if kwargs.get("password"):
                return where, "refused the sentinel password (?sentinel_password=)", None
            return where, "asks for a password: give it as ?sentinel_password=...", None
        except (redis_errors.ConnectionError, redis_errors.TimeoutError) as exc:
            return where, str(exc) or type(exc).__name__, None
        except redis_errors.ResponseError as exc:
            return where, str(exc), None
        state = masters.get(service_name)
        if state is None:
            known = ", ".join(repr(name) for name in masters) or "none"
            return where, f"monitors no {service_name!r} (it knows: {known})", False
        flags = [f for f in ("is_sdown", "is_odown") if state.get(f)]
        return where, f"{service_name!r} is down ({', '.join(flags) or 'not a primary'})", True


# The primary each Sentinel set (its sentinels and service name) was last said to have, for
# the whole process: a process with several clients (the service's and its health probe's)
# says a move once, not once per client.
_PRIMARY_SAID: dict[tuple[Any, ...], Any] = {}


class _FollowingPool(aiosentinel.SentinelConnectionPool):
    """The primary's connections; says so once when the sentinels name another primary."""

    async def get_master_address(self) -> Any:
        address = await self.sentinel_manager.discover_master(self.service_name)
        if self.master_address != address:
            self.master_address = address
            # (redis-py moves the sentinel that answered to the front: the set is sorted.)
            where = sorted(_address(_where(s)) for s in self.sentinel_manager.sentinels)
            key = (self.service_name, *where)
            before = _PRIMARY_SAID.get(key)
            _PRIMARY_SAID[key] = address
            if before == address:
                pass  # another client of this process said it already
            elif before is None:
                log.info("Redis primary of %r is %s", self.service_name, _address(address))
            else:
                log.warning(
                    "Redis primary of %r moved from %s to %s (failover)",
                    self.service_name,
                    _address(before),
                    _address(address),
                )
            # Idle connections to the old primary reconnect on their next use.
            await self.disconnect(inuse_connections=False)
        return address


def _where(sentinel: Any) -> tuple[Any, Any]:
    kwargs = sentinel.connection_pool.connection_kwargs
    return kwargs.get("host"), kwargs.get("port")


class _SentinelRedis(aioredis.Redis):
    """Closing the client also closes its connections to the sentinels."""

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        pool = self.connection_pool
        if isinstance(pool, aiosentinel.SentinelConnectionPool):
            await pool.sentinel_manager.aclose()


class _SyncSentinelRedis(redis.Redis):
    def close(self) -> None:
        super().close()
        pool = self.connection_pool
        if isinstance(pool, syncsentinel.SentinelConnectionPool):
            for sentinel in pool.sentinel_manager.sentinels:
                sentinel.close()
