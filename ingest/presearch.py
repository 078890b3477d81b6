"""Presearch: rules compiled to term ids, and which of them an article's term hits could match.

Each rule is filed under one trigger term (the longest of its required terms, likely the rarest),
so a text's hits reach only the rules they could satisfy; those get the cheap term check, and
only the survivors go on to NER and full evaluation (`ingest.evaluation`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ingest.rulemodel import EntityCondition, NameSpec, Rule
from ingest.termindex import TermIndex, TextHits
from ingest.terms import TermKind, words


@dataclass(frozen=True, slots=True)
class CompiledName:
    name: str
    strong: tuple[int, ...]  # full name and multi-word aliases: enough on their own
    weak: tuple[int, ...]  # surname and one-word aliases: need support in the text
    first: str = ""  # folded first word of a person's name: `Hunter Biden` is not `Joe Biden`


@dataclass(frozen=True, slots=True)
class CompiledCondition:
    label: str
    names: tuple[CompiledName, ...] | None  # None: any span the model tags with the label


@dataclass(frozen=True, slots=True)
class CompiledRule:
    rule: Rule
    required: tuple[tuple[str, int], ...]  # all + near terms: (as written, term id)
    any: tuple[tuple[str, int], ...]
    none: tuple[tuple[str, int], ...]
    conditions: tuple[CompiledCondition, ...]

    def triggers(self) -> tuple[int, ...]:
        """Term ids of which at least one must occur for this rule to be worth evaluating."""
        if self.required:
            return (max(self.required, key=lambda t: len(t[0]))[1],)  # longest: likely rarest
        if self.any:
            return tuple(i for _, i in self.any)
        listed = [c for c in self.conditions if c.names is not None]
        if listed and listed[0].names is not None:
            return tuple(i for n in listed[0].names for i in (*n.strong, *n.weak))
        return ()


def _phrases(rule: Rule) -> list[tuple[str, TermKind]]:
    found: list[tuple[str, TermKind]] = [(t, "word") for t in (*rule.all, *rule.any, *rule.none)]
    found += [(t, "word") for t in rule.near_terms()]
    for cond in rule.entities:
        for spec in cond.names or ():
            surname = words(spec.name)[-1:] if cond.label == "PERSON" else []
            found += [(n, "name") for n in (spec.name, *spec.aliases, *surname)]
    return found


def _compile_name(label: str, spec: NameSpec, index: TermIndex) -> CompiledName:
    parts = words(spec.name)
    strong = [spec.name, *(a for a in spec.aliases if len(words(a)) > 1)]
    weak = [a for a in spec.aliases if len(words(a)) == 1]
    if label == "PERSON" and len(parts) > 1:
        weak.append(parts[-1])  # a surname alone; organisations and places have no surname
    return CompiledName(
        spec.name,
        tuple(index.id_of(s, "name") for s in strong),
        tuple(index.id_of(w, "name") for w in weak),
        parts[0] if label == "PERSON" and len(parts) > 1 else "",
    )


def _compile_condition(cond: EntityCondition, index: TermIndex) -> CompiledCondition:
    if cond.names is None:
        return CompiledCondition(cond.label, None)
    return CompiledCondition(
        cond.label, tuple(_compile_name(cond.label, n, index) for n in cond.names)
    )


def _compile(rule: Rule, index: TermIndex) -> CompiledRule:
    def ids(terms: Sequence[str]) -> tuple[tuple[str, int], ...]:
        return tuple(dict.fromkeys((t, index.id_of(t)) for t in terms))

    conditions = tuple(_compile_condition(c, index) for c in rule.entities)
    return CompiledRule(
        rule, ids((*rule.all, *rule.near_terms())), ids(rule.any), ids(rule.none), conditions
    )


class Presearch:
    """Every rule's terms in one index, and each rule filed under the terms that trigger it."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        rules = tuple(rules)
        self.index = TermIndex(p for rule in rules for p in _phrases(rule))
        self.compiled = tuple(_compile(rule, self.index) for rule in rules)
        self.by_id = {c.rule.id: c for c in self.compiled}
        self._triggered: dict[int, list[int]] = {}
        self._always: list[int] = []
        for position, compiled in enumerate(self.compiled):
            triggers = compiled.triggers()
            for term_id in triggers:
                self._triggered.setdefault(term_id, []).append(position)
            if not triggers:
                self._always.append(position)

    def candidates(self, hits: TextHits) -> list[CompiledRule]:
        """Rules whose cheap term conditions hold for these hits."""
        positions = set(self._always)
        for term_id in hits.by_term:
            positions.update(self._triggered.get(term_id, ()))
        return [self.compiled[p] for p in sorted(positions) if _terms_hold(self.compiled[p], hits)]


def _terms_hold(compiled: CompiledRule, hits: TextHits) -> bool:
    found = hits.by_term
    return (
        all(i in found for _, i in compiled.required)
        and (not compiled.any or any(i in found for _, i in compiled.any))
        and not any(i in found for _, i in compiled.none)
        and all(
            c.names is None or any(i in found for n in c.names for i in (*n.strong, *n.weak))
            for c in compiled.conditions
        )
    )
