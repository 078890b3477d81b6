"""The per-article path against the floor: reading a feed and its words once.

    .venv/bin/python bench/bench_pipeline.py [--articles 1500] [--repeats 1] [--skip-ner]
        [--skip-stages] [--corpus remixed|shuffled]

Generates one RSS file of real-text articles (bench/pipeline_corpus.py) and measures, in the
same run, each as a fresh subprocess with its wall time:
- the floor: feedparser parses the file and spaCy's blank English tokenizer reads every entry;
- `wirewatch rules test` with one keyword rule, and `wirewatch run --once` over the same file
  (a feeds.yaml file source, a fresh key prefix in the Redis of WIREWATCH_TEST_REDIS_URL),
  both as ratios to the floor (goals <= 1.3x and <= 1.5x);
- the NER economy through the CLI: `rules test` with the ceasefire+leader rule (5% of articles
  mention a ceasefire) vs `PERSON: any` on every article (goal >= 10x), with peak RSS
  (goal < 400 MB);
- 10,000 keyword rules vs 10 end to end (goal <= 1.2x);
and, in this process, milliseconds per article of each stage (bench/pipeline_stages.py).
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from pipeline_corpus import write_feed  # noqa: E402
from pipeline_stages import stage_report  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python")
REDIS_URL = os.environ.get("WIREWATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
FLOOR = """
import sys, feedparser, spacy
nlp = spacy.blank("en")
parsed = feedparser.parse(sys.argv[1])
texts = (e.get("title", "") + "\\n" + e.get("summary", "") for e in parsed.entries)
print(len(parsed.entries), sum(len(nlp.tokenizer(t)) for t in texts))
"""
KEYWORD_RULE = "rules:\n  - id: ceasefire-word\n    channel: {channel}\n    all: [ceasefire]\n"
LEADER_RULE = (
    "rules:\n  - id: ceasefire-leader\n    channel: {channel}\n    all: [ceasefire]\n"
    "    entities:\n      PERSON: [Vladimir Putin, Volodymyr Zelenskiy, Donald Trump]\n"
)
PERSON_RULE = "rules:\n  - id: anyone\n    channel: {channel}\n    entities:\n      PERSON: any\n"
ONSETS = str.split("b c d f g h j k l m n p r s t v w z br dr gr kr pl st tr")
VOWELS = ["a", "e", "i", "o", "u", "ai", "ou"]


class Timed:
    """One finished subprocess: wall seconds, CPU seconds (user + system) and peak RSS in MB.

    CPU time is printed beside wall time because the machine is shared: other work stretches
    wall time far more than it stretches a process's own CPU time.
    """

    def __init__(self, wall_s: float, cpu_s: float, rss_mb: float, output: str) -> None:
        self.wall_s, self.cpu_s, self.rss_mb, self.output = wall_s, cpu_s, rss_mb, output


def run_timed(command: Sequence[str], env: dict[str, str], cwd: Path) -> Timed:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        return _run_timed(command, env, cwd, out, err)


def _run_timed(
    command: Sequence[str], env: dict[str, str], cwd: Path, out: IO[bytes], err: IO[bytes]
) -> Timed:
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=err)
    # wait4, not wait: the child's own rusage, so its peak RSS is not mixed with earlier runs.
    _pid, status, usage = os.wait4(process.pid, 0)
    wall_s = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    out.seek(0)
    err.seek(0)
    text = out.read().decode(errors="replace")
    if process.returncode not in (0,):
        raise SystemExit(f"{command}: exit {process.returncode}\n{err.read().decode()[-2000:]}")
    cpu_s = usage.ru_utime + usage.ru_stime
    return Timed(wall_s, cpu_s, usage.ru_maxrss / 1024, text + err.read().decode(errors="replace"))


def base_env(work: Path, prefix: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
    env.update(
        WIREWATCH_REDIS_URL=REDIS_URL,
        WIREWATCH_KEY_PREFIX=prefix,
        WIREWATCH_OUTBOX_DIR=str(work / "outbox"),
        WIREWATCH_LOG_FORMAT="text",
    )
    return env


def rules_dir(work: Path, name: str, files: dict[str, str]) -> Path:
    folder = work / name
    folder.mkdir(exist_ok=True)
    for file_name, text in files.items():
        (folder / file_name).write_text(text, encoding="utf-8")
    return folder


def pseudo_words(rng: random.Random, count: int) -> list[str]:
    """Made-up words of 4-5 syllables: rule terms that real text never contains."""
    found: set[str] = set()
    while len(found) < count:
        n = rng.randint(4, 5)
        found.add("".join(rng.choice(ONSETS) + rng.choice(VOWELS) for _ in range(n)))
    return sorted(found)


def keyword_rule_files(count: int, channel: str) -> dict[str, str]:
    """The keyword rule plus `count - 1` rules on terms absent from the text, 500 per file."""
    rng = random.Random(count)
    pool = pseudo_words(rng, 20_000)
    lines = [KEYWORD_RULE.format(channel=channel).split("\n", 1)[1]]
    for i in range(count - 1):
        words = rng.sample(pool, 3)
        lines.append(
            f"  - id: k{i}\n    channel: {channel}\n    all: [{words[0]}]\n"
            f"    any: [{words[1]}, {words[2]}]\n"
        )
    return {
        f"k{n:03d}.yaml": "rules:\n" + "".join(lines[i : i + 500])
        for n, i in enumerate(range(0, len(lines), 500))
    }


def best(runs: int, measure: Callable[[], Timed]) -> tuple[Timed, list[Timed]]:
    results = [measure() for _ in range(runs)]
    return min(results, key=lambda t: t.wall_s), results


def spread(runs: list[Timed]) -> str:
    """Wall and CPU seconds over the runs: `1.2-1.4 s (CPU 1.1-1.2 s)`."""

    def span(values: list[float]) -> str:
        low, high = min(values), max(values)
        return f"{low:.2f}-{high:.2f} s" if len(values) > 1 else f"{low:.2f} s"

    return f"{span([t.wall_s for t in runs])} (CPU {span([t.cpu_s for t in runs])})"


def ratio(a: Timed, b: Timed) -> str:
    return f"{a.wall_s / b.wall_s:.2f}x (CPU {a.cpu_s / b.cpu_s:.2f}x)"


def delete_prefix(client: redis.Redis, prefix: str, channel: str) -> None:
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    for start in range(0, len(keys), 500):
        client.delete(*keys[start : start + 500])
    client.delete(channel)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=1500)
    parser.add_argument("--repeats", type=int, default=1, help="runs of each figure")
    parser.add_argument("--skip-ner", action="store_true", help="leave out the NER economy")
    parser.add_argument("--skip-stages", action="store_true", help="leave out per-stage figures")
    parser.add_argument(
        "--corpus",
        choices=("remixed", "shuffled"),
        default="remixed",
        help="whole seed sentences (the story stage's worst case) or their words shuffled "
        "(different stories); see bench/pipeline_corpus.py",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="wirewatch-bench-") as folder:
        work = Path(folder)
        feed = work / "feed.xml"
        candidates = write_feed(feed, args.articles, corpus=args.corpus)
        print(
            f"{args.articles} {args.corpus} articles ({feed.stat().st_size / 1e6:.1f} MB RSS), "
            f"{candidates} mention a ceasefire"
        )
        end_to_end(work, feed, args)
        if not args.skip_stages:
            print("per stage, in-process (ms per article):")
            for line in stage_report(feed, REDIS_URL):
                print(f"  {line}")


def end_to_end(work: Path, feed: Path, args: argparse.Namespace) -> None:
    tag = uuid.uuid4().hex[:8]
    prefix, channel = f"bench-{tag}:", f"alerts:bench-{tag}"
    env = base_env(work, prefix)
    client = redis.Redis.from_url(REDIS_URL)
    wirewatch = [PYTHON, "-m", "ingest"]
    keyword = rules_dir(work, "keyword", {"k.yaml": KEYWORD_RULE.format(channel=channel)})
    feeds_file = work / "feeds.yaml"
    feeds_file.write_text(f"feeds:\n  - url: {feed}\n    name: bench\n", encoding="utf-8")
    run_env = {**env, "WIREWATCH_FEEDS_FILE": str(feeds_file), "WIREWATCH_RULES_DIR": str(keyword)}

    def floor() -> Timed:
        return run_timed([PYTHON, "-c", FLOOR, str(feed)], env, work)

    def trial(rules: Path) -> Callable[[], Timed]:
        command = [*wirewatch, "rules", "test", str(feed), "--rules-dir", str(rules)]
        return lambda: run_timed(command, env, work)

    def once() -> Timed:
        delete_prefix(client, prefix, channel)  # every run starts with nothing seen
        return run_timed([*wirewatch, "run", "--once"], run_env, work)

    try:
        floor_t, floor_w = best(args.repeats, floor)
        n = args.articles
        print(f"floor (feedparser + blank spaCy tokenizer): {spread(floor_w)}")
        for name, measure in (("rules test, 1 keyword rule", trial(keyword)), ("run --once", once)):
            timed, walls = best(args.repeats, measure)
            print(
                f"{name}: {spread(walls)}, {n / timed.wall_s:.0f} articles/s, "
                f"{ratio(timed, floor_t)} the floor, peak RSS {timed.rss_mb:.0f} MB"
            )
        many_rules(work, channel, args, trial)
        if not args.skip_ner:
            ner_economy(work, channel, args, trial)
    finally:
        delete_prefix(client, prefix, channel)
        client.close()


def many_rules(
    work: Path, channel: str, args: argparse.Namespace, trial: Callable[[Path], Callable[[], Timed]]
) -> None:
    small = rules_dir(work, "rules10", keyword_rule_files(10, channel))
    big = rules_dir(work, "rules10000", keyword_rule_files(10_000, channel))
    # The first run after the files were written parses them and keeps the result (in the
    # cache folder, see ingest/rules/kept.py); every later run, as a service's restarts and
    # every `rules test` of unchanged files, reads the kept rules. Both are shown.
    first_small, first_big = trial(small)(), trial(big)()
    small_t, small_w = best(args.repeats, trial(small))
    big_t, big_w = best(args.repeats, trial(big))
    print(
        f"rules test, 10 keyword rules: {spread(small_w)}; 10,000: {spread(big_w)}; "
        f"ratio {ratio(big_t, small_t)} (goal <= 1.2x), "
        f"peak RSS {big_t.rss_mb:.0f} MB; first run after writing the files (parsed, then "
        f"kept): {ratio(first_big, first_small)}"
    )


def ner_economy(
    work: Path, channel: str, args: argparse.Namespace, trial: Callable[[Path], Callable[[], Timed]]
) -> None:
    gated = rules_dir(work, "gated", {"g.yaml": LEADER_RULE.format(channel=channel)})
    everyone = rules_dir(work, "everyone", {"p.yaml": PERSON_RULE.format(channel=channel)})
    gated_t, gated_w = best(args.repeats, trial(gated))
    all_t, all_w = best(args.repeats, trial(everyone))
    print(
        f"NER economy: ceasefire+leader {spread(gated_w)} (peak RSS {gated_t.rss_mb:.0f} MB), "
        f"PERSON: any on all {spread(all_w)} (peak RSS {all_t.rss_mb:.0f} MB, goal < 400): "
        f"{ratio(all_t, gated_t)} (goal >= 10x)"
    )


if __name__ == "__main__":
    main()
