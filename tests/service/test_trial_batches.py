"""`rules test` over a big file: articles are read, matched and printed a batch at a time."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.models import Article, SourceRef
from ingest.service import trial
from ingest.service.trial import TRIAL_BATCH, run_trial
from ingest.settings import Settings
from tests.conftest import one_rule_folder

pytestmark = pytest.mark.timeout(120)

BURST = 20_000


def article(number: int) -> Article:
    body = "Talks on a ceasefire resumed." if number % 7 == 0 else "Markets were calm."
    return Article(
        id=f"a{number}",
        url=f"https://example.org/{number}",
        title=f"Story {number}",
        body=body,
        published=None,
        source=SourceRef("test", "https://example.org/"),
        dateline=None,
        summary=body,
        language="en",
    )


@pytest.fixture
def rules_dir(tmp_path: Path) -> Path:
    return one_rule_folder(tmp_path, "word", "alerts:t", "ceasefire")


def test_a_burst_is_matched_a_batch_at_a_time(rules_dir: Path) -> None:
    pulled = 0
    most_ahead = 0  # articles read but not yet printed: what the trial holds at once

    def source() -> Iterator[Article]:
        nonlocal pulled
        for number in range(BURST):
            pulled += 1
            yield article(number)

    printed = 0
    settings = Settings(_env_file=None, spacy_model="blank")  # type: ignore[call-arg]
    for line in run_trial(settings, rules_dir, source(), as_json=True, rule_id=None):
        printed += 1
        most_ahead = max(most_ahead, pulled - printed)
        assert f'"id": "a{printed - 1}"' in line  # one line per article, in order
    assert printed == pulled == BURST
    assert most_ahead < TRIAL_BATCH


def test_results_do_not_depend_on_batch_edges(
    rules_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(_env_file=None, spacy_model="blank")  # type: ignore[call-arg]
    articles = [article(n) for n in range(50)]
    whole = list(run_trial(settings, rules_dir, articles, as_json=False, rule_id=None))
    monkeypatch.setattr(trial, "TRIAL_BATCH", 3)
    assert list(run_trial(settings, rules_dir, articles, as_json=False, rule_id=None)) == whole
    assert sum("no rule matched" in line for line in whole) == 50 - len(range(0, 50, 7))


def test_keyword_rules_do_not_load_the_model(
    rules_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("the model was loaded for keyword rules")

    monkeypatch.setattr(trial, "load_nlp", refuse)
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    lines = list(run_trial(settings, rules_dir, [article(0)], as_json=False, rule_id=None))
    assert any("word" in line for line in lines)
