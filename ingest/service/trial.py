"""`wirewatch rules test`: run rules over article files (or recent articles) and say why.

Publishes nothing and needs no Redis unless `--since` asks for the recent articles.
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
from ingest.models import Article, Document, RawEntry, Source
from ingest.normalize.article import normalize
from ingest.parse.documents import parse_document
from ingest.parse.wirestory import wire_title
from ingest.rules.files import load_rules_dir
from ingest.settings import Settings


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
    for article, matches in zip(articles, results, strict=True):
        if as_json:
            record = {"article": article.to_json(), "matches": [m.to_json() for m in matches]}
            yield json.dumps(record, ensure_ascii=False)
            continue
        yield describe_article(article)
        shown = [m for m in matches if rule_id is None or m.rule_id == rule_id]
        for match in shown:
            yield "  " + describe_match(match)
        if rule_id and not shown:
            yield "  " + describe_near_miss(matcher.explain(article, rule_id))
        if not matches and not rule_id:
            yield "  no rule matched"
