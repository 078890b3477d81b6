"""Matching articles against rules: presearch, NER only where needed, then each rule's conditions.

    articles -> TermIndex.search (one automaton pass each) -> candidate rules (cheap term checks)
             -> full names settle what they can; what is left in doubt names the sentences
                the model must read (`reading.py`)
             -> Ner.analyze (one batched call over those sentences of every article)
             -> evaluate each candidate -> Explanation -> Match

`explain` runs the same evaluation for one rule, whether or not it passed the presearch, so
`wirewatch rules test --rule ID` shows what was missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from ingest.errors import ModelError, RuleError
from ingest.match.evaluation import Explanation, evaluate
from ingest.match.nlp import Ner, NerResult
from ingest.match.presearch import CompiledRule, Presearch
from ingest.match.reading import (
    EVERYTHING,
    NOTHING,
    Reading,
    Scope,
    chunks,
    in_doubt,
    read,
    reading_for,
    windows,
)
from ingest.match.termindex import TextHits
from ingest.match.terms import sentences
from ingest.models import Article, Match
from ingest.rules.files import RuleSet
from ingest.rules.model import Rule

MODEL_NEEDED = (
    "{label}: any needs a statistical NER model, but none is loaded (WIREWATCH_SPACY_MODEL=blank): "
    "list names instead of 'any', or set WIREWATCH_SPACY_MODEL=auto"
)


def model_problems(rules: Sequence[Rule], ner: Ner | None) -> list[RuleError]:
    """Rules that a missing or blank model cannot serve (`LABEL: any`), as RuleErrors."""
    if ner is not None and ner.has_model:
        return []
    return [
        RuleError(r.path, r.line, MODEL_NEEDED.format(label=c.label), r.id)
        for r in rules
        for c in r.entities
        if c.names is None
    ]


def _check_model(rules: Sequence[Rule], ner: Ner | None) -> None:
    problems = model_problems(rules, ner)
    if problems:
        raise ModelError("\n".join(str(p) for p in problems))


class _Candidates(NamedTuple):
    hits: TextHits
    rules: list[CompiledRule]
    spans: list[tuple[int, int]]  # the article's sentences


def _matches(text: str, candidates: _Candidates, ner: NerResult | None) -> list[Match]:
    spans = candidates.spans
    checks = [evaluate(c, text, candidates.hits, ner, spans) for c in candidates.rules]
    return [x.to_match() for x in checks if x.matched]


@dataclass
class MatchStats:
    """Counts for metrics: articles some rule could still match after presearch, the articles
    the model had to read (some sentences of), and the characters it read."""

    candidates: int = 0
    ner_articles: int = 0
    ner_chars: int = 0


class Matcher:
    """Rules compiled into one term index; match batches of articles.

    `scope="whole"` has the model read every article that a rule with entity conditions could
    match, all of it (as before sentence windows): for comparing the two.
    """

    def __init__(
        self,
        rules: RuleSet | Sequence[Rule],
        ner: Ner | None = None,
        scope: Scope = "sentences",
    ) -> None:
        self.rules = tuple(rules.rules if isinstance(rules, RuleSet) else rules)
        _check_model(self.rules, ner)
        self.ner = ner
        self.scope = scope
        self.presearch = Presearch(self.rules)
        self.index = self.presearch.index

    def match_many(
        self, articles: Sequence[Article], stats: MatchStats | None = None
    ) -> list[list[Match]]:
        """The matches of every article, in article order; NER runs once, batched.

        `stats`, when given, counts presearch candidates and what the model read.
        """
        texts = [a.text for a in articles]
        found = [self._presearch(t) for t in texts]
        plans = [
            self._plan(text, f) if f is not None else []
            for text, f in zip(texts, found, strict=True)
        ]
        if stats is not None:
            stats.candidates += sum(1 for f in found if f is not None)
            stats.ner_articles += sum(1 for p in plans if p)
            stats.ner_chars += sum(end - start for p in plans for start, end in p)
        tagged = self._read(texts, plans)
        return [
            _matches(text, f, ner) if f is not None else []
            for text, f, ner in zip(texts, found, tagged, strict=True)
        ]

    def _presearch(self, text: str) -> _Candidates | None:
        # Hits are kept only when some rule is a candidate: most articles have none, and a
        # batch holding every article's words would be most of the batch's memory.
        hits = self.index.search(text)
        rules = self.presearch.candidates(hits)
        return _Candidates(hits, rules, sentences(text)) if rules else None

    def _plan(self, text: str, candidates: _Candidates) -> list[tuple[int, int]]:
        """The ranges of the article the model must read for its candidate rules."""
        if self.ner is None or not self.ner.has_model:
            return []
        reading = NOTHING
        for rule in candidates.rules:
            reading |= reading_for(rule, text, candidates.hits, candidates.spans, self.scope)
            if reading.whole:
                break
        return chunks(reading, candidates.spans, len(text))

    def _read(self, texts: list[str], plans: list[list[tuple[int, int]]]) -> list[NerResult | None]:
        if self.ner is None or not self.ner.has_model:
            return [None] * len(texts)
        return list(read(self.ner, texts, plans))

    def match(self, article: Article) -> list[Match]:
        return self.match_many([article])[0]

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self.presearch.by_id

    def explain(self, article: Article, rule_id: str) -> Explanation:
        """Evaluate one rule on one article, with what was missing when it does not match.

        The model reads every mention in doubt, even when the terms already fail, so that the
        explanation can say why each one counts or not.
        """
        compiled = self.presearch.by_id.get(rule_id)
        if compiled is None:
            raise KeyError(f"no rule with id '{rule_id}'")
        text = article.text
        hits, spans = self.index.search(text), sentences(text)
        plan: list[tuple[int, int]] = []
        if self.ner is not None and self.ner.has_model:
            plan = chunks(_explained(compiled, text, hits, spans), spans, len(text))
        ner = self._read([text], [plan])[0] if compiled.conditions else None
        return evaluate(compiled, text, hits, ner, spans)


def _explained(
    rule: CompiledRule, text: str, hits: TextHits, spans: list[tuple[int, int]]
) -> Reading:
    if any(c.names is None for c in rule.conditions):
        return EVERYTHING
    doubtful = [h for c in rule.conditions for h in in_doubt(c, text, hits)[0]]
    return Reading(sentences=frozenset(windows(doubtful, spans)))
