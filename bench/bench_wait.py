"""What WIREWATCH_REDIS_MIN_REPLICAS=1 costs: an alert batch published with and without WAIT.

    .venv/bin/python bench/bench_wait.py [--batches 300] [--sizes 1,16,64]

Starts its own primary and replica (redis-server from PATH, free loopback ports, nothing kept)
and publishes batches of alerts through `Store.publish_many`, as the matching stage does: the
claim + XADD + count + PUBLISH script per alert, one pipeline per batch, then with N = 1 a WAIT
on the same connection. Runs alternate (N = 0, N = 1, ...) so load from elsewhere falls on both;
prints the median and p95 time per batch and the ratio of medians.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.delivery.store import Store  # noqa: E402
from ingest.models import Alert, Article, Match, SourceRef  # noqa: E402
from ingest.settings import Settings  # noqa: E402
from tests.service.sentinels import Node  # noqa: E402


def alert(n: int, run: str) -> Alert:
    article = Article(
        id=f"{run}-{n}",
        url=f"https://wire.example/{run}/{n}",
        title=f"Story {n}",
        body="Putin spoke of a ceasefire. " * 40,
        published=datetime(2026, 1, 1, tzinfo=UTC),
        source=SourceRef("Wire", "https://wire.example/feed"),
        dateline=None,
        summary="Putin spoke of a ceasefire.",
        language="en",
        fingerprint=f"fp{n}",
    )
    match = Match("bench-rule", "alerts:bench", ("ceasefire",), (), "Putin spoke of a ceasefire.")
    return Alert(f"{run}-a{n}", match, article, datetime(2026, 1, 1, tzinfo=UTC))


async def time_batches(url: str, replicas: int, size: int, batches: int) -> list[float]:
    run = uuid.uuid4().hex[:8]
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        redis_url=url,
        key_prefix=f"bench-{run}:",
        redis_min_replicas=replicas,
    )
    store = Store.from_settings(settings)
    alerts = [alert(n, run) for n in range(size * batches)]
    took: list[float] = []
    try:
        await store.ping()
        for at in range(0, len(alerts), size):
            started = time.perf_counter()
            done = await store.publish_many([(a, a.alert_id) for a in alerts[at : at + size]])
            took.append(time.perf_counter() - started)
            assert all(done), "a repeat: the run ids should be fresh"
    finally:
        await store.close()
    return took


def quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", type=int, default=300)
    parser.add_argument("--sizes", default="1,16,64")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        data = ["--save", "", "--appendonly", "no"]
        primary = Node("redis-server", Path(folder), "primary", data)
        replica = Node("redis-server", Path(folder), "replica", data)
        replica.args = [*data, "--replicaof", "127.0.0.1", str(primary.port)]
        try:
            primary.start()
            replica.start()
            while "master_link_status:up" not in subprocess.run(
                ["redis-cli", "-p", str(replica.port), "info", "replication"],
                capture_output=True, text=True, check=True,
            ).stdout:  # fmt: skip
                time.sleep(0.1)
            url = f"redis://127.0.0.1:{primary.port}/0"
            print(f"load average before: {os.getloadavg()[0]:.2f}")
            for size in [int(s) for s in args.sizes.split(",")]:
                measured: dict[int, list[float]] = {0: [], 1: []}
                for _ in range(args.rounds):
                    for replicas in (0, 1):
                        measured[replicas] += asyncio.run(
                            time_batches(url, replicas, size, args.batches // args.rounds)
                        )
                without, with_wait = (statistics.median(measured[n]) for n in (0, 1))
                print(
                    f"batch of {size:3d} alerts: N=0 median {without * 1000:.2f} ms "
                    f"(p95 {quantile(measured[0], 0.95) * 1000:.2f}), N=1 median "
                    f"{with_wait * 1000:.2f} ms (p95 {quantile(measured[1], 0.95) * 1000:.2f}); "
                    f"WAIT adds {(with_wait - without) * 1000:.2f} ms per batch, "
                    f"{with_wait / without:.2f}x"
                )
            print(f"load average after: {os.getloadavg()[0]:.2f}")
        finally:
            replica.stop()
            primary.stop()


if __name__ == "__main__":
    main()
