"""One rule mapping to a Rule, with each problem reported at its line and under its rule id.

Every key is checked even after a problem, so one pass over a file lists all that is wrong.
"""

from __future__ import annotations

import difflib
import re
from typing import Any

from ingest.errors import RuleError
from ingest.rules.model import EntityCondition, NameSpec, NearCondition, Rule
from ingest.yamlfile import LineDict, LineList

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


class Problems:
    """Collects RuleErrors for one file."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.errors: list[RuleError] = []

    def add(self, line: int, message: str, rule_id: str | None = None) -> None:
        self.errors.append(RuleError(self.path, line, message, rule_id))


def parse_rule(item: Any, line: int, problems: Problems) -> Rule | None:
    """The rule an item of `rules:` describes, or None when a problem was recorded for it."""
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
    parsed = {key: _parse_terms(spot, key) for key in ("all", "any", "none")}
    terms = {key: tuple(t for t, _ in found) for key, found in parsed.items()}
    entities = _parse_entities(spot)
    near = _parse_near(spot, {c.label for c in entities})
    rule = Rule(rule_id or "", channel, terms["all"], terms["any"], terms["none"],
                entities, near, problems.path, item.line,
                tuple(tl for found in parsed.values() for tl in found))  # fmt: skip
    if len(problems.errors) == before and not (rule.all or rule.any or rule.entities or rule.near):
        problems.add(item.line, "rule has no condition: give all, any, entities or near", rule_id)
    return rule if len(problems.errors) == before else None


class _Spot:
    """Where a rule's keys stand, so each message gets the right line and rule id."""

    def __init__(self, problems: Problems, item: LineDict, rule_id: str | None) -> None:
        self.problems, self.item, self.rule_id = problems, item, rule_id

    def line(self, key: str) -> int:
        return self.item.lines.get(key, self.item.line)

    def add(self, key: str, message: str, line: int | None = None) -> None:
        self.problems.add(line or self.line(key), message, self.rule_id)


def _parse_id(item: LineDict, problems: Problems) -> str | None:
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


def _parse_terms(spot: _Spot, key: str) -> tuple[tuple[str, int], ...]:
    """The terms of `all`, `any` or `none`, each with its line."""
    value = spot.item.get(key)
    if value is None:
        return ()
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        value = LineList([value])
        value.lines = [spot.line(key)]
    if not isinstance(value, LineList):
        spot.add(key, f"'{key}' must be a list of terms")
        return ()
    terms = [
        (_parse_term(spot, key, v, line), line) for v, line in zip(value, value.lines, strict=True)
    ]
    return tuple((t, line) for t, line in terms if t is not None)


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


def _did_you_mean(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(str(word), list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""
