"""Matching articles against rules: presearch, NER only where needed, then each rule's conditions.

    articles -> TermIndex.search (one automaton pass each) -> candidate rules (cheap term checks)
             -> Ner.analyze (one batched call, only articles with a candidate needing entities)
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

    def need_ner(self) -> bool:
        return any(c.conditions for c in self.rules)


def _matches(text: str, candidates: _Candidates, ner: NerResult | None) -> list[Match]:
    spans = sentences(text)
    checks = [evaluate(c, text, candidates.hits, ner, spans) for c in candidates.rules]
    return [x.to_match() for x in checks if x.matched]


@dataclass
class MatchStats:
    """Counts for metrics: articles some rule could still match after presearch, and the
    articles the model had to read."""

    candidates: int = 0
    ner_articles: int = 0


class Matcher:
    """Rules compiled into one term index; match batches of articles."""

    def __init__(self, rules: RuleSet | Sequence[Rule], ner: Ner | None = None) -> None:
        self.rules = tuple(rules.rules if isinstance(rules, RuleSet) else rules)
        _check_model(self.rules, ner)
        self.ner = ner
        self.presearch = Presearch(self.rules)
        self.index = self.presearch.index

    def match_many(
        self, articles: Sequence[Article], stats: MatchStats | None = None
    ) -> list[list[Match]]:
        """The matches of every article, in article order; NER runs once, batched.

        `stats`, when given, counts presearch candidates and the articles NER ran on.
        """
        texts = [a.text for a in articles]
        found = [self._presearch(t) for t in texts]
        wanted = [f is not None and f.need_ner() for f in found]
        if stats is not None:
            stats.candidates += sum(1 for f in found if f is not None)
            stats.ner_articles += sum(wanted) if self.ner is not None and self.ner.has_model else 0
        tagged = self._tag(texts, wanted)
        return [
            _matches(text, f, ner) if f is not None else []
            for text, f, ner in zip(texts, found, tagged, strict=True)
        ]

    def _presearch(self, text: str) -> _Candidates | None:
        # Hits are kept only when some rule is a candidate: most articles have none, and a
        # batch holding every article's words would be most of the batch's memory.
        hits = self.index.search(text)
        rules = self.presearch.candidates(hits)
        return _Candidates(hits, rules) if rules else None

    def match(self, article: Article) -> list[Match]:
        return self.match_many([article])[0]

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self.presearch.by_id

    def explain(self, article: Article, rule_id: str) -> Explanation:
        """Evaluate one rule on one article, with what was missing when it does not match."""
        compiled = self.presearch.by_id.get(rule_id)
        if compiled is None:
            raise KeyError(f"no rule with id '{rule_id}'")
        text = article.text
        ner = self._tag([text], [bool(compiled.conditions)])[0]
        return evaluate(compiled, text, self.index.search(text), ner, sentences(text))

    def _tag(self, texts: list[str], wanted: list[bool]) -> list[NerResult | None]:
        if self.ner is None or not self.ner.has_model or not any(wanted):
            return [None] * len(texts)
        chosen = [i for i, w in enumerate(wanted) if w]
        analyzed = dict(zip(chosen, self.ner.analyze([texts[i] for i in chosen]), strict=True))
        return [analyzed.get(i) for i in range(len(texts))]
