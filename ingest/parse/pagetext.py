"""An article page's main text: the story without menus, related links, footers, comments,
cookie or paywall notices. The only module that imports trafilatura (the best-scoring open
main-text extractor in published comparisons: ScrapingHub's article-extraction benchmark,
Bevendorff et al. 2023), lazily, since only the service and `rules test --full-text` need it.

Extraction is CPU work (tens of milliseconds a page): the service runs `main_text` in worker
processes, a bounded number at a time (service/fulltext.py).
"""

from __future__ import annotations

import re
import signal
import string
from typing import Any

from ingest.errors import ParseError

# Page furniture trafilatura's own (mostly English) patterns miss, by words in a block's class or
# id in the languages of the outlets we read: consent banners (and the usual consent platforms),
# reader comments, paywall and subscription boxes, "read also" boxes, most-read lists. A block
# holding the headline or an <article> is never one of them, whatever its class says.
FURNITURE_WORDS = (
    "cookie", "consent", "gdpr", "rgpd", "dsgvo", "didomi", "onetrust", "cmplz", "sp_message",
    "kommentar", "commentaire", "comentario", "commento", "reactions", "reacties",
    "paywall", "abonn", "suscri", "newsletter",
    "lire-aussi", "mehr-zum-thema", "relacionad", "correlat", "meistgelesen", "most-read",
    "mostread", "plus-lus", "mas-leido",
)  # fmt: skip
_BLOCKS = ("div", "section", "aside", "ul", "ol", "form", "footer", "p")
# Elements trafilatura's own extraction deletes by their tag whatever they hold (a part of its
# MANUALLY_CLEANED), and that never hold a story: deleted once here, before trafilatura copies
# the tree (four times) and runs its class and id patterns over the raw copy it hands to
# readability (an XPath calling back into Python for every element). A news page's menus and
# footers are most of its elements: on bench_fulltext's pages, 5.9 -> 1.8 ms a page, the same
# texts; readability, which scores these tags down anyway, no longer sees their links.
DISCARDED_TAGS = ("nav", "footer", "script", "style", "svg")
# Matched on " class id " lowered (ASCII letters only, as XPath's translate() would).
_FURNITURE = re.compile("|".join(map(re.escape, FURNITURE_WORDS)))
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def discarded(tree: Any) -> list[Any]:
    """The elements of a parsed page that trafilatura would delete by tag (`DISCARDED_TAGS`),
    outermost only, unless one holds an <h1> or an <article> (a page built the wrong way
    round keeps its story within reach of readability)."""
    found = []
    for element in tree.iter(DISCARDED_TAGS):
        if any(a.tag in DISCARDED_TAGS for a in element.iterancestors()):
            continue  # goes with its ancestor
        if next(element.iter("h1", "article"), None) is None:
            found.append(element)
    return found


def furniture(tree: Any) -> list[Any]:
    """The furniture blocks of a parsed page, in document order: a block (`_BLOCKS`) whose
    class or id holds one of `FURNITURE_WORDS`, unless it holds an <h1> or an <article>.

    One walk over the blocks with one regular expression per class and id: the same choice as
    an XPath of `contains(translate(...), word)` per word, which lxml evaluates word by word
    for every element (a third of a page's extraction time when it was one)."""
    found = []
    for block in tree.iter(_BLOCKS):
        names = f" {block.get('class') or ''} {block.get('id') or ''} "
        if _FURNITURE.search(names.translate(_ASCII_LOWER)) is None:
            continue
        if next(block.iter("h1", "article"), None) is None:
            found.append(block)
    return found


def ignore_interrupts() -> None:
    """For extraction worker processes: Ctrl-C in a terminal reaches the whole process group,
    and the service, not its workers, decides how to stop (they end with it)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _trafilatura() -> Any:
    try:
        import trafilatura  # Python keeps the module after the first call
    except ImportError as exc:  # an install without it (or without lxml_html_clean)
        raise ParseError(
            f"full_text needs trafilatura and lxml_html_clean ({exc}); "
            "`pip install trafilatura lxml_html_clean`, or set `full_text: never`"
        ) from exc
    return trafilatura


# Under this many characters the furniture pruning may have taken the story itself (a body
# whose class says "paywall" or "abonnes" on a site that marks paid articles that way): the
# page is extracted once more without it and the longer text kept. A real story is longer
# (bench/fulltext_threshold.py: 488 characters for the shortest).
PRUNED_TOO_SHORT_CHARS = 400


def main_text(html: bytes, url: str, title: str = "", charset: str = "") -> str:
    """The page's main text, paragraphs separated by "\n"; "" when none was found.

    `charset` is the one the HTTP answer declared, which comes before the page's own
    (as in browsers). The page's own headline is left out when it repeats `title` (the
    entry's), so the text reads as a feed's would: the title apart, the body after it."""
    if not html.strip():
        return ""
    document = _decoded(html, charset)
    tree = _trafilatura().load_html(document)
    if tree is None:
        return ""
    for element in discarded(tree):
        element.drop_tree()  # its tail text stays
    for block in furniture(tree):
        block.drop_tree()
    text = _extract(tree, url)
    if len(text) < PRUNED_TOO_SHORT_CHARS:  # rare: parsed again, whole
        unpruned = _extract(_trafilatura().load_html(document), url)
        text = unpruned if len(unpruned) > len(text) else text
    lines = [line.strip() for line in text.split("\n")]
    lines = [line for line in lines if line]
    if lines and title and _same_words(lines[0], title):
        lines = lines[1:]
    return "\n".join(lines)


def _decoded(html: bytes, charset: str) -> bytes | str:
    """Text decoded with the declared charset; the bytes themselves when none is declared
    (or it is unknown): trafilatura then reads the page's meta tag or guesses."""
    if not charset:
        return html
    try:
        return html.decode(charset.strip().strip("\"'"), errors="replace")
    except LookupError:
        return html


def _extract(tree: Any, url: str) -> str:
    extracted = _trafilatura().extract(
        tree,  # trafilatura works on a copy of a tree it is given
        url=url or None,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        deduplicate=False,
        favor_precision=True,  # menus and teasers left in would match rules: precision first
    )
    return extracted or ""


def _same_words(a: str, b: str) -> bool:
    return a.casefold().split() == b.casefold().split()
