"""Full text for summary-only feeds: which entries want their linked page, and getting it.

    entry (new or changed) -> wants_page? -> Fetcher.fetch_page -> main_text (process) -> entry

`wants_page` and `with_page_text` are pure; `PageTexts` does the I/O: pages through the fetch
stage's client (address guard on every hop, size cap, timeouts, per-host limits, Retry-After),
extraction in `page_extract_concurrency` worker processes. Processes, not threads: extraction
is Python-heavy CPU work that would hold the GIL, and so the event loop, from other sources'
polls (and two threads measured slower than one; bench/bench_fulltext.py). The processes start
at the first page (spawned, not forked: the service has threads and sockets open) and end with
`close()`, or with the PageTexts object, or with the interpreter. A page that cannot be had,
or whose main text is no longer than what the feed gave, leaves the entry as the feed gave it.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import re
import time
import weakref
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace

from ingest.fetch.fetcher import Fetcher
from ingest.fetch.pages import declared_charset
from ingest.models import FullText, Page, RawEntry, Source
from ingest.normalize.textnorm import clean_text, html_to_text
from ingest.parse.pagetext import ignore_interrupts, main_text
from ingest.service.metrics import Metrics
from ingest.settings import Settings

log = logging.getLogger(__name__)

# Below this many characters of visible text an entry is taken for a summary (`auto`). Chosen
# with bench/fulltext_threshold.py over the 112 complete stories in the repository: a story's
# first sentence (what summary-only feeds carry) is at most 381 characters and its first two at
# most 569 (p90 456), while whole stories start at 488 (p10 579). At 550, 1 two-sentence lede in
# 112 would not have its page fetched and 6 % of whole stories would fetch theirs for nothing;
# a missed page can lose an alert while a needless one costs one polite request, so the line
# sits high, just under the longest ledes. Cut-off markers catch longer teasers.
SHORT_TEXT_CHARS = 550
# How a feed says "the rest is on the page": an ellipsis or a link line at the very end.
_CUT_OFF = re.compile(
    r"""(?:\u2026|\.\.\.|\[\s*(?:\u2026|\.\.\.)\s*\]|\(\s*(?:\u2026|\.\.\.)\s*\)
        |\b(?:read|see)\s+(?:the\s+)?(?:more|full\s+(?:story|article|text)|rest(?:\s+\w+)?)
        |\bcontinue\s+reading\b.*|\bmore\s*(?:\u00bb|>>|\u203a)
        |\bappeared\s+first\s+on\b.*)
        [\s\W]*$""",
    re.IGNORECASE | re.VERBOSE,
)
_TAIL_CHARS = 120  # the cut-off marker is looked for at the end only


def feed_text(entry: RawEntry) -> str:
    """The visible text the feed gave for an entry (its content, else its summary)."""
    if entry.content.strip():
        return html_to_text(entry.content) if entry.content_is_html else clean_text(entry.content)
    return html_to_text(entry.summary) if entry.summary.strip() else ""


def is_cut_off(text: str) -> bool:
    """Whether a text ends the way a teaser does ("…", "[...]", "Read more")."""
    return _CUT_OFF.search(text[-_TAIL_CHARS:]) is not None


def wants_page(entry: RawEntry, mode: FullText) -> bool:
    """Whether to fetch this entry's linked page for its full text."""
    if mode == "never" or not (entry.link or "").startswith(("http://", "https://")):
        return False
    if mode == "always":
        return True
    text = feed_text(entry)
    return len(text) < SHORT_TEXT_CHARS or is_cut_off(text)


def with_page_text(entry: RawEntry, text: str) -> RawEntry | None:
    """The entry with the page's main text as its body, or None when the page gave no more
    than the feed did (then the feed's text stands)."""
    given = feed_text(entry)
    if len(text) <= len(given):
        return None
    return replace(entry, content=text, content_is_html=False, summary=given, text_from="page")


class PageTexts:
    """Fetches and extracts the pages of a poll's entries; one per process, like the Fetcher."""

    def __init__(self, fetcher: Fetcher, settings: Settings, metrics: Metrics) -> None:
        self._fetcher = fetcher
        self._metrics = metrics
        self._processes = settings.page_extract_concurrency
        # One page waits at each process besides the one it extracts: a process that finishes
        # starts its next page at once, not after the event loop has taken the result and sent
        # another (milliseconds a page on a busy loop; the page stage took 0.8x the time).
        self._extracting = asyncio.Semaphore(2 * settings.page_extract_concurrency)
        self._pool: ProcessPoolExecutor | None = None
        # A feed's pages mostly share its host: asking more at once would only queue them on
        # the host's slots while holding the fetcher's, which other sources' polls need.
        self._pages_per_poll = settings.per_host_concurrency

    async def fill(
        self, source: Source, entries: Sequence[RawEntry]
    ) -> tuple[list[RawEntry], Counter[str]]:
        """The entries, those that want it with their page's main text, and the outcomes."""
        done = await self.fill_each(source, entries)
        outcomes = Counter(outcome for _, outcome, _ in done if outcome)
        return [entry for entry, _, _ in done], outcomes

    async def fill_each(
        self, source: Source, entries: Sequence[RawEntry]
    ) -> list[tuple[RawEntry, str, str]]:
        """(entry, outcome, why) for each entry; the outcome is "" where no page was wanted."""
        wanted = [wants_page(e, source.full_text) for e in entries]
        fetching = asyncio.Semaphore(self._pages_per_poll)
        done = iter(await asyncio.gather(
            *(self._one(source, e, fetching) for e, w in zip(entries, wanted, strict=True) if w)
        ))  # fmt: skip
        out: list[tuple[RawEntry, str, str]] = []
        for entry, want in zip(entries, wanted, strict=True):
            if not want:
                out.append((entry, "", ""))
                continue
            filled = next(done)
            self._metrics.pages.labels(outcome=filled[1]).inc()
            out.append(filled)
        return out

    async def _one(
        self, source: Source, entry: RawEntry, fetching: asyncio.Semaphore
    ) -> tuple[RawEntry, str, str]:
        assert entry.link is not None  # wants_page checked
        async with fetching:
            page = await self._fetcher.fetch_page(entry.link, source)
        if not page.fetched:
            log.info("page of %r (%s) not used: %s", entry.title, entry.link, page.detail)
            return entry, page.outcome, page.detail
        try:
            text = await self._extract(page, entry.title)
        except Exception as exc:  # a page lxml cannot take: the feed's text stands
            why = f"cannot extract {page.final_url}: {type(exc).__name__}: {exc}"
            log.warning("%s", why)
            return entry, "error", why
        better = with_page_text(entry, text)
        if better is None:
            why = f"{page.final_url} has no more text ({len(text)} characters) than the feed"
            log.info("page of %r not used: %s", entry.title, why)
            return entry, "shorter", why
        return better, "used", page.final_url

    async def _extract(self, page: Page, title: str) -> str:
        async with self._extracting:
            started = time.perf_counter()
            loop = asyncio.get_running_loop()
            try:
                charset = declared_charset(page.content_type)
                return await loop.run_in_executor(
                    self._executor(), main_text, page.html, page.final_url, title, charset
                )
            except BrokenProcessPool:  # a worker died (out of memory on a page?): start anew
                self.close()
                raise
            finally:
                self._metrics.page_extract_seconds.observe(time.perf_counter() - started)

    async def warm_up(self) -> None:
        """Start the extraction processes now (each imports trafilatura once, ~0.5 s)."""
        loop = asyncio.get_running_loop()
        pool = self._executor()
        page = b"<html><body><article><p>Warm up.</p></article></body></html>"
        await asyncio.gather(
            *(loop.run_in_executor(pool, main_text, page, "", "") for _ in range(self._processes))
        )

    def _executor(self) -> ProcessPoolExecutor:
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                self._processes,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=ignore_interrupts,
            )
            weakref.finalize(self, _shutdown, self._pool)
        return self._pool

    def close(self) -> None:
        """End the extraction processes (new ones start if a page comes after all)."""
        if self._pool is not None:
            _shutdown(self._pool)
            self._pool = None


def _shutdown(pool: ProcessPoolExecutor) -> None:
    pool.shutdown(wait=False, cancel_futures=True)
