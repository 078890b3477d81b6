"""`rules check` advice: a term written with a capital that is probably meant to ignore case.

A term with capitals asks for capitals (`ingest.match.casing`): `Ceasefire` misses every
"ceasefire" in running text. Which capitalised words are really common words is decided from
cased counts: spaCy's lexeme probabilities (the `en_lexeme_prob` table of spacy-lookups-data,
the data behind spaCy's `Lexeme.prob`) keep "Apple" and "apple" apart, so they show that
"apple" is written "Apple" two times in three (the company) and "turkey" "Turkey" half the time
(the country), while "ceasefire" is written in lower case 96% of the time. A case-folded list
(wordfreq, stop words) cannot tell these apart: all of them are frequent English words.
The most frequent words of all (more than 2 in 10,000: "may", "who", "us", "will") are grammar
words: nobody means the modal verb by `May`, so a capital there is a name on purpose.

The table holds a million spellings and takes about a second to read, so it is read only here,
for `rules check`, and only when some rule has a capitalised word to judge.
"""

from __future__ import annotations

import gzip
import json
import math
from collections.abc import Iterable, Mapping

from ingest.rules.model import Rule

LOWER_SHARE = 0.8  # written in lower case at least 4 times in 5: a common word, not a name
GRAMMAR_WORD_P = 2e-4  # more frequent than this: a grammar word, capitalised on purpose
_TABLE = "en_lexeme_prob.json.gz"


def _is_title(word: str) -> bool:
    """`Ceasefire`: a capital, then lower case (not `NATO`, `iPhone`, `McDonald`)."""
    letters = [c for c in word if c.isalpha()]
    return len(letters) > 1 and letters[0].isupper() and all(c.islower() for c in letters[1:])


def _has_capital(term: str) -> bool:
    return any(c.isupper() for c in term)


def lower_use(words: Iterable[str]) -> dict[str, tuple[float, float]]:
    """For each word (lower case): the share of its uses written in lower case, and how
    frequent the lowercase spelling is; a word the table does not know is absent."""
    wanted = {w.lower() for w in words}
    if not wanted:
        return {}
    try:
        import spacy_lookups_data
    except ImportError:  # a dependency; without it there is no advice, and nothing breaks
        return {}
    with gzip.open(str(spacy_lookups_data.get_file(_TABLE)), "rt", encoding="utf-8") as file:
        log_probs: dict[str, float] = json.load(file)
    shares = {}
    for word in wanted:
        forms = {word, word.capitalize(), word.upper()}
        counts = {f: math.exp(log_probs[f]) for f in forms if f in log_probs}
        if word in counts:
            shares[word] = counts[word] / sum(counts.values()), counts[word]
    return shares


def _candidates(rule: Rule) -> list[tuple[str, int]]:
    """The rule's terms with a capital where every capitalised word is title case."""
    found = []
    for term, line in rule.term_lines:
        capitalised = [w for w in term.split() if _has_capital(w)]
        if capitalised and all(_is_title(w) for w in capitalised):
            found.append((term, line))
    return found


def case_warnings(rules: Iterable[Rule]) -> list[str]:
    """One warning per rule whose capitalised term is most likely a common word."""
    candidates = [(rule, _candidates(rule)) for rule in rules]
    words = {w for _, terms in candidates for t, _ in terms for w in t.split()}
    shares = lower_use(w for w in words if _has_capital(w)) if words else {}
    warnings = []
    for rule, terms in candidates:
        common = next((tl for tl in terms if _all_common(tl[0], shares)), None)
        if common is not None:
            warnings.append(_warning(rule, *common, shares))
    return warnings


def _all_common(term: str, shares: Mapping[str, tuple[float, float]]) -> bool:
    capitalised = [shares.get(w.lower(), (0.0, 0.0)) for w in term.split() if _has_capital(w)]
    return all(share >= LOWER_SHARE and p <= GRAMMAR_WORD_P for share, p in capitalised)


def _warning(rule: Rule, term: str, line: int, shares: Mapping[str, tuple[float, float]]) -> str:
    lower = term.lower()
    share = min(shares[w.lower()][0] for w in term.split() if _has_capital(w))
    return (
        f"{rule.path}:{line}: rule '{rule.id}': term '{term}' has a capital, so it matches only "
        f"where the text writes it as a name, never '{lower}'; '{lower}' is a common word "
        f"(in lower case {share:.0%} of the time): write '{lower}' if case should not matter"
    )
