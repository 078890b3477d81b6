"""The NER wrapper: model resolution, only the needed components, offsets into the text."""

from __future__ import annotations

import subprocess
import sys
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
    _unheard,
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


_OWN = {"tok2vec": {"@architectures": "spacy.Tok2Vec.v2", "width": 96}}
_HEARS = {"tok2vec": {"@architectures": "spacy.Tok2VecListener.v1", "upstream": "*"}}
_PIPELINE = ["tok2vec", "tagger", "ner"]


@pytest.mark.timeout(10)
@pytest.mark.parametrize(
    ("ner_block", "left_out"),
    [
        # the small English model: ner embeds its own tokens
        ({"factory": "ner", "model": _OWN}, ["tok2vec"]),
        # the medium and large ones: ner listens to the shared layer
        ({"factory": "ner", "model": _HEARS}, []),
        # taken from another pipeline: its model is not in this config
        ({"source": "en_core_web_md"}, []),
    ],
)
def test_a_shared_layer_is_left_out_only_when_no_kept_component_listens(
    ner_block: dict[str, object], left_out: list[str]
) -> None:
    tagger = {"factory": "tagger", "model": _HEARS}  # excluded: whether it listens does not count
    components = {"tok2vec": {"factory": "tok2vec"}, "tagger": tagger, "ner": ner_block}
    assert _unheard(_PIPELINE, components) == left_out


@pytest.mark.timeout(60)
def test_the_trimmed_pipeline_finds_what_the_whole_model_finds(ner: Ner) -> None:
    import spacy

    seeds = [path.read_text(encoding="utf-8") for path in sorted(SEEDS.glob("*.txt"))]
    texts = [*TEXTS, *seeds]
    # Every component, the shared tok2vec feeding tagger and parser, the tokenizer built from
    # the language's defaults before the saved one replaces it, the whole table of strings.
    whole = spacy.load(ner.name)
    expected = [[(e.text, e.label_, e.start_char) for e in doc.ents] for doc in whole.pipe(texts)]
    got = [[(t, label, start) for t, label, start, _ in r.entities] for r in ner.analyze(texts)]
    assert got == expected
    assert any(got)
    # The tokenizer built empty and filled from the saved one holds every rule spaCy's has.
    trimmed = ner.pipeline().tokenizer.to_bytes(exclude=["vocab"])
    assert trimmed == whole.tokenizer.to_bytes(exclude=["vocab"])


_FRESH_START = """
import sys
from ingest.match.nlp import load_nlp
(result,) = load_nlp("auto", 8).analyze(["Donald Trump spoke."])
print(result.entities[0][:2], "spacy.cli" in sys.modules)
import spacy, spacy.cli
from spacy.cli.download import download
print(callable(spacy.info), spacy.cli.download is download)
"""


@pytest.mark.timeout(60)
def test_spacys_command_line_is_not_imported_for_ner_but_still_works() -> None:
    done = subprocess.run([sys.executable, "-c", _FRESH_START], capture_output=True, text=True,
                          check=True, cwd=SEEDS.parent)  # fmt: skip
    assert done.stdout.split("\n")[:2] == ["('Donald Trump', 'PERSON') False", "True True"]


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
