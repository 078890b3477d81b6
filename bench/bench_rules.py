"""Rules benchmark: presearch cost vs rule count, NER only where needed, peak memory.

    .venv/bin/python bench/bench_rules.py [--articles 1000] [--rules 10000] [--ner-articles 200]

Prints:
- articles/second with 10 and with 10,000 keyword rules over the same generated articles,
  and their cost ratio (goal <= 1.2x: the term index makes cost follow hits, not rules);
- articles/second when 5% of articles are candidates for an entity rule vs NER on every
  article (goal >= 10x);
- peak RSS with 10,000 rules and the model loaded (goal < 400 MB).
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.match.matcher import Matcher  # noqa: E402
from ingest.match.nlp import load_nlp  # noqa: E402
from ingest.models import Article, SourceRef  # noqa: E402
from ingest.rules.model import EntityCondition, Rule  # noqa: E402
from ingest.settings import Settings  # noqa: E402

SEED = ROOT / "seeds" / "000_820d276074f311ca.txt"
ONSETS = str.split("b c d f g h j k l m n p r s t v w z br dr gr kr pl st tr")
VOWELS = ["a", "e", "i", "o", "u", "ai", "ou"]


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def pseudo_words(rng: random.Random, count: int, syllables: tuple[int, int]) -> list[str]:
    """Distinct made-up words; longer syllable counts keep rule terms apart from prose words."""
    found: set[str] = set()
    while len(found) < count:
        n = rng.randint(*syllables)
        found.add("".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(n)))
    return sorted(found)


def article(number: int, body: str) -> Article:
    return Article(
        id=f"a{number}",
        url=f"https://example.org/{number}",
        title=f"Story {number}",
        body=body,
        published=None,
        source=SourceRef("bench", "https://example.org/"),
        dateline=None,
        summary="",
        language="en",
    )


def keyword_articles(
    rng: random.Random, count: int, prose: list[str], pool: list[str]
) -> list[Article]:
    """~400 words of prose each, with 8 words from the rule-term pool mixed in."""
    weights = [1 / (rank + 1) for rank in range(len(prose))]  # Zipf-like, as in real text
    articles = []
    for number in range(count):
        text = rng.choices(prose, weights, k=400) + rng.sample(pool, 8)
        rng.shuffle(text)
        sentences = [" ".join(text[i : i + 20]).capitalize() + "." for i in range(0, 408, 20)]
        articles.append(article(number, "\n".join(sentences)))
    return articles


def keyword_rules(rng: random.Random, count: int, pool: list[str]) -> list[Rule]:
    return [
        Rule(f"k{i}", f"alerts:k{i % 50}", all=(rng.choice(pool),), any=tuple(rng.sample(pool, 2)))
        for i in range(count)
    ]


def timed(matcher: Matcher, articles: Sequence[Article], repeats: int = 3) -> tuple[float, int]:
    """Best wall time of `repeats` runs, and the number of matches."""
    best, matched = float("inf"), 0
    for _ in range(repeats):
        started = time.perf_counter()
        results = matcher.match_many(articles)
        best = min(best, time.perf_counter() - started)
        matched = sum(len(r) for r in results)
    return best, matched


def ner_articles(rng: random.Random, count: int, candidates: int) -> list[Article]:
    """Real English from the seed story; only `candidates` articles say `ceasefire`."""
    lines = SEED.read_text(encoding="utf-8").replace("ceasefire", "truce").splitlines()
    chosen = set(rng.sample(range(count), candidates))
    articles = []
    for number in range(count):
        body = rng.sample(lines, 6)
        if number in chosen:
            body.append("Officials said the ceasefire would be discussed again on Friday.")
        articles.append(article(number, "\n".join(body)))
    return articles


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1000)
    parser.add_argument("--rules", type=int, default=10_000)
    parser.add_argument("--ner-articles", type=int, default=200)
    args = parser.parse_args(argv)
    rng = random.Random(20261125)
    prose = pseudo_words(rng, 3000, (1, 3))
    pool = sorted(set(pseudo_words(rng, 30_000, (4, 5))) - set(prose))
    articles = keyword_articles(rng, args.articles, prose, pool)
    rules = keyword_rules(rng, args.rules, pool)

    started = time.perf_counter()
    big = Matcher(rules, None)
    build_s = time.perf_counter() - started
    small = Matcher(rules[:10], None)
    small_s, small_n, big_s, big_n = float("inf"), 0, float("inf"), 0
    for _ in range(5):  # interleaved, best of 5: other work on the machine skews single runs
        small_s, small_n = min(timed(small, articles, 1), (small_s, small_n))
        big_s, big_n = min(timed(big, articles, 1), (big_s, big_n))
    print(f"articles: {len(articles)}, ~{len(articles[0].text.split())} words each")
    print(f"  10 rules:     {len(articles) / small_s:9.0f} articles/s  ({small_n} matches)")
    print(f"  {len(rules)} rules:  {len(articles) / big_s:9.0f} articles/s  ({big_n} matches)")
    print(f"  cost ratio {len(rules)} vs 10 rules: {big_s / small_s:.2f}x (goal <= 1.2x)")
    for name, matcher in ((f"{len(rules)} rules", big), ("10 rules", small)):
        hits = sum(len(matcher.index.search(a.text).by_term) for a in articles) / len(articles)
        print(f"  terms found per article with {name}: {hits:.1f}")
    print(f"  building the {len(rules)}-rule matcher: {build_s:.2f} s")
    print(f"  peak RSS so far: {peak_rss_mb():.0f} MB")

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    ner = load_nlp(settings.spacy_model, settings.ner_batch_size)
    person_any = EntityCondition("PERSON", None)
    gated = Matcher([Rule("gated", "alerts:g", all=("ceasefire",), entities=(person_any,))], ner)
    everyone = Matcher([Rule("all", "alerts:a", entities=(person_any,))], ner)
    texts = ner_articles(rng, args.ner_articles, max(1, args.ner_articles // 20))
    gated_s, gated_n = timed(gated, texts, repeats=1)
    all_s, all_n = timed(everyone, texts, repeats=1)
    print(f"NER ({ner.name}, batch {ner.batch_size}), {len(texts)} articles, 5% candidates:")
    print(f"  term-gated entity rule: {len(texts) / gated_s:8.0f} articles/s ({gated_n} matches)")
    print(f"  NER on every article:   {len(texts) / all_s:8.0f} articles/s ({all_n} matches)")
    print(f"  speed-up: {all_s / gated_s:.1f}x (goal >= 10x)")
    timed(Matcher([*rules, *gated.rules], ner), texts, repeats=1)
    rss_mb = peak_rss_mb()
    print(f"peak RSS, {len(rules)} rules + model loaded + NER run: {rss_mb:.0f} MB (goal < 400)")


if __name__ == "__main__":
    main()
