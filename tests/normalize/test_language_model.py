"""The language model unpacked into the cache gives exactly what py3langid's own loader gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from py3langid.langid import MODEL_DIR, MODEL_FILE, LanguageIdentifier

from ingest.normalize.language import _from_unpacked, unpacked_model
from tests.normalize.casefiles import load

pytestmark = pytest.mark.timeout(120)

PACKED = Path(MODEL_DIR) / MODEL_FILE


def test_unpacked_model_classifies_as_the_packed_one(tmp_path: Path) -> None:
    folder = unpacked_model(PACKED, tmp_path)
    assert folder is not None and folder.parent == tmp_path
    assert unpacked_model(PACKED, tmp_path) == folder  # unpacked once, then found
    assert [p.name for p in tmp_path.iterdir()] == [folder.name]  # no leftovers
    fast = _from_unpacked(LanguageIdentifier, folder)
    reference = LanguageIdentifier.from_model_file(MODEL_FILE)
    texts = [case["text"] for case in load("languages.yaml")["detected"]]
    texts += [
        p.read_text(encoding="utf-8")
        for p in sorted((Path(__file__).resolve().parents[2] / "seeds").glob("*.txt"))
    ]
    for text in texts:
        assert fast.classify(text) == reference.classify(text)


def test_an_unwritable_cache_means_no_cache(tmp_path: Path) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a folder")
    assert unpacked_model(PACKED, blocked / "wirewatch") is None
