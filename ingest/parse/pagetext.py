"""An article page's main text: the story without menus, related links, footers, comments,
cookie or paywall notices. The only module that imports trafilatura (the best-scoring open
main-text extractor in published comparisons: ScrapingHub's article-extraction benchmark,
Bevendorff et al. 2023), lazily, since only the service and `rules test --full-text` need it.

Extraction is CPU work (tens of milliseconds a page): callers run `main_text` in a worker
thread, a bounded number at a time.
"""

from __future__ import annotations

from typing import Any

from ingest.errors import ParseError


def _trafilatura() -> Any:
    try:
        import trafilatura  # Python keeps the module after the first call
    except ImportError as exc:  # an install without it (or without lxml_html_clean)
        raise ParseError(
            f"full_text needs trafilatura and lxml_html_clean ({exc}); "
            "`pip install trafilatura lxml_html_clean`, or set `full_text: never`"
        ) from exc
    return trafilatura


def main_text(html: bytes, url: str, title: str = "") -> str:
    """The page's main text, paragraphs separated by "\\n"; "" when none was found.

    The page's own headline is left out when it repeats `title` (the entry's), so the text reads
    as a feed's would: the title apart, the body after it."""
    if not html.strip():
        return ""
    extracted = _trafilatura().extract(
        html,
        url=url or None,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        deduplicate=False,
        favor_precision=True,  # menus and teasers left in would match rules: precision first
    )
    if not extracted:
        return ""
    lines = [line.strip() for line in extracted.split("\n")]
    lines = [line for line in lines if line]
    if lines and title and _same_words(lines[0], title):
        lines = lines[1:]
    return "\n".join(lines)


def _same_words(a: str, b: str) -> bool:
    return a.casefold().split() == b.casefold().split()
