"""Language of an article: the feed's declaration when it gives one, else detected offline.

py3langid is imported on first use, so commands that never detect a language do not pay for
loading its model; the model is then kept for the life of the process.
"""

from __future__ import annotations

import functools
import re
from typing import Any

UNDETERMINED = "und"
# Below this many letters the classifier's guess is noise (it will call "OK" Polish).
MIN_LETTERS = 12
# Detection reads this much of the text, cut back to a word end: the classifier's cost grows
# with the text, its answer does not change past a few sentences. bench/language_prefix.py,
# 1,300 documents of 65 languages (~1,500 chars each): 600 chars give the whole text's answer
# for 99.6% of them and are right exactly as often (86.2%: langid lacks or confuses some).
PREFIX_CHARS = 600
_PRIMARY_SUBTAG = re.compile(r"^\s*([A-Za-z]{2})(?:[-_][A-Za-z0-9]+)*\s*$")


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE)


def detect_language(text: str) -> str:
    """ISO 639-1 code of `text`, or "und" when there is too little text to tell."""
    prefix = _prefix(text)
    if sum(map(str.isalpha, prefix)) < MIN_LETTERS:  # mostly figures up front: read it all
        if sum(map(str.isalpha, text)) < MIN_LETTERS:
            return UNDETERMINED
        prefix = text
    code, _score = _identifier().classify(prefix)
    return str(code)


def _prefix(text: str) -> str:
    if len(text) <= PREFIX_CHARS:
        return text
    cut = text.rfind(" ", PREFIX_CHARS // 2, PREFIX_CHARS)
    return text[: cut if cut > 0 else PREFIX_CHARS]


def language_code(declared: str | None) -> str | None:
    """The two-letter code of a declared language tag ("en-US" -> "en"), or None if unusable."""
    if not declared:
        return None
    match = _PRIMARY_SUBTAG.match(declared)
    return match.group(1).lower() if match else None
