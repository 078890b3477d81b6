"""Matching articles against rules: presearch, NER only where needed, then each rule's conditions.

    articles -> TermIndex.search (one automaton pass each) -> candidate rules (cheap term checks)
             -> Ner.analyze (one batched call, only articles with a candidate needing entities)
             -> evaluate each candidate -> Explanation -> Match

`explain` runs the same evaluation for one rule, whether or not it passed the presearch, so
`wirewatch rules test --rule ID` shows what was missing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ingest.errors import ModelError, RuleError
from ingest.models import Article, EntityHit, Match
from ingest.nlp import Entity, Ner, NerResult
from ingest.rules import EntityCondition, NameSpec, Rule, RuleSet
from ingest.terms import Hit, TermIndex, TermKind, TextHits, sentences, words

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


@dataclass(frozen=True, slots=True)
class _Name:
    name: str
    strong: tuple[int, ...]  # full name and multi-word aliases: enough on their own
    weak: tuple[int, ...]  # surname and one-word aliases: need support in the text
    first: str = ""  # folded first word of a person's name: `Hunter Biden` is not `Joe Biden`


@dataclass(frozen=True, slots=True)
class _Condition:
    label: str
    names: tuple[_Name, ...] | None  # None: any span the model tags with the label


@dataclass(frozen=True, slots=True)
class _Compiled:
    rule: Rule
    required: tuple[tuple[str, int], ...]  # all + near terms: (as written, term id)
    any: tuple[tuple[str, int], ...]
    none: tuple[tuple[str, int], ...]
    conditions: tuple[_Condition, ...]

    def triggers(self) -> tuple[int, ...]:
        """Term ids of which at least one must occur for this rule to be worth evaluating."""
        if self.required:
            return (max(self.required, key=lambda t: len(t[0]))[1],)  # longest: likely rarest
        if self.any:
            return tuple(i for _, i in self.any)
        listed = [c for c in self.conditions if c.names is not None]
        if listed and listed[0].names is not None:
            return tuple(i for n in listed[0].names for i in (*n.strong, *n.weak))
        return ()


def _phrases(rule: Rule) -> list[tuple[str, TermKind]]:
    found: list[tuple[str, TermKind]] = [(t, "word") for t in (*rule.all, *rule.any, *rule.none)]
    found += [(t, "word") for t in rule.near_terms()]
    for cond in rule.entities:
        for spec in cond.names or ():
            surname = words(spec.name)[-1:] if cond.label == "PERSON" else []
            found += [(n, "name") for n in (spec.name, *spec.aliases, *surname)]
    return found


def _compile_name(label: str, spec: NameSpec, index: TermIndex) -> _Name:
    parts = words(spec.name)
    strong = [spec.name, *(a for a in spec.aliases if len(words(a)) > 1)]
    weak = [a for a in spec.aliases if len(words(a)) == 1]
    if label == "PERSON" and len(parts) > 1:
        weak.append(parts[-1])  # a surname alone; organisations and places have no surname
    return _Name(
        spec.name,
        tuple(index.id_of(s, "name") for s in strong),
        tuple(index.id_of(w, "name") for w in weak),
        parts[0] if label == "PERSON" and len(parts) > 1 else "",
    )


def _compile_condition(cond: EntityCondition, index: TermIndex) -> _Condition:
    if cond.names is None:
        return _Condition(cond.label, None)
    return _Condition(cond.label, tuple(_compile_name(cond.label, n, index) for n in cond.names))


def _compile(rule: Rule, index: TermIndex) -> _Compiled:
    def ids(terms: Sequence[str]) -> tuple[tuple[str, int], ...]:
        return tuple(dict.fromkeys((t, index.id_of(t)) for t in terms))

    conditions = tuple(_compile_condition(c, index) for c in rule.entities)
    return _Compiled(
        rule, ids((*rule.all, *rule.near_terms())), ids(rule.any), ids(rule.none), conditions
    )


MODEL_NEEDED = (
    "{label}: any needs a statistical NER model, but none is loaded (WIREWATCH_SPACY_MODEL=blank): "
    "list names instead of 'any', or set WIREWATCH_SPACY_MODEL=auto"
)


def model_problems(rules: Sequence[Rule], ner: Ner | None) -> list[RuleError]:
    """Rules that a missing or blank model cannot serve (`LABEL: any`), as RuleErrors."""
    if ner is not None and ner.has_model:
        return []
    return [
        RuleError(r.path, r.line, MODEL_NEEDED.format(label=c.label), r.id)
        for r in rules
        for c in r.entities
        if c.names is None
    ]


def _check_model(rules: Sequence[Rule], ner: Ner | None) -> None:
    problems = model_problems(rules, ner)
    if problems:
        raise ModelError("\n".join(str(p) for p in problems))


class Matcher:
    """Rules compiled into one term index; match batches of articles."""

    def __init__(self, rules: RuleSet | Sequence[Rule], ner: Ner | None = None) -> None:
        self.rules = tuple(rules.rules if isinstance(rules, RuleSet) else rules)
        _check_model(self.rules, ner)
        self.ner = ner
        self.index = TermIndex(p for rule in self.rules for p in _phrases(rule))
        self._compiled = [_compile(rule, self.index) for rule in self.rules]
        self._by_id = {c.rule.id: c for c in self._compiled}
        self._triggered: dict[int, list[int]] = {}
        self._always: list[int] = []
        for position, compiled in enumerate(self._compiled):
            triggers = compiled.triggers()
            for term_id in triggers:
                self._triggered.setdefault(term_id, []).append(position)
            if not triggers:
                self._always.append(position)

    def candidates(self, hits: TextHits) -> list[_Compiled]:
        """Rules whose cheap term conditions hold for these hits (presearch)."""
        positions = set(self._always)
        for term_id in hits.by_term:
            positions.update(self._triggered.get(term_id, ()))
        return [
            self._compiled[p] for p in sorted(positions) if _terms_hold(self._compiled[p], hits)
        ]

    def match_many(self, articles: Sequence[Article]) -> list[list[Match]]:
        """The matches of every article, in article order; NER runs once, batched."""
        texts = [a.text for a in articles]
        all_hits = [self.index.search(t) for t in texts]
        candidates = [self.candidates(h) for h in all_hits]
        tagged = self._tag(texts, [any(c.conditions for c in cands) for cands in candidates])
        results = []
        for text, hits, cands, ner in zip(texts, all_hits, candidates, tagged, strict=True):
            spans = sentences(text) if cands else []
            checks = [_evaluate(c, text, hits, ner, spans) for c in cands]
            results.append([x.to_match() for x in checks if x.matched])
        return results

    def match(self, article: Article) -> list[Match]:
        return self.match_many([article])[0]

    def __contains__(self, rule_id: object) -> bool:
        return rule_id in self._by_id

    def explain(self, article: Article, rule_id: str) -> Explanation:
        """Evaluate one rule on one article, with what was missing when it does not match."""
        compiled = self._by_id.get(rule_id)
        if compiled is None:
            raise KeyError(f"no rule with id '{rule_id}'")
        text = article.text
        ner = self._tag([text], [bool(compiled.conditions)])[0]
        return _evaluate(compiled, text, self.index.search(text), ner, sentences(text))

    def _tag(self, texts: list[str], wanted: list[bool]) -> list[NerResult | None]:
        if self.ner is None or not self.ner.has_model or not any(wanted):
            return [None] * len(texts)
        chosen = [i for i, w in enumerate(wanted) if w]
        analyzed = dict(zip(chosen, self.ner.analyze([texts[i] for i in chosen]), strict=True))
        return [analyzed.get(i) for i in range(len(texts))]


def _terms_hold(compiled: _Compiled, hits: TextHits) -> bool:
    found = hits.by_term
    return (
        all(i in found for _, i in compiled.required)
        and (not compiled.any or any(i in found for _, i in compiled.any))
        and not any(i in found for _, i in compiled.none)
        and all(
            c.names is None or any(i in found for n in c.names for i in (*n.strong, *n.weak))
            for c in compiled.conditions
        )
    )


@dataclass(frozen=True, slots=True)
class _EntityResult:
    hits: tuple[EntityHit, ...]
    spans: tuple[Hit, ...]  # where the counted mentions are, for near and the snippet
    notes: tuple[str, ...]


def _evaluate(
    compiled: _Compiled,
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
    entity_results = {c.label: _entities(c, text, hits, ner) for c in compiled.conditions}
    missing += [_no_entity(label, ner) for label, r in entity_results.items() if not r.hits]
    missing += _near_missing(compiled, hits, entity_results, spans)
    terms = tuple(dict.fromkeys([*(t for t, i in compiled.required if i in found), *any_found]))
    entity_hits = tuple(h for r in entity_results.values() for h in r.hits)
    mention_spans = [s for r in entity_results.values() for s in r.spans]
    term_spans = [
        h for t, i in (*compiled.required, *compiled.any) if t in terms for h in hits.of(i)
    ]
    snippet = _snippet(text, spans, sorted(term_spans, key=lambda h: h.start), mention_spans)
    notes = tuple(n for r in entity_results.values() for n in r.notes)
    return Explanation(rule.id, rule.channel, not missing, terms, entity_hits, snippet,
                       tuple(missing), notes, ner is not None)  # fmt: skip


def _no_entity(label: str, ner: NerResult | None) -> str:
    if ner is None:
        return f"{label}: no listed name found (by full name; the model did not run)"
    return f"{label}: no listed name or tagged mention found"


def _entities(cond: _Condition, text: str, hits: TextHits, ner: NerResult | None) -> _EntityResult:
    entities = ner.entities if ner else ()
    if cond.names is None:
        return _any_entities(cond.label, entities, hits)
    results = [_name_mentions(name, cond.label, text, hits, entities) for name in cond.names]
    pairs = zip(cond.names, results, strict=True)
    found = tuple(
        EntityHit(cond.label, n.name, mentions) for n, (mentions, _, _) in pairs if mentions
    )
    spans = tuple(s for _, sp, _ in results for s in sp)
    return _EntityResult(found, spans, tuple(n for _, _, ns in results for n in ns))


def _name_mentions(
    name: _Name, label: str, text: str, hits: TextHits, entities: tuple[Entity, ...]
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


def _any_entities(label: str, entities: tuple[Entity, ...], hits: TextHits) -> _EntityResult:
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
    return _EntityResult(found, tuple(spans), tuple(dict.fromkeys(notes)))


def _near_missing(
    compiled: _Compiled,
    hits: TextHits,
    entity_results: dict[str, _EntityResult],
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
