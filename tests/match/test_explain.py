"""The words `wirewatch rules test` prints, from tests/match/explain_cases.yaml."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.match.explain import describe_article, describe_match, describe_near_miss
from ingest.match.matcher import Matcher
from ingest.match.nlp import Ner
from ingest.rules.files import parse_rules
from ingest.yamlfile import load_yaml_file
from tests.match.conftest import article

CASES = Path(__file__).resolve().parent / "explain_cases.yaml"
DATA = load_yaml_file(CASES)


@pytest.mark.timeout(30)
@pytest.mark.parametrize("number", range(len(DATA["cases"])), ids=lambda n: f"case{n}")
def test_wording(number: int, ner: Ner) -> None:
    case = DATA["cases"][number]
    matcher = Matcher(parse_rules(DATA["rules"], str(CASES)), ner)
    item = article(case["text"])
    matched = {m.rule_id: m for m in matcher.match_many([item])[0]}
    explanation = matcher.explain(item, case["rule"])
    assert explanation.matched == (case["rule"] in matched)
    shown = describe_match(matched[case["rule"]]) if explanation.matched else ""
    assert (shown or describe_near_miss(explanation)) == case["expect"]
    if explanation.matched:
        assert describe_near_miss(explanation) == shown


@pytest.mark.timeout(10)
def test_article_header_names_the_file_and_title() -> None:
    item = article("Body.", title="  A very\nlong title " + "x" * 200)
    header = describe_article(item)
    assert header.startswith("https://example.org/: A very long title x")
    assert header.endswith("…") and len(header) < 130
