"""Sentence-window NER against whole-article NER, over every real article in the repository.

    .venv/bin/python bench/ner_agreement.py [--out docs/ner-agreement.md] [--mixed 300]

The matcher reads with the model only the sentences that hold a name in doubt (a surname or a
one-word alias outside a full name), with one sentence of context on each side. This script
runs the same rules over the same articles twice, once so and once with the model reading every
article a rule with entities could match, all of it (`Matcher(..., scope="whole")`, what the
matcher did before), and compares:

- decisions and matches: each (rule, article): matched or not, the entities with their
  mentions, the snippet;
- labels: for every mention in doubt, the spans the model tags over it when it reads only that
  mention's sentence and its neighbours (the least context the matcher ever gives) against the
  spans it tags reading the whole article.

Rules: the shipped ones (`rules/`), every rule of the matching cases, `PERSON/ORG/GPE: any`,
and one `PERSON: [name]` rule for each two-word-or-longer person name the model finds in the
corpus, so that most surnames in the corpus are a listed name in doubt somewhere.
"""

from __future__ import annotations

import argparse
import platform
import random
import subprocess
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from real_texts import CASE_FILES, FILES, real_articles  # noqa: E402

from ingest.match.matcher import Matcher, MatchStats  # noqa: E402
from ingest.match.nlp import Ner, load_nlp  # noqa: E402
from ingest.match.presearch import Presearch  # noqa: E402
from ingest.match.reading import Reading, chunks, in_doubt, read, windows  # noqa: E402
from ingest.match.terms import Hit, sentences  # noqa: E402
from ingest.models import Article, Match  # noqa: E402
from ingest.rules.files import load_rules_dir, parse_rules  # noqa: E402
from ingest.rules.model import EntityCondition, NameSpec, Rule  # noqa: E402
from ingest.service.trial import pasted_article  # noqa: E402
from ingest.yamlfile import load_yaml_file  # noqa: E402

Key = tuple[str, str, str]  # rule set, rule id, article name


def rule_sets(ner: Ner, articles: Sequence[tuple[str, Article]]) -> list[tuple[str, list[Rule]]]:
    sets = [("rules/", list(load_rules_dir(ROOT / "rules").rules))]
    for pattern in CASE_FILES[:2]:
        for path in sorted(ROOT.glob(pattern)):
            data = load_yaml_file(path)
            sets.append((str(path.relative_to(ROOT)), list(parse_rules(data["rules"], str(path)))))
    sets.append(("any", [Rule(f"{x}-any", "a:x", entities=(EntityCondition(x, None),))
                         for x in ("PERSON", "ORG", "GPE")]))  # fmt: skip
    tagged = ner.analyze([a.text for _, a in articles])
    people = sorted({e[0] for r in tagged for e in r.entities
                     if e[1] == "PERSON" and len(e[0].split()) > 1})  # fmt: skip
    derived = [Rule(f"p{i}", "a:p", entities=(EntityCondition("PERSON", (NameSpec(n),)),))
               for i, n in enumerate(people)]  # fmt: skip
    sets.append((f"{len(people)} people named in the corpus", derived))
    return sets


def _shown(match: Match | None) -> str:
    if match is None:
        return "no match"
    entities = "; ".join(f"{e.label} {e.name}: {', '.join(e.mentions)}" for e in match.entities)
    return f"[{entities}] «{match.snippet}»"


def compare_matches(
    ner: Ner, sets: list[tuple[str, list[Rule]]], articles: Sequence[tuple[str, Article]]
) -> tuple[dict[str, int], list[str]]:
    counts = dict.fromkeys(("pairs", "matched", "same decision", "same match"), 0)
    differences = []
    items = [a for _, a in articles]
    for set_name, rules in sets:
        results: dict[str, list[list[Match]]] = {}
        for scope in ("whole", "sentences"):
            stats = MatchStats()
            results[scope] = Matcher(rules, ner, scope=scope).match_many(items, stats)  # type: ignore[arg-type]
            counts[f"{set_name} {scope}"] = stats.ner_chars
        for (name, _), whole, windowed in zip(
            articles, results["whole"], results["sentences"], strict=True
        ):
            a = {m.rule_id: m for m in whole}
            b = {m.rule_id: m for m in windowed}
            for rule in rules:
                counts["pairs"] += 1
                counts["matched"] += rule.id in a
                counts["same decision"] += (rule.id in a) == (rule.id in b)
                same = a.get(rule.id) == b.get(rule.id)
                counts["same match"] += same
                if not same:
                    differences.append(
                        f"- `{set_name}` rule `{rule.id}`, {name}:\n"
                        f"  - whole: {_shown(a.get(rule.id))}\n"
                        f"  - windows: {_shown(b.get(rule.id))}"
                    )
    return counts, differences


def doubtful_hits(searches: list[Presearch], article: Article) -> list[Hit]:
    found: dict[tuple[int, int], Hit] = {}
    for presearch in searches:
        hits = presearch.index.search(article.text)
        for compiled in presearch.compiled:
            for cond in compiled.conditions:
                for hit in in_doubt(cond, article.text, hits)[0]:
                    found.setdefault((hit.start, hit.end), hit)
    return list(found.values())


def compare_labels(
    ner: Ner, sets: list[tuple[str, list[Rule]]], articles: Sequence[tuple[str, Article]]
) -> tuple[dict[str, int], list[str]]:
    texts, plans, owners = [], [], []
    searches = [Presearch(rules) for _, rules in sets]
    for name, article in articles:
        spans = sentences(article.text)
        for hit in doubtful_hits(searches, article):
            texts.append(article.text)
            plans.append(chunks(Reading(sentences=frozenset(windows([hit], spans))), spans,
                                len(article.text)))  # fmt: skip
            owners.append((name, hit))
    whole = {t: r for t, r in zip(sorted(set(texts)), ner.analyze(sorted(set(texts))), strict=True)}
    windowed = read(ner, texts, plans)
    counts = dict.fromkeys(("mentions in doubt", "same label", "same spans"), 0)
    differences = []
    for text, result, (name, hit) in zip(texts, windowed, owners, strict=True):
        a = [
            (e[1], e[2], e[3]) for e in whole[text].entities if e[2] < hit.end and hit.start < e[3]
        ]
        b = [(e[1], e[2], e[3]) for e in result.entities if e[2] < hit.end and hit.start < e[3]]
        counts["mentions in doubt"] += 1
        counts["same label"] += [x[0] for x in a] == [x[0] for x in b]
        counts["same spans"] += a == b
        if a != b:
            shown = [
                ", ".join(f"'{text[s:e]}' {label}" for label, s, e in x) or "nothing"
                for x in (a, b)
            ]
            differences.append(
                f"- {name}, '{text[hit.start : hit.end]}' at {hit.start}: "
                f"whole {shown[0]}; windows {shown[1]}"
            )
    return counts, differences


def _percent(part: int, whole: int) -> str:
    return f"{part}/{whole} ({100 * part / whole:.1f}%)" if whole else "0/0"


def mixed(count: int) -> list[tuple[str, Article]]:
    """bench_names.py's mixed corpus: real paragraphs of several articles in new company."""
    from bench_names import mixed_articles

    chosen = mixed_articles(random.Random(21), count)
    return [(f"mixed #{n}", pasted_article(t, "\n".join(b))) for n, (t, b) in enumerate(chosen)]


def report(ner: Ner, mixed_count: int) -> str:
    real = real_articles()
    articles = real + mixed(mixed_count)
    sets = rule_sets(ner, articles)
    match_counts, match_diffs = compare_matches(ner, sets, articles)
    label_counts, label_diffs = compare_labels(ner, sets, articles)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, text=True,
                            capture_output=True, check=False).stdout.strip()  # fmt: skip
    words = sum(len(a.text.split()) for _, a in real)
    mixed_words = sum(len(a.text.split()) for _, a in articles[len(real) :])
    lines = [
        "# NER agreement: sentence windows against whole articles",
        "",
        f"Generated by `bench/ner_agreement.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, "
        f"commit {commit}, model `{ner.name}`, {platform.machine()} "
        f"Python {platform.python_version()}.",
        "",
        "## Corpus: every real article in the repository, and their paragraphs mixed",
        f"- {len(real)} distinct articles, {words} words: "
        + ", ".join(f"`{p}`" for p in (*FILES, *CASE_FILES))
        + " (story cases: the items written out with a `body`);",
        f"- {mixed_count} articles of their paragraphs mixed, three sources an article, 5% with "
        f"a ceasefire paragraph ({mixed_words} words; `bench/bench_names.py`'s *mixed* corpus): "
        "surnames meet full names of other stories, and windows get new neighbours.",
        "",
        "## Rules, and what the model read for them",
        f"Characters of the corpus: {sum(len(a.text) for _, a in articles)}.",
        "",
        "| rule set | rules | characters read: whole articles | sentence windows |",
        "| --- | --- | --- | --- |",
        *(
            f"| `{name}` | {len(rules)} | {match_counts[name + ' whole']} | "
            f"{match_counts[name + ' sentences']} |"
            for name, rules in sets
        ),
        "",
        "## Decisions and matches (every rule on every article)",
        "Whole: the model reads every article a rule with entities could match, all of it, and "
        "judges every surname or one-word alias (the matcher before sentence windows). Windows: "
        "names in full settle first, a surname beside nothing that could make it a longer name "
        "counts when the full name is in the article, and the model reads the sentences of "
        "the mentions still in doubt, one sentence on each side.",
        "",
        f"- (rule, article) pairs: {match_counts['pairs']}, matched with whole-article NER: "
        f"{match_counts['matched']}",
        f"- same decision: {_percent(match_counts['same decision'], match_counts['pairs'])}",
        "- same match (entities, mentions and snippet): "
        + _percent(match_counts["same match"], match_counts["pairs"]),
        "",
        "## Labels of the mentions in doubt (each read with only its own window)",
        f"- mentions in doubt: {label_counts['mentions in doubt']}",
        "- same labels over the mention: "
        + _percent(label_counts["same label"], label_counts["mentions in doubt"]),
        "- same spans and labels: "
        + _percent(label_counts["same spans"], label_counts["mentions in doubt"]),
        "",
        "## Differences in matches",
        *(match_diffs or ["None."]),
        "",
        "## Differences in the spans over a mention in doubt",
        *(label_diffs or ["None."]),
        "",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "ner-agreement.md")
    parser.add_argument("--mixed", type=int, default=300, help="mixed-paragraph articles")
    args = parser.parse_args(argv)
    text = report(load_nlp("auto", batch_size=16), args.mixed)
    args.out.write_text(text, encoding="utf-8")
    print(text.split("## Differences in matches")[0])


if __name__ == "__main__":
    main()
