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
_PRIMARY_SUBTAG = re.compile(r"^\s*([A-Za-z]{2})(?:[-_][A-Za-z0-9]+)*\s*$")


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE)


def detect_language(text: str) -> str:
    """ISO 639-1 code of `text`, or "und" when there is too little text to tell."""
    if sum(ch.isalpha() for ch in text) < MIN_LETTERS:
        return UNDETERMINED
    code, _score = _identifier().classify(text)
    return str(code)


def language_code(declared: str | None) -> str | None:
    """The two-letter code of a declared language tag ("en-US" -> "en"), or None if unusable."""
    if not declared:
        return None
    match = _PRIMARY_SUBTAG.match(declared)
    return match.group(1).lower() if match else None
