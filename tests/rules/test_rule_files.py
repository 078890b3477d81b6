"""Rule file validation: each tests/rules/invalid/*.yaml ends with `# expect: LINE: message`
comments listing every problem the loader must report, in order; plus folder-level loading."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from ingest.errors import RuleFileErrors
from ingest.rules.files import check_rules_dir, cost_notes, load_rule_file, load_rules_dir
from tests.match.conftest import ROOT

INVALID = Path(__file__).resolve().parent / "invalid"
EXPECT = "# expect: "


def _expected(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    wanted = [line.removeprefix(EXPECT) for line in lines if line.startswith(EXPECT)]
    return [f"{path}:" + w.replace("{path}", str(path)) for w in wanted]


@pytest.mark.timeout(10)
@pytest.mark.parametrize("path", sorted(INVALID.glob("*.yaml")), ids=lambda p: p.stem)
def test_invalid_file_reports_every_problem(path: Path) -> None:
    expected = _expected(path)
    assert expected, f"{path} lists no expected problems"
    with pytest.raises(RuleFileErrors) as caught:
        load_rule_file(path)
    assert [str(e) for e in caught.value.errors] == expected


@pytest.mark.timeout(10)
def test_shipped_rules_are_valid_and_include_ceasefire_leader() -> None:
    errors, warnings = check_rules_dir(ROOT / "rules")
    assert errors == [] and warnings == []
    rules = {r.id: r for r in load_rules_dir(ROOT / "rules").rules}
    rule = rules["ceasefire-leader"]
    assert (rule.channel, rule.all, rule.any, rule.none) == (
        "alerts:ceasefire",
        ("ceasefire",),
        (),
        (),
    )
    (person,) = rule.entities
    assert person.label == "PERSON"
    assert [n.name for n in person.names or ()] == [
        "Vladimir Putin",
        "Volodymyr Zelenskiy",
        "Donald Trump",
    ]
    assert len(rules) >= 3


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


GOOD = "rules:\n  - id: {id}\n    channel: alerts:x\n    all: [{term}]\n"


@pytest.mark.timeout(10)
def test_broken_file_does_not_stop_the_others(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", GOOD.format(id="a", term="ceasefire"))
    broken = _write(tmp_path, "b.yaml", "rules:\n  - id: b\n    channel: [oops\n")
    _write(tmp_path, "c.yml", GOOD.format(id="c", term="truce"))
    ruleset = load_rules_dir(tmp_path)
    assert [r.id for r in ruleset.rules] == ["a", "c"]
    assert [e.path for e in ruleset.errors] == [str(broken)]
    assert str(broken) not in ruleset.files


@pytest.mark.timeout(10)
def test_duplicate_ids_across_files_name_both_places(tmp_path: Path) -> None:
    first = _write(tmp_path, "a.yaml", GOOD.format(id="same", term="ceasefire"))
    second = _write(tmp_path, "b.yaml", "# second\n" + GOOD.format(id="same", term="truce"))
    ruleset = load_rules_dir(tmp_path)
    assert [r.path for r in ruleset.rules] == [str(first)]
    assert [str(e) for e in ruleset.errors] == [
        f"{second}:3: rule 'same': duplicate rule id (also at {first}:2)"
    ]


@pytest.mark.timeout(10)
def test_last_good_version_stands_in_for_a_broken_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "a.yaml", GOOD.format(id="a", term="ceasefire"))
    good = load_rules_dir(tmp_path)
    path.write_text("rules:\n  - id: a\n    channel: alerts:x\n    all: [ceasefire\n")
    again = load_rules_dir(tmp_path, last_good=good.files)
    assert again.rules == good.rules and len(again.errors) == 1


@pytest.mark.timeout(10)
def test_check_warns_about_any_label_without_terms(tmp_path: Path) -> None:
    shutil.copy(ROOT / "rules" / "ceasefire.yaml", tmp_path)
    _write(tmp_path, "p.yaml", "rules:\n  - id: people\n    channel: alerts:p\n"
           "    entities:\n      PERSON: any\n")  # fmt: skip
    errors, warnings = check_rules_dir(tmp_path)
    assert errors == []
    assert warnings == [
        f"{tmp_path / 'p.yaml'}:2: rule 'people': PERSON: any with no term condition makes NER "
        "run on every article; add all: or any: terms"
    ]


@pytest.mark.timeout(10)
def test_missing_folder_is_an_error(tmp_path: Path) -> None:
    ruleset = load_rules_dir(tmp_path / "nope")
    assert ruleset.rules == ()
    assert [e.message for e in ruleset.errors] == ["rules folder not found"]


CASE_RULES = """rules:
  - id: truce
    channel: alerts:truce
    all: [Ceasefire]
    any:
      - Talks
      - agreement
  - id: names
    channel: alerts:names
    any: [NATO, Apple, Turkey, Theresa May, US, iPhone, May, Who, Zelenskiy, Unesco]
  - id: phrase
    channel: alerts:phrase
    any: [rate]
    none:
      - Interest Rate
"""


@pytest.mark.timeout(60)
def test_check_warns_once_per_rule_about_a_capitalised_common_word(tmp_path: Path) -> None:
    path = _write(tmp_path, "c.yaml", CASE_RULES)
    errors, warnings = check_rules_dir(tmp_path)
    assert errors == []
    assert [w.split(": term ")[0] for w in warnings] == [
        f"{path}:4: rule 'truce'",  # `Talks` too, but one warning per rule
        f"{path}:15: rule 'phrase'",
    ]
    assert "write 'ceasefire' if case should not matter" in warnings[0]
    assert "'interest rate' is a common word" in warnings[1]


@pytest.mark.timeout(10)
def test_check_notes_that_label_any_reads_every_sentence(tmp_path: Path) -> None:
    shutil.copy(ROOT / "rules" / "ceasefire.yaml", tmp_path)
    _write(tmp_path, "q.yaml", "rules:\n  - id: quake\n    channel: alerts:q\n"
           "    all: [magnitude]\n    entities:\n      GPE: any\n"
           "  - id: people\n    channel: alerts:p\n    entities:\n      PERSON: any\n")  # fmt: skip
    notes = cost_notes(load_rules_dir(tmp_path).rules)
    assert len(notes) == 1  # `people` has no terms: it gets the warning instead
    assert notes[0].startswith(f"{tmp_path / 'q.yaml'}:2: rule 'quake': GPE: any makes the model")
    assert "every sentence" in notes[0] and "the costliest kind of rule" in notes[0]
