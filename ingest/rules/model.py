"""The rule model: what a rule file's entries become once checked (see `ingest.rules.files`)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class NameSpec:
    """One listed name: `Volodymyr Zelenskiy`, with optional aliases such as `Zelensky`."""

    name: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class EntityCondition:
    """`PERSON: [names...]` (at least one name must be mentioned) or `PERSON: any` (names None)."""

    label: str
    names: tuple[NameSpec, ...] | None


@dataclass(frozen=True, slots=True)
class NearCondition:
    """`a` and `b` (terms, or labels of the rule's entities) in one sentence or N words apart."""

    a: str
    b: str
    within: int | None  # None: the same sentence; N: at most N words between them


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    channel: str
    all: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    none: tuple[str, ...] = ()
    entities: tuple[EntityCondition, ...] = ()
    near: tuple[NearCondition, ...] = ()
    path: str = ""
    line: int = 0
    # (term, line) for the all/any/none terms as written, for advice about them (rules check)
    term_lines: tuple[tuple[str, int], ...] = field(default=(), compare=False)

    @property
    def labels(self) -> frozenset[str]:
        return frozenset(c.label for c in self.entities)

    def near_terms(self) -> tuple[str, ...]:
        """Near operands that are terms (not entity labels): they are required terms too."""
        labels = self.labels
        return tuple(x for n in self.near for x in (n.a, n.b) if x not in labels)

    def has_term_condition(self) -> bool:
        return bool(self.all or self.any or self.near_terms())
