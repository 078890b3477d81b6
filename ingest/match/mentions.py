"""Entity-name resolution: which mentions in a text count as a rule's listed names or labels.

A full name (or a multi-word alias) counts on its own; a surname or one-word alias counts only
where the text supports it: the full name appears too, or the model tags the mention with the
label. `LABEL: any` takes the spans the model tags, a surname grouped under its full name.
"""

from __future__ import annotations

from dataclasses import dataclass

from ingest.match.nlp import Entity, NerResult
from ingest.match.presearch import CompiledCondition, CompiledName
from ingest.match.termindex import TextHits
from ingest.match.terms import Hit, words
from ingest.models import EntityHit


@dataclass(frozen=True, slots=True)
class EntityResult:
    hits: tuple[EntityHit, ...]
    spans: tuple[Hit, ...]  # where the counted mentions are, for near and the snippet
    notes: tuple[str, ...]


def find_entities(
    cond: CompiledCondition, text: str, hits: TextHits, ner: NerResult | None
) -> EntityResult:
    entities = ner.entities if ner else ()
    if cond.names is None:
        return _any_entities(cond.label, entities, hits)
    results = [_name_mentions(name, cond.label, text, hits, entities) for name in cond.names]
    pairs = zip(cond.names, results, strict=True)
    found = tuple(
        EntityHit(cond.label, n.name, mentions) for n, (mentions, _, _) in pairs if mentions
    )
    spans = tuple(s for _, sp, _ in results for s in sp)
    return EntityResult(found, spans, tuple(n for _, _, ns in results for n in ns))


def _name_mentions(
    name: CompiledName, label: str, text: str, hits: TextHits, entities: tuple[Entity, ...]
) -> tuple[tuple[str, ...], list[Hit], list[str]]:
    strong = [h for i in name.strong for h in hits.of(i)]
    weak = [h for i in name.weak for h in hits.of(i)
            if not any(s.start <= h.start and h.end <= s.end for s in strong)]  # fmt: skip
    counted, notes = list(strong), []
    for hit in weak:
        reason = _weak_rejection(hit, label, name.first, text, bool(strong), entities)
        if reason:
            notes.append(f"'{text[hit.start : hit.end]}' as {label} {name.name}: {reason}")
        else:
            counted.append(hit)
    counted.sort(key=lambda h: h.start)
    mentions = tuple(dict.fromkeys(text[h.start : h.end] for h in counted))
    return mentions, counted, list(dict.fromkeys(notes))


def _weak_rejection(
    hit: Hit,
    label: str,
    first: str,
    text: str,
    full_name_seen: bool,
    entities: tuple[Entity, ...],
) -> str:
    """Why a surname or alias mention does not count as the person (empty: it counts)."""
    if text[hit.start].islower():
        return "written in lower case"
    for e_text, e_label, start, end in entities:
        wider = start <= hit.start and hit.end <= end and end - start > hit.end - hit.start
        if wider and e_label != label:
            return f"part of '{e_text}' ({e_label})"
        # `Donald J. Trump` is Donald Trump; `Hunter Biden` is not Joe Biden.
        if wider and first and words(e_text)[:1] != [first]:
            return f"part of another name, '{e_text}'"
    if full_name_seen:
        return ""
    if any(e[1] == label and e[2] < hit.end and hit.start < e[3] for e in entities):
        return ""
    if not entities:
        return "the full name is not in the article (and no model tagged it)"
    return f"the full name is not in the article and the model did not tag it {label}"


def _any_entities(label: str, entities: tuple[Entity, ...], hits: TextHits) -> EntityResult:
    """Spans the model tags with the label, a surname grouped under the full name."""
    people = {e[0].split()[-1]: e[0] for e in entities if e[1] == "PERSON" and " " in e[0]}
    groups: dict[str, list[str]] = {}
    spans, notes = [], []
    for e_text, e_label, start, end in entities:
        full = people.get(e_text)
        if full and e_label != "PERSON":
            # The model tags `Trump` ORG in stories that name Donald Trump: the text says person.
            if label != "PERSON" and e_label == label:
                notes.append(f"'{e_text}' as {label}: the article names {full}, a person")
            e_label = "PERSON"
        if e_label != label:
            continue
        mentions = groups.setdefault(full or e_text, [])
        if e_text not in mentions:
            mentions.append(e_text)
        spans.append(Hit(start, end, hits.word_at(start), hits.word_at(max(start, end - 1))))
    found = tuple(EntityHit(label, name, tuple(m)) for name, m in groups.items())
    return EntityResult(found, tuple(spans), tuple(dict.fromkeys(notes)))
