"""Stories: syndicated copies of one wire story, across outlets, grouped under one story id.

An article joins an existing story when its text was seen before (an exact repeat) or when it
is a near copy of an article seen within the window. Near copies are found by SimHash over the
article's content (see `copies.prepare`: editor's notes and the sentences its source repeats
across stories are left out): within NEAR_DUPLICATE_BITS, confirmed by the check hash within
CHECK_BITS, candidates looked up through LSH band keys (no scan); or by its lede, through
min-hash keys of its opening words, so that a copy with a trimmed tail or an outlet's footer is
found too. A candidate is then verified on what makes a story its own (`content.verify`: the
openings, the names and numbers), because SimHash alone takes two different stories that share
a long footer for copies, and a false merge loses an alert.

Keys (all under `key_prefix + "story:"`, all expiring `window_s` after they were last written):

    story:fp:<fingerprint>     -> story id (short items: fp:id:<article id>, themselves only)
    story:band:<band label>    -> hash {article id: "<simhash>|<check>|<story id>|<expires at>"}
                                  (16 hex digits, 16 hex digits, the id, 10 digits: read by
                                  position)
    story:lede:<min-hash key>  -> the same, found by a shared lede min-hash (`content.lede_keys`)
    story:doc:<article id>     -> JSON {title, source, text}: what verifies a later copy
    story:src:<story id>       -> list of outlet JSON, first outlet first
    story:units:<source name>  -> sorted set {sentence key: stories of this source that had it},
                                  at most UNITS_MAX members (the least repeated are dropped)

Assignment is one Lua script, called again while it has something to say: that the article holds
sentences its source repeated in REPEATED_IN_STORIES stories or more other than those the caller
left out already (then the caller leaves them out and rehashes), or which candidates are not
verified yet (Python verifies, and the next call passes what was examined and the story chosen).
The script registers the article only when no unexamined candidate remains (or after MAX_ROUNDS
calls), so two workers assigning copies of one story at once still end with one story: Redis
runs scripts one at a time, and the second finds the first's entry to verify.

`assign_many` takes a batch (a poll's new articles) and keeps the round trips per article low:
the per-source sentence counts of the whole batch are read in one call up front and counted on
in memory as if each article starts a story, so an article whose source has boilerplate is
hashed once, without it; the first calls of the whole batch go in one pipeline, and only an
article with candidates to verify goes on alone; candidates' texts are read in one MGET, and
their features are kept (`copies.FEATURES_KEPT`, the most recently used), as the same recent
articles are the candidates of many.

Band entries carry their own expiry because a band key shared by many stories would otherwise
live for ever. The script builds key names itself (story ids are known only inside), so it needs
a single Redis or Valkey node rather than Redis Cluster.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, Protocol

from ingest.models import Article, SourceRef
from ingest.normalize.simhash import CHECK_BITS, NEAR_DUPLICATE_BITS, bands
from ingest.stories.content import Features, Lines, split_content, verify
from ingest.stories.copies import (
    REPEATED_IN_STORIES,
    UNITS_MAX,
    KeptFeatures,
    Prepared,
    Story,
    describe_copy,
    features_of_doc,
    prepare,
    source_key,
    unit_keys,
)

__all__ = ["Story", "StoryRegistry"]

log = logging.getLogger("ingest.stories")

MAX_ROUNDS = 5  # calls before the script decides with what was examined
# Candidates verified per call, the nearest first: same-template notices (earthquakes, market
# wraps) are all candidates of each other, and a copy of one is the nearest of them.
MAX_CANDIDATES = 32

# Hamming distance of two 64-bit hashes written as 16 hex digits.
HAMMING_LUA = """
-- popcount of the xor of two 16-digit hex strings, 32 bits at a time (Lua numbers are
-- doubles and cannot hold 64-bit integers exactly; the bit library works on 32 bits)
local function ones(x)
  x = x - bit.band(bit.rshift(x, 1), 0x55555555)
  x = bit.band(x, 0x33333333) + bit.band(bit.rshift(x, 2), 0x33333333)
  x = bit.band(x + bit.rshift(x, 4), 0x0F0F0F0F)
  x = x + bit.rshift(x, 8)
  return bit.band(x + bit.rshift(x, 16), 0x3F)
end
local function hamming(a, b)
  return ones(bit.bxor(tonumber(string.sub(a, 1, 8), 16), tonumber(string.sub(b, 1, 8), 16)))
    + ones(bit.bxor(tonumber(string.sub(a, 9, 16), 16), tonumber(string.sub(b, 9, 16), 16)))
end
"""

_ASSIGN = (
    HAMMING_LUA
    + """
local fp_key, units_key, doc_key = KEYS[1], KEYS[2], KEYS[3]
local story_prefix, article_id, simhash, check = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local source, window_s = ARGV[5], tonumber(ARGV[6])
local max_bits, max_check_bits = tonumber(ARGV[7]), tonumber(ARGV[8])
local decision, examined, doc = ARGV[9], ARGV[10], ARGV[11]
local units_max, force = tonumber(ARGV[12]), ARGV[13] == '1'
local band_count, repeated_min = tonumber(ARGV[14]), tonumber(ARGV[15])
local max_candidates, assumed = tonumber(ARGV[16]), ARGV[17]
local now = tonumber(redis.call('TIME')[1])

local story_id = redis.call('GET', fp_key)
local how = 'exact'
if not story_id and repeated_min > 0 and #ARGV > 17 then
  -- the source's boilerplate is not hashed: when the caller left out less than that
  -- (`assumed`, "|key|key|"), say which sentences it is, and the caller rehashes
  local units = {}
  for i = 18, #ARGV do table.insert(units, ARGV[i]) end
  local counts = redis.call('ZMSCORE', units_key, unpack(units))
  local repeated, more = {}, false
  for i = 1, #units do
    if counts[i] and tonumber(counts[i]) >= repeated_min then
      table.insert(repeated, units[i])
      more = more or not string.find(assumed, '|' .. units[i] .. '|', 1, true)
    end
  end
  if more then
    return {'repeated', repeated}
  end
end
if not story_id then
  how = 'near'
  if not force then
    local found, listed, tested, seen = {}, {}, {}, {}
    for id in string.gmatch(examined, '[^|]+') do seen[id] = true end
    for i = 4, #KEYS do
      -- the first band_count keys find near SimHashes; the rest share a lede min-hash
      local by_band = i < 4 + band_count
      local entries = redis.call('HGETALL', KEYS[i])
      for j = 1, #entries, 2 do
        -- "<simhash 16>|<check 16>|<story id>|<expires, 10 digits>": read by position
        local other, value = entries[j], entries[j + 1]
        if tonumber(string.sub(value, -10)) <= now then
          redis.call('HDEL', KEYS[i], other)
        elseif other ~= article_id and not listed[other] and not seen[other]
            and not (by_band and tested[other]) then
          local bits = hamming(simhash, value)
          if by_band then tested[other] = true end
          if not by_band or (bits <= max_bits
              and hamming(check, string.sub(value, 18, 33)) <= max_check_bits) then
            listed[other] = true
            table.insert(found, {other, string.sub(value, 35, -12), bits})
          end
        end
      end
    end
    -- the nearest first, a bounded number per call (template notices can be many)
    table.sort(found, function(x, y) return x[3] < y[3] or (x[3] == y[3] and x[1] < y[1]) end)
    local unexamined = {}
    for k = 1, math.min(#found, max_candidates) do
      table.insert(unexamined, {found[k][1], found[k][2], tostring(found[k][3])})
    end
    if #unexamined > 0 then
      return {'check', unexamined}
    end
  end
  if decision ~= '' then
    story_id = decision
  end
end

local is_new = 0
if not story_id then
  story_id, is_new, how = article_id, 1, 'new'
end
local expires = string.format('%010d', now + window_s)
local entry = simhash .. '|' .. check .. '|' .. story_id .. '|' .. expires
redis.call('SET', fp_key, story_id, 'EX', window_s)
redis.call('SET', doc_key, doc, 'EX', window_s)
for i = 4, #KEYS do
  redis.call('HSET', KEYS[i], article_id, entry)
  redis.call('EXPIRE', KEYS[i], window_s)
end
local sources_key = story_prefix .. 'src:' .. story_id
if not redis.call('LPOS', sources_key, source) then
  redis.call('RPUSH', sources_key, source)
end
redis.call('EXPIRE', sources_key, window_s)
if is_new == 1 and #ARGV > 17 then
  for i = 18, #ARGV do
    redis.call('ZINCRBY', units_key, 1, ARGV[i])
  end
  local extra = redis.call('ZCARD', units_key) - units_max
  if extra > 0 then
    redis.call('ZREMRANGEBYRANK', units_key, 0, extra - 1)
  end
  redis.call('EXPIRE', units_key, window_s)
end
local title = ''  -- a new story's is the article's own: the caller has it
local first = is_new == 0 and redis.call('GET', story_prefix .. 'doc:' .. story_id)
if first then
  local ok, record = pcall(cjson.decode, first)
  if ok and type(record) == 'table' and type(record.title) == 'string' then title = record.title end
end
return {'done', story_id, is_new, redis.call('LRANGE', sources_key, 0, -1), how, title}
"""
)


class ScriptingClient(Protocol):
    """The part of redis.asyncio.Redis this module uses."""

    def register_script(self, script: str) -> Any: ...

    def pipeline(self, transaction: bool = True) -> Any: ...

    def mget(self, keys: Any, *args: Any) -> Awaitable[list[Any]]: ...


class StoryRegistry:
    """Groups articles into stories in Redis; safe with any number of concurrent workers."""

    def __init__(
        self, client: ScriptingClient, key_prefix: str, window_s: int, units_max: int = UNITS_MAX
    ) -> None:
        self._client = client
        self._script = client.register_script(_ASSIGN)
        self._story_prefix = f"{key_prefix}story:"
        self._window_s = window_s
        self._units_max = units_max
        self._features = KeptFeatures()

    async def assign(self, article: Article) -> Story:
        """The story `article` belongs to, registering it (and its outlet) there.

        A copy (`not story.is_new`) is logged at info level: `article X is a copy of story Y
        first seen at OUTLET`."""
        return (await self.assign_many([article]))[0]

    async def assign_many(
        self, articles: Sequence[Article], kept: Mapping[str, str] | None = None
    ) -> list[Story]:
        """The stories of `articles`, in order. `kept` (article id -> story id): an updated
        article stays in the story its earlier version joined, which takes its new text.
         The first call of every article goes in one
        round trip: each sees the articles before it that it decided (Redis runs the calls in
        order); an article that has candidates to verify goes on alone after that, and then
        sees every article of the batch decided before it. Copies within a batch are one story
        as when assigned one by one, though which of them started it may differ."""
        bodies = [split_content(article.body) for article in articles]
        units = [unit_keys(body) for body in bodies]
        counts = await self._unit_counts(articles, units)
        pending: list[_Assignment] = []
        for article, body, keys in zip(articles, bodies, units, strict=True):
            seen = counts[source_key(article)]
            prior = (kept or {}).get(article.id)
            counts_now = {k: seen.get(k, 0) for k in keys}
            pending.append(_Assignment(article, body, counts_now, prior))
            # Counted as the script will if it starts a story, as most articles do; where it
            # does not, the script says which sentences the counts make boilerplate after all.
            for key in keys:
                seen[key] = seen.get(key, 0) + 1
        replies = await self._first_calls(pending)
        await self._load_candidates(replies)
        stories: list[Story] = []
        for assignment, reply in zip(pending, replies, strict=True):
            while (story := await self._take(assignment, reply)) is None:
                reply = await self._script(**self._call(assignment))
            stories.append(story)
        return stories

    async def _unit_counts(
        self, articles: Sequence[Article], units: list[list[str]]
    ) -> dict[str, dict[str, float]]:
        """How many stories of its source had each sentence of the batch: one round trip."""
        wanted: dict[str, dict[str, None]] = {}
        for article, keys in zip(articles, units, strict=True):
            wanted.setdefault(source_key(article), {}).update(dict.fromkeys(keys))
        asked = [(source, list(keys)) for source, keys in wanted.items() if keys]
        counts: dict[str, dict[str, float]] = {source: {} for source in wanted}
        if not asked:
            return counts
        pipe = self._client.pipeline(transaction=False)
        for source, keys in asked:
            pipe.zmscore(self._units_key(source), keys)
        for (source, keys), scores in zip(asked, await pipe.execute(), strict=True):
            counts[source] = {k: float(n) for k, n in zip(keys, scores, strict=True) if n}
        return counts

    async def _first_calls(self, pending: list[_Assignment]) -> list[Any]:
        if len(pending) == 1:
            return [await self._script(**self._call(pending[0]))]
        pipe = self._client.pipeline(transaction=False)
        for assignment in pending:
            await self._script(**self._call(assignment), client=pipe)
        return list(await pipe.execute())

    async def _load_candidates(self, replies: list[Any]) -> None:
        """Features of every candidate the first calls named, read in one MGET."""
        named = [_text(c[0]) for r in replies if _text(r[0]) == "check" for c in r[1]]
        await self._features_of(list(dict.fromkeys(named)))

    def _call(self, assignment: _Assignment) -> dict[str, Any]:
        assignment.rounds += 1
        prepared = assignment.prepared
        return {
            "keys": self._keys(prepared, self._units_key(source_key(prepared.article))),
            "args": self._args(assignment),
        }

    async def _take(self, assignment: _Assignment, reply: Any) -> Story | None:
        """The story, or None when the script wants another call (what it said is taken)."""
        article = assignment.prepared.article
        kind = _text(reply[0])
        if kind == "done":
            return self._story(article, reply[1:])
        if kind == "repeated":
            # Another worker's new stories made more of it boilerplate since the counts were
            # read: once more without those too, and no further check.
            assignment.rehash(assignment.repeated | {_text(u) for u in reply[1]})
            return None
        candidates = [(_text(o), _text(s), int(b)) for o, s, b in reply[1]]
        known = await self._features_of([other for other, _, _ in candidates])
        for other_id, story_id, bits in candidates:
            assignment.examined.add(other_id)
            features = known.get(other_id)
            if features is None:
                continue
            why = verify(assignment.prepared.features, features)
            if why is not None:
                log.debug("article %s is not a copy of %s: %s", article.id, other_id, why)
                continue
            found = (bits, story_id)
            best = assignment.best
            assignment.best = found if best is None or found < best else best
        return None

    async def _features_of(self, article_ids: list[str]) -> dict[str, Features]:
        """Features of earlier articles' stored texts: kept ones, the rest in one MGET."""
        known: dict[str, Features] = {}
        missing: list[str] = []
        for other in article_ids:
            features = self._features.get(other)
            if features is None:
                missing.append(other)
            else:
                known[other] = features
        if missing:
            docs = await self._client.mget([f"{self._story_prefix}doc:{m}" for m in missing])
            for other, raw in zip(missing, docs, strict=True):
                if raw is not None:  # None: expired since it was found
                    known[other] = self._features.put(other, features_of_doc(_text(raw))[0])
        return known

    def _units_key(self, source: str) -> str:
        return f"{self._story_prefix}units:{source}"

    def _keys(self, prepared: Prepared, units_key: str) -> list[str]:
        keys = [
            f"{self._story_prefix}fp:{prepared.exact_key}",
            units_key,
            f"{self._story_prefix}doc:{prepared.article.id}",
        ]
        if prepared.searchable:  # too little text has no neighbours, only exact repeats
            keys += [f"{self._story_prefix}band:{label}" for label in bands(prepared.simhash)]
            keys += [f"{self._story_prefix}lede:{key}" for key in prepared.lede_keys]
        return keys

    def _args(self, assignment: _Assignment) -> list[str | int]:
        prepared = assignment.prepared
        article = prepared.article
        source = json.dumps([article.source.name, article.source.url], ensure_ascii=False)
        return [
            self._story_prefix,
            article.id,
            f"{prepared.simhash:016x}",
            f"{prepared.simhash_check:016x}",
            source,
            self._window_s,
            NEAR_DUPLICATE_BITS,
            CHECK_BITS,
            assignment.best[1] if assignment.best else "",
            "|" + "|".join(sorted(assignment.examined)) + "|",
            prepared.doc(),
            self._units_max,
            "1" if assignment.rounds >= MAX_ROUNDS else "0",
            len(bands(prepared.simhash)) if prepared.searchable else 0,
            assignment.repeated_min,
            MAX_CANDIDATES,
            "|" + "|".join(sorted(assignment.repeated)) + "|",
            *prepared.units,
        ]

    def _story(self, article: Article, reply: list[Any]) -> Story:
        story_id, is_new, sources, how, title = reply
        story = Story(
            story_id=_text(story_id),
            sources=tuple(SourceRef(*json.loads(_text(raw))) for raw in sources),
            is_new=bool(int(is_new)),
            title=_text(title) if int(is_new) == 0 else article.title,
            how=_text(how),
        )
        if not story.is_new:
            log.info(describe_copy(article, story))
        return story


class _Assignment:
    """One article on its way to a story: what the script was told and has said so far."""

    def __init__(
        self, article: Article, body: Lines, counts: dict[str, float], prior: str | None = None
    ) -> None:
        """`counts`: how many stories of its source had each of its sentences, when read;
        `prior`: the story an earlier version of this article joined (developing stories)."""
        self.body = body
        self.repeated = {k for k, n in counts.items() if n >= REPEATED_IN_STORIES}
        self.repeated_min = REPEATED_IN_STORIES  # 0: the script no longer checks them
        self.prepared = prepare(article, self.repeated, body)
        self.examined: set[str] = set()
        # An updated article is not searched for: its story is decided (forced) at once, and
        # the script registers the new text under it, so later copies of it join it too.
        self.prior: tuple[int, str] | None = (0, prior) if prior else None
        self.best: tuple[int, str] | None = self.prior  # (bits, story id) of the nearest copy
        self.rounds = MAX_ROUNDS - 1 if prior else 0

    def rehash(self, repeated: set[str]) -> None:
        self.repeated = repeated
        self.prepared = prepare(self.prepared.article, repeated, self.body)
        self.repeated_min, self.examined, self.best = 0, set(), self.prior


def _text(value: bytes | str) -> str:
    # Works whether or not the client was built with decode_responses=True.
    return value.decode("utf-8") if isinstance(value, bytes) else value
