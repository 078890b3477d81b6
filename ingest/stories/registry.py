"""Stories: syndicated copies of one wire story, across outlets, grouped under one story id.

An article joins an existing story when its fingerprint was seen (an exact repeat) or when its
SimHash is within NEAR_DUPLICATE_BITS of a copy seen within the window, confirmed by its
second SimHash within CHECK_BITS. Candidates are found by
LSH band keys, so no scan is ever needed.

Keys (all under `key_prefix + "story:"`, all expiring `window_s` after the last copy was seen):

    story:fp:<fingerprint>     -> story id
    story:band:<band label>    -> hash {simhash hex: "<story id>|<expires at, unix s>|<check hex>"}
    story:src:<story id>       -> list of outlet JSON, first outlet first

The whole decision (look up, pick the nearest copy, register this copy) runs as one Lua script,
so two workers assigning copies of the same story at once still end with one story: Redis runs
scripts one at a time and the second sees what the first wrote. Band entries carry their own
expiry because a band key shared by many stories would otherwise live for ever.

The script builds the story's source-list key itself (the story id is only known inside), so it
needs a single Redis or Valkey node rather than Redis Cluster.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Protocol

from ingest.models import Article, SourceRef
from ingest.normalize.simhash import CHECK_BITS, NEAR_DUPLICATE_BITS, bands

_ASSIGN = """
local fp_key = KEYS[1]
local story_prefix, new_id, simhash = ARGV[1], ARGV[2], ARGV[3]
local source, window_s, max_bits = ARGV[4], tonumber(ARGV[5]), tonumber(ARGV[6])
local check, max_check_bits = ARGV[7], tonumber(ARGV[8])
local now = tonumber(redis.call('TIME')[1])

-- popcount of the xor of two 16-digit hex strings, a byte at a time
-- (Lua numbers are doubles and cannot hold 64-bit integers exactly)
local ones = {[0] = 0}
for i = 1, 255 do ones[i] = ones[math.floor(i / 2)] + i % 2 end
local function hamming(a, b)
  local bits = 0
  for i = 1, 15, 2 do
    bits = bits + ones[bit.bxor(tonumber(string.sub(a, i, i + 1), 16),
                                tonumber(string.sub(b, i, i + 1), 16))]
  end
  return bits
end

local story_id = redis.call('GET', fp_key)
if not story_id then
  local best_bits = max_bits + 1
  for i = 2, #KEYS do
    local entries = redis.call('HGETALL', KEYS[i])
    for j = 1, #entries, 2 do
      local other, value = entries[j], entries[j + 1]
      local sep = string.find(value, '|', 1, true)
      local sep2 = string.find(value, '|', sep + 1, true)
      local candidate = string.sub(value, 1, sep - 1)
      local expires = tonumber(string.sub(value, sep + 1, sep2 - 1))
      local other_check = string.sub(value, sep2 + 1)
      if expires <= now then
        redis.call('HDEL', KEYS[i], other)
      else
        local bits = hamming(simhash, other)
        -- nearest copy wins; a tie goes to the smaller id so every worker agrees
        local confirmed = hamming(check, other_check) <= max_check_bits
        if confirmed and (bits < best_bits or
                          (bits == best_bits and story_id and candidate < story_id)) then
          best_bits, story_id = bits, candidate
        end
      end
    end
  end
end

local is_new = 0
if not story_id then
  story_id, is_new = new_id, 1
end
local entry = story_id .. '|' .. tostring(now + window_s) .. '|' .. check
redis.call('SET', fp_key, story_id, 'EX', window_s)
for i = 2, #KEYS do
  redis.call('HSET', KEYS[i], simhash, entry)
  redis.call('EXPIRE', KEYS[i], window_s)
end
local sources_key = story_prefix .. 'src:' .. story_id
if not redis.call('LPOS', sources_key, source) then
  redis.call('RPUSH', sources_key, source)
end
redis.call('EXPIRE', sources_key, window_s)
return {story_id, is_new, redis.call('LRANGE', sources_key, 0, -1)}
"""


class ScriptingClient(Protocol):
    """The part of redis.asyncio.Redis this module uses."""

    def register_script(self, script: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class Story:
    story_id: str
    sources: tuple[SourceRef, ...]  # every outlet that carried it so far, first one first
    is_new: bool  # this article started the story


class StoryRegistry:
    """Groups articles into stories in Redis; safe with any number of concurrent workers."""

    def __init__(self, client: ScriptingClient, key_prefix: str, window_s: int) -> None:
        self._script = client.register_script(_ASSIGN)
        self._story_prefix = f"{key_prefix}story:"
        self._window_s = window_s

    async def assign(self, article: Article) -> Story:
        """The story `article` belongs to, registering it (and its outlet) there."""
        simhash_hex = f"{article.simhash:016x}"
        keys = [f"{self._story_prefix}fp:{article.fingerprint or article.id}"]
        if article.simhash:  # a text without words has no neighbours, only exact repeats
            keys += [f"{self._story_prefix}band:{label}" for label in bands(article.simhash)]
        source = json.dumps([article.source.name, article.source.url], ensure_ascii=False)
        args = [
            self._story_prefix,
            article.id,
            simhash_hex,
            source,
            self._window_s,
            NEAR_DUPLICATE_BITS,
            f"{article.simhash_check:016x}",
            CHECK_BITS,
        ]
        story_id, is_new, sources = await self._script(keys=keys, args=args)
        return Story(
            story_id=_text(story_id),
            sources=tuple(SourceRef(*json.loads(_text(raw))) for raw in sources),
            is_new=bool(int(is_new)),
        )


def _text(value: bytes | str) -> str:
    # Works whether or not the client was built with decode_responses=True.
    return value.decode("utf-8") if isinstance(value, bytes) else value
