"""The NER wrapper: model resolution, only the needed components, offsets into the text."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ingest.errors import ModelError
from ingest.match.nlp import (
    OFFICIAL_MODEL,
    REGISTRY_MODEL,
    Ner,
    _batches,
    load_nlp,
    resolve_model_name,
)

SEEDS = Path(__file__).resolve().parents[2] / "seeds"
TEXTS = [
    "Vladimir Putin met Donald Trump in Helsinki. They spoke for two hours.",
    "",
    "“Zelenskiy said Kyiv would accept,” an aide told Reuters on Monday.",
]


def test_auto_resolves_to_an_installed_small_english_model() -> None:
    assert resolve_model_name("auto") in (OFFICIAL_MODEL, REGISTRY_MODEL)
    assert resolve_model_name("en_core_web_md") == "en_core_web_md"


@pytest.mark.timeout(30)
def test_only_the_components_ner_needs_run(ner: Ner) -> None:
    assert ner.has_model
    assert ner.components == ["ner", "sentencizer"]


@pytest.mark.timeout(60)
def test_the_trimmed_pipeline_finds_what_the_whole_model_finds(ner: Ner) -> None:
    import spacy

    seed = (SEEDS / "000_820d276074f311ca.txt").read_text(encoding="utf-8")
    texts = [*TEXTS, seed]
    whole = spacy.load(ner.name)  # every component, the shared tok2vec feeding tagger and parser
    expected = [[(e.text, e.label_, e.start_char) for e in doc.ents] for doc in whole.pipe(texts)]
    got = [[(t, label, start) for t, label, start, _ in r.entities] for r in ner.analyze(texts)]
    assert got == expected
    assert any(got)


@pytest.mark.timeout(30)
def test_entities_and_sentences_point_into_each_text(ner: Ner) -> None:
    results = ner.analyze(TEXTS)
    assert len(results) == len(TEXTS)
    for text, result in zip(TEXTS, results, strict=True):
        for e_text, _, start, end in result.entities:
            assert text[start:end] == e_text
        for start, end in result.sentences:
            assert 0 <= start < end <= len(text)
    people = [e[0] for e in results[0].entities if e[1] == "PERSON"]
    assert people == ["Vladimir Putin", "Donald Trump"]
    assert len(results[0].sentences) == 2
    assert results[1].entities == ()


@pytest.mark.timeout(30)
def test_blank_pipeline_has_sentences_but_no_entities(blank_ner: Ner) -> None:
    assert not blank_ner.has_model
    (result,) = blank_ner.analyze(TEXTS[:1])
    assert result.entities == () and len(result.sentences) == 2


@pytest.mark.timeout(30)
def test_missing_model_says_how_to_install_it() -> None:
    with pytest.raises(ModelError, match=r"'no_such_model_xyz' is not installed: pip install"):
        load_nlp("no_such_model_xyz", batch_size=8)


@pytest.mark.timeout(30)
def test_the_pipeline_loads_when_first_needed_and_stays() -> None:
    ner = load_nlp("auto", batch_size=8)
    assert ner.has_model and not ner.loaded
    assert ner.analyze([]) == [] and not ner.loaded
    first = ner.pipeline()
    assert ner.loaded and ner.pipeline() is first


@given(st.lists(st.text(max_size=40), max_size=30), st.integers(1, 8), st.integers(1, 100))
def test_batches_keep_order_and_bounds(texts: list[str], size: int, max_chars: int) -> None:
    batches = list(_batches(texts, size, max_chars))
    assert [t for b in batches for t in b] == texts
    for batch in batches:
        assert len(batch) <= size
        assert len(batch) == 1 or sum(map(len, batch)) <= max_chars
