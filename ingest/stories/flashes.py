"""Short items by their words: one flash carried by several outlets is one story.

An item with less text than verification needs (`content.MIN_CONTENT_WORDS`) is never compared
with other stories; it joins one only by its words. Outlets dress one flash differently
(`BREAKING:`, `URGENT -`, `Flash - `, a credit such as `- Reuters` or `(AP)`, "More to follow."),
so `flash_key` takes those away, and case, punctuation and spacing with them; what is left of
the title and the text must then be the same, word for word. Different flashes on one topic
differ in a word or a number and never share a key.
"""

from __future__ import annotations

import hashlib
import re

from ingest.normalize.dateline import KNOWN_AGENCIES
from ingest.stories.content import words_of

FLASH_MIN_WORDS = 4  # fewer words than this ("Market close") say too little to be one story
_SEPARATOR = r"(?:\s*[:|\-–—]+\s*)"
_LABEL = (
    r"(?:BREAKING(?:\s+NEWS)?|URGENT|NEWS\s*FLASH|FLASH|ALERT|JUST\s+IN|DEVELOPING|BULLETIN"
    r"|UPDATE[D]?|EXCLUSIVE|LIVE)"
)
# A label with a separator in any case ("Flash - "); a bare label only in capitals.
_PREFIX = re.compile(rf"^\s*(?:(?i:{_LABEL}){_SEPARATOR}|{_LABEL}\s+(?=\S))")
_AGENCY_IN_BRACKETS = re.compile(r"^\s*\(([^()]{1,40})\)\s*[:|\-–—]*\s*|\s*\(([^()]{1,40})\)\s*$")
_CREDIT_AT_END = re.compile(rf"{_SEPARATOR}([^:|\-–—]{{1,40}})\s*$")
# Sentences that only say more is coming.
_FILLER = re.compile(
    r"(?i)\s*(?:(?:this\s+is\s+a\s+)?developing\s+story|more\s+(?:to\s+follow|soon|to\s+come)"
    r"|details\s+to\s+follow|updates?\s+to\s+follow|check\s+back\s+(?:later\s+)?for\s+updates"
    r"|refresh\s+for\s+updates)\s*[.!…]*\s*$"
)


def flash_key(title: str, text: str, outlet: str) -> str | None:
    """The key of a short item by its words, or None when it has too few to be keyed."""
    title_words = _words(title, outlet)
    text_words = _words(text, outlet)
    if text_words == title_words:  # the text repeats the title
        text_words = []
    if len(title_words) + len(text_words) < FLASH_MIN_WORDS:
        return None
    joined = " ".join(title_words) + "|" + " ".join(text_words)
    return "w:" + hashlib.sha256(joined.encode("utf-8")).hexdigest()[:40]


def _words(text: str, outlet: str) -> list[str]:
    return words_of(strip_markers(text, outlet))


def strip_markers(text: str, outlet: str = "") -> str:
    """`text` without the outlet's dressing: labels, agency credits, "more to follow"."""
    previous = None
    while previous != text:
        previous = text
        text = _PREFIX.sub("", text)
        text = _AGENCY_IN_BRACKETS.sub(lambda m: _unless_prose(m, outlet), text)
        text = _CREDIT_AT_END.sub(lambda m: _unless_prose(m, outlet), text)
        text = _FILLER.sub("", text)
    return text.strip()


def _unless_prose(match: re.Match[str], outlet: str) -> str:
    """Drop a credit naming an agency or the item's own outlet; keep anything else ("- Kremlin"
    can be the news)."""
    name = next(g for g in match.groups() if g is not None).strip()
    folded = name.casefold()
    if folded in KNOWN_AGENCIES or (outlet and folded == outlet.strip().casefold()):
        return " " if match.start() else ""
    return match.group(0)
