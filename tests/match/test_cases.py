"""Table-driven matching: each tests/match/cases/*.yaml holds rules, articles and the expected
matches beside them. An article's `expect` lists every rule that must match; any other match
fails the case."""

from __future__ import annotations

from typing import Any

import pytest

from ingest.match.matcher import Matcher
from ingest.match.nlp import Ner
from ingest.rules.files import parse_rules
from ingest.yamlfile import LineDict, load_yaml_file
from tests.match.conftest import CASES, article

CASE_FILES = sorted(CASES.glob("*.yaml"))


def _cases() -> list[Any]:
    params = []
    for path in CASE_FILES:
        data = load_yaml_file(path)
        for number, line in enumerate(data["articles"].lines):
            params.append(pytest.param(path, number, id=f"{path.stem}:{line}"))
    return params


def _actual(match: Any, expected: LineDict) -> dict[str, Any]:
    """The parts of a match that the case spells out."""
    got: dict[str, Any] = {"rule": match.rule_id}
    if "terms" in expected:
        got["terms"] = list(match.terms)
    if "entities" in expected:
        got["entities"] = [e.to_json() for e in match.entities]
    if "snippet" in expected:
        got["snippet"] = match.snippet
    return got


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("path", "number"), _cases())
def test_case(path: Any, number: int, ner: Ner) -> None:
    data = load_yaml_file(path)
    rules = parse_rules(data["rules"], str(path))
    case = data["articles"][number]
    matches = Matcher(rules, ner).match_many([article(case["text"], case.get("title", ""))])[0]
    expected = [dict(e) for e in case["expect"] or []]
    by_rule = {m.rule_id: m for m in matches}
    assert sorted(by_rule) == sorted(e["rule"] for e in expected)
    for want in case["expect"] or []:
        assert _actual(by_rule[want["rule"]], want) == dict(want)


def test_every_case_file_has_cases() -> None:
    assert len(CASE_FILES) >= 5
    for path in CASE_FILES:
        data = load_yaml_file(path)
        assert data["rules"] and data["articles"], path
