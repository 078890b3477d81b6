"""Rule files: the Rule model, and loading with every problem reported as `path:line: message`.

A file is all-or-nothing: one problem rejects the whole file, so a half-edited file never runs
half its rules. `load_rules_dir` lets the caller pass the last good version of each file, which
is how a broken edit keeps the previous rules running (see `ingest.rulebook`).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.errors import RuleError, RuleFileErrors
from ingest.yamlfile import LineDict, LineList, YamlSyntaxError, load_yaml_file

ENTITY_LABELS = frozenset(  # spaCy's English NER labels (OntoNotes)
    str.split(
        "PERSON NORP FAC ORG GPE LOC PRODUCT EVENT WORK_OF_ART "
        "LAW LANGUAGE DATE TIME PERCENT MONEY QUANTITY ORDINAL CARDINAL"
    )
)
RULE_KEYS = ("id", "channel", "all", "any", "none", "entities", "near")
NEAR_KEYS = ("a", "b", "within")
NAME_KEYS = ("name", "aliases")
SENTENCE = "sentence"
_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
# Subscribers use glob patterns, so glob characters and whitespace are kept out of channel names.
_CHANNEL_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9:._/-]{0,199}")
_WORD_RE = re.compile(r"\w")


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

    @property
    def labels(self) -> frozenset[str]:
        return frozenset(c.label for c in self.entities)

    def near_terms(self) -> tuple[str, ...]:
        """Near operands that are terms (not entity labels): they are required terms too."""
        labels = self.labels
        return tuple(x for n in self.near for x in (n.a, n.b) if x not in labels)

    def has_term_condition(self) -> bool:
        return bool(self.all or self.any or self.near_terms())


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The active rules of a folder, the problems found, and each good file's rules."""

    rules: tuple[Rule, ...]
    errors: tuple[RuleError, ...] = ()
    files: Mapping[str, tuple[Rule, ...]] = field(default_factory=dict)


class _Problems:
    """Collects RuleErrors for one file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.errors: list[RuleError] = []

    def add(self, line: int, message: str, rule_id: str | None = None) -> None:
        self.errors.append(RuleError(self.path, line, message, rule_id))


def load_rule_file(path: Path) -> list[Rule]:
    """Read one rule file; raise RuleFileErrors listing every problem found in it."""
    problems = _Problems(str(path))
    try:
        data = load_yaml_file(path)
    except YamlSyntaxError as exc:
        raise RuleFileErrors([RuleError(exc.path, exc.line, exc.message)]) from exc
    rules = _parse_document(data, problems)
    _check_unique(rules, problems)
    if problems.errors:
        raise RuleFileErrors(problems.errors)
    return rules


def parse_rules(items: LineList, path: str) -> list[Rule]:
    """Rules from an already-loaded YAML list of rule mappings (as found under `rules:`)."""
    problems = _Problems(path)
    rules = _parse_items(items, problems)
    _check_unique(rules, problems)
    if problems.errors:
        raise RuleFileErrors(problems.errors)
    return rules


def _parse_document(data: Any, problems: _Problems) -> list[Rule]:
    if data is None:
        return []  # an empty file is an empty rule set, not a mistake
    if not isinstance(data, LineDict) or "rules" not in data:
        problems.add(getattr(data, "line", 1), "expected a mapping with a 'rules:' list")
        return []
    for key in data:
        if key != "rules":
            problems.add(data.lines[key], f"unknown key '{key}' (expected 'rules')")
    items = data["rules"]
    if items is None:
        return []
    if not isinstance(items, LineList):
        problems.add(data.lines["rules"], "'rules' must be a list of rules")
        return []
    return _parse_items(items, problems)


def _parse_items(items: LineList, problems: _Problems) -> list[Rule]:
    rules = [
        _parse_rule(item, line, problems) for item, line in zip(items, items.lines, strict=True)
    ]
    return [r for r in rules if r is not None]


def _parse_rule(item: Any, line: int, problems: _Problems) -> Rule | None:
    if not isinstance(item, LineDict):
        problems.add(line, "each rule must be a mapping with at least 'id' and 'channel'")
        return None
    before = len(problems.errors)
    rule_id = _parse_id(item, problems)
    spot = _Spot(problems, item, rule_id)
    for key in item:
        if key not in RULE_KEYS:
            hint = _did_you_mean(key, RULE_KEYS) or f" (rule keys: {', '.join(RULE_KEYS)})"
            spot.add(key, f"unknown key '{key}'{hint}")
    channel = _parse_channel(spot)
    terms = {key: _parse_terms(spot, key) for key in ("all", "any", "none")}
    entities = _parse_entities(spot)
    near = _parse_near(spot, {c.label for c in entities})
    rule = Rule(rule_id or "", channel, terms["all"], terms["any"], terms["none"],
                entities, near, problems.path, item.line)  # fmt: skip
    if len(problems.errors) == before and not (rule.all or rule.any or rule.entities or rule.near):
        problems.add(item.line, "rule has no condition: give all, any, entities or near", rule_id)
    return rule if len(problems.errors) == before else None


class _Spot:
    """Where a rule's keys stand, so each message gets the right line and rule id."""

    def __init__(self, problems: _Problems, item: LineDict, rule_id: str | None) -> None:
        self.problems, self.item, self.rule_id = problems, item, rule_id

    def line(self, key: str) -> int:
        return self.item.lines.get(key, self.item.line)

    def add(self, key: str, message: str, line: int | None = None) -> None:
        self.problems.add(line or self.line(key), message, self.rule_id)


def _parse_id(item: LineDict, problems: _Problems) -> str | None:
    value = item.get("id")
    if value is None:
        problems.add(item.line, "missing 'id'")
        return None
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        problems.add(item.lines["id"], f"bad id {value!r}: use letters, digits, '.', '_', '-'")
        return None
    return value


def _parse_channel(spot: _Spot) -> str:
    value = spot.item.get("channel")
    if value is None:
        spot.add("channel", "missing 'channel' (the Redis channel for its alerts)")
        return ""
    if not isinstance(value, str) or not _CHANNEL_RE.fullmatch(value):
        spot.add("channel", f"bad channel name {value!r}: use letters, digits and : . _ / -")
        return ""
    return value


def _parse_terms(spot: _Spot, key: str) -> tuple[str, ...]:
    value = spot.item.get(key)
    if value is None:
        return ()
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        value = LineList([value])
        value.lines = [spot.line(key)]
    if not isinstance(value, LineList):
        spot.add(key, f"'{key}' must be a list of terms")
        return ()
    terms = [_parse_term(spot, key, v, line) for v, line in zip(value, value.lines, strict=True)]
    return tuple(t for t in terms if t is not None)


def _parse_term(spot: _Spot, key: str, value: Any, line: int) -> str | None:
    if isinstance(value, bool):
        spot.add(key, f"'{key}': a true/false value is not a term (quote yes/no/on/off)", line)
        return None
    if not isinstance(value, str | int | float):
        spot.add(key, f"'{key}': {value!r} is not a term", line)
        return None
    text = str(value).strip()
    if not _WORD_RE.search(text):
        spot.add(key, f"'{key}': term {text!r} has no letters or digits", line)
        return None
    return text


def _parse_entities(spot: _Spot) -> tuple[EntityCondition, ...]:
    value = spot.item.get("entities")
    if value is None:
        return ()
    if not isinstance(value, LineDict) or not value:
        spot.add("entities", "'entities' must map labels to names or 'any' (PERSON: [Name])")
        return ()
    conditions = [_parse_condition(spot, label, value, value.lines[label]) for label in value]
    return tuple(c for c in conditions if c is not None)


def _parse_condition(
    spot: _Spot, label: str, mapping: LineDict, line: int
) -> EntityCondition | None:
    if label not in ENTITY_LABELS:
        hint = _did_you_mean(label.upper(), sorted(ENTITY_LABELS))
        spot.add("entities", f"unknown entity label '{label}'{hint}", line)
        return None
    value = mapping[label]
    if value == "any":
        return EntityCondition(label, None)
    if isinstance(value, str):
        value = LineList([value])
        value.lines = [line]
    if not isinstance(value, LineList) or not value:
        spot.add("entities", f"{label}: give a list of names, or the word any", line)
        return None
    names = [_parse_name(spot, label, v, ln) for v, ln in zip(value, value.lines, strict=True)]
    good = tuple(n for n in names if n is not None)
    return EntityCondition(label, good) if len(good) == len(names) else None


def _parse_name(spot: _Spot, label: str, value: Any, line: int) -> NameSpec | None:
    if isinstance(value, str) and _WORD_RE.search(value):
        return NameSpec(value.strip())
    if not isinstance(value, LineDict):
        spot.add("entities", f"{label}: {value!r} is not a name", line)
        return None
    for key in value:
        if key not in NAME_KEYS:
            spot.add(
                "entities", f"{label}: unknown key '{key}' (use name, aliases)", value.lines[key]
            )
    name = value.get("name")
    aliases = value.get("aliases", [])
    if isinstance(aliases, str):
        aliases = [aliases]
    if not isinstance(name, str) or not _WORD_RE.search(name):
        spot.add("entities", f"{label}: each entry needs 'name: Full Name'", line)
        return None
    if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
        spot.add("entities", f"{label}: 'aliases' must be a list of names", line)
        return None
    return NameSpec(name.strip(), tuple(a.strip() for a in aliases))


def _parse_near(spot: _Spot, labels: set[str]) -> tuple[NearCondition, ...]:
    value = spot.item.get("near")
    if value is None:
        return ()
    if isinstance(value, LineDict):
        value, value.lines = LineList([value]), [value.line]
    if not isinstance(value, LineList):
        spot.add("near", "'near' must be a list of {a: ..., b: ..., within: sentence | N}")
        return ()
    parsed = [
        _parse_near_item(spot, v, ln, labels) for v, ln in zip(value, value.lines, strict=True)
    ]
    return tuple(n for n in parsed if n is not None)


def _parse_near_item(spot: _Spot, value: Any, line: int, labels: set[str]) -> NearCondition | None:
    if not isinstance(value, LineDict):
        spot.add(
            "near", "each near entry is {a: term or LABEL, b: term or LABEL, within: ...}", line
        )
        return None
    ok = True
    for key in value:
        if key not in NEAR_KEYS:
            spot.add("near", f"near: unknown key '{key}' (use a, b, within)", value.lines[key])
            ok = False
    operands = [_near_operand(spot, value, key, labels, line) for key in ("a", "b")]
    within = _near_within(spot, value.get("within", SENTENCE), value.lines.get("within", line))
    if not ok or operands[0] is None or operands[1] is None or within is False:
        return None
    return NearCondition(operands[0], operands[1], within if isinstance(within, int) else None)


def _near_operand(spot: _Spot, item: LineDict, key: str, labels: set[str], line: int) -> str | None:
    value = item.get(key)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        spot.add("near", f"near: '{key}' must be a term or an entity label", line)
        return None
    text = str(value).strip()
    if text in ENTITY_LABELS and text not in labels:
        spot.add("near", f"near: {text} is not in this rule's entities (add {text}: any)", line)
        return None
    if not _WORD_RE.search(text):
        spot.add("near", f"near: term {text!r} has no letters or digits", line)
        return None
    return text


def _near_within(spot: _Spot, value: Any, line: int) -> int | bool | None:
    if value == SENTENCE:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    spot.add("near", f"near: within must be 'sentence' or a number of words, not {value!r}", line)
    return False


def _check_unique(rules: list[Rule], problems: _Problems) -> None:
    seen: dict[str, Rule] = {}
    for rule in rules:
        if rule.id in seen:
            first = seen[rule.id]
            problems.add(
                rule.line, f"duplicate rule id (also at {first.path}:{first.line})", rule.id
            )
        else:
            seen[rule.id] = rule


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def rule_files(rules_dir: Path) -> list[Path]:
    """The rule files of a folder, in a stable order."""
    found = [*rules_dir.glob("*.yaml"), *rules_dir.glob("*.yml")]
    return sorted(p for p in found if p.is_file() and not p.name.startswith("."))


def load_rules_dir(
    rules_dir: Path, last_good: Mapping[str, tuple[Rule, ...]] | None = None
) -> RuleSet:
    """Load every rule file; a broken file is reported and replaced by its last good version."""
    errors: list[RuleError] = []
    files: dict[str, tuple[Rule, ...]] = {}
    for path in rule_files(rules_dir):
        try:
            files[str(path)] = tuple(load_rule_file(path))
        except RuleFileErrors as exc:
            errors.extend(exc.errors)
            if last_good and str(path) in last_good:
                files[str(path)] = last_good[str(path)]
    if not rules_dir.is_dir():
        errors.append(RuleError(str(rules_dir), 0, "rules folder not found"))
    rules = _unique_across_files(files, errors)
    return RuleSet(tuple(rules), tuple(errors), files)


def _unique_across_files(
    files: Mapping[str, tuple[Rule, ...]], errors: list[RuleError]
) -> list[Rule]:
    seen: dict[str, Rule] = {}
    for rules in files.values():
        for rule in rules:
            first = seen.get(rule.id)
            if first is None:
                seen[rule.id] = rule
            else:
                where = f"{first.path}:{first.line}"
                errors.append(
                    RuleError(rule.path, rule.line, f"duplicate rule id (also at {where})", rule.id)
                )
    return list(seen.values())


def check_rules_dir(rules_dir: Path) -> tuple[list[RuleError], list[str]]:
    """Validate a folder: the errors, and warnings about rules that will be costly."""
    ruleset = load_rules_dir(rules_dir)
    warnings = []
    for rule in ruleset.rules:
        for cond in rule.entities:
            if cond.names is None and not rule.has_term_condition():
                warnings.append(
                    f"{rule.path}:{rule.line}: rule '{rule.id}': {cond.label}: any with no term "
                    "condition makes NER run on every article; add all: or any: terms"
                )
    return list(ruleset.errors), warnings
