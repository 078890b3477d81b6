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

Assignment is one Lua script (`assign.lua`), called again while it has something to say: that
the article holds sentences its source repeated in REPEATED_IN_STORIES stories or more other than
those the caller left out already (then the caller leaves them out and prepares the article
again), or which candidates are not
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
from collections.abc import Mapping, Sequence
from importlib import resources
from string import Template
from typing import Any, Protocol

from ingest.models import Article, SourceRef
from ingest.stories.content import Lines, split_content, verify
from ingest.stories.copies import (
    MAX_CANDIDATES,
    REFS_MAX,
    REPEATED_IN_STORIES,
    UNITS_MAX,
    UNREADABLE,
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

# The script (assign.lua), with the constants it shares with Python filled in.
_ASSIGN = Template(
    resources.files("ingest.stories").joinpath("assign.lua").read_text("utf-8")
).substitute(
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
        self.kept_features = KeptFeatures()
        self.counts: Counter[str] = Counter()

    async def assign(self, article: Article) -> Story:
        """The story `article` belongs to, registering it (and its outlet) there.

        A copy (`not story.is_new`) is logged at info level: `article X is a copy of story Y
        first seen at OUTLET`; a candidate that is not a copy at debug level, with the test it
        failed and its figure."""
        return (await self.assign_many([article]))[0]

    async def assign_many(
        self, articles: Sequence[Article], kept: Mapping[str, str] | None = None
    ) -> list[Story]:
        """The stories of `articles`, in order. `kept` (article id -> story id): an updated
        article stays in the story its earlier version joined, which takes its new text.
        Calls go in rounds, one pipeline each, in the batch's order: each call sees the
        articles before it that were decided, and an article with candidates to verify goes on
        in the next round. Copies within a batch are one story as when assigned one by one,
        though which of them started it may differ."""
        bodies = [split_content(article.body, article.title) for article in articles]
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
            stored = self.kept_features.get(encoded)
            why = UNREADABLE if stored is None else verify(assignment.prepared.features, stored)
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

    def __init__(
        self, article: Article, body: Lines, counts: dict[str, float], prior: str | None = None
    ) -> None:
        """`counts`: how many stories of its source had each of its sentences, when read;
        `prior`: the story an earlier version of this article joined (developing stories)."""
        self.body = body
        self.repeated = {k for k, n in counts.items() if n >= REPEATED_IN_STORIES}
        self.repeated_min = REPEATED_IN_STORIES  # 0: the script no longer checks them
        self.prepared: Prepared = prepare(article, self.repeated, body)
        self.examined: set[str] = set()
        # An updated article is not searched for: its story is decided (forced) at once, and
        # the script registers the new text under it, so later copies of it join it too.
        self.prior = prior
        self.best: str | None = prior  # the story of the best ranked verified copy
        self.rounds = MAX_ROUNDS - 1 if prior else 0

    def rehash(self, repeated: set[str]) -> None:
        self.repeated = repeated
        self.prepared = prepare(self.prepared.article, repeated, self.body)
        self.repeated_min, self.examined, self.best = 0, set(), self.prior


def _text(value: bytes | str) -> str:
    # Works whether or not the client was built with decode_responses=True.
    return value.decode("utf-8") if isinstance(value, bytes) else value
