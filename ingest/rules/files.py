"""Rule files: loading files and folders, with every problem reported as `path:line: message`.

A file is all-or-nothing: one problem rejects the whole file, so a half-edited file never runs
half its rules. `load_rules_dir` lets the caller pass the last good version of each file, which
is how a broken edit keeps the previous rules running (see `ingest.service.rulebook`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.bulk import collector_paused
from ingest.errors import RuleError, RuleFileErrors
from ingest.rules.kept import keep_rules, kept_rules
from ingest.rules.model import Rule
from ingest.rules.parse import Problems, parse_rule
from ingest.rules.wordcase import case_warnings
from ingest.yamlfile import LineDict, LineList, YamlSyntaxError, decode_yaml, load_yaml_text


@dataclass(frozen=True, slots=True)
class RuleSet:
    """The active rules of a folder, the problems found, and each good file's rules."""

    rules: tuple[Rule, ...]
    errors: tuple[RuleError, ...] = ()
    files: Mapping[str, tuple[Rule, ...]] = field(default_factory=dict)


def load_rule_file(path: Path) -> list[Rule]:
    """Read one rule file; raise RuleFileErrors listing every problem found in it. A good
    file's rules are kept for the next process that reads the same bytes (`kept.py`)."""
    problems = Problems(str(path))
    try:
        raw = path.read_bytes()
    except OSError as exc:
        message = f"cannot read: {exc.strerror or exc}"
        raise RuleFileErrors([RuleError(str(path), 1, message)]) from exc
    kept = kept_rules(path, raw)
    if kept is not None:
        return kept
    try:
        data = load_yaml_text(decode_yaml(raw, str(path)), str(path))
    except YamlSyntaxError as exc:
        raise RuleFileErrors([RuleError(exc.path, exc.line, exc.message)]) from exc
    rules = _checked(_parse_document(data, problems), problems)
    keep_rules(path, raw, rules)
    return rules


def parse_rules(items: LineList, path: str) -> list[Rule]:
    """Rules from an already-loaded YAML list of rule mappings (as found under `rules:`)."""
    problems = Problems(path)
    return _checked(_parse_items(items, problems), problems)


def _checked(rules: list[Rule], problems: Problems) -> list[Rule]:
    """The rules, unless they or their ids had problems: then every problem, at once."""
    _check_unique(rules, problems)
    if problems.errors:
        raise RuleFileErrors(problems.errors)
    return rules


def _parse_document(data: Any, problems: Problems) -> list[Rule]:
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


def _parse_items(items: LineList, problems: Problems) -> list[Rule]:
    rules = [
        parse_rule(item, line, problems) for item, line in zip(items, items.lines, strict=True)
    ]
    return [r for r in rules if r is not None]


def _check_unique(rules: list[Rule], problems: Problems) -> None:
    seen: dict[str, Rule] = {}
    for rule in rules:
        if rule.id in seen:
            first = seen[rule.id]
            problems.add(
                rule.line, f"duplicate rule id (also at {first.path}:{first.line})", rule.id
            )
        else:
            seen[rule.id] = rule


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
            with collector_paused():
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
    """Validate a folder: the errors, and warnings about rules that will be costly or that
    probably mean a capitalised term to ignore case."""
    ruleset = load_rules_dir(rules_dir)
    warnings = []
    for rule in ruleset.rules:
        for cond in rule.entities:
            if cond.names is None and not rule.has_term_condition():
                warnings.append(
                    f"{rule.path}:{rule.line}: rule '{rule.id}': {cond.label}: any with no term "
                    "condition makes NER run on every article; add all: or any: terms"
                )
    warnings += case_warnings(ruleset.rules)
    return list(ruleset.errors), warnings


def cost_notes(rules: Sequence[Rule]) -> list[str]:
    """A note for each `LABEL: any` rule that has terms (those without get a warning): the
    model reads every sentence of what passes its terms, where listed names need a few."""
    return [
        f"{rule.path}:{rule.line}: rule '{rule.id}': {cond.label}: any makes the model read "
        "every sentence of each article that passes its terms, the costliest kind of rule; "
        "listed names need the model only for the sentences where a name is in doubt"
        for rule in rules
        if rule.has_term_condition()
        for cond in rule.entities
        if cond.names is None
    ]
