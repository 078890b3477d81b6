"""One article made ready for story assignment, and assignment without Redis (`rules test`).

`prepare` decides what of an article is hashed and compared (see `content.py`); the Redis
registry and `LocalStories` both use it, so `wirewatch rules test` says "copy of" exactly when
the service would suppress the article as a copy.
"""

from __future__ import annotations

import json
import logging
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection
from dataclasses import dataclass, field

from ingest.models import Article, SourceRef
from ingest.normalize.simhash import bands, is_near, simhash_pair
from ingest.stories.content import (
    LEDE_WINDOW,
    MIN_CONTENT_WORDS,
    Features,
    Lines,
    lede_keys,
    own_content,
    split_content,
    verify,
)

log = logging.getLogger("ingest.stories")

# A sentence that opened this many earlier stories of one source is that source's boilerplate
# (a footer, an "About" paragraph, a disclaimer), not content: it is left out before hashing.
REPEATED_IN_STORIES = 3
UNITS_MAX = 5000  # sentence keys kept per source: its boilerplate, with room for news
DOC_MAX_CHARS = 20_000  # content kept per article for verifying later candidates
# Features of earlier articles kept for verifying candidates (~35 kB each): the same recent
# articles are the candidates of many (on bench_pipeline's corpus 97% of lookups hit with 1024
# kept, 87% with 256).
FEATURES_KEPT = 512


@dataclass(frozen=True, slots=True)
class Story:
    story_id: str
    sources: tuple[SourceRef, ...]  # every outlet that carried it so far, first one first
    is_new: bool  # this article started the story
    title: str = ""  # the title of the story's first article
    # "new", "exact" (this very text was seen) or "near" (a syndicated copy); "" not known
    how: str = ""


@dataclass(slots=True)
class Prepared:
    """An article as story assignment sees it."""

    article: Article
    lines: list[str]  # the content: editor's notes and the source's repeated sentences left out
    simhash: int
    simhash_check: int
    words: int  # words of the content
    units: list[str]  # sentence keys of the whole body, for the per-source counts
    lede_keys: list[str]  # min-hash keys of the opening words (see content.LEDE_KEYS)
    own: Lines = field(repr=False)  # the content's sentences
    _features: Features | None = field(default=None, repr=False)

    @property
    def features(self) -> Features:
        """What `verify` compares, computed when there is a candidate to verify: most articles
        of a feed of different stories have none."""
        if self._features is None:
            self._features = Features.of(self.article.title, self.own)
        return self._features

    @property
    def searchable(self) -> bool:
        """Enough text of its own to be compared with other stories at all."""
        return self.simhash != 0 and self.words >= MIN_CONTENT_WORDS

    @property
    def exact_key(self) -> str:
        # Short items ("Market close", headline-only) repeat word for word without being one
        # story: they only ever match themselves.
        if self.article.fingerprint and _word_count(self.article.body) >= MIN_CONTENT_WORDS:
            return self.article.fingerprint
        return f"id:{self.article.id}"

    def doc(self) -> str:
        """What a later article needs to verify this one as its copy (stored with the story)."""
        text = "\n".join(self.lines)[:DOC_MAX_CHARS]
        record = {"title": self.article.title, "source": self.article.source.name, "text": text}
        return json.dumps(record, ensure_ascii=False)


def source_key(article: Article) -> str:
    """Whose boilerplate counts: the feed by name (a spool's files each have their own URL)."""
    return article.source.name or article.source.url


def prepare(
    article: Article, repeated: Collection[str] = (), body: Lines | None = None
) -> Prepared:
    """`repeated`: keys of sentences this article's source put in several stories before;
    `body`: `split_content(article.body)` when the caller has it already."""
    body = split_content(article.body) if body is None else body
    own = own_content(body, repeated.__contains__) if repeated else body
    lines = [" ".join(s.text for s in line) for line in own]
    # Hashed here, once, on what is compared: the content, without the source's boilerplate.
    near, check = simhash_pair("\n".join(lines))
    content = [w for line in own for s in line for w in s.words]  # as Features.of reads it
    return Prepared(
        article, lines, near, check, len(content), unit_keys(body),
        lede_keys(content[:LEDE_WINDOW]), own,
    )  # fmt: skip


def unit_keys(body: Lines) -> list[str]:
    """The keys of the sentences of `body`, each once, for the per-source counts."""
    return list(dict.fromkeys(s.key for line in body for s in line))


def features_of_doc(raw: str) -> tuple[Features, dict[str, str]]:
    record = json.loads(raw)
    return Features.of_text(record.get("title", ""), record.get("text", "")), record


def describe_copy(article: Article, story: Story) -> str:
    """`article X is a copy of story Y first seen at OUTLET`."""
    first = story.sources[0].name if story.sources else "?"
    return (
        f"article {_label(article.title, article.id)} is a copy of story "
        f"{_label(story.title, story.story_id)} first seen at {first}"
    )


def _label(title: str, item_id: str) -> str:
    return f"{title!r} ({item_id})" if title else item_id


def _word_count(text: str) -> int:
    return len(text.split())


class KeptFeatures:
    """Features of earlier articles by article id, the `size` most recently used: the same
    recent articles are the candidates of many (see FEATURES_KEPT)."""

    def __init__(self, size: int = FEATURES_KEPT) -> None:
        self._size = size
        self._kept: OrderedDict[str, Features] = OrderedDict()

    def get(self, article_id: str) -> Features | None:
        features = self._kept.get(article_id)
        if features is not None:
            self._kept.move_to_end(article_id)
        return features

    def put(self, article_id: str, features: Features) -> Features:
        self._kept[article_id] = features
        self._kept.move_to_end(article_id)
        while len(self._kept) > self._size:
            self._kept.popitem(last=False)
        return features


@dataclass(frozen=True, slots=True)
class _Entry:
    """What a later article needs of an earlier one: its hashes and its text (features are
    computed again for a candidate only, so a long backlog holds text, not word-pair sets)."""

    story_id: str
    simhash: int
    simhash_check: int
    title: str
    text: str


@dataclass
class LocalStories:
    """Story assignment in memory, by the registry's rules (for articles read from files)."""

    _exact: dict[str, str] = field(default_factory=dict)
    _entries: dict[str, _Entry] = field(default_factory=dict)  # by article id
    _index: dict[str, list[str]] = field(default_factory=dict)  # band or lede key -> article ids
    _sources: dict[str, list[SourceRef]] = field(default_factory=dict)
    _titles: dict[str, str] = field(default_factory=dict)
    _units: dict[str, Counter[str]] = field(default_factory=dict)
    on_reject: Callable[[Article, str, str], None] | None = None  # (article, other id, why)
    _features: KeptFeatures = field(default_factory=KeptFeatures)

    def assign(self, article: Article) -> Story:
        counts = self._units.setdefault(source_key(article), Counter())
        body = split_content(article.body)
        repeated = {u for u in unit_keys(body) if counts[u] >= REPEATED_IN_STORIES}
        prepared = prepare(article, repeated, body)
        story_id, how = self._exact.get(prepared.exact_key), "exact"
        if story_id is None:
            story_id, how = self._nearest(prepared), "near"
        is_new = story_id is None
        if story_id is None:
            story_id, how = article.id, "new"
            self._titles[story_id] = article.title
            _count(counts, prepared.units)
        self._exact[prepared.exact_key] = story_id
        if prepared.searchable:
            self._register(prepared, story_id)
        sources = self._sources.setdefault(story_id, [])
        if article.source not in sources:
            sources.append(article.source)
        return Story(story_id, tuple(sources), is_new, self._titles.get(story_id, ""), how)

    def _register(self, prepared: Prepared, story_id: str) -> None:
        article = prepared.article
        text = "\n".join(prepared.lines)[:DOC_MAX_CHARS]
        self._entries[article.id] = _Entry(
            story_id, prepared.simhash, prepared.simhash_check, article.title, text
        )
        for key in _index_keys(prepared):
            self._index.setdefault(key, []).append(article.id)

    def _nearest(self, prepared: Prepared) -> str | None:
        if not prepared.searchable:
            return None
        mine = (prepared.simhash, prepared.simhash_check)
        found: list[tuple[int, str, str]] = []  # (bits, story id, article id)
        seen: set[str] = set()
        for key in _index_keys(prepared):
            for other_id in self._index.get(key, ()):
                entry = self._entries[other_id]
                near = is_near(mine, (entry.simhash, entry.simhash_check))
                if other_id in seen or (key.startswith("band:") and not near):
                    continue
                seen.add(other_id)
                found.append(((mine[0] ^ entry.simhash).bit_count(), entry.story_id, other_id))
        for _bits, story_id, other_id in sorted(found):  # the nearest first, as in Redis
            entry = self._entries[other_id]
            features = self._features.get(other_id) or self._features.put(
                other_id, Features.of_text(entry.title, entry.text)
            )
            why = verify(prepared.features, features)
            if why is None:
                return story_id
            if self.on_reject:
                self.on_reject(prepared.article, other_id, why)
        return None


def _index_keys(prepared: Prepared) -> list[str]:
    return [f"band:{label}" for label in bands(prepared.simhash)] + [
        f"lede:{key}" for key in prepared.lede_keys
    ]


def _count(counts: Counter[str], units: list[str]) -> None:
    """Count a new story's sentences; keep the UNITS_MAX most repeated, as the registry does."""
    counts.update(units)
    if len(counts) > 2 * UNITS_MAX:
        kept = counts.most_common(UNITS_MAX)
        counts.clear()
        counts.update(dict(kept))
