"""`wirewatch rules test`: run rules over article files (or recent articles) and say why.

Publishes nothing and needs no Redis unless `--since` asks for the recent articles. The articles
are grouped into stories as the service would (`LocalStories`, the registry's rules, in the order
given): an article that is a copy of an earlier one is said to be, and a rule that already
matched an earlier copy would not alert again.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from ingest.delivery.store import Store
from ingest.errors import ConfigError, ParseError, StoreError
from ingest.match.explain import describe_article, describe_match, describe_near_miss
from ingest.match.matcher import Matcher, model_problems
from ingest.match.nlp import load_nlp
from ingest.models import Article, Document, Source
from ingest.normalize.article import normalize
from ingest.parse.documents import parse_document
from ingest.rules.files import load_rules_dir
from ingest.settings import Settings
from ingest.stories.copies import LocalStories, Story, describe_copy


def files_under(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p for p in path.iterdir() if p.is_file() and not p.name.startswith(".")
            )
        else:
            yield path


def load_articles(paths: Sequence[Path], settings: Settings) -> tuple[list[Article], list[str]]:
    """Articles from wire text files and feed files; unreadable ones become problems."""
    articles: list[Article] = []
    problems: list[str] = []
    for path in files_under(paths):
        uri = path.resolve().as_uri()
        source = Source(
            url=uri, name=path.name, kind="file", interval_s=settings.default_interval_s
        )
        try:
            document = Document(url=uri, body=path.read_bytes())
            entries = parse_document(document, source).entries
        except OSError as exc:
            problems.append(f"{path}: cannot read: {exc.strerror or exc}")
            continue
        except ParseError as exc:
            problems.append(f"{path}: {exc}")
            continue
        articles.extend(normalize(entry) for entry in entries)
    return articles, problems


async def recent_articles(settings: Settings, since_s: float) -> list[Article]:
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
    articles: list[Article],
    *,
    as_json: bool,
    rule_id: str | None,
) -> Iterator[str]:
    """Lines to print: one JSON object per article, or words."""
    ruleset = load_rules_dir(rules_dir)
    ner = load_nlp(settings.spacy_model, settings.ner_batch_size)
    unserved = model_problems(ruleset.rules, ner)  # `LABEL: any` with a blank model
    for error in (*ruleset.errors, *unserved):
        print(f"error: {error}", file=sys.stderr)
    refused = {e.rule_id for e in unserved}
    matcher = Matcher([r for r in ruleset.rules if r.id not in refused], ner)
    if rule_id is not None and rule_id not in matcher:
        known = ", ".join(sorted(rule.id for rule in ruleset.rules)) or "none"
        raise ConfigError(f"--rule {rule_id!r}: no such rule in {rules_dir} (rules: {known})")
    results = matcher.match_many(articles)
    stories = LocalStories()
    alerted: dict[str, set[str]] = {}  # story id -> rules that alerted on it
    for article, matches in zip(articles, results, strict=True):
        story = stories.assign(article)
        done = alerted.setdefault(story.story_id, set())
        suppressed = sorted({m.rule_id for m in matches} & done)
        done.update(m.rule_id for m in matches)
        if as_json:
            record: dict[str, object] = {
                "article": article.to_json(),
                "matches": [m.to_json() for m in matches],
                **_copy_json(story, suppressed),
            }
            yield json.dumps(record, ensure_ascii=False)
            continue
        yield describe_article(article)
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
