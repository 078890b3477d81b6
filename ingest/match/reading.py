"""What the model must read of an article, and reading it: names cost what words cost.

The cheap evidence decides first: a rule's term conditions (presearch), then listed names
written in full (a full name or a multi-word alias counts on its own, `mentions.py`). The
model reads only what is still in doubt:

- a surname or one-word alias written with a capital, not inside a full name: the model's
  label (or a wider span around it, `Hunter Biden`, `Johnson & Johnson`) judges it. The model
  reads the sentence that holds it and one sentence on each side, for context;
- `LABEL: any`: every span the model tags counts, so the model reads every sentence (the
  costliest kind of rule).

A rule that the text has already failed (a listed-names condition with no mention the model
could confirm) needs nothing. The sentences of many articles go through the model in one
batched call, and each entity comes back with offsets into its article.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from ingest.match.nlp import Ner, NerResult
from ingest.match.presearch import CompiledCondition, CompiledRule
from ingest.match.termindex import TextHits
from ingest.match.terms import ABBREVIATIONS, Hit

Scope = Literal["sentences", "whole"]  # whole: every article a rule with entities could match
CONTEXT_SENTENCES = 1  # on each side of a sentence that holds a mention in doubt


@dataclass(frozen=True, slots=True)
class Reading:
    """What the model must read of one article: all of it, or some of its sentences."""

    whole: bool = False
    sentences: frozenset[int] = frozenset()  # indexes into the article's sentence spans

    def __bool__(self) -> bool:
        return self.whole or bool(self.sentences)

    def __or__(self, other: Reading) -> Reading:
        return Reading(self.whole or other.whole, self.sentences | other.sentences)


NOTHING = Reading()
EVERYTHING = Reading(whole=True)
UNREAD = NerResult((), ())  # the model was ready, and the text left nothing in doubt


def in_doubt(cond: CompiledCondition, text: str, hits: TextHits) -> tuple[list[Hit], bool]:
    """A listed-names condition's mentions only the model can judge, and whether a full name
    (or multi-word alias) already satisfies it."""
    doubtful, settled = [], False
    for name in cond.names or ():
        strong = [h for i in name.strong for h in hits.of(i)]
        settled = settled or bool(strong)
        for hit in (h for i in name.weak for h in hits.of(i)):
            if text[hit.start].islower():
                continue  # lower case is the common word, whatever the model says
            if any(s.start <= hit.start and hit.end <= s.end for s in strong):
                continue  # part of the full name
            if strong and standalone(hit, text):
                continue  # the full name is in the article and nothing could make it longer
            doubtful.append(hit)
    return doubtful, settled


# A name's words may be joined by these (`Johnson & Johnson`, `Bank of England`, `bin Salman`).
_JOINERS = frozenset(str.split("of de da di del der den van von bin ibn al el la le du dos das y"))
_TOKEN = re.compile(r"\w+|[^\w\s]")
_NEAR_CHARS = 40
_OPENING = frozenset("([{\"“‘'—–")
_CLOSING = frozenset(")]}\"”’'.!?")
_LISTING = frozenset(",;:")  # free unless a capitalised word is on the other side: a list of names
_ENDS = frozenset(".!?")


def standalone(hit: Hit, text: str) -> bool:
    """Whether nothing beside a mention could make it part of a longer name: on either side a
    lower-case word (no joiner), punctuation set off by a space, or nothing. A surname beside
    another capitalised word (`Hunter Biden`, `President Putin`, `Trump Tower`), in a list of
    names (`Izvestia, Grushko`), after a joiner (`Johnson & Johnson`, `Bank of England`), a
    hyphen, an initial or a title (`J. Trump`, `Mr. Trump`), or against a number (`1.08`) stays
    in doubt: the model's spans decide those."""
    before = list(_TOKEN.finditer(text, max(0, hit.start - _NEAR_CHARS), hit.start))[::-1]
    after = list(_TOKEN.finditer(text, hit.end, hit.end + _NEAR_CHARS))
    if len(after) >= 2 and after[0].group() in "'’" and after[1].group() == "s":
        after = after[2:]  # `Trump's envoy`: the possessive is not part of a name
    return _free_before(before, hit.start) and _free_after(after)


def _free_before(tokens: list[re.Match[str]], start: int) -> bool:
    if not tokens:
        return True
    nearest, other = tokens[0].group(), (tokens[1].group() if len(tokens) > 1 else "")
    if _lower_word(nearest):
        return True
    if nearest in _OPENING:
        return True
    if nearest in _LISTING:
        return not other[:1].isupper()
    if nearest in _ENDS and tokens[0].end() < start:  # a sentence's end, unless `J.` or `Mr.`
        return len(other) > 1 and other.lower() not in ABBREVIATIONS
    return False


def _free_after(tokens: list[re.Match[str]]) -> bool:
    if not tokens:
        return True
    nearest = tokens[0].group()
    if _lower_word(nearest):
        return True
    if len(tokens) > 1 and tokens[1].start() == tokens[0].end() and tokens[1].group()[0].isalnum():
        return False  # `1.0842`, `Trump-era`, `3,000`: the punctuation is inside a word
    following = tokens[1].group() if len(tokens) > 1 else ""
    if nearest in _LISTING:
        return not following[:1].isupper()
    return nearest in _CLOSING


def _lower_word(token: str) -> bool:
    return token.isalpha() and token.islower() and token not in _JOINERS


def reading_for(
    rule: CompiledRule,
    text: str,
    hits: TextHits,
    spans: Sequence[tuple[int, int]],
    scope: Scope = "sentences",
) -> Reading:
    """What the model must read for this rule on this article (NOTHING if the text decides)."""
    if not rule.conditions:
        return NOTHING
    if scope == "whole":
        return EVERYTHING
    doubtful: list[Hit] = []
    for cond in rule.conditions:
        if cond.names is None:
            continue
        found, settled = in_doubt(cond, text, hits)
        if not settled and not found:
            return NOTHING  # no mention the model could confirm: the rule fails without it
        doubtful += found
    if any(cond.names is None for cond in rule.conditions):
        return EVERYTHING
    return Reading(sentences=frozenset(windows(doubtful, spans)))


def windows(hits: Iterable[Hit], spans: Sequence[tuple[int, int]]) -> set[int]:
    """Indexes of the sentences holding the hits, with CONTEXT_SENTENCES on each side."""
    starts = [s for s, _ in spans]
    chosen: set[int] = set()
    for hit in hits:
        first, last = _sentence(starts, hit.start), _sentence(starts, max(hit.start, hit.end - 1))
        low, high = max(0, first - CONTEXT_SENTENCES), min(len(spans) - 1, last + CONTEXT_SENTENCES)
        chosen.update(range(low, high + 1))
    return chosen


def _sentence(starts: list[int], index: int) -> int:
    return max(0, bisect_right(starts, index) - 1)


def chunks(
    reading: Reading, spans: Sequence[tuple[int, int]], length: int
) -> list[tuple[int, int]]:
    """Character ranges of the article for the model: runs of adjacent sentences joined."""
    if reading.whole or not spans:
        return [(0, length)] if reading else []
    ranges: list[tuple[int, int]] = []
    for number in sorted(reading.sentences):
        start, end = spans[number]
        if ranges and number - 1 in reading.sentences:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((start, end))
    return ranges


def read(ner: Ner, texts: Sequence[str], plans: Sequence[list[tuple[int, int]]]) -> list[NerResult]:
    """Run the model once over every planned range of every text; results in text offsets.

    A text with nothing planned gets UNREAD: the model was there, nothing was in doubt.
    """
    pieces = [(number, start, end) for number, ranges in enumerate(plans) for start, end in ranges]
    if not pieces:
        return [UNREAD] * len(texts)
    results = ner.analyze([texts[n][start:end] for n, start, end in pieces])
    entities: dict[int, list[tuple[str, str, int, int]]] = {}
    sentences: dict[int, list[tuple[int, int]]] = {}
    for (number, offset, _), result in zip(pieces, results, strict=True):
        entities.setdefault(number, []).extend(
            (t, label, offset + start, offset + end) for t, label, start, end in result.entities
        )
        sentences.setdefault(number, []).extend(
            (offset + s, offset + e) for s, e in result.sentences
        )
    return [
        NerResult(tuple(entities[n]), tuple(sentences[n])) if n in entities else UNREAD
        for n in range(len(texts))
    ]
