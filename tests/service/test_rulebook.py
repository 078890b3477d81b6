"""Hot reload: saved, added, deleted and broken files take effect within 2 s, and a broken
file keeps its last good version matching."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from ingest.errors import ModelError
from ingest.match.matcher import Matcher
from ingest.match.nlp import Ner
from ingest.rules.files import parse_rules
from ingest.service.rulebook import RuleBook
from ingest.yamlfile import load_yaml_text
from tests.match.conftest import article

RULE = "rules:\n  - id: {id}\n    channel: alerts:x\n    all: [{term}]\n"
TAKES_EFFECT_S = 2.0


def _matched(book: RuleBook, text: str) -> list[str]:
    return [m.rule_id for m in book.matcher.match_many([article(text)])[0]]


async def _within(condition: Callable[[], bool], timeout_s: float = TAKES_EFFECT_S) -> float:
    """Seconds until the condition held; fails after timeout_s."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < timeout_s, "change did not take effect in time"
        await asyncio.sleep(0.02)
    return time.monotonic() - started


@pytest.fixture
async def watched(tmp_path: Path) -> AsyncIterator[RuleBook]:
    (tmp_path / "a.yaml").write_text(RULE.format(id="a", term="ceasefire"), encoding="utf-8")
    book = RuleBook(tmp_path, None, debounce_ms=50)
    stop = asyncio.Event()
    task = asyncio.create_task(book.watch(stop))
    await asyncio.sleep(0.3)  # let the watcher start before the first edit
    try:
        yield book
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)


@pytest.mark.timeout(20)
async def test_edit_break_fix_add_delete(watched: RuleBook, tmp_path: Path) -> None:
    book, path = watched, tmp_path / "a.yaml"
    assert _matched(book, "A ceasefire began.") == ["a"]

    path.write_text(RULE.format(id="a", term="truce"), encoding="utf-8")
    await _within(lambda: _matched(book, "A truce began.") == ["a"])
    assert _matched(book, "A ceasefire began.") == []

    path.write_text("rules:\n  - id: a\n    channel: alerts:x\n    all: [armistice\n")
    await _within(lambda: bool(book.errors))
    assert [e.path for e in book.errors] == [str(path)]
    assert _matched(book, "A truce began.") == ["a"]  # the last good version keeps running

    path.write_text(RULE.format(id="a", term="armistice"), encoding="utf-8")
    await _within(lambda: _matched(book, "An armistice began.") == ["a"])
    assert book.errors == ()

    extra = tmp_path / "b.yaml"
    extra.write_text(RULE.format(id="b", term="truce"), encoding="utf-8")
    await _within(lambda: _matched(book, "A truce began.") == ["b"])
    extra.unlink()
    await _within(lambda: _matched(book, "A truce began.") == [])


@pytest.mark.timeout(20)
async def test_broken_file_logs_path_line_message(
    watched: RuleBook, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("rules:\n  - id: a\n    channel: alerts:x\n    entities: {PERSN: any}\n")
    await _within(lambda: bool(watched.errors))
    assert f"{path}:4: rule 'a': unknown entity label 'PERSN' (did you mean 'PERSON'?)" in (
        caplog.messages
    )


PERSON_ANY = (
    "rules:\n  - id: p\n    channel: alerts:p\n    all: [talks]\n    entities: {PERSON: any}\n"
)


@pytest.mark.timeout(20)
def test_blank_model_refuses_any_label(blank_ner: Ner) -> None:
    rules = parse_rules(load_yaml_text(PERSON_ANY, "p.yaml")["rules"], "p.yaml")
    with pytest.raises(ModelError, match=r"p.yaml:2: rule 'p': PERSON: any"):
        Matcher(rules, blank_ner)
    with pytest.raises(ModelError):
        Matcher(rules, None)


@pytest.mark.timeout(20)
def test_rulebook_refuses_only_rules_the_model_cannot_serve(tmp_path: Path, blank_ner: Ner) -> None:
    (tmp_path / "a.yaml").write_text(RULE.format(id="a", term="truce"), encoding="utf-8")
    (tmp_path / "p.yaml").write_text(PERSON_ANY, encoding="utf-8")
    book = RuleBook(tmp_path, blank_ner, debounce_ms=50)  # at start: no earlier version
    assert [str(e) for e in book.errors] == [
        f"{tmp_path / 'p.yaml'}:2: rule 'p': PERSON: any needs a statistical NER model, but none "
        "is loaded (WIREWATCH_SPACY_MODEL=blank): list names instead of 'any', or set "
        "WIREWATCH_SPACY_MODEL=auto; rule refused"
    ]
    assert _matched(book, "A truce began.") == ["a"]
    (tmp_path / "b.yaml").write_text(RULE.format(id="b", term="talks"), encoding="utf-8")
    assert len(book.reload()) == 1
    assert _matched(book, "Truce talks began.") == ["a", "b"]


@pytest.mark.timeout(20)
def test_ner_factory_is_called_only_when_a_rule_needs_entities(tmp_path: Path, ner: Ner) -> None:
    calls: list[int] = []

    def factory() -> Ner:
        calls.append(1)
        return ner

    (tmp_path / "a.yaml").write_text(RULE.format(id="a", term="truce"), encoding="utf-8")
    book = RuleBook(tmp_path, factory, debounce_ms=50)
    assert calls == []
    (tmp_path / "p.yaml").write_text(PERSON_ANY, encoding="utf-8")
    book.reload()
    book.reload()
    assert calls == [1]
    assert _matched(book, "Talks with Angela Merkel resumed in Berlin.") == ["p"]


@pytest.mark.timeout(20)
async def test_removed_folder_keeps_rules_until_it_comes_back(
    watched: RuleBook, tmp_path: Path
) -> None:
    for path in tmp_path.iterdir():
        path.unlink()
    tmp_path.rmdir()
    await _within(lambda: bool(watched.errors))
    assert [e.message for e in watched.errors] == ["rules folder not found"]
    assert _matched(watched, "A ceasefire began.") == ["a"]
    tmp_path.mkdir()
    (tmp_path / "b.yaml").write_text(RULE.format(id="b", term="truce"), encoding="utf-8")
    await _within(lambda: _matched(watched, "A truce began.") == ["b"])
    assert watched.errors == ()
