"""Case-aware terms: a term written with capitals names something and asks for capitals.

A word of a term written in lower case ignores case. An all-capitals word (`NATO`, `US`) is an
acronym: it finds itself and its title-case spelling (`Nato`). Any other word with a capital
(`Apple`, `Turkey`, `iPhone`) is a name: it finds a token with a capital. Either way a lowercase
token (`us`, `apple`, `nato-style`) is the common word, not the name.

Some capitals say nothing: the first word of a sentence, every word of a headline-case line
("Tell Us What You Think") and every word of an all-capitals line are capitalised whatever they
are. Such a token counts as the name unless it is a common word there, decided in this order:
1. the article writes the term as a name elsewhere (a capitalised token at a free position):
   it counts (`May said on Tuesday ...` in a story about Theresa May);
2. the article writes a name in lower case elsewhere: it is the common word (`Roast Turkey For
   Beginners` over a recipe that says `the turkey`); not so for an acronym, whose lowercase
   forms are mostly coinages and addresses (`nato-style`, `nato.int`), while `Nato` and `Aids`
   are how British papers write the acronym;
3. otherwise the word itself decides: spaCy's English stop words (`spacy.lang.en.stop_words`,
   data that comes with spaCy, no pipeline loaded) are the common words whose capitalised form
   at a sentence start is ambiguous ("Who", "Us", "May", "Will", "It"). Words outside that list
   keep their capitals: in news, a sentence that starts with "Turkey", "Apple" or "Nato" names
   the country, the company, the alliance. A frequency list (wordfreq) would call "turkey" and
   "apple" common too, because it folds case, and so lose those names at every sentence start.
A name that is also a month (`May`, `June`) is the month where the text reads as a date: next to
a number ("May 5", "5 May", "May 2025") or after a common word ("in May", "since May").
Texts in scripts without case have no capitals to ask for: their terms ignore case.

Matching stays one pass over folded text (`termindex.py`): only the hits of capitalised terms,
few by nature, are checked here against the original text.
"""

from __future__ import annotations

import calendar
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

from ingest.match.terms import Hit, fold, sentences, word_pattern

Need = Literal["any", "acronym", "name"]
Shape = Literal["lower", "upper", "title", "other"]

_SHARE = 0.85  # of a line's words capitalised: a headline-case (or all-capitals) line
_MIN_LINE_WORDS = 3  # "Donald Trump" alone is a name, not a headline
_NEAR_CHARS = 24  # how far to look for the word before or after a month name
_OPENERS = frozenset(":;\"'“‘«(—–•*")  # a new sentence may start after these inside a line


def shape(token: str) -> Shape:
    """How a word is written: lower (or without case), UPPER, Title, or otHer."""
    if token.lower() == token:  # str methods run in C: this is called for every word of a line
        return "lower"
    if token.isupper() and sum(c.isupper() for c in token) >= 2:
        return "upper"
    first = next((c for c in token if c.isupper() or c.islower() or c.istitle()), "")
    return "other" if first.islower() else "title"  # `ǅ` (a title-case letter) is title too


def word_need(word: str) -> Need:
    """What one word of a term, as the rule writes it, asks of the text."""
    written = shape(word)
    if written == "lower":
        return "any"
    return "acronym" if written == "upper" else "name"


def _fits(need: Need, token: Shape) -> bool:
    if need == "acronym":
        return token in ("upper", "title")
    return need == "any" or token != "lower"


@dataclass(frozen=True, slots=True)
class CasedTerm:
    """A term with capitals: its words as written and what each asks for."""

    text: str
    words: tuple[str, ...]
    needs: tuple[Need, ...]

    @classmethod
    def of(cls, text: str) -> CasedTerm | None:
        """The term's case needs, or None when it ignores case (no capitals)."""
        if text.lower() == text:  # most terms: every word of it is "lower", asks for any case
            return None
        parts = tuple(word_pattern().findall(text))
        needs = tuple(word_need(p) for p in parts)
        return cls(text, parts, needs) if any(n != "any" for n in needs) else None


@dataclass(frozen=True, slots=True)
class Rejected:
    """A hit of the folded term that the case of the text does not support, and why."""

    hit: Hit
    reason: str


class Layout:
    """Where capitals are forced in one text: sentence starts, headline-case and capitals lines."""

    def __init__(self, text: str, is_common: Callable[[str], bool]) -> None:
        self.text = text
        self.is_common = is_common
        self._spans = sentences(text)
        self._starts = [s for s, _ in self._spans]
        self._styles: dict[int, str] = {}

    def forced(self, start: int, token: Shape) -> str:
        """Why capitals at this token say nothing ("starts a sentence"), or "" if they do."""
        number = bisect_right(self._starts, start) - 1
        if number < 0 or token == "lower":
            return ""
        style = self._style(number)
        if style == "caps":
            return "is in an all-capitals line"
        if token == "upper":
            return ""  # `US` at a sentence start, or in a headline, is written as an acronym
        if style == "headline":
            return "is in a headline-case line"
        before = self.text[self._spans[number][0] : start].rstrip()
        if not word_pattern().search(before) or before[-1:] in _OPENERS:
            return "starts a sentence"
        return ""

    def _style(self, number: int) -> str:
        if number not in self._styles:
            start, end = self._spans[number]
            tokens = word_pattern().findall(self.text, start, end)
            self._styles[number] = _line_style(tokens, self.is_common)
        return self._styles[number]


def _line_style(tokens: Sequence[str], is_common: Callable[[str], bool]) -> str:
    """caps, headline or plain: a headline may leave its small common words in lower case."""
    shapes, lower_words = [], 0
    for token in tokens:
        token_shape = shape(token)
        if token_shape == "lower" and not is_common(token) and any(c.isalpha() for c in token):
            lower_words += 1
            if lower_words > (1 - _SHARE) * len(tokens):
                return "plain"  # most lines: a few lowercase words settle it
        shapes.append((token, token_shape))
    shapes = [(t, s) for t, s in shapes if t.lower() != t.upper()]  # words with case only
    considered = [s for t, s in shapes if not (s == "lower" and is_common(t))]
    if len(considered) < _MIN_LINE_WORDS:
        return "plain"
    if sum(s == "upper" for _, s in shapes) >= _SHARE * len(shapes):
        return "caps"
    if sum(s != "lower" for s in considered) >= _SHARE * len(considered):
        return "headline"
    return "plain"


@dataclass(frozen=True, slots=True)
class _Token:
    text: str
    word: str  # the term's word as written
    need: Need
    forced: str  # why its capitals say nothing, or ""
    start: int
    end: int


def _tokens(term: CasedTerm, hit: Hit, layout: Layout) -> list[_Token]:
    """The text's words of a hit, each beside the term word it stands for."""
    found = list(word_pattern().finditer(layout.text, hit.start, hit.end))
    if len(found) != len(term.words):  # `cease-fire` for `Ceasefire`: judged as one word
        need: Need = next((n for n in term.needs if n != "any"), "any")
        text = "".join(m.group() for m in found)
        where = layout.forced(found[0].start(), shape(text)) if found else ""
        return [_Token(text, term.text, need, where, hit.start, hit.end)]
    return [
        _Token(m.group(), word, need, layout.forced(m.start(), shape(m.group())), *m.span())
        for m, word, need in zip(found, term.words, term.needs, strict=True)
    ]


def check(term: CasedTerm, hits: Sequence[Hit], layout: Layout) -> tuple[list[Hit], list[Rejected]]:
    """The hits whose case supports the term, and the others with the reason."""
    kept, rejected, pending = [], [], []
    for hit in hits:
        tokens = [t for t in _tokens(term, hit, layout) if t.need != "any"]
        wrong = next((t for t in tokens if not _fits(t.need, shape(t.text))), None)
        date = _as_date(tokens[0], layout) if len(term.words) == 1 and tokens else ""
        if wrong is not None:
            rejected.append(Rejected(hit, _wrong_case(wrong)))
        elif date:
            rejected.append(Rejected(hit, date))
        elif any(t.forced for t in tokens):
            pending.append((hit, [t for t in tokens if t.forced]))
        else:
            kept.append(hit)
    lower_seen = any(shape(layout.text[r.hit.start : r.hit.end]) == "lower" for r in rejected)
    for hit, forced in pending:
        reason = "" if kept else _common_reason(forced, lower_seen, layout.is_common)
        if reason:
            rejected.append(Rejected(hit, reason))
        else:
            kept.append(hit)
    return sorted(kept, key=lambda h: h.start), sorted(rejected, key=lambda r: r.hit.start)


@cache
def _month_names() -> frozenset[str]:
    # Python leaves LC_TIME at "C" unless a program sets it, so these are the English names.
    return frozenset(m.lower() for m in (*calendar.month_name[1:], *calendar.month_abbr[1:]))


def _as_date(token: _Token, layout: Layout) -> str:
    """Why a one-word name that is also a month (`May`) is the month here ("in May", "May 5"),
    or "". In a longer name (`Theresa May`) the other words already say it is a name."""
    if token.need != "name" or token.text.lower() not in _month_names():
        return ""
    text = layout.text
    before = word_pattern().findall(text, max(0, token.start - _NEAR_CHARS), token.start)
    after = word_pattern().search(text, token.end, token.end + _NEAR_CHARS)
    previous, following = (before[-1] if before else ""), (after.group() if after else "")
    if following[:1].isdigit():
        words = f"{token.text} {following}"
    elif previous[:1].isdigit() or layout.is_common(previous.lower()):
        words = f"{previous} {token.text}"
    else:
        return ""
    return f"'{words}' reads as a date; the rule asks for the name '{token.word}'"


def _wrong_case(token: _Token) -> str:
    if shape(token.text) == "lower":
        return f"'{token.text}' is lowercase; the rule asks for '{token.word}'"
    return f"'{token.text}' is not written like '{token.word}', which the rule asks for"


def _common_reason(forced: list[_Token], lower_seen: bool, is_common: Callable[[str], bool]) -> str:
    for token in forced:
        asks = f"the rule asks for '{token.word}'"
        if lower_seen and token.need == "name":  # `nato-style` says nothing about `Nato`
            return (f"'{token.text}' {token.forced}, and the article writes it in lower case "
                    f"elsewhere; {asks}")  # fmt: skip
        common = fold(token.text).text
        if is_common(common):
            return f"'{token.text}' {token.forced} and is the common word '{common}' there; {asks}"
    return ""
