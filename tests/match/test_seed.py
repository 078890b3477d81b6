"""The seed story against the shipped rules: the contract's headline example."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.match.matcher import Matcher, MatchStats
from ingest.match.nlp import Ner
from ingest.rules.files import load_rules_dir
from tests.match.conftest import ROOT, article

SEED = ROOT / "seeds" / "000_820d276074f311ca.txt"


@pytest.mark.timeout(30)
def test_seed_story_matches_ceasefire_leader(ner: Ner) -> None:
    ruleset = load_rules_dir(ROOT / "rules")
    assert ruleset.errors == ()
    matches = Matcher(ruleset, ner).match_many([article(SEED.read_text(encoding="utf-8"))])[0]
    by_id = {m.rule_id: m for m in matches}
    match = by_id["ceasefire-leader"]
    assert match.channel == "alerts:ceasefire"
    assert match.terms == ("ceasefire",)
    names = {hit.name: hit.mentions for hit in match.entities}
    assert set(names) == {"Donald Trump", "Vladimir Putin", "Volodymyr Zelenskiy"}
    assert names["Donald Trump"] == ("Donald Trump", "Trump")
    assert names["Vladimir Putin"] == ("Vladimir Putin", "Putin")
    assert names["Volodymyr Zelenskiy"] == ("Volodymyr Zelenskiy",)
    assert all(hit.label == "PERSON" for hit in match.entities)
    assert "ceasefire" in match.snippet and "Putin" in match.snippet
    assert len(match.snippet) <= 310


@pytest.mark.timeout(30)
def test_seed_story_without_model_still_matches_by_full_name(tmp_path: Path) -> None:
    ruleset = load_rules_dir(ROOT / "rules")
    rules = [r for r in ruleset.rules if r.id == "ceasefire-leader"]
    match = Matcher(rules, None).match_many([article(SEED.read_text(encoding="utf-8"))])[0][0]
    names = {hit.name: hit.mentions for hit in match.entities}
    assert names["Donald Trump"] == ("Donald Trump", "Trump")  # the full name supports `Trump`


@pytest.mark.timeout(30)
def test_match_stats_count_candidates_and_ner(ner: Ner) -> None:
    matcher = Matcher(load_rules_dir(ROOT / "rules"), ner)
    articles = [
        article(SEED.read_text(encoding="utf-8"), article_id="seed"),
        article("Quarterly results beat forecasts at the car maker.", article_id="other"),
    ]
    stats = MatchStats()
    matcher.match_many(articles, stats)
    assert (stats.candidates, stats.ner_articles) == (1, 1)
