"""Presearch: rules compiled to term ids, and which of them an article's term hits could match.

Each rule is filed under one trigger term (the longest of its required terms, likely the rarest),
so a text's hits reach only the rules they could satisfy; those get the cheap term check, and
only the survivors go on to NER and full evaluation (`ingest.match.evaluation`).
"""

from __future__ import annotations

from collections.abc import Iterable, KeysView, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from ingest.bulk import collector_paused
from ingest.match.termindex import TermIndex, TextHits
from ingest.match.terms import TermKind, words
from ingest.rules.model import EntityCondition, NameSpec, Rule


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
    gate: _Gate = field(init=False, repr=False, compare=False)  # the term conditions as id sets

    def __post_init__(self) -> None:
        object.__setattr__(self, "gate", _Gate.of(self))

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


@dataclass(frozen=True, slots=True)
class _Gate:
    """A rule's term conditions as sets of term ids, checked against the hits in C."""

    required: frozenset[int]
    any: frozenset[int]  # empty: no `any` condition
    none: frozenset[int]
    names: tuple[frozenset[int], ...]  # per listed-names condition: one of them must occur
    ids: frozenset[int]  # every term id above

    @classmethod
    def of(cls, rule: CompiledRule) -> _Gate:
        names = tuple(
            frozenset(i for n in c.names for i in (*n.strong, *n.weak))
            for c in rule.conditions
            if c.names is not None
        )
        required, any_, none = (
            frozenset(i for _, i in terms) for terms in (rule.required, rule.any, rule.none)
        )
        return cls(required, any_, none, names, required | any_ | none | frozenset().union(*names))

    def could_hold(self, found: KeysView[int], certain: AbstractSet[int]) -> bool:
        """Might hold once the case of the found terms is checked (only `certain` ones exclude)."""
        return (
            found >= self.required
            and (not self.any or not found.isdisjoint(self.any))
            and certain.isdisjoint(self.none)
            and (not self.names or all(not found.isdisjoint(ids) for ids in self.names))
        )

    def holds(self, found: KeysView[int]) -> bool:
        return (
            found >= self.required
            and (not self.any or not found.isdisjoint(self.any))
            and found.isdisjoint(self.none)
            and (not self.names or all(not found.isdisjoint(ids) for ids in self.names))
        )


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
        with collector_paused():
            self._build(tuple(rules))

    def _build(self, rules: tuple[Rule, ...]) -> None:
        self.index = TermIndex(p for rule in rules for p in _phrases(rule))
        self.compiled = tuple(_compile(rule, self.index) for rule in rules)
        self.by_id = {c.rule.id: c for c in self.compiled}
        # The gate is filed beside each position so that a trigger's rules are checked without
        # reaching into every compiled rule: most of them fail, and memory is the cost here.
        triggered: dict[int, list[tuple[int, _Gate]]] = {}
        always: list[tuple[int, _Gate]] = []
        for position, compiled in enumerate(self.compiled):
            triggers = compiled.triggers()
            for term_id in triggers:
                triggered.setdefault(term_id, []).append((position, compiled.gate))
            if not triggers:
                always.append((position, compiled.gate))
        self._triggered = {term_id: tuple(filed) for term_id, filed in triggered.items()}
        self._trigger_ids = frozenset(self._triggered)
        self._always = tuple(always)

    def candidates(self, hits: TextHits) -> list[CompiledRule]:
        """Rules whose cheap term conditions hold for these hits, in rule order."""
        found = hits.found.keys()
        filed = [self._triggered[i] for i in self._trigger_ids.intersection(found)]
        if self._always:
            filed.append(self._always)
        if not filed:
            return []
        if hits.pending:  # capitalised terms: check the case of those the rules left need
            certain = found - hits.pending.keys()
            maybe = [(p, gate) for rules in filed for p, gate in rules
                     if gate.could_hold(found, certain)]  # fmt: skip
            hits.check_case({i for _, gate in maybe for i in gate.ids} & hits.pending.keys())
            filed = [tuple(maybe)]
            found = hits.found.keys()
        passed = {p for rules in filed for p, gate in rules if gate.holds(found)}
        return [self.compiled[p] for p in sorted(passed)]
