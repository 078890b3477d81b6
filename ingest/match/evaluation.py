"""Evaluating one compiled rule on one article: matched or not, why, and the snippet to show."""

from __future__ import annotations

from dataclasses import dataclass

from ingest.match.mentions import EntityResult, find_entities
from ingest.match.nlp import NerResult
from ingest.match.presearch import CompiledRule
from ingest.match.termindex import TextHits
from ingest.match.terms import Hit
from ingest.models import EntityHit, Match

SNIPPET_CHARS = 300


@dataclass(frozen=True, slots=True)
class Explanation:
    """Why a rule did or did not match an article."""

    rule_id: str
    channel: str
    matched: bool
    terms: tuple[str, ...]  # the rule's terms found, as the rule writes them
    entities: tuple[EntityHit, ...]
    snippet: str
    missing: tuple[str, ...] = ()  # what kept it from matching
    notes: tuple[str, ...] = ()  # mentions seen but not counted, and why
    ner_used: bool = False

    def to_match(self) -> Match:
        return Match(self.rule_id, self.channel, self.terms, self.entities, self.snippet)


def evaluate(
    compiled: CompiledRule,
    text: str,
    hits: TextHits,
    ner: NerResult | None,
    spans: list[tuple[int, int]],
) -> Explanation:
    rule, found = compiled.rule, hits.by_term
    missing = [f"term '{t}' not found" for t, i in compiled.required if i not in found]
    any_found = [t for t, i in compiled.any if i in found]
    if compiled.any and not any_found:
        missing.append("none of the 'any' terms found: " + ", ".join(t for t, _ in compiled.any))
    missing += [f"excluded: term '{t}' found (none)" for t, i in compiled.none if i in found]
    entity_results = {c.label: find_entities(c, text, hits, ner) for c in compiled.conditions}
    missing += [_no_entity(label, ner) for label, r in entity_results.items() if not r.hits]
    missing += _near_missing(compiled, hits, entity_results, spans)
    terms = tuple(dict.fromkeys([*(t for t, i in compiled.required if i in found), *any_found]))
    entity_hits = tuple(h for r in entity_results.values() for h in r.hits)
    mention_spans = [s for r in entity_results.values() for s in r.spans]
    term_spans = [
        h for t, i in (*compiled.required, *compiled.any) if t in terms for h in hits.of(i)
    ]
    snippet = _snippet(text, spans, sorted(term_spans, key=lambda h: h.start), mention_spans)
    notes = (*_case_notes(compiled, hits), *(n for r in entity_results.values() for n in r.notes))
    return Explanation(rule.id, rule.channel, not missing, terms, entity_hits, snippet,
                       tuple(missing), notes, ner is not None)  # fmt: skip


def _case_notes(compiled: CompiledRule, hits: TextHits) -> list[str]:
    """Why a term written with capitals was not found where its letters were: the first reason."""
    terms = (*compiled.required, *compiled.any)
    return [r[0].reason for _, i in terms if i not in hits.by_term and (r := hits.rejected(i))]


def _no_entity(label: str, ner: NerResult | None) -> str:
    if ner is None:
        return f"{label}: no listed name found (by full name; the model did not run)"
    return f"{label}: no listed name or tagged mention found"


def _near_missing(
    compiled: CompiledRule,
    hits: TextHits,
    entity_results: dict[str, EntityResult],
    spans: list[tuple[int, int]],
) -> list[str]:
    ids = dict(compiled.required)
    missing = []
    for near in compiled.rule.near:
        sides = [
            list(entity_results[x].spans) if x in entity_results else list(hits.of(ids[x]))
            for x in (near.a, near.b)
        ]
        if not any(_close(a, b, near.within, spans) for a in sides[0] for b in sides[1]):
            where = "in one sentence" if near.within is None else f"within {near.within} words"
            missing.append(f"near: '{near.a}' and '{near.b}' not found {where}")
    return missing


def _close(a: Hit, b: Hit, within: int | None, spans: list[tuple[int, int]]) -> bool:
    if within is not None:
        gap = max(b.first_word - a.last_word, a.first_word - b.last_word) - 1
        return gap <= within
    return _sentence_of(a.start, spans) == _sentence_of(b.start, spans)


def _sentence_of(index: int, spans: list[tuple[int, int]]) -> int:
    for number, (start, end) in enumerate(spans):
        if start <= index < end:
            return number
    return -1


def _snippet(text: str, spans: list[tuple[int, int]], terms: list[Hit], mentions: list[Hit]) -> str:
    """The sentence of the first term hit near a counted mention, else of the first hit."""
    mention_sentences = {_sentence_of(m.start, spans) for m in mentions}
    anchor = next((t for t in terms if _sentence_of(t.start, spans) in mention_sentences), None)
    anchor = anchor or (terms[0] if terms else min(mentions, key=lambda m: m.start, default=None))
    if anchor is None:
        return _trim(text, 0, 0)
    number = _sentence_of(anchor.start, spans)
    start, end = spans[number] if number >= 0 else (0, len(text))
    return _trim(text[start:end], anchor.start - start, anchor.end - start)


def _trim(sentence: str, hit_start: int, hit_end: int) -> str:
    """The sentence with spaces collapsed, cut to about SNIPPET_CHARS around the hit."""
    if len(sentence) <= SNIPPET_CHARS:
        return " ".join(sentence.split())
    middle = (hit_start + hit_end) // 2
    start = max(0, min(middle - SNIPPET_CHARS // 2, len(sentence) - SNIPPET_CHARS))
    end = start + SNIPPET_CHARS
    if start > 0:
        start = sentence.find(" ", start) + 1 or start
    if end < len(sentence):
        end = sentence.rfind(" ", start, end) if sentence.rfind(" ", start, end) > start else end
    body = " ".join(sentence[start:end].split())
    return ("…" if start > 0 else "") + body + ("…" if end < len(sentence) else "")
