"""Kept rule files (`ingest.rules.kept`): the rules of a good file come back from the cache
folder exactly as parsing gives them, and never when the file, its path or its problems say
otherwise."""

from __future__ import annotations

import dataclasses
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.errors import RuleFileErrors
from ingest.rules import kept
from ingest.rules.files import load_rule_file
from tests.match.conftest import ROOT

pytestmark = pytest.mark.timeout(30)

INVALID = Path(__file__).resolve().parent / "invalid"
SHIPPED = sorted((ROOT / "rules").glob("*.yaml"))
CASES = sorted((ROOT / "tests" / "match" / "cases").glob("*.yaml"))  # rules beside their cases


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    return home / "wirewatch" / "rules"


def whole(rules: list) -> list[tuple]:  # type: ignore[type-arg]
    # term_lines is left out of Rule equality: compare every field.
    return [dataclasses.astuple(r) for r in rules]


def rule_texts() -> list[tuple[str, str]]:
    """(name, text) of every shipped rule file and of the rules of every match case file."""
    found = [(p.stem, p.read_text(encoding="utf-8")) for p in SHIPPED]
    for path in CASES:
        rules = yaml.safe_load(path.read_text(encoding="utf-8"))["rules"]
        found.append((path.stem, yaml.safe_dump({"rules": rules}, allow_unicode=True)))
    return found


@pytest.mark.parametrize(("name", "text"), rule_texts(), ids=[n for n, _ in rule_texts()])
def test_kept_rules_are_the_parsed_rules(
    name: str, text: str, tmp_path: Path, cache_home: Path
) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    parsed = load_rule_file(path)
    assert parsed
    assert len(list(cache_home.glob("*.json"))) == 1
    assert kept.kept_rules(path, path.read_bytes()) is not None
    assert whole(load_rule_file(path)) == whole(parsed)


_WORDS = st.text(st.characters(categories=("L", "N"), max_codepoint=0x2FF), min_size=1, max_size=8)


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.lists(_WORDS, max_size=3), st.lists(_WORDS, max_size=3), st.booleans()),
        min_size=1,
        max_size=6,
    )
)
def test_any_good_file_round_trips(rules: list[tuple[list[str], list[str], bool]]) -> None:
    lines = ["rules:"]
    for n, (all_terms, any_terms, person) in enumerate(rules):
        lines += [f"  - id: r{n}", "    channel: alerts:x"]
        if all_terms:
            lines.append(f"    all: [{', '.join(repr(t) for t in all_terms)}]")
        if any_terms:
            lines.append(f"    any: [{', '.join(repr(t) for t in any_terms)}]")
        if person or not (all_terms or any_terms):
            lines += [
                "    entities:",
                "      PERSON: [Donald Trump, {name: Zelenskiy, aliases: [Zelensky]}]",
            ]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "r.yaml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        parsed = load_rule_file(path)
        assert whole(load_rule_file(path)) == whole(parsed)


def test_an_edited_file_is_parsed_again_and_its_old_entry_goes(
    tmp_path: Path, cache_home: Path
) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("rules:\n  - id: a\n    channel: alerts:x\n    all: [ceasefire]\n", "utf-8")
    assert [r.all for r in load_rule_file(path)] == [("ceasefire",)]
    path.write_text("rules:\n  - id: a\n    channel: alerts:x\n    all: [truce]\n", "utf-8")
    assert [r.all for r in load_rule_file(path)] == [("truce",)]
    assert len(list(cache_home.glob("*.json"))) == 1


def test_the_same_bytes_at_another_path_carry_that_path(tmp_path: Path) -> None:
    text = "rules:\n  - id: a\n    channel: alerts:x\n    all: [ceasefire]\n"
    (tmp_path / "one.yaml").write_text(text, "utf-8")
    (tmp_path / "two.yaml").write_text(text, "utf-8")
    load_rule_file(tmp_path / "one.yaml")
    assert [r.path for r in load_rule_file(tmp_path / "two.yaml")] == [str(tmp_path / "two.yaml")]


@pytest.mark.parametrize("source", sorted(INVALID.glob("*.yaml")), ids=lambda p: p.stem)
def test_a_file_with_problems_is_never_kept(source: Path, cache_home: Path) -> None:
    for _ in range(2):  # the second time reports the same problems, from parsing
        with pytest.raises(RuleFileErrors):
            load_rule_file(source)
    assert not cache_home.exists() or not list(cache_home.glob("*.json"))


def test_a_damaged_entry_is_parsed_again(tmp_path: Path, cache_home: Path) -> None:
    path = tmp_path / "r.yaml"
    path.write_text("rules:\n  - id: a\n    channel: alerts:x\n    all: [ceasefire]\n", "utf-8")
    parsed = load_rule_file(path)
    (entry,) = cache_home.glob("*.json")
    entry.write_text('[["a", "alerts:x"]]', "utf-8")  # cut short
    assert whole(load_rule_file(path)) == whole(parsed)


def test_an_unwritable_cache_folder_only_costs_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder would be", "utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    path = tmp_path / "r.yaml"
    path.write_text("rules:\n  - id: a\n    channel: alerts:x\n    all: [ceasefire]\n", "utf-8")
    assert [r.id for r in load_rule_file(path)] == ["a"]
    assert [r.id for r in load_rule_file(path)] == ["a"]
