"""Names cost what words cost: keyword rule, entity rule and `PERSON: any`, end to end.

    .venv/bin/python bench/bench_names.py [--articles 1500] [--repeats 3] [--skip-any]

Each measurement is one `wirewatch rules test` process over a feed file (parse, normalize,
match, print), as a person trying rules would run it, so the model's start-up counts where the
rule needs the model. Three rules:

- keyword: `all: [ceasefire]`;
- entity: the same plus `PERSON: [Vladimir Putin, Volodymyr Zelenskiy, Donald Trump]`;
- any: `PERSON: any` alone (the model reads every sentence of every article).

Two corpora, each about 5% ceasefire stories:

- bench: the corpus of bench_pipeline.py (`pipeline_corpus.py`, remixed): the seed stories'
  sentences mixed into articles of ~280 words, 5% with one ceasefire sentence;
- mixed: paragraphs of the real articles in the repository (`real_texts.py`: seeds, the sample
  feed, the fixtures' wire stories, the matching and story cases), several sources to an
  article, ~550 words each; 5% get one ceasefire paragraph, the rest none. Most paragraphs name
  people in full, so most candidates carry full names of people other than the listed ones.

Goals: entity rule <= 1.3x the keyword rule; `PERSON: any` >= 10x the entity rule; peak memory
< 400 MB with the model loaded. Wall times are noisy on a shared machine: the load average is
printed beside them, the ratios are taken within one run, and keyword and entity runs are
interleaved and the fastest of `--repeats` kept (peak memory: the largest).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from pipeline_corpus import rss_item  # noqa: E402
from pipeline_corpus import write_feed as write_bench_feed  # noqa: E402
from real_texts import CEASEFIRE, paragraphs  # noqa: E402

from ingest.match.matcher import Matcher, MatchStats  # noqa: E402
from ingest.match.nlp import load_nlp  # noqa: E402
from ingest.service.trial import load_articles  # noqa: E402
from ingest.settings import Settings  # noqa: E402

RULES = {
    "keyword": "    all: [ceasefire]\n",
    "entity": "    all: [ceasefire]\n"
    "    entities:\n      PERSON: [Vladimir Putin, Volodymyr Zelenskiy, Donald Trump]\n",
    "any": "    entities:\n      PERSON: any\n",
}
CEASEFIRE_SHARE = 0.05
ARTICLE_WORDS = 550
SOURCES_PER_ARTICLE = 3


def mixed_articles(rng: random.Random, count: int) -> list[tuple[str, list[str]]]:
    """(title, paragraphs): real paragraphs of several sources each, 5% with a ceasefire one."""
    pool = paragraphs()
    plain = [(name, text) for name, text in pool if not CEASEFIRE.search(text)]
    ceasefire = [text for _, text in pool if CEASEFIRE.search(text)]
    chosen = set(rng.sample(range(count), round(count * CEASEFIRE_SHARE)))
    articles = []
    for number in range(count):
        sources = rng.sample(sorted({name for name, _ in plain}), SOURCES_PER_ARTICLE)
        texts = [text for name, text in plain if name in sources]
        body = [rng.choice(ceasefire)] if number in chosen else []
        while sum(len(p.split()) for p in body) < ARTICLE_WORDS:
            body.append(rng.choice(texts))
        rng.shuffle(body)
        articles.append((" ".join(body[0].split()[:10]).rstrip(",.;:"), body))
    return articles


def write_feed(path: Path, articles: list[tuple[str, list[str]]]) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    items = [
        rss_item(n, title, body, start + timedelta(minutes=n))
        for n, (title, body) in enumerate(articles)
    ]
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        "<title>Bench wire</title><link>https://bench.example.org/</link>"
        "<description>bench</description>" + "\n".join(items) + "</channel></rss>\n",
        encoding="utf-8",
    )


def write_rules(folder: Path, name: str) -> Path:
    rules = folder / f"rules-{name}"
    rules.mkdir()
    (rules / "bench.yaml").write_text(
        f"rules:\n  - id: {name}\n    channel: alerts:bench\n{RULES[name]}", encoding="utf-8"
    )
    return rules


# The child reports its own high-water mark: ru_maxrss of a child carries the parent's (Linux
# keeps the larger of the two across fork and exec), and this parent has loaded the model.
_CHILD = """
import atexit, os, sys
def _peak():
    with open("/proc/self/status") as status:
        kb = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    with open(os.environ["BENCH_PEAK_FILE"], "w") as out:
        out.write(kb)
atexit.register(_peak)
from ingest.cli import main
raise SystemExit(main(sys.argv[1:]))
"""


def run_trial(feed: Path, rules: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MB) of one `wirewatch rules test` process."""
    peak = rules / "peak"
    command = [sys.executable, "-c", _CHILD, "rules", "test", "--rules-dir", str(rules), str(feed)]
    env = {**os.environ, "WIREWATCH_SPACY_MODEL": "auto", "BENCH_PEAK_FILE": str(peak)}
    started = time.perf_counter()
    result = subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, check=False)
    elapsed = time.perf_counter() - started
    if result.returncode:
        raise SystemExit(f"rules test over {feed} exited {result.returncode}")
    return elapsed, int(peak.read_text()) / 1024


def in_process(feed: Path, rules: dict[str, Path]) -> str:
    """What the model reads for the entity rule, and the entity rule's cost against the keyword
    rule's with the model already loaded, as in the service (read + match, best of 3)."""
    from ingest.rules.files import load_rules_dir

    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    started = time.perf_counter()
    articles, _ = load_articles([feed], settings)
    read_s = time.perf_counter() - started
    ner = load_nlp("auto", settings.ner_batch_size)
    ner.analyze(["Donald Trump spoke."])  # loaded, as a service's model is after its first use
    keyword = Matcher(load_rules_dir(rules["keyword"]), ner)
    entity = Matcher(load_rules_dir(rules["entity"]), ner)
    stats = MatchStats()
    results = entity.match_many(articles, stats)
    best = {"keyword": float("inf"), "entity": float("inf")}
    for _ in range(3):
        for name, matcher in (("keyword", keyword), ("entity", entity)):
            started = time.perf_counter()
            matcher.match_many(articles)
            best[name] = min(best[name], time.perf_counter() - started)
    candidates = [a for a in articles if entity.presearch.candidates(entity.index.search(a.text))]
    text = sum(len(a.text) for a in candidates) or 1
    words = sum(len(a.text.split()) for a in articles) / max(1, len(articles))
    kept = (read_s + best["entity"]) / (read_s + best["keyword"])
    return (
        f"~{words:.0f} words an article; entity rule: {stats.candidates} candidates, "
        f"{sum(1 for r in results if r)} matched, the model read {stats.ner_articles} of them, "
        f"{100 * stats.ner_chars / text:.0f}% of their text\n"
        f"  model kept loaded (the service), read + match: keyword {read_s + best['keyword']:.2f}"
        f" s, entity {read_s + best['entity']:.2f} s: {kept:.2f}x"
    )


_START = """
import time
started = time.perf_counter()
from ingest.match.nlp import load_nlp
load_nlp("auto", 16).analyze(["Donald Trump spoke."])
print(time.perf_counter() - started)
"""


def model_start_s() -> float:
    """Seconds to import spaCy, load the model and tag a sentence, in a fresh process."""
    done = subprocess.run([sys.executable, "-c", _START], cwd=ROOT, capture_output=True,
                          text=True, check=True)  # fmt: skip
    return float(done.stdout)


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1500)
    parser.add_argument("--skip-any", action="store_true", help="leave out PERSON: any (slow)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of keyword and entity")
    args = parser.parse_args(argv)
    mixed = mixed_articles(random.Random(21), args.articles)
    names = [n for n in RULES if not (args.skip_any and n == "any")]
    print(f"{args.articles} articles per corpus; load average before: {load_average()}")
    starts = sorted(model_start_s() for _ in range(3))
    print(f"model start (import spaCy, load, first sentence), fresh process: {starts[0]:.2f} s "
          f"(best of 3; worst {starts[-1]:.2f} s)")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        rules = {name: write_rules(folder, name) for name in names}
        write_bench_feed(folder / "bench.xml", args.articles, ceasefire_share=CEASEFIRE_SHARE)
        write_feed(folder / "mixed.xml", mixed)
        for corpus in ("bench", "mixed"):
            feed = folder / f"{corpus}.xml"
            print(f"{corpus}: {in_process(feed, rules)}")
            measured: dict[str, tuple[float, float]] = {}
            for _ in range(args.repeats):  # interleaved, best of: others share the machine
                for name in (n for n in names if n != "any"):
                    seconds, rss_mb = run_trial(feed, rules[name])
                    best = measured.get(name, (float("inf"), 0.0))
                    measured[name] = (min(best[0], seconds), max(best[1], rss_mb))
            if "any" in names:
                measured["any"] = run_trial(feed, rules["any"])  # once: it is the slow one
            for name, (seconds, rss_mb) in measured.items():
                print(f"  {name:8} {seconds:7.2f} s  peak RSS {rss_mb:5.0f} MB")
            keyword, entity = measured["keyword"][0], measured["entity"][0]
            print(f"  entity / keyword: {entity / keyword:.2f}x (goal <= 1.3x)")
            if "any" in measured:
                print(f"  PERSON: any / entity: {measured['any'][0] / entity:.1f}x (goal >= 10x)")
            print(f"  load average: {load_average()}")


if __name__ == "__main__":
    main()
