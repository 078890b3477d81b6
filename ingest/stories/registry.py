"""Stories: syndicated copies of one wire story, across outlets, grouped under one story id.

An article joins an existing story when its text was seen before (an exact repeat; a short
item by its words, see `flashes`) or when it is a copy of an article seen within the window.
Copies are found by their lede: LEDE_KEYS min-hashes of the opening's 3-word shingles, leaving
out the shingles the source's earlier stories share (its template, see `sketch.lede_fields`),
so a copy with a trimmed tail, an outlet's footer or a new headline is found, and a template
feed's notices are not all under the same keys. A candidate is then verified on what makes a
story its own (`content.verify`: the openings, the cover, the names and numbers), because a
shared footer or template would otherwise merge different stories, and a false merge loses
an alert.

The cost of an article does not grow with the window: a lede key lists at most REFS_MAX
articles (the latest), the articles found are ranked by how many of the article's keys they
share (then the latest), and only the MAX_CANDIDATES best are verified; what verifying needs
of each (`sketch.Kept`, a few hundred bytes, no text) comes back with the candidate, in the
same call.

Keys (all under `key_prefix + "story:"`). Small entries live in hashes per period (a third of
the window) so that they cost a field, not a key: a period's hash expires a window after the
period ends, and lookups read the periods of the last window only.

    story:fp:<period>:<shard>    -> hash {exact key: story id} (an article's fingerprint; a
                                    short item's words, `flashes.flash_key`)
    story:lede:<period>:<shard>  -> hash {key number and min-hash: article ids, latest last}
    story:doc:<article id>       -> "<story id>|<Kept>": what verifies a later copy; the
                                    story's first article adds a line with the story's title
                                    and a line per outlet (JSON), first outlet first
    story:units:<source name>    -> sorted set {sentence or lede shingle key: stories of this
                                    source that had it}, at most UNITS_MAX members (the least
                                    repeated are dropped)

Assignment is one Lua script, called again while it has something to say: that the article holds
sentences its source repeated in REPEATED_IN_STORIES stories or more other than those the caller
left out already (then the caller leaves them out and rehashes), or which candidates are not
verified yet (Python verifies, and the next call passes what was examined and the story chosen).
The script registers the article only when no unexamined candidate remains (or after MAX_ROUNDS
calls), so two workers assigning copies of one story at once still end with one story: Redis
runs scripts one at a time, and the second finds the first's entry to verify.

`assign_many` takes a batch (a poll's new articles) in rounds: each round's calls go in one
pipeline, in the batch's order, so that each sees the articles before it that were decided; the
per-source sentence counts of the whole batch are read in one call up front and counted on in
memory as if each article starts a story, so an article whose source has boilerplate is
prepared once, without it.

The script builds key names itself (story ids are known only inside), so it needs a single
Redis or Valkey node rather than Redis Cluster.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from string import Template
from typing import Any, Protocol

from ingest.models import Article, SourceRef
from ingest.stories.content import Lines, split_content, verify
from ingest.stories.copies import (
    MAX_CANDIDATES,
    REFS_MAX,
    REPEATED_IN_STORIES,
    UNITS_MAX,
    KeptFeatures,
    Prepared,
    Story,
    describe_copy,
    prepare,
    rejected,
    source_key,
    unit_keys,
)
from ingest.stories.sketch import COMMON_IN_STORIES, LEDE_HEX, LEDE_KEYS, LEDE_MIN_SHINGLES

__all__ = ["Story", "StoryRegistry"]

log = logging.getLogger("ingest.stories")

MAX_ROUNDS = 5  # calls before the script decides with what was examined
PERIODS = 3  # a window is this many periods: entries live a window to a window and a period
FP_SHARD_HEX = 3  # 4,096 fingerprint hashes per period ...
FP_FIELD_HEX = 24  # ... their fields the next 21 hex digits of the key (84 bits)
LEDE_SHARD_HEX = 4  # 65,536 lede hashes per period: a few fields each, stored compactly

_ASSIGN = r"""
local units_key = KEYS[1]
local prefix, article_id, source = ARGV[1], ARGV[2], ARGV[3]
local window_s, periods = tonumber(ARGV[4]), tonumber(ARGV[5])
local fp_shard, fp_field, flash = ARGV[6], ARGV[7], ARGV[8] == '1'
local decision, examined, doc, title = ARGV[9], ARGV[10], ARGV[11], ARGV[12]
local units_max, force = tonumber(ARGV[13]), ARGV[14] == '1'
local repeated_min, assumed = tonumber(ARGV[15]), ARGV[16]
local max_candidates, refs_max = tonumber(ARGV[17]), tonumber(ARGV[18])
local units_arg, shingles_arg = ARGV[19], ARGV[20]
local common_min = tonumber(ARGV[21])
local min_shingles, lede_keys = $min_shingles, $lede_keys
local width, shard_hex = $width, $shard_hex
-- sentence keys: 16 hex digits each; shingles: a 16-digit key, then lede_keys values
local unit_width, shingle_width = 16, 16 + width * lede_keys
local n_units, n_shingles = #units_arg / unit_width, #shingles_arg / shingle_width
local units, shingle_keys = {}, {}
for i = 1, n_units do
  units[i] = string.sub(units_arg, (i - 1) * unit_width + 1, i * unit_width)
end
for s = 1, n_shingles do
  local at = (s - 1) * shingle_width
  shingle_keys[s] = string.sub(shingles_arg, at + 1, at + 16)
end
local function shingle_value(s, k)
  local at = (s - 1) * shingle_width + 16 + width * k
  return string.sub(shingles_arg, at + 1, at + width)
end
local now = tonumber(redis.call('TIME')[1])
local period_s = math.max(1, math.floor(window_s / periods))
local current = math.floor(now / period_s)
local oldest = math.floor((now - window_s) / period_s)
local keep_until = (current + 1) * period_s + window_s
local doc_prefix = prefix .. 'doc:'
-- the outlets of a story: lines 3.. of its first article's doc
local function carried_by(record, outlet)
  return string.find(record .. '\n', '\n' .. outlet .. '\n', 1, true) ~= nil
end
local function bucket(kind, p, shard) return prefix .. kind .. ':' .. p .. ':' .. shard end

-- an exact repeat (a short item: the same words, from another outlet)
local story_id = false
for p = current, oldest, -1 do
  story_id = redis.call('HGET', bucket('fp', p, fp_shard), fp_field)
  if story_id then break end
end
if story_id and flash and carried_by(redis.call('GET', doc_prefix .. story_id) or '', source) then
  story_id = false  -- its own outlet's short item again: a new one (a daily notice)
end
local how = 'exact'
if not story_id and repeated_min > 0 and n_units > 0 then
  -- the source's boilerplate is not compared: when the caller left out less than that
  -- (`assumed`, "|key|key|"), say which sentences it is, and the caller prepares again
  local counts = redis.call('ZMSCORE', units_key, unpack(units))
  local repeated, more = {}, false
  for i = 1, #units do
    if counts[i] and tonumber(counts[i]) >= repeated_min then
      table.insert(repeated, units[i])
      more = more or not string.find(assumed, '|' .. units[i] .. '|', 1, true)
    end
  end
  if more then return {'repeated', repeated} end
end

-- the lede keys: min-hashes over the shingles its source has not made its template
local fields = {}
if n_shingles > 0 then
  local counts = redis.call('ZMSCORE', units_key, unpack(shingle_keys))
  local chosen = {}
  for s = 1, n_shingles do
    if not (counts[s] and tonumber(counts[s]) >= common_min) then table.insert(chosen, s) end
  end
  if #chosen < min_shingles then
    chosen = {}
    for s = 1, n_shingles do chosen[s] = s end
  end
  for k = 0, lede_keys - 1 do
    local low = nil
    for _, s in ipairs(chosen) do
      local h = shingle_value(s, k)
      if not low or h < low then low = h end
    end
    -- a minimum's high digits are mostly zeros: its low digits name the bucket
    local cut = width - shard_hex
    table.insert(fields, {string.sub(low, cut + 1), k .. string.sub(low, 1, cut)})
  end
end

local found = 0
if not story_id then
  how = 'near'
  if not force and #fields > 0 then
    local seen = {}
    for id in string.gmatch(examined, '[^|]+') do seen[id] = true end
    local votes, latest, order = {}, {}, {}
    for _, f in ipairs(fields) do
      local here, age = {}, 0
      for p = current, oldest, -1 do
        local refs = redis.call('HGET', bucket('lede', p, f[1]), f[2])
        if refs then
          local list = {}
          for ref in string.gmatch(refs, '[^,]+') do table.insert(list, ref) end
          for j = #list, 1, -1 do  -- the latest first
            local ref = list[j]
            if ref ~= article_id and not here[ref] then
              here[ref] = true
              if not votes[ref] then
                votes[ref], latest[ref] = 0, age
                table.insert(order, ref)
              end
              votes[ref] = votes[ref] + 1
              if age < latest[ref] then latest[ref] = age end
            end
            age = age + 1
          end
        end
      end
    end
    found = #order
    table.sort(order, function(x, y)
      if votes[x] ~= votes[y] then return votes[x] > votes[y] end
      if latest[x] ~= latest[y] then return latest[x] < latest[y] end
      return x < y
    end)
    local unexamined = {}
    for j = 1, math.min(#order, max_candidates) do
      local ref = order[j]
      if not seen[ref] then
        local record = redis.call('GET', prefix .. 'doc:' .. ref)
        if record then table.insert(unexamined, {ref, record}) end
      end
    end
    if #unexamined > 0 then return {'check', unexamined, found} end
  end
  if decision ~= '' then story_id = decision end
end

local is_new = 0
if not story_id then story_id, is_new, how = article_id, 1, 'new' end
local fp_bucket = bucket('fp', current, fp_shard)
redis.call('HSET', fp_bucket, fp_field, story_id)
redis.call('EXPIREAT', fp_bucket, keep_until)
local record = story_id .. '|' .. doc
if is_new == 1 then
  record = record .. '\n' .. title .. '\n' .. source
elseif #fields > 0 and article_id ~= story_id then  -- not the first article again
  redis.call('SET', doc_prefix .. article_id, record, 'EX', window_s)
end
if is_new == 0 then
  -- the story's outlets, kept with its first article: this one added, for a window more
  local first = redis.call('GET', doc_prefix .. story_id) or (story_id .. '|\n')
  record = carried_by(first, source) and first or (first .. '\n' .. source)
end
redis.call('SET', doc_prefix .. story_id, record, 'EX', window_s)
for _, f in ipairs(fields) do
  local key = bucket('lede', current, f[1])
  local refs = redis.call('HGET', key, f[2])
  local list = {}
  if refs then
    for ref in string.gmatch(refs, '[^,]+') do
      if ref ~= article_id then table.insert(list, ref) end
    end
  end
  table.insert(list, article_id)
  while #list > refs_max do table.remove(list, 1) end
  redis.call('HSET', key, f[2], table.concat(list, ','))
  redis.call('EXPIREAT', key, keep_until)
end
if is_new == 1 and n_units + n_shingles > 0 then
  for i = 1, n_units do redis.call('ZINCRBY', units_key, 1, units[i]) end
  for s = 1, n_shingles do redis.call('ZINCRBY', units_key, 1, shingle_keys[s]) end
  local extra = redis.call('ZCARD', units_key) - units_max
  if extra > 0 then
    redis.call('ZREMRANGEBYRANK', units_key, 0, extra - 1)
  end
  redis.call('EXPIRE', units_key, window_s)
end
local listed = {}
for line in string.gmatch(record, '[^\n]+') do table.insert(listed, line) end
table.remove(listed, 1)  -- "<story id>|<Kept>"
local story_title = table.remove(listed, 1) or ''
return {'done', story_id, is_new, listed, how, story_title, found}
"""
_ASSIGN = Template(_ASSIGN).substitute(
    min_shingles=LEDE_MIN_SHINGLES, lede_keys=LEDE_KEYS, width=LEDE_HEX, shard_hex=LEDE_SHARD_HEX
)


class ScriptingClient(Protocol):
    """The part of redis.asyncio.Redis this module uses."""

    def register_script(self, script: str) -> Any: ...

    def pipeline(self, transaction: bool = True) -> Any: ...


class StoryRegistry:
    """Groups articles into stories in Redis; safe with any number of concurrent workers.

    `counts` adds up, over the registry's life: articles, candidates (articles found under
    their lede keys), verified (candidates verified) and calls (script calls)."""

    def __init__(
        self, client: ScriptingClient, key_prefix: str, window_s: int, units_max: int = UNITS_MAX
    ) -> None:
        self._client = client
        self._script = client.register_script(_ASSIGN)
        self._story_prefix = f"{key_prefix}story:"
        self._window_s = window_s
        self._units_max = units_max
        self._features = KeptFeatures()
        self.counts: Counter[str] = Counter()

    async def assign(self, article: Article) -> Story:
        """The story `article` belongs to, registering it (and its outlet) there.

        A copy (`not story.is_new`) is logged at info level: `article X is a copy of story Y
        first seen at OUTLET`; a candidate that is not a copy at debug level, with the test it
        failed and its figure."""
        return (await self.assign_many([article]))[0]

    async def assign_many(self, articles: Sequence[Article]) -> list[Story]:
        """The stories of `articles`, in order. Calls go in rounds, one pipeline each, in the
        batch's order: each call sees the articles before it that were decided, and an article
        with candidates to verify goes on in the next round. Copies within a batch are one
        story as when assigned one by one, though which of them started it may differ."""
        bodies = [split_content(article.body, article.title) for article in articles]
        units = [unit_keys(body) for body in bodies]
        counts = await self._unit_counts(articles, units)
        pending: list[_Assignment] = []
        for article, body, keys in zip(articles, bodies, units, strict=True):
            seen = counts[source_key(article)]
            pending.append(_Assignment(article, body, {k: seen.get(k, 0) for k in keys}))
            # Counted as the script will if it starts a story, as most articles do; where it
            # does not, the script says which sentences the counts make boilerplate after all.
            for key in keys:
                seen[key] = seen.get(key, 0) + 1
        self.counts["articles"] += len(articles)
        stories: dict[int, Story] = {}
        waiting = list(range(len(pending)))
        while waiting:
            replies = await self._calls([pending[n] for n in waiting])
            still: list[int] = []
            for n, reply in zip(waiting, replies, strict=True):
                story = self._take(pending[n], reply)
                if story is None:
                    still.append(n)
                else:
                    stories[n] = story
            waiting = still
        return [stories[n] for n in range(len(pending))]

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

    async def _calls(self, assignments: list[_Assignment]) -> list[Any]:
        self.counts["calls"] += len(assignments)
        if len(assignments) == 1:
            return [await self._script(**self._call(assignments[0]))]
        pipe = self._client.pipeline(transaction=False)
        for assignment in assignments:
            await self._script(**self._call(assignment), client=pipe)
        return list(await pipe.execute())

    def _call(self, assignment: _Assignment) -> dict[str, Any]:
        assignment.rounds += 1
        units_key = self._units_key(source_key(assignment.prepared.article))
        return {"keys": [units_key], "args": self._args(assignment)}

    def _take(self, assignment: _Assignment, reply: Any) -> Story | None:
        """The story, or None when the script wants another call (what it said is taken)."""
        article = assignment.prepared.article
        kind = _text(reply[0])
        if kind == "done":
            self.counts["candidates"] += int(reply[6])
            return self._story(article, reply[1:6])
        if kind == "repeated":
            # Another worker's new stories made more of it boilerplate since the counts were
            # read: once more without those too, and no further check.
            assignment.rehash(assignment.repeated | {_text(u) for u in reply[1]})
            return None
        for raw_ref, raw_record in reply[1]:
            other_id, record = _text(raw_ref), _text(raw_record)
            assignment.examined.add(other_id)
            story_id, _bar, encoded = record.partition("\n")[0].partition("|")
            self.counts["verified"] += 1
            why = verify(assignment.prepared.features, self._features.get(encoded))
            if why is not None:
                log.debug(rejected(article, other_id, story_id, why))
            elif assignment.best is None:  # the best ranked copy: the script lists them so
                assignment.best = story_id
        return None

    def _units_key(self, source: str) -> str:
        return f"{self._story_prefix}units:{source}"

    def _args(self, assignment: _Assignment) -> list[str | int]:
        prepared = assignment.prepared
        article = prepared.article
        source = json.dumps([article.source.name, article.source.url], ensure_ascii=False)
        exact = prepared.exact_key.removeprefix("id:").removeprefix("w:")
        shingles = prepared.shingles if prepared.searchable else []
        return [
            self._story_prefix,
            article.id,
            source,
            self._window_s,
            PERIODS,
            exact[:FP_SHARD_HEX],
            exact[FP_SHARD_HEX:FP_FIELD_HEX],
            "1" if prepared.flash else "0",
            assignment.best or "",
            "|" + "|".join(sorted(assignment.examined)) + "|",
            prepared.doc() if shingles else "",
            article.title,
            self._units_max,
            "1" if assignment.rounds >= MAX_ROUNDS else "0",
            assignment.repeated_min,
            "|" + "|".join(sorted(assignment.repeated)) + "|",
            MAX_CANDIDATES,
            REFS_MAX,
            "".join(prepared.units),
            "".join(map("".join, shingles)),
            COMMON_IN_STORIES,
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

    def __init__(self, article: Article, body: Lines, counts: dict[str, float]) -> None:
        """`counts`: how many stories of its source had each of its sentences, when read."""
        self.body = body
        self.repeated = {k for k, n in counts.items() if n >= REPEATED_IN_STORIES}
        self.repeated_min = REPEATED_IN_STORIES  # 0: the script no longer checks them
        self.prepared: Prepared = prepare(article, self.repeated, body)
        self.examined: set[str] = set()
        self.best: str | None = None  # the story of the best ranked verified copy
        self.rounds = 0

    def rehash(self, repeated: set[str]) -> None:
        self.repeated = repeated
        self.prepared = prepare(self.prepared.article, repeated, self.body)
        self.repeated_min, self.examined, self.best = 0, set(), None


def _text(value: bytes | str) -> str:
    # Works whether or not the client was built with decode_responses=True.
    return value.decode("utf-8") if isinstance(value, bytes) else value
