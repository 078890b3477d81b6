"""`wirewatch rules test`: run rules over article files (or recent articles) and say why.

Publishes nothing and needs no Redis unless `--since` asks for the recent articles. The articles
are grouped into stories as the service would (`LocalStories`, the registry's rules, in the order
given): an article that is a copy of an earlier one is said to be, and a rule that already
matched an earlier copy would not alert again.
"""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from pathlib import Path

from ingest.errors import ConfigError, ParseError, StoreError
from ingest.fetch.fetcher import Fetcher
from ingest.match.explain import describe_article, describe_match, describe_near_miss
from ingest.match.matcher import Matcher, model_problems
from ingest.match.nlp import Ner, load_nlp
from ingest.models import Article, Document, FullText, Match, RawEntry, Source
from ingest.normalize.article import normalize
from ingest.parse.documents import parse_document
from ingest.parse.wirestory import wire_title
from ingest.rules.files import load_rules_dir
from ingest.rules.model import Rule
from ingest.service.fulltext import PageTexts
from ingest.service.metrics import Metrics
from ingest.settings import Settings
from ingest.stories.copies import LocalStories, Story, describe_copy

# Articles matched at a time: a file of any size (a backlog of 20,000 entries) is normalized,
# matched and printed in batches of this many, so only one batch of articles, their term hits
# and NER results is ever held; NER still gets full batches of its own size from each.
TRIAL_BATCH = 256


def files_under(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
            )
        else:
            yield path


def read_articles(
    paths: Sequence[Path],
    settings: Settings,
    problem: Callable[[str], None],
    full_text: FullText = "never",
    note: Callable[[str], None] = print,
) -> Iterator[Article]:
    """Articles from wire text files and feed files, one at a time, in file order; each file
    that cannot be read or parsed is passed to `problem` and skipped. With `full_text` auto or
    always, entries' linked pages are fetched as the service would, and `note` says why a page
    was not used."""
    for path in files_under(paths):
        entries = _entries(path, settings, problem)
        if full_text != "never" and entries:
            entries = asyncio.run(_with_pages(entries, settings, full_text, note))
        for entry in entries:
            yield normalize(entry)


async def _with_pages(
    entries: Sequence[RawEntry], settings: Settings, mode: FullText, note: Callable[[str], None]
) -> list[RawEntry]:
    """The entries with their pages' main text, fetched with the service's client and rules
    (a page may reach private addresses only when WIREWATCH_ALLOW_PRIVATE_NETWORKS says so)."""
    source = Source(url="", name="rules test", kind="http", interval_s=0.0, full_text=mode)
    async with Fetcher(settings) as fetcher:
        done = await PageTexts(fetcher, settings, Metrics()).fill_each(source, entries)
    for entry, outcome, why in done:
        if outcome == "used":
            note(f"{entry.link}: text from the page")
        elif outcome:
            note(f"{entry.link}: page not used ({outcome}): {why}")
    return [entry for entry, _, _ in done]


def _entries(path: Path, settings: Settings, problem: Callable[[str], None]) -> Sequence[RawEntry]:
    uri = path.resolve().as_uri()
    source = Source(url=uri, name=path.name, kind="file", interval_s=settings.default_interval_s)
    try:
        document = Document(url=uri, body=path.read_bytes())
        return parse_document(document, source).entries
    except OSError as exc:
        problem(f"{path}: cannot read: {exc.strerror or exc}")
    except ParseError as exc:
        problem(f"{path}: {exc}")
    return ()


def load_articles(paths: Sequence[Path], settings: Settings) -> tuple[list[Article], list[str]]:
    """Articles from wire text files and feed files; unreadable ones become problems."""
    problems: list[str] = []
    return list(read_articles(paths, settings, problems.append)), problems


PASTED = "pasted text"  # the source name of an article typed into the web console's /try


def pasted_article(title: str, text: str) -> Article:
    """An article from a title and a text typed in by a person, normalized as a wire story
    file is: the dateline split off, the same text the service would match."""
    if not title.strip():
        title = wire_title(text.strip())
    entry = RawEntry(
        source_name=PASTED, source_url="", title=title, content=text, content_is_html=False
    )
    return normalize(entry)


async def recent_articles(settings: Settings, since_s: float) -> list[Article]:
    # Imported here: the Redis client is only needed for --since, and costs start-up time.
    from ingest.delivery.store import Store

    store = Store.from_settings(settings)
    try:
        return await store.recent_articles(since_s)
    except StoreError as exc:
        raise StoreError(f"--since needs Redis: {exc}") from exc
    finally:
        await store.close()


def run_trial(
    settings: Settings,
    rules_dir: Path,
    articles: Iterable[Article],
    *,
    as_json: bool,
    rule_id: str | None,
) -> Iterator[str]:
    """Lines to print: one JSON object per article, or words; articles are read as needed."""
    ruleset = load_rules_dir(rules_dir)
    ner = _model_for(ruleset.rules, settings)
    unserved = model_problems(ruleset.rules, ner)  # `LABEL: any` with a blank model
    for error in (*ruleset.errors, *unserved):
        print(f"error: {error}", file=sys.stderr)
    refused = {e.rule_id for e in unserved}
    matcher = Matcher([r for r in ruleset.rules if r.id not in refused], ner)
    if rule_id is not None and rule_id not in matcher:
        known = ", ".join(sorted(rule.id for rule in ruleset.rules)) or "none"
        raise ConfigError(f"--rule {rule_id!r}: no such rule in {rules_dir} (rules: {known})")
    copies = _Copies()
    for batch in _batches(articles, TRIAL_BATCH):
        for article, matches in zip(batch, matcher.match_many(batch), strict=True):
            story, suppressed = copies.assign(article, matches)
            rejected = copies.rejected(article)
            yield from _lines(matcher, article, matches, as_json=as_json, rule_id=rule_id,
                              story=story, suppressed=suppressed,
                              rejected=rejected if rule_id else [])  # fmt: skip


class _Copies:
    """Which articles the service would take as copies, and which rules would not alert again
    (a rule alerts once per story)."""

    def __init__(self) -> None:
        self.stories = LocalStories(on_reject=self._rejected)
        self.alerted: dict[str, set[str]] = {}  # story id -> rules that alerted on it
        self.rejections: dict[str, list[tuple[str, str]]] = {}  # article id -> (story, why)

    def _rejected(self, article: Article, story_id: str, why: str) -> None:
        self.rejections.setdefault(article.id, []).append((story_id, why))

    def rejected(self, article: Article) -> list[dict[str, str | None]]:
        """The candidates the story stage verified for this article and turned down, with the
        test that failed ("the openings differ, 0.38 < 0.50"); asked once per article."""
        return [
            {"story_id": story_id, "title": self.stories.title_of(story_id), "why": why}
            for story_id, why in self.rejections.pop(article.id, [])
        ]

    def assign(self, article: Article, matches: list[Match]) -> tuple[Story, list[str]]:
        story = self.stories.assign(article)
        done = self.alerted.setdefault(story.story_id, set())
        suppressed = sorted({m.rule_id for m in matches} & done)
        done.update(m.rule_id for m in matches)
        return story, suppressed


def _model_for(rules: Sequence[Rule], settings: Settings) -> Ner | None:
    # Loading spaCy and a model takes longer than matching thousands of articles by keyword:
    # only rules with entity conditions need it.
    if not any(rule.entities for rule in rules):
        return None
    return load_nlp(settings.spacy_model, settings.ner_batch_size)


def _batches(articles: Iterable[Article], size: int) -> Iterator[list[Article]]:
    it = iter(articles)
    while batch := list(islice(it, size)):
        yield batch


def _lines(
    matcher: Matcher,
    article: Article,
    matches: list[Match],
    *,
    as_json: bool,
    rule_id: str | None,
    story: Story,
    suppressed: list[str],
    rejected: list[dict[str, str | None]],
) -> Iterator[str]:
    if as_json:
        record: dict[str, object] = {
            "article": article.to_json(),
            "matches": [m.to_json() for m in matches],
            **_copy_json(story, suppressed),
        }
        if rejected:
            record["not_copies"] = rejected
        yield json.dumps(record, ensure_ascii=False)
        return
    yield describe_article(article)
    if article.text_from == "page":
        yield f"  text from the linked page {article.url}"
    if not story.is_new:
        yield f"  {describe_copy(article, story)}: rules that matched it there do not alert"
    shown = [m for m in matches if rule_id is None or m.rule_id == rule_id]
    for match in shown:
        mark = "(copy, no alert) " if match.rule_id in suppressed else ""
        yield f"  {mark}{describe_match(match)}"
    if rule_id and not shown:
        yield "  " + describe_near_miss(matcher.explain(article, rule_id))
    if not matches and not rule_id:
        yield "  no rule matched"
    for candidate in rejected:
        title = candidate["title"]
        label = f"{title!r} ({candidate['story_id']})" if title else candidate["story_id"]
        yield f"  not a copy of story {label}: {candidate['why']}"


def _copy_json(story: Story, suppressed: list[str]) -> dict[str, object]:
    """`copy_of` (the story this article is a copy of) and `suppressed` (the rules that would
    not alert again), present only for a copy."""
    if story.is_new:
        return {}
    first = story.sources[0] if story.sources else None
    copy_of = {
        "story_id": story.story_id,
        "title": story.title,
        "source": {"name": first.name, "url": first.url} if first else None,
        "how": story.how,
    }
    return {"copy_of": copy_of, "suppressed": suppressed}
