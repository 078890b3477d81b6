"""Spool latency: wire stories dropped into a watched spool at random moments under
`wirewatch run` with the shipped defaults; time from landing (rename into the folder) to the
alert's entry in the channel's stream (whose id is Redis's clock).

    .venv/bin/python bench/bench_spool.py [--stories 40] [--redis redis://127.0.0.1:6379/15]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent
WORDS = sorted(
    {
        w.strip(".,;:()\"'").lower()
        for f in (ROOT / "seeds").glob("*.txt")
        for w in f.read_text().split()
    }
    - {""}
)


def story(n: int) -> str:
    """A distinct ~250-word wire story (random words of the seed stories) about a ceasefire."""
    rng = random.Random(n)
    body = " ".join(rng.choice(WORDS) for _ in range(250))
    return (
        f"Ceasefire talks, dispatch {n}\n\nKYIV, March 18 (Reuters) - Talks on a ceasefire went "
        f"on. {body.capitalize()}."
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stories", type=int, default=40)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-spool-"))
    inbox, rules = work / "inbox", work / "rules"
    inbox.mkdir()
    rules.mkdir()
    channel = f"alerts:bench:{uuid.uuid4().hex[:8]}"
    (rules / "r.yaml").write_text(
        f"rules:\n  - id: ceasefire\n    channel: {channel}\n    all: [ceasefire]\n",
        encoding="utf-8",
    )
    (work / "feeds.yaml").write_text(f"feeds:\n  - url: {inbox}\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
    env.update(
        WIREWATCH_REDIS_URL=args.redis,
        WIREWATCH_KEY_PREFIX=f"bench:{uuid.uuid4().hex[:8]}:",
        WIREWATCH_FEEDS_FILE=str(work / "feeds.yaml"),
        WIREWATCH_RULES_DIR=str(rules),
        WIREWATCH_OUTBOX_DIR=str(work / "outbox"),
        WIREWATCH_LOG_FORMAT="text",
    )
    log = (work / "worker.log").open("wb")
    worker = subprocess.Popen(
        [sys.executable, "-m", "ingest", "run"], env=env, stdout=log, stderr=log, cwd=ROOT
    )
    client = redis.Redis.from_url(args.redis, decode_responses=True)
    try:
        while b" running: " not in (work / "worker.log").read_bytes():
            time.sleep(0.1)
        rng = random.Random(1)
        landed: dict[str, float] = {}
        for n in range(args.stories):
            time.sleep(rng.uniform(0.1, 1.5))
            staging = work / f".n{n}"
            staging.write_text(story(n), encoding="utf-8")
            os.rename(staging, inbox / f"story-{n}.txt")
            landed[(inbox / f"story-{n}.txt").as_uri()] = time.time()
        deadline = time.monotonic() + 60
        while client.xlen(channel) < args.stories and time.monotonic() < deadline:
            time.sleep(0.2)
        latencies = []
        for entry_id, fields in client.xrange(channel):
            url = json.loads(fields["alert"])["article"]["url"]
            latencies.append(int(entry_id.split("-")[0]) / 1000 - landed[url])
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
        client.delete(channel)
        client.close()
    latencies.sort()
    p95 = latencies[max(0, int(len(latencies) * 0.95) - 1)]
    print(
        f"{len(latencies)}/{args.stories} stories alerted (load average {os.getloadavg()[0]:.1f})"
    )
    print("all (ms):", " ".join(f"{x * 1000:.0f}" for x in latencies))
    print(
        f"landing -> alert: p50 {statistics.median(latencies) * 1000:.0f} ms, "
        f"p95 {p95 * 1000:.0f} ms, max {latencies[-1] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
