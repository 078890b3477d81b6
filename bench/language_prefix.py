"""How much text language detection needs: the whole text vs a prefix, on many languages.

    .venv/bin/python bench/language_prefix.py

Texts: spaCy's example sentences of every language that ships some (`spacy.lang.*.examples`),
shuffled and repeated into ~1,500-character documents, 20 per language. Prints, for each
prefix length, how often the prefix gives the whole text's answer and how often each is right
(the language spaCy filed the sentences under; langid lacks some of them, so neither is 100%).
"""

from __future__ import annotations

import importlib
import pkgutil
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import spacy.lang

from ingest.normalize.language import PREFIX_CHARS, _identifier, detect_language


def documents(per_language: int = 20) -> list[tuple[str, str]]:
    rng = random.Random(12)
    found = []
    for module in pkgutil.iter_modules(spacy.lang.__path__):
        try:
            examples = importlib.import_module(f"spacy.lang.{module.name}.examples")
        except ImportError:
            continue
        sentences = list(getattr(examples, "sentences", []))
        for _ in range(per_language if len(sentences) >= 3 else 0):
            rng.shuffle(sentences)
            found.append((module.name, " ".join(sentences * 3)))
    return found


def main() -> None:
    docs = documents()
    classify = _identifier().classify
    print(f"{len(docs)} documents, {sum(len(d) for _, d in docs) / len(docs):.0f} chars on average")
    whole = [str(classify(text)[0]) for _, text in docs]
    right = sum(w == lang for w, (lang, _) in zip(whole, docs, strict=True)) / len(docs)
    print(f"whole text: right {right:.1%}")
    for chars in (200, 400, 600, 1000):
        found = [str(classify(text[:chars])[0]) for _, text in docs]
        same = sum(f == w for f, w in zip(found, whole, strict=True)) / len(docs)
        hit = sum(f == lang for f, (lang, _) in zip(found, docs, strict=True)) / len(docs)
        print(f"first {chars:4d} chars: same as whole {same:.1%}, right {hit:.1%}")
    started = time.perf_counter()
    for _, text in docs:
        detect_language(text)
    ms = (time.perf_counter() - started) * 1000 / len(docs)
    print(f"detect_language (prefix of {PREFIX_CHARS} chars): {ms:.3f} ms per document")


if __name__ == "__main__":
    main()
