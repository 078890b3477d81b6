"""Matches and explanations in plain words, for `wirewatch rules test`.

ceasefire-leader -> alerts:ceasefire: matched term 'ceasefire'; PERSON Donald Trump
(mentions: Donald Trump, Trump); in: "...the sentence..."
"""

from __future__ import annotations

from ingest.match.evaluation import Explanation
from ingest.models import Article, EntityHit, Match

TITLE_CHARS = 100


def describe_article(article: Article) -> str:
    """One header line per article: where it came from and its title."""
    title = " ".join(article.title.split()) or "(no title)"
    if len(title) > TITLE_CHARS:
        title = title[: TITLE_CHARS - 1] + "…"
    where = article.source.url or article.url
    return f"{where}: {title}"


def _entity(hit: EntityHit) -> str:
    mentions = ", ".join(hit.mentions)
    return f"{hit.label} {hit.name} (mentions: {mentions})"


def _terms(terms: tuple[str, ...]) -> str:
    word = "term" if len(terms) == 1 else "terms"
    return f"{word} " + ", ".join(f"'{t}'" for t in terms)


def _reasons(terms: tuple[str, ...], entities: tuple[EntityHit, ...]) -> str:
    parts = ([_terms(terms)] if terms else []) + [_entity(e) for e in entities]
    return "; ".join(parts) or "its conditions"


def describe_match(match: Match) -> str:
    """`rule -> channel: matched term 'x'; PERSON Name (mentions: ...); in: "sentence"`."""
    reasons = _reasons(match.terms, match.entities)
    return f'{match.rule_id} -> {match.channel}: matched {reasons}; in: "{match.snippet}"'


def describe_near_miss(explanation: Explanation) -> str:
    """Why one rule did not match (or that it did), with what it found on the way."""
    x = explanation
    if x.matched:
        return describe_match(x.to_match())
    lines = [f"{x.rule_id} -> {x.channel}: no match: " + "; ".join(x.missing)]
    if x.terms or x.entities:
        lines.append(f"    found: {_reasons(x.terms, x.entities)}")
    lines += [f"    not counted: {note}" for note in x.notes]
    if not x.ner_used:
        lines.append("    (the entity model did not run for this article)")
    if x.snippet and (x.terms or x.entities):
        lines.append(f'    nearest: "{x.snippet}"')
    return "\n".join(lines)
