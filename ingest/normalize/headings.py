"""Heading lines: what stands above a story's first sentence without being part of it.

Outlets put lines above the lede: the headline again or rewritten, a kicker or label
(`EXCLUSIVE`, `ANALYSIS`, `WATCH: ...`), an editor's note (`(Updates with ...)`, `UPDATE 2-`).
None of them is the story's opening, and a dateline may follow them. `leading_headings` counts
them, so that `article.py` finds the dateline behind them and the story stage takes the lede
after them. Pure functions of strings.
"""

from __future__ import annotations

import re

# A heading is short: a line this long is prose, whatever its punctuation.
HEADING_MAX_WORDS = 20
HEADING_MAX_CHARS = 200
# A line that repeats or rewrites the title: this share of its words is in the title.
TITLE_SHARE = 0.6

# Editor's notes are about the copy, not the story: they open or close updated wire copy.
_NOTE = re.compile(
    r"""^(?:
        \(\s*(?:updates?|adds?|corrects?|recasts?|refiles?|changes?|removes?|rewrites?)\b[^)]*\)\.?$
      | (?-i:UPDATE|UPDATED|CORRECTED|REFILE|CORRECTION)\b
      | (?:update|updated|editor'?s\s+note|correction|clarification)\b[^.!?]{0,60}:
      | updated\s+(?:at|on)\b
      | this\s+(?:story|article|report)\s+(?:has\s+been|was)\s+(?:updated|corrected|amended)\b
    )""",
    re.IGNORECASE | re.VERBOSE,
)
# Kickers and labels that open a heading line: "EXCLUSIVE", "ANALYSIS-", "WATCH:".
_KICKER = re.compile(
    r"""^\s*(?:BREAKING(?:\s+NEWS)?|EXCLUSIVE|ANALYSIS|FACTBOX|EXPLAINER|INSIGHT|WATCH|LIVE
        |VIDEO|PHOTOS?|OPINION|COMMENT(?:ARY)?|EDITORIAL|FEATURE|BRIEF|TIMELINE|BACKGROUNDER
        |PREVIEW|REVIEW|INTERVIEW|URGENT|FLASH|ALERT|JUST\s+IN|DEVELOPING|SPECIAL\s+REPORT
        |FACT\s+CHECK|Q&A|POLL|LISTEN|PODCAST)\b\s*(?:$|[:|\-–—]+)""",
    re.VERBOSE,
)
_SENTENCE_END = re.compile(r"[.!?…][\"”’')\]]*\s*$")
_WORD = re.compile(r"\w+")


def is_editor_note(line: str) -> bool:
    return len(line) <= HEADING_MAX_CHARS and _NOTE.match(line.strip()) is not None


def is_heading(line: str, title: str = "") -> bool:
    """`line`, standing above the first sentence, is a heading: a note, a kicker, the title
    again (or rewritten), or a short line without sentence punctuation."""
    text = line.strip()
    if not text or len(text) > HEADING_MAX_CHARS:
        return False
    if is_editor_note(text) or _KICKER.match(text):
        return True
    words = _WORD.findall(text.casefold())
    if len(words) > HEADING_MAX_WORDS:
        return False
    if not _SENTENCE_END.search(text):
        return True
    return _repeats_title(words, title)


def _repeats_title(words: list[str], title: str) -> bool:
    title_words = set(_WORD.findall(title.casefold()))
    if not words or not title_words:
        return False
    return sum(w in title_words for w in words) / len(words) >= TITLE_SHARE


def leading_headings(lines: list[str], title: str = "") -> int:
    """How many of the first `lines` are blank or headings (the first sentence comes after)."""
    count = 0
    for line in lines:
        if line.strip() and not is_heading(line, title):
            break
        count += 1
    return count
