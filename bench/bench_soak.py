"""Soak: `wirewatch run` over many feeds with a new item on every poll, against a Redis of its
own, for a quarter of an hour. Prints the service's memory (RSS) each minute and its growth from
minute 5 to the end, and Redis memory by kind of key, per article, and at steady state for
1,000 articles a day (each kind of key kept as long as its TTL or cap allows).

    .venv/bin/python bench/bench_soak.py [--minutes 15] [--feeds 200] [--interval 10] [--ner]
        [--tracemalloc]

`--ner` makes spaCy part of it: the rule asks for a PERSON and every item names a person and a
reference never seen before (the vocabulary growth a long-running NER service meets).
`--tracemalloc` runs the service under tracemalloc (`traced_worker.py`, slower and larger) and
prints what its Python allocations gained from minute 5 to a minute before the end, by line of
code and by call chain.
"""

from __future__ import annotations

import argparse
import linecache
import os
import pickle
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.settings import Settings  # noqa: E402
from tests.service.manyfeeds import feeds_yaml, serve_many  # noqa: E402

PREFIX = "soak:"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def kind_of(key: str) -> str:
    if not key.startswith(PREFIX):
        return "alert streams (capped per channel)"
    rest = key.removeprefix(PREFIX)
    for prefix, kind in (
        ("article:", "seen articles"),
        ("claim:", "alert claims"),
        ("story:", "stories"),
        ("feed:seen:", "seen entries per feed"),
        ("feed:", "feed state and listing"),
        ("recent", "recent articles (capped)"),
        ("lease:", "leases"),
    ):
        if rest.startswith(prefix):
            return kind
    return "other"


def memory_by_kind(client: redis.Redis) -> dict[str, int]:
    sizes: dict[str, int] = {}
    for key in client.scan_iter(count=1000):
        kind = kind_of(key)
        sizes[kind] = sizes.get(kind, 0) + int(client.memory_usage(key, samples=0) or 0)
    return sizes


def keep_days(kind: str, settings: Settings) -> float | None:
    """How long a key of this kind lives (days); None: capped, not growing with time."""
    return {
        "seen articles": settings.seen_ttl_s / 86400,
        "alert claims": settings.alert_claim_ttl_s / 86400,
        "stories": settings.story_window_s / 86400,
        "seen entries per feed": settings.seen_ttl_s / 86400,
    }.get(kind)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--minutes", type=float, default=15)
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--interval", type=float, default=10)
    parser.add_argument(
        "--ner", action="store_true",
        help="the rule also asks for a PERSON (spaCy runs) and items name new people",
    )  # fmt: skip
    parser.add_argument(
        "--tracemalloc", action="store_true",
        help="snapshots of the service's allocations (minute 5, every 5 minutes, the end)",
    )  # fmt: skip
    args = parser.parse_args()
    server_binary = shutil.which("redis-server")
    assert server_binary, "needs redis-server on PATH"
    work = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    port = free_port()
    redis_proc = subprocess.Popen(
        [server_binary, "--port", str(port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    time.sleep(0.5)
    client = redis.Redis.from_url(url, decode_responses=True)
    (work / "rules").mkdir()
    (work / "rules" / "r.yaml").write_text(
        f"rules:\n  - id: ceasefire\n    channel: alerts:soak:{uuid.uuid4().hex[:6]}\n"
        "    all: [ceasefire]\n" + ("    entities:\n      PERSON: any\n" if args.ner else ""),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
    env.update(
        WIREWATCH_REDIS_URL=url,
        WIREWATCH_KEY_PREFIX=PREFIX,
        WIREWATCH_FEEDS_FILE=str(work / "feeds.yaml"),
        WIREWATCH_RULES_DIR=str(work / "rules"),
        WIREWATCH_OUTBOX_DIR=str(work / "outbox"),
        WIREWATCH_ALLOW_PRIVATE_NETWORKS="true",
        WIREWATCH_BACKFILL_S="0",  # the generated feeds carry old dates
        WIREWATCH_MIN_INTERVAL_S=str(args.interval),
        WIREWATCH_LOG_FORMAT="text",
    )
    samples: list[tuple[float, float]] = []
    try:
        with serve_many(args.feeds, 7, news_like=args.ner) as many:
            (work / "feeds.yaml").write_text(feeds_yaml(many, args.interval), encoding="utf-8")
            log = (work / "worker.log").open("wb")
            command = [sys.executable, "-m", "ingest", "run"]
            if args.tracemalloc:
                traced = str(ROOT / "bench" / "traced_worker.py")
                command = [sys.executable, traced, str(work), *map(str, snap_minutes(args.minutes))]
            worker = subprocess.Popen(command, env=env, stdout=log, stderr=log, cwd=ROOT)
            started = time.monotonic()
            warm: tuple[int, int] | None = None  # (articles, used memory) at minute 5
            while (minute := (time.monotonic() - started) / 60) < args.minutes:
                time.sleep(60)
                samples.append((minute + 1, rss_mb(worker.pid)))
                articles = len(many.first_served)
                print(f"minute {minute + 1:4.1f}: RSS {samples[-1][1]:6.1f} MB, {articles} items")
                if warm is None and minute + 1 >= 5:
                    warm = (articles, int(client.info("memory")["used_memory"]))
            if args.tracemalloc:
                wait_for_stats(work, snap_minutes(args.minutes))
            worker.send_signal(signal.SIGTERM)
            worker.wait(60)
            articles = len(many.first_served)
        sizes = memory_by_kind(client)
        used = int(client.info("memory")["used_memory"])
    finally:
        client.close()
        redis_proc.terminate()
        redis_proc.wait(10)
    at_five = next(rss for minute, rss in samples if minute >= 5)
    growth = (samples[-1][1] - at_five) / at_five * 100
    print(f"service RSS: {at_five:.1f} MB at minute 5, {samples[-1][1]:.1f} MB at the end")
    print(f"  growth from minute 5 to the end: {growth:+.1f}%")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    steady = 0.0
    print(f"Redis: {articles} articles, {used / 1e6:.1f} MB used in all; by kind of key:")
    for kind, size in sorted(sizes.items(), key=lambda item: -item[1]):
        days = keep_days(kind, settings)
        per_article = size / max(articles, 1)
        line = f"  {kind:38s} {size / 1e6:7.2f} MB, {per_article:6.0f} B/article"
        if days is not None:
            steady += per_article * 1000 * days
            line += f", kept {days:g} days"
        print(line)
    if warm:
        rate = (used - warm[1]) / max(articles - warm[0], 1)
        print(f"  growth after minute 5: {rate:.0f} B per article")
    print(f"steady state for 1,000 articles a day: {steady / 1e6:.1f} MB (+ capped keys)")
    if args.tracemalloc:
        print_growth(work, snap_minutes(args.minutes))


def snap_minutes(minutes: float) -> list[float]:
    """Minute 5, every 5 minutes, and a minute before the end (a snapshot takes a while)."""
    return [*range(5, int(minutes - 1), 5), minutes - 1]


def wait_for_stats(work: Path, minutes: list[float], timeout_s: float = 300) -> None:
    """Before the service is stopped: until its last snapshot is written."""
    last = work / f"minute-{minutes[-1]:g}.stats"
    deadline = time.monotonic() + timeout_s
    while not last.exists() and time.monotonic() < deadline:
        time.sleep(1)


Stats = dict[tuple[tuple[str, int], ...], tuple[int, int]]  # frames -> (bytes, blocks)


def load_stats(work: Path, minute: float) -> Stats:
    raw = pickle.loads((work / f"minute-{minute:g}.stats").read_bytes())
    return {frames: (size, count) for frames, size, count in raw}


def print_growth(work: Path, minutes: list[float], top: int = 15) -> None:
    """What the service's Python allocations gained from the first snapshot to the last, by
    line of code (the innermost frame), then the largest gains by call chain."""
    stats = {minute: load_stats(work, minute) for minute in minutes}
    traced = ", ".join(
        f"{sum(s for s, _ in stats[m].values()) / 1e6:.1f} MB at minute {m:g}" for m in minutes
    )
    print(f"tracemalloc (Python allocations; slower, larger process): {traced}")
    first, last = stats[minutes[0]], stats[minutes[-1]]
    for label, key in (("line", lambda frames: frames[-1:]), ("call chain", lambda frames: frames)):
        print(f"largest gains from minute {minutes[0]:g} to {minutes[-1]:g}, by {label}:")
        for where, size, count in _gains(first, last, key)[: top if label == "line" else 6]:
            file, line = where[-1]
            code = linecache.getline(file, line).strip()[:60] if label == "line" else ""
            chain = " > ".join(f"{_short(f)}:{n}" for f, n in where)
            print(f"  {size / 1e6:+7.2f} MB {count:+8d} blocks  {chain}  {code}")


def _gains(
    first: Stats,
    last: Stats,
    key: Callable[[tuple[tuple[str, int], ...]], tuple[tuple[str, int], ...]],
) -> list[tuple[tuple[tuple[str, int], ...], int, int]]:
    totals: dict[tuple[tuple[str, int], ...], list[int]] = {}
    for sign, stats in ((-1, first), (1, last)):
        for frames, (size, count) in stats.items():
            total = totals.setdefault(key(frames), [0, 0])
            total[0] += sign * size
            total[1] += sign * count
    return sorted(((k, s, c) for k, (s, c) in totals.items()), key=lambda g: -g[1])


def _short(filename: str) -> str:
    for marker in ("site-packages/", "/ingest/", "/lib/python3"):
        if marker in filename:
            return filename[filename.index(marker) :].removeprefix("site-packages/")
    return filename


if __name__ == "__main__":
    main()
