"""One article made ready for story assignment, and assignment without Redis (`rules test`).

`prepare` decides what of an article is compared (see `content.py`) and its lede shingles (see
`sketch.py`); the Redis registry and `LocalStories` both use it and rank and verify candidates
the same way, so `wirewatch rules test` says "copy of" exactly when the service would suppress
the article as a copy, and says why a candidate was not one.
"""

from __future__ import annotations

import logging
import struct
from collections import Counter, OrderedDict
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

from ingest.models import Article, SourceRef
from ingest.stories.content import (
    MIN_CONTENT_WORDS,
    Features,
    Lines,
    own_content,
    split_content,
    verify,
)
from ingest.stories.flashes import flash_key
from ingest.stories.sketch import (
    COMMON_IN_STORIES,
    LEDE_WINDOW,
    Kept,
    Shingle,
    lede_fields,
    lede_shingles,
)

log = logging.getLogger("ingest.stories")

# A sentence that opened this many earlier stories of one source is that source's boilerplate
# (a footer, an "About" paragraph, a disclaimer), not content: it is left out before hashing.
REPEATED_IN_STORIES = 3
UNITS_MAX = 5000  # sentence and lede shingle keys kept per source: its boilerplate and template
# Lookup cost does not grow with the window: a lede key lists at most REFS_MAX articles (the
# latest: a key that many stories share says little), and of the articles found under an
# article's keys only the MAX_CANDIDATES that share most keys with it (the latest first on a
# tie) are verified.
REFS_MAX = 8
MAX_CANDIDATES = 4
# Decoded `Kept` forms of candidates, the most recently used: ~20 kB each (their int sets), a
# decode ~30 us. bench_stories (100,000 stories) found 70% of lookups kept for templated notices
# and 9% for diverse news with 1,024, against 75% and 22% with 4,096 (~80 MB): the same CPU per
# article within the noise, so a quarter of the memory.
FEATURES_KEPT = 1024


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
    own: Lines = field(repr=False)  # the content: notes and the source's boilerplate left out
    words: int  # words of the content
    units: list[str]  # sentence keys of the whole body, for the per-source counts
    shingles: list[Shingle]  # of the opening, for the lede keys (see `sketch.lede_fields`)
    _features: Features | None = field(default=None, repr=False)
    _doc: str | None = field(default=None, repr=False)
    _exact_key: str | None = field(default=None, repr=False)

    @property
    def features(self) -> Features:
        """What `verify` compares, computed when there is a candidate to verify or the article
        is kept: an article without enough text needs none."""
        if self._features is None:
            self._features = Features.of(self.article.title, self.own)
        return self._features

    @property
    def lines(self) -> list[str]:
        return [" ".join(s.text for s in line) for line in self.own]

    @property
    def searchable(self) -> bool:
        """Enough text of its own to be compared with other stories at all."""
        return self.words >= MIN_CONTENT_WORDS and bool(self.shingles)

    @property
    def short(self) -> bool:
        return _word_count(self.article.body) < MIN_CONTENT_WORDS

    @property
    def exact_key(self) -> str:
        """The fingerprint of the text; a short item's words without the outlet's dressing
        (`flashes`), or, with too few of them, the item itself."""
        if self._exact_key is None:
            article = self.article
            if not self.short and article.fingerprint:
                self._exact_key = article.fingerprint
            else:
                key = flash_key(article.title, article.body, article.source.name)
                self._exact_key = key if key is not None else f"id:{article.id}"
        return self._exact_key

    @property
    def flash(self) -> bool:
        """Joins a story by its words: never one its own outlet started (a daily item)."""
        return self.exact_key.startswith("w:")

    def doc(self) -> str:
        """What a later article needs to verify this one as its copy (kept with the story)."""
        if self._doc is None:
            self._doc = self.features.kept().encode()
        return self._doc


def source_key(article: Article) -> str:
    """Whose boilerplate counts: the feed by name (a spool's files each have their own URL)."""
    return article.source.name or article.source.url


def prepare(
    article: Article, repeated: Collection[str] = (), body: Lines | None = None
) -> Prepared:
    """`repeated`: keys of sentences this article's source put in several stories before;
    `body`: `split_content(article.body, article.title)` when the caller has it already."""
    body = split_content(article.body, article.title) if body is None else body
    own = own_content(body, repeated.__contains__) if repeated else body
    content = [w for line in own for s in line for w in s.words]  # as Features.of reads it
    return Prepared(
        article, own, len(content), unit_keys(body), lede_shingles(content[:LEDE_WINDOW])
    )


def unit_keys(body: Lines) -> list[str]:
    """The keys of the sentences of `body`, each once, for the per-source counts."""
    return list(dict.fromkeys(s.key for line in body for s in line))


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
    """Decoded `Kept` forms of earlier articles, the `size` most recently used: the same recent
    articles are the candidates of many. By the encoded form, not the article id: an updated
    article (same id, new text) is kept anew."""

    def __init__(self, size: int = FEATURES_KEPT) -> None:
        self._size = size
        self._kept: OrderedDict[str, Kept] = OrderedDict()
        self.lookups = 0
        self.decoded = 0  # lookups that were not kept: each decode costs ~30 us

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, encoded: str) -> Kept | None:
        """The decoded form, or None when `encoded` is not one (another version wrote it)."""
        self.lookups += 1
        kept = self._kept.get(encoded)
        if kept is None:
            self.decoded += 1
            try:
                kept = self._kept[encoded] = Kept.decode(encoded)
            except (ValueError, struct.error):  # binascii.Error is a ValueError
                return None
            while len(self._kept) > self._size:
                self._kept.popitem(last=False)
        self._kept.move_to_end(encoded)
        return kept


# A kept form that cannot be read (written by another version, or damaged) verifies nothing.
UNREADABLE = "what is kept of it cannot be read"


def rejected(article: Article, other_id: str, story_id: str, why: str) -> str:
    """The debug line for a candidate that is not a copy."""
    return f"article {article.id} is not a copy of story {story_id} (article {other_id}): {why}"


Rejection = Callable[[Article, str, str], None]  # (article, story id of the candidate, why)


@dataclass
class LocalStories:
    """Story assignment in memory, by the registry's rules (for articles read from files)."""

    _exact: dict[str, str] = field(default_factory=dict)
    _kept: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> story, encoded
    _index: dict[str, list[str]] = field(default_factory=dict)  # lede key -> ids, latest last
    _sources: dict[str, list[SourceRef]] = field(default_factory=dict)
    _titles: dict[str, str] = field(default_factory=dict)
    _units: dict[str, Counter[str]] = field(default_factory=dict)
    on_reject: Rejection | None = None
    _features: KeptFeatures = field(default_factory=KeptFeatures)

    def assign(self, article: Article) -> Story:
        counts = self._units.setdefault(source_key(article), Counter())
        body = split_content(article.body, article.title)
        repeated = {u for u in unit_keys(body) if counts[u] >= REPEATED_IN_STORIES}
        prepared = prepare(article, repeated, body)
        fields: list[str] = []
        keyed: list[str] = []
        if prepared.searchable:
            common = lambda key: counts[key] >= COMMON_IN_STORIES  # noqa: E731
            fields, keyed = lede_fields(prepared.shingles, common)
        story_id, how = self._exact.get(prepared.exact_key), "exact"
        if story_id is not None and prepared.flash and article.source in self._sources[story_id]:
            story_id = None  # its own outlet's item again: a new one (a daily notice)
        if story_id is None:
            story_id, how = self._nearest(prepared, fields), "near"
        is_new = story_id is None
        if story_id is None:
            story_id, how = article.id, "new"
            self._titles[story_id] = article.title
            _count(counts, [*prepared.units, *keyed])
        self._exact[prepared.exact_key] = story_id
        if fields:
            self._register(prepared, fields, story_id)
        sources = self._sources.setdefault(story_id, [])
        if article.source not in sources:
            sources.append(article.source)
        return Story(story_id, tuple(sources), is_new, self._titles.get(story_id, ""), how)

    def title_of(self, story_id: str) -> str:
        return self._titles.get(story_id, "")

    def _register(self, prepared: Prepared, fields: list[str], story_id: str) -> None:
        article_id = prepared.article.id
        self._kept[article_id] = (story_id, prepared.doc())
        for key in fields:
            refs = [r for r in self._index.get(key, []) if r != article_id] + [article_id]
            self._index[key] = refs[-REFS_MAX:]

    def _nearest(self, prepared: Prepared, fields: list[str]) -> str | None:
        article = prepared.article
        for other_id in ranked(self._index.get(key, []) for key in fields)[:MAX_CANDIDATES]:
            if other_id == article.id or other_id not in self._kept:
                continue
            story_id, encoded = self._kept[other_id]
            kept = self._features.get(encoded)
            why = verify(prepared.features, kept) if kept is not None else UNREADABLE
            if why is None:
                return story_id
            if self.on_reject:
                self.on_reject(article, story_id, why)
        return None


def ranked(lists: Iterable[list[str]]) -> list[str]:
    """Articles found under several keys (each list latest last), those under most keys first,
    then the latest: the script ranks them the same way."""
    votes: Counter[str] = Counter()
    latest: dict[str, int] = {}
    for refs in lists:
        for age, ref in enumerate(reversed(refs)):
            votes[ref] += 1
            latest[ref] = min(latest.get(ref, age), age)
    return sorted(votes, key=lambda ref: (-votes[ref], latest[ref], ref))


def _count(counts: Counter[str], units: list[str]) -> None:
    """Count a new story's sentences; keep the UNITS_MAX most repeated, as the registry does."""
    counts.update(units)
    if len(counts) > 2 * UNITS_MAX:
        kept = counts.most_common(UNITS_MAX)
        counts.clear()
        counts.update(dict(kept))
