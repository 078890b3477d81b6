"""Many feeds under `wirewatch run`: 600 feeds on 7 loopback hosts, all due every 10 s and
changing on every fetch (tests/service/manyfeeds.py serves them). Prints polls/s, how late
polls start (lag, from the server's own record of each feed's fetches), and the
fetch-to-alert latency (item first served -> alert in the channel's stream).

    .venv/bin/python bench/bench_manyfeeds.py [--seconds 90] [--feeds 600] [--hosts 7]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.delivery.connections import connect_sync  # noqa: E402
from tests.service.manyfeeds import feeds_yaml, serve_many  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] if ordered else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=90)
    parser.add_argument("--feeds", type=int, default=600)
    parser.add_argument("--hosts", type=int, default=7)
    parser.add_argument("--interval", type=float, default=10)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-many-"))
    (work / "rules").mkdir()
    channel = f"alerts:bench:{uuid.uuid4().hex[:8]}"
    (work / "rules" / "r.yaml").write_text(
        f"rules:\n  - id: ceasefire\n    channel: {channel}\n    all: [ceasefire]\n",
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
    env.update(
        WIREWATCH_REDIS_URL=args.redis,
        WIREWATCH_KEY_PREFIX=f"bench:{uuid.uuid4().hex[:8]}:",
        WIREWATCH_FEEDS_FILE=str(work / "feeds.yaml"),
        WIREWATCH_RULES_DIR=str(work / "rules"),
        WIREWATCH_OUTBOX_DIR=str(work / "outbox"),
        WIREWATCH_ALLOW_PRIVATE_NETWORKS="true",
        WIREWATCH_BACKFILL_S="0",  # the generated feeds carry old dates
        WIREWATCH_MIN_INTERVAL_S=str(args.interval),
        WIREWATCH_LOG_FORMAT="text",
        WIREWATCH_LOG_LEVEL=os.environ.get("BENCH_LOG_LEVEL", "INFO"),
    )
    client = connect_sync(args.redis)  # redis:// or redis+sentinel://
    with serve_many(args.feeds, args.hosts) as many:
        (work / "feeds.yaml").write_text(feeds_yaml(many, args.interval), encoding="utf-8")
        log = (work / "worker.log").open("wb")
        profile = os.environ.get("BENCH_PROFILE")  # a path: the worker runs under cProfile
        command = ["-m", "cProfile", "-o", profile] if profile else []
        worker = subprocess.Popen(
            [sys.executable, *command, "-m", "ingest", "run"],
            env=env,
            stdout=log,
            stderr=log,
            cwd=ROOT,
        )
        try:
            while b" running: " not in (work / "worker.log").read_bytes():
                time.sleep(0.1)
            started = time.time()
            time.sleep(args.seconds)
            hits = [(f, t) for f, t in many.hits if t >= started]
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(60)
        served = dict(many.first_served)  # after the stop: the last polls were matched too
    entries = client.xrange(channel)
    client.delete(channel)
    client.close()
    by_feed: dict[int, list[float]] = {}
    for feed, moment in hits:
        by_feed.setdefault(feed, []).append(moment)
    lags = [
        max(0.0, later - earlier - args.interval)
        for times in by_feed.values()
        for earlier, later in itertools.pairwise(times)
    ]
    latencies = [
        int(entry_id.split("-")[0]) / 1000 - served[json.loads(fields["alert"])["article"]["url"]]
        for entry_id, fields in entries
    ]
    counts = [len(by_feed.get(f, [])) for f in range(args.feeds)]
    print(
        f"{args.feeds} feeds on {args.hosts} hosts, due every {args.interval:g} s, "
        f"{args.seconds:g} s (load average {os.getloadavg()[0]:.1f})"
    )
    print(
        f"polls: {len(hits) / args.seconds:.1f}/s (the schedule asks "
        f"{args.feeds / args.interval:.0f}/s); per feed min {min(counts)}, "
        f"mean {sum(counts) / len(counts):.1f}, max {max(counts)}; never polled: "
        f"{counts.count(0)}"
    )
    print(f"lag: p50 {percentile(lags, 0.5):.2f} s, p99 {percentile(lags, 0.99):.2f} s")
    print(
        f"alerts: {len(latencies)}, fetch-to-alert p50 {percentile(latencies, 0.5) * 1000:.0f} "
        f"ms, p99 {percentile(latencies, 0.99) * 1000:.0f} ms"
    )
    print(f"worker log: {work / 'worker.log'}")


if __name__ == "__main__":
    main()
