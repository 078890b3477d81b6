"""Redis: the shared state and the bus. With `connections.py` (which builds the clients), the
only module that imports redis.

Key layout (all under `settings.key_prefix` except alert streams, which carry the channel name
so that a subscriber can XREAD the channel it knows):

    {p}article:{article_id}       the article was handled: "<fingerprint>|<story id>" of the
                                  version handled last ("1" from older versions) (EX seen_ttl_s)
    {p}claim:{rule_id}:{story_id} the rule alerted on this story (EX alert_claim_ttl_s)
    {p}lease:{source_key}         the worker polling this source now (PX lease_ttl_s)
    {p}recent                     stream of recent articles, for `rules test --since`
    {p}rulestats:{hour}           hash: rule id -> alerts published in that hour (unix s // 3600),
                                  EX rule_stats_ttl_s; the web console's per-rule counts
    {p}rulestats:last             hash: rule id -> unix ms of its last alert
    {channel}                     capped stream of the alerts published on that channel
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import redis.asyncio as aioredis
from redis import exceptions as redis_errors
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from ingest.delivery.connections import REDIS_ERRORS as REDIS_ERRORS
from ingest.delivery.connections import UnknownService, connect, sentinel_failure
from ingest.delivery.redisurl import describe_url as describe_url
from ingest.errors import ConfigError, NotReplicated, StoreError
from ingest.models import Alert, Article
from ingest.settings import Settings

# Claim, append, count and publish in one atomic step: either the alert is claimed *and* in the
# stream *and* counted *and* published, or none of it happened and a retry may do it. The hour
# comes from the stream id (Redis's clock), so a count sits in the same hour as its entry; the
# hourly key is named inside the script for that reason (ARGV[6] is the key prefix). A repeat
# touches the claim when ARGV[9] is '1' (WIREWATCH_REDIS_MIN_REPLICAS is set): the write makes the
# WAIT that follows cover the claim, which an earlier, unacknowledged call may have made.
_PUBLISH_ONCE = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  local id = redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*',
                        'alert_id', ARGV[1], 'alert', ARGV[4])
  local ms = string.match(id, '^(%d+)')
  local hourly = ARGV[6] .. 'rulestats:' .. math.floor(tonumber(ms) / 3600000)
  redis.call('HINCRBY', hourly, ARGV[7], 1)
  redis.call('EXPIRE', hourly, ARGV[8])
  redis.call('HSET', KEYS[3], ARGV[7], ms)
  redis.call('PUBLISH', ARGV[5], ARGV[4])
  return id
end
if ARGV[9] == '1' then
  local ttl = redis.call('PTTL', KEYS[1])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[1], ttl) end
end
return false
"""

# Taking a lease is re-entrant: the worker that holds it takes it again (and renews it). A
# release that failed (the primary died, a failover kept the lease on the new one) must not keep
# the holder itself off its own source until the lease expires.
_ACQUIRE_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return 1
end
return 0
"""

_RENEW_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
"""

_RELEASE_LEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""

# Hourly alert counts live a little longer than the 24 h the console shows, so the oldest hour
# shown is complete whatever the clock skew between hosts.
RULE_STATS_TTL_S = 26 * 3600


@dataclass(frozen=True, slots=True)
class RuleActivity:
    """One rule's alerts per hour (oldest first) and the unix ms of its last alert."""

    per_hour: tuple[int, ...]
    last_alert_ms: int | None


log = logging.getLogger(__name__)

PROBE_OPTIONS: dict[str, Any] = {  # the health probe's PING: trouble noticed within ~2 s
    "socket_connect_timeout": 1.0,
    "socket_timeout": 1.0,
    "retry": Retry(NoBackoff(), 0),
}


@dataclass
class RedisHealth:
    """Whether Redis answered lately: the service reports an outage once, not once per call.

    An outage is measured from when the first call that failed was sent (or the last answer,
    if later) to the first answer after it, not from when the failure was noticed: a call may
    wait for its socket timeout before it fails."""

    down_since: float | None = None  # time.time() when this outage began
    error: str = ""
    outages: int = 0
    last_answer_at: float | None = None  # time.time()
    last_outage_s: float | None = None  # the length of the last outage that ended
    # The health probe's last PING went unanswered and nothing has answered since: a call now
    # would most likely wait for its socket timeout. Only the probe sets it, so a process
    # that runs no probe (`run --once`, the CLI) always tries.
    probe_failing: bool = False

    def failed(self, error: str, sent_at: float | None = None) -> None:
        if self.down_since is None:
            began = time.time() if sent_at is None else sent_at
            self.down_since = max(began, self.last_answer_at or began)
            self.outages += 1
        self.error = error

    def answered(self) -> None:
        now = time.time()
        self.probe_failing = False
        if self.down_since is not None:
            self.last_outage_s = max(0.0, now - self.down_since)
            self.down_since = None
        self.last_answer_at = now

    @property
    def up(self) -> bool:
        return self.down_since is None


class Store:
    """Claims, leases, recent articles and alert publishing on one Redis."""

    def __init__(self, client: aioredis.Redis, settings: Settings) -> None:
        self.client = client
        self.settings = settings
        self.prefix = settings.key_prefix
        self._publish_once = client.register_script(_PUBLISH_ONCE)
        self._acquire = client.register_script(_ACQUIRE_LEASE)
        self._renew = client.register_script(_RENEW_LEASE)
        self._release = client.register_script(_RELEASE_LEASE)
        self.health = RedisHealth()
        self._probe: aioredis.Redis | None = None  # a client of its own, for `probe`
        self._short_of_replicas = False  # said once until replicas acknowledge again

    @classmethod
    def from_settings(cls, settings: Settings) -> Store:
        return cls(connect(settings.redis_url), settings)

    async def close(self) -> None:
        if self._probe is not None:
            await self._probe.aclose()
        await self.client.aclose()

    async def probe(self) -> bool:
        """One PING on a client of its own, with a short timeout and no retries, so that the
        service notices Redis trouble within about a second, whatever its other calls wait
        for; the answer (or its absence) goes into `health`."""
        if self._probe is None:
            self._probe = connect(self.settings.redis_url, PROBE_OPTIONS)
        try:
            await self.guard(self._probe.ping())
        except StoreError:
            self.health.probe_failing = True
            return False
        return True

    async def ping(self) -> None:
        """Raise StoreError with an actionable message when Redis cannot be reached, and
        ConfigError when the URL's Sentinel set monitors no primary by its service name."""
        try:
            await self.guard(self.client.ping())
        except StoreError as exc:
            if isinstance(exc.__cause__, UnknownService):
                raise ConfigError(str(exc)) from exc
            raise

    async def wait_until_answering(self, stop: asyncio.Event) -> None:
        """Ping until Redis answers (or `stop` is set), saying each failure with the next wait:
        a service started before its Redis waits for it instead of exiting."""
        delay_s = 1.0
        while not stop.is_set():
            try:
                await self.ping()
                return
            except StoreError as exc:
                log.error("%s Retrying in %.0f s.", exc, delay_s)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay_s)
                delay_s = min(delay_s * 2, 30.0)

    async def guard(self, awaitable: Any) -> Any:
        """Await a Redis call; its failures become StoreError with an actionable message."""
        sent_at = time.time()
        try:
            answer = await awaitable
        except REDIS_ERRORS as exc:
            error = StoreError(self._failure(exc))
            self.health.failed(str(error), sent_at)
            raise error from exc
        self.health.answered()
        return answer

    def _failure(self, exc: Exception) -> str:
        url = self.settings.redis_url
        found = sentinel_failure(url, exc)
        if found is not None:
            return f"Redis through {found}. Set WIREWATCH_REDIS_URL to reach it."
        return (
            f"Redis at {describe_url(url)} failed: {str(exc).rstrip('.')}. Is it running? "
            "Set WIREWATCH_REDIS_URL to reach it."
        )

    # -- articles ---------------------------------------------------------------------------

    async def unseen_articles(self, article_ids: list[str]) -> set[str]:
        """Which of these articles were never handled (by any worker, in any run)."""
        if not article_ids:
            return set()
        keys = [f"{self.prefix}article:{a}" for a in article_ids]
        exists = await self.guard(self.client.mget(keys))
        return {a for a, v in zip(article_ids, exists, strict=True) if v is None}

    async def mark_articles_seen(self, article_ids: Iterable[str]) -> None:
        ttl_s = self.settings.seen_ttl_s
        async with self.client.pipeline(transaction=False) as pipe:
            for article_id in article_ids:
                pipe.set(f"{self.prefix}article:{article_id}", "1", ex=ttl_s)
            await self.guard(pipe.execute())

    async def article_marks(self, article_ids: list[str]) -> list[str | None]:
        """What was recorded when each article was last handled, None where never."""
        if not article_ids:
            return []
        keys = [f"{self.prefix}article:{a}" for a in article_ids]
        return list(await self.guard(self.client.mget(keys)))

    async def mark_articles_handled(self, marks: Mapping[str, str]) -> None:
        """Record each article (id -> "<fingerprint>|<story id>") as handled in that version."""
        ttl_s = self.settings.seen_ttl_s
        async with self.client.pipeline(transaction=False) as pipe:
            for article_id, mark in marks.items():
                pipe.set(f"{self.prefix}article:{article_id}", mark, ex=ttl_s)
            await self.guard(pipe.execute())

    async def remember_articles(self, articles: list[Article]) -> None:
        """Keep recent articles (bounded) so a new rule can be tried on them."""
        if not articles or self.settings.recent_articles_max == 0:
            return
        key = f"{self.prefix}recent"
        async with self.client.pipeline(transaction=False) as pipe:
            for article in articles:
                record = json.dumps(article.to_record(), ensure_ascii=False)
                pipe.xadd(
                    key,
                    {"article": record},
                    maxlen=self.settings.recent_articles_max,
                    approximate=True,
                )
            await self.guard(pipe.execute())

    async def recent_articles(self, since_s: float) -> list[Article]:
        """Articles remembered in the last `since_s` seconds, oldest first."""
        start_ms = int((time.time() - since_s) * 1000)
        entries = await self.guard(self.client.xrange(f"{self.prefix}recent", min=f"{start_ms}-0"))
        return [Article.from_record(json.loads(fields["article"])) for _, fields in entries]

    # -- alerts -----------------------------------------------------------------------------

    def claim_key(self, rule_id: str, story_id: str) -> str:
        return f"{self.prefix}claim:{rule_id}:{story_id}"

    async def publish_alert(self, alert: Alert, story_id: str) -> str | None:
        """Publish and stream the alert unless this rule already alerted on the story.

        Returns the stream entry id, or None when it was a repeat.
        """
        return await self.publish_payload(
            alert.match.rule_id, alert.match.channel, alert.alert_id, story_id, alert.dumps()
        )

    async def publish_payload(
        self, rule_id: str, channel: str, alert_id: str, story_id: str, payload: str
    ) -> str | None:
        if not self.settings.redis_min_replicas:
            result = await self.guard(self._publish(rule_id, channel, alert_id, story_id, payload))
            return str(result) if result else None
        async with self.client.pipeline(transaction=False) as pipe:
            await self._publish(rule_id, channel, alert_id, story_id, payload, pipe)
            results = await self._replicated(pipe)
        return str(results[0]) if results[0] else None

    async def publish_many(self, alerts: Sequence[tuple[Alert, str]]) -> list[str | None]:
        """`publish_alert` for many (alert, story id) pairs in one round trip; each is still
        its own atomic script call. A failure raises StoreError for the whole batch (the
        claims make a retry of the ones that did go through harmless)."""
        if not alerts:
            return []
        async with self.client.pipeline(transaction=False) as pipe:
            for alert, story_id in alerts:
                match = alert.match
                await self._publish(
                    match.rule_id, match.channel, alert.alert_id, story_id, alert.dumps(), pipe
                )
            results = await self._replicated(pipe)
        return [str(result) if result else None for result in results]

    async def _replicated(self, pipe: Any) -> list[Any]:
        """Run the pipeline; with WIREWATCH_REDIS_MIN_REPLICAS=N, then WAIT (on the same
        connection, as WAIT requires) until N replicas have every write so far, or the timeout.
        Fewer: NotReplicated, and the caller keeps the alerts in the outbox. The claims were
        made, so the retry finds them (a repeat) unless a failover lost them with the alerts:
        then it publishes them again, once."""
        wanted = self.settings.redis_min_replicas
        if not wanted:
            return list(await self.guard(pipe.execute()))
        timeout_ms = int(self.settings.redis_min_replicas_timeout_s * 1000)
        if self._short_of_replicas and await self._replicas_connected() < wanted:
            # Known short: keep the alerts back without a write and a WAIT that would block
            # every retry for the whole timeout.
            raise NotReplicated(f"fewer than {wanted} replicas are connected to the primary")
        pipe.execute_command("WAIT", wanted, timeout_ms)
        *results, acknowledged = await self.guard(pipe.execute())
        if int(acknowledged) < wanted:
            if not self._short_of_replicas:
                log.warning(
                    "only %d of the %d replicas WIREWATCH_REDIS_MIN_REPLICAS asks for "
                    "acknowledged alerts within %.1f s: they wait in the outbox until enough do",
                    int(acknowledged), wanted, self.settings.redis_min_replicas_timeout_s,
                )  # fmt: skip
            self._short_of_replicas = True
            raise NotReplicated(
                f"{int(acknowledged)} of {wanted} replicas acknowledged within {timeout_ms} ms"
            )
        if self._short_of_replicas:
            log.info("replicas acknowledge alerts again (%d of %d)", int(acknowledged), wanted)
            self._short_of_replicas = False
        return results

    def _publish(
        self,
        rule_id: str,
        channel: str,
        alert_id: str,
        story_id: str,
        payload: str,
        client: Any = None,
    ) -> Any:
        return self._publish_once(
            keys=[self.claim_key(rule_id, story_id), channel, self._last_alert_key],
            args=[
                alert_id,
                self.settings.alert_claim_ttl_s,
                self.settings.stream_maxlen,
                payload,
                channel,
                self.prefix,
                rule_id,
                RULE_STATS_TTL_S,
                "1" if self.settings.redis_min_replicas else "0",
            ],
            client=client,
        )

    async def _replicas_connected(self) -> int:
        """Replicas streaming from the primary now (ROLE lists those past their first sync)."""
        role = await self.guard(self.client.execute_command("ROLE"))
        return len(role[2]) if role and role[0] == "master" else 0

    @property
    def _last_alert_key(self) -> str:
        return f"{self.prefix}rulestats:last"

    async def rule_activity(
        self, rule_ids: Sequence[str], hours: int, now_s: float
    ) -> dict[str, RuleActivity]:
        """Each rule's alerts per hour (oldest hour first, the current one last) and the time
        of its last alert, from the counts the publish script keeps."""
        if not rule_ids:
            return {}
        current = int(now_s // 3600)
        async with self.client.pipeline(transaction=False) as pipe:
            for hour in range(current - hours + 1, current + 1):
                pipe.hmget(f"{self.prefix}rulestats:{hour}", list(rule_ids))
            pipe.hmget(self._last_alert_key, list(rule_ids))
            *hourly, last = await self.guard(pipe.execute())
        return {
            rule_id: RuleActivity(
                per_hour=tuple(int(row[i] or 0) for row in hourly),
                last_alert_ms=int(last[i]) if last[i] else None,
            )
            for i, rule_id in enumerate(rule_ids)
        }

    # -- leases -----------------------------------------------------------------------------

    def _lease_key(self, source_key: str) -> str:
        return f"{self.prefix}lease:{source_key}"

    async def acquire_lease(self, source_key: str, worker_id: str) -> bool:
        """Take the source's lease unless another worker holds it (this one may hold it
        already: a release lost to a Redis outage or a failover)."""
        ttl_ms = self.settings.lease_ttl_s * 1000
        took = await self.guard(
            self._acquire(keys=[self._lease_key(source_key)], args=[worker_id, ttl_ms])
        )
        return bool(took)

    async def renew_lease(self, source_key: str, worker_id: str) -> bool:
        ttl_ms = self.settings.lease_ttl_s * 1000
        kept = await self.guard(
            self._renew(keys=[self._lease_key(source_key)], args=[worker_id, ttl_ms])
        )
        return bool(kept)

    async def leased(self, source_keys: list[str]) -> set[str]:
        """Which of these sources some worker is polling now (holds the lease of)."""
        if not source_keys:
            return set()
        holders = await self.guard(self.client.mget([self._lease_key(k) for k in source_keys]))
        return {key for key, holder in zip(source_keys, holders, strict=True) if holder}

    async def release_lease(self, source_key: str, worker_id: str) -> None:
        await self.guard(self._release(keys=[self._lease_key(source_key)], args=[worker_id]))

    # -- consumer groups --------------------------------------------------------------------

    async def ensure_group(self, stream: str, group: str, start_id: str) -> None:
        """Create the consumer group (and the stream) unless it exists."""
        try:
            await self.client.xgroup_create(stream, group, id=start_id, mkstream=True)
        except redis_errors.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise StoreError(
                    f"cannot create consumer group {group!r} on {stream}: {exc}"
                ) from exc
        except REDIS_ERRORS as exc:
            raise StoreError(f"Redis failed creating group {group!r}: {exc}") from exc
