"""Text clean-up for wire stories: HTML to text, whitespace and Unicode, boilerplate, dedup folding.

Everything here is a pure function of a string. Curly quotes and dashes survive `clean_text`
(they are what the reader sees); only `fold_for_dedup` flattens them, for hashing.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from html.parser import HTMLParser

# Elements whose start or end breaks a line. Inline elements (a, b, span, ...) do not.
# fmt: off
_BLOCK_TAGS = frozenset({
    "address", "article", "aside", "blockquote", "body", "br", "caption", "dd", "details",
    "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1",
    "h2", "h3", "h4", "h5", "h6", "header", "hr", "html", "li", "main", "nav", "ol", "p",
    "pre", "section", "summary", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
})
# fmt: on
# Elements whose content is never text a reader sees, and picture captions: a caption opening
# the content ("Photo: AP") would otherwise stand before the dateline and hide it.
# fmt: off
_DROPPED_TAGS = frozenset({
    "script", "style", "noscript", "template", "svg", "math", "iframe", "object", "title",
    "figcaption", "applet", "embed", "frameset", "noframes", "noembed",
})
# fmt: on

# Zero-width and invisible characters that only break matching. ZWJ/ZWNJ stay: they are
# spelling in Persian, Indic scripts and emoji.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u2060\ufeff\u180e"))
_LINE_BREAK = re.compile("[\r\x0b\x0c\x85\u2028\u2029]")
# Control characters (category Cc, a set Unicode never changes: U+0000-001F, U+007F-009F) but
# tab and newline, and the invisible characters: deleted by one regex pass, in C.
_UNSEEN = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f" + "".join(map(chr, _INVISIBLE)) + "]")

# Folding for dedup only: every quote to ' or ", every dash to -. Replaced through a regex:
# they are few in a text, and `str.translate` would look up every character.
_FOLD_PUNCT = {
    **dict.fromkeys("‘’‚‛′`´", "'"),
    **dict.fromkeys("“”„‟″«»", '"'),
    **dict.fromkeys("‐‑‒–—―−", "-"),
}
_FOLD_PUNCT_RE = re.compile("[" + re.escape("".join(_FOLD_PUNCT)) + "]")

# Whole short lines that are page furniture, not reporting. Each is anchored at the start and
# the line must be short, so a sentence that merely mentions a newsletter is never dropped.
_BOILERPLATE_MAX_CHARS = 160
_BOILERPLATE = re.compile(
    r"""^(?:
        (?:please\s+)?(?:share|send)\s+(?:us\s+)?your\s+(?:videos?|photos?|pictures?|stories|story)\b
      | click\s+here\b
      | (?:sign\s+up|subscribe|register)\s+(?:for|to)\s+(?:our|the)\b.*\bnewsletters?\b
      | follow\s+(?:us|\w+)\s+on\s+(?:x|twitter|facebook|instagram|tiktok|threads|bluesky)\b
      | follow\s+us\s+on\b
      | like\s+us\s+on\s+facebook\b
      | (?:read|see|watch)\s+more\s*(?:[:.]|$|here\b|at\b|on\b|about\b)
      | (?:download|get)\s+(?:the|our)\s+(?:free\s+)?app\b
      | \((?:additional\s+)?(?:reporting|writing|editing)\s+by\b.*\)\.?$
      | (?:additional\s+)?(?:reporting|writing)\s+by\b.*;\s*editing\s+by\b.*$
      | (?:copyright|©)\s*(?:\(c\)\s*)?\d{4}\b
      | all\s+rights\s+reserved\.?$
      | (?:advertisement|advertising|sponsored(?:\s+content)?)$
      | (?:related|related\s+(?:articles|stories|coverage)|more\s+on\s+this\s+story)\s*:?$
    )""",
    re.IGNORECASE | re.VERBOSE,
)

# Sentence ends: a stop, optional closing quote/bracket, space, then something that can open a
# sentence. Abbreviations ("U.S.", "Mr.", "Jan.") are filtered out in `_is_sentence_end`.
_SENTENCE_END = re.compile(r"[.!?…][\"”’')\]]*\s+(?=[\"“‘'(\[]?[^\W_a-z])")
# fmt: off
_ABBREVIATIONS = frozenset({
    "mr", "mrs", "ms", "dr", "st", "gen", "lt", "col", "sgt", "capt", "maj", "adm", "rep",
    "sen", "gov", "prof", "jr", "sr", "no", "vs", "etc", "inc", "corp", "co", "ltd", "jan",
    "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
})
# fmt: on


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._dropped_depth = 0
        self._pre_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._open(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BLOCK_TAGS:  # <br/>, <hr/>: a self-closed tag never holds dropped content
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _DROPPED_TAGS:
            self._dropped_depth = max(0, self._dropped_depth - 1)
        elif tag == "pre":
            self._pre_depth = max(0, self._pre_depth - 1)
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._dropped_depth:
            return
        self.parts.append(data if self._pre_depth else _collapse_spaces(data))

    def _open(self, tag: str) -> None:
        if tag in _DROPPED_TAGS:
            self._dropped_depth += 1
        elif tag == "pre":
            self._pre_depth += 1
        if tag in _BLOCK_TAGS:
            self.parts.append("\n")


def _collapse_spaces(data: str) -> str:
    """Each run of whitespace as one space, also at either end (HTML text between tags)."""
    words = " ".join(data.split())
    if not words:
        return " " if data else ""
    lead = " " if data[0].isspace() else ""
    return f"{lead}{words} " if data[-1].isspace() else f"{lead}{words}"


def html_to_text(html: str) -> str:
    """Visible text of an HTML fragment: blocks become lines, scripts and styles vanish."""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except (AssertionError, ValueError):
        # Old html.parser versions assert on some malformed declarations; keep what was read.
        pass
    return clean_text("".join(parser.parts))


def clean_text(text: str) -> str:
    """NFC, one space between words, no blank lines, no invisible characters; quotes kept."""
    text = _LINE_BREAK.sub("\n", text.replace("\r\n", "\n"))
    # Invisible characters go only after NFC: with them gone it could compose across them.
    text = _UNSEEN.sub("", unicodedata.normalize("NFC", text))
    # str.split() splits at runs of exactly the whitespace regex's \s matches, and in C.
    lines = (" ".join(line.split()) for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def is_boilerplate(line: str) -> bool:
    stripped = line.strip()
    return len(stripped) <= _BOILERPLATE_MAX_CHARS and bool(_BOILERPLATE.match(stripped))


def drop_boilerplate(lines: Iterable[str]) -> list[str]:
    """The lines that are not page furniture ("Click here to read more", "Follow us on X")."""
    return [line for line in lines if not is_boilerplate(line)]


# Kept for the last texts folded: normalize folds each article's title and body (for its id and
# fingerprint), and the story stage folds the body again for its SimHash when none of it is
# boilerplate, a batch (match_batch_articles, 256) later. 1,024 folds (~2-3 MB) span a batch.
@functools.lru_cache(maxsize=1024)
def fold_for_dedup(text: str) -> str:
    """Casefolded, accent-free, quotes and dashes flattened, one space between words."""
    # Compatibility forms first ("𝕬" -> "A"), so casefolding sees plain letters; casefolding can
    # itself produce combining marks ("İ" -> "i̇"), so marks are stripped after it too.
    folded = _strip_marks(_strip_marks(text).casefold())
    folded = _FOLD_PUNCT_RE.sub(lambda found: _FOLD_PUNCT[found.group()], folded)
    return " ".join(folded.split())


def _strip_marks(text: str) -> str:
    if text.isascii():  # no compatibility forms, no marks
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    # The distinct characters are few: look each up once, not once per occurrence.
    marks = {ord(c): None for c in set(decomposed) if unicodedata.category(c) == "Mn"}
    return decomposed.translate(marks) if marks else decomposed


def first_sentences(text: str, max_sentences: int = 2, max_chars: int = 300) -> str:
    """The opening sentences of `text`, as many as fit in `max_chars` (at least part of one)."""
    # Only the opening can be taken, so long bodies are not scanned to the end.
    flat = " ".join(text[: max_chars * 4].split())
    ends = [m.end() for m in _SENTENCE_END.finditer(flat) if _is_sentence_end(flat, m.start())]
    ends.append(len(flat))
    taken = ""
    for end in ends[:max_sentences]:
        candidate = flat[:end].rstrip()
        if len(candidate) > max_chars:
            break
        taken = candidate
    return taken or _cut_at_word(flat, max_chars)


def _is_sentence_end(text: str, stop_at: int) -> bool:
    word = text[:stop_at].rsplit(" ", 1)[-1].lstrip("\"“‘'([")
    if not word:
        return True
    # "U.S." / "D.C." / a single initial: abbreviations, not sentence ends.
    if "." in word or (len(word) == 1 and word.isalpha()):
        return False
    return word.casefold() not in _ABBREVIATIONS


def _cut_at_word(text: str, max_chars: int) -> str:
    if len(text) <= max_chars:
        return text
    cut = text[: max_chars - 1].rsplit(" ", 1)[0].rstrip(",;:-–— ")
    return f"{cut}…"


def split_sentences(text: str) -> list[str]:
    """The sentences of `text`, line by line (a line break always ends a sentence)."""
    found: list[str] = []
    for line in text.split("\n"):
        flat = " ".join(line.split())
        start = 0
        for match in _SENTENCE_END.finditer(flat):
            if _is_sentence_end(flat, match.start()):
                found.append(flat[start : match.end()].strip())
                start = match.end()
        if flat[start:].strip():
            found.append(flat[start:].strip())
    return found
