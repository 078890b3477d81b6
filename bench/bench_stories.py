"""Story registry benchmark: the cost of an article with a full window, and Redis per story.

    .venv/bin/python bench/bench_stories.py [--stories 100000] [--batches 10] [--batch 500]

Starts a Redis of its own (redis-server on a free port, no persistence), fills the story window
with N stories of two kinds, half each: templated bulletins from one source (earthquake notices:
the same sentences with other magnitudes, places, distances, depths and times) and diverse news
from 20 sources (sentences of Zipf-distributed words, names and numbers). The fill goes through
`StoryRegistry.assign_many` in large batches (one pipeline per round). Then it times further
assignments, batch by batch: `--batches` batches of templated bulletins, then as many of news,
and prints per batch the milliseconds per article (story stage and its Redis: preparing the
article, the script, verifying candidates), the candidates found and verified per article, and
the ratio of the last templated batch to the first. Last, Redis memory per story (used memory
over the fill, and by kind of key).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import random
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from itertools import accumulate
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import redis  # noqa: E402
import redis.asyncio as aioredis  # noqa: E402

from ingest.models import Article, SourceRef  # noqa: E402
from ingest.stories.registry import StoryRegistry  # noqa: E402

WINDOW_S = 3 * 86400  # the default window
FILL_BATCH = 1000
PLACES = [
    f"{a}{b}" for a in ("Ha", "Ko", "Ri", "San", "Mar", "Tu", "Vel", "Ost", "Pal", "Quin")
    for b in ("dar", "mok", "vale", "ton", "ria", "bek", "nia", "poli", "gan", "lund")
]  # fmt: skip
REGIONS = ["Taiwan", "Chile", "Japan", "Peru", "Indonesia", "Alaska", "Turkey", "Greece"]
PLATES = ["Pacific and Australian", "Nazca and South American", "Philippine Sea and Eurasian"]
DIRECTIONS = ["north", "south", "east", "west", "north-northeast", "south-southwest", "west"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
COMMON = [
    "the", "of", "and", "to", "in", "a", "is", "that", "for", "on", "was", "with", "he", "it",
    "as", "at", "by", "said", "from", "his", "an", "be", "has", "have", "had", "were", "are",
    "which", "not", "but", "this", "they", "their", "its", "after", "who", "been", "also",
    "more", "over", "new", "two", "year", "first", "would", "will", "officials", "people",
    "government", "told", "week", "police", "city", "state",
]  # fmt: skip


def bulletin(rng: random.Random) -> tuple[str, str]:
    m = f"{rng.uniform(3.5, 7.5):.1f}"
    place, region = rng.choice(PLACES), rng.choice(REGIONS)
    km, depth = rng.randint(3, 300), rng.randint(5, 200)
    when = f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
    title = f"M{m} earthquake strikes near {place}, {region}"
    body = (
        f"A magnitude {m} earthquake struck {km} kilometres {rng.choice(DIRECTIONS)} of "
        f"{place}, {region}, at {when} UTC on {rng.choice(DAYS)}, the United States Geological "
        f"Survey said. The quake was recorded at a depth of {depth} kilometres.\n"
        "There were no immediate reports of damage or casualties. The USGS PAGER system issued "
        "a green alert for shaking-related fatalities and economic losses, meaning a low "
        "likelihood of significant damage.\n"
        f"Earthquakes of this size are common in the region, which lies on the boundary between "
        f"the {rng.choice(PLATES)} plates. Residents near the epicentre may have felt moderate "
        "shaking.\n"
        "This notice was generated automatically from preliminary data and may be revised as "
        "seismologists review the event."
    )
    return title, body


class News:
    """Diverse news: sentences of Zipf-distributed words with names and numbers."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.words = COMMON + [f"{a}{v}{b}" for a in "bcdfglmnprstvz" for v in "aeiou" for b in (
            "ra", "nto", "lo", "mbra", "sta", "rin", "lve", "ko", "sto", "ndo",
            "rge", "mma", "cra", "ven", "scot", "lby", "ppo", "rna", "te", "wyn",
        )]  # fmt: skip
        # Zipf's law: the function words first, then 1,400 others
        weights = [1 / (n + 1) for n in range(len(self.words))]
        self.cum = list(accumulate(weights))
        self.names = [w.capitalize() for w in self.words[len(COMMON) :]]

    def sentence(self) -> str:
        rng = self.rng
        words = rng.choices(self.words, cum_weights=self.cum, k=rng.randint(14, 28))
        words[rng.randrange(len(words))] = rng.choice(self.names)
        words[rng.randrange(len(words))] = str(rng.randint(2, 9999))
        return " ".join(words).capitalize() + "."

    def article(self) -> tuple[str, str]:
        paragraphs = [
            " ".join(self.sentence() for _ in range(self.rng.randint(1, 3)))
            for _ in range(self.rng.randint(3, 7))
        ]
        return " ".join(self.sentence().split()[:8]), "\n".join(paragraphs)


def make(source: str, n: int, title: str, body: str) -> Article:
    """An article as normalize() gives it for this text (the text has no dateline or markup,
    so it is built directly: the story stage is what is measured)."""
    slug = source.lower().replace(" ", "-")
    link = f"https://{slug}.example/{n}"
    return Article(
        id=hashlib.sha256(f"url:{link}".encode()).hexdigest()[:20], url=link, title=title,
        body=body, published=datetime.now(UTC),
        source=SourceRef(source, f"https://{slug}.example/feed.xml"), dateline=None, summary="",
        language="en", fingerprint=hashlib.sha256(f"{title}\n{body}".encode()).hexdigest(),
    )  # fmt: skip


class Makers:
    """Articles of both kinds, numbered."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.news = News(rng)
        self.count = 0

    def quake(self) -> Article:
        self.count += 1
        return make("Quake Alerts", self.count, *bulletin(self.rng))

    def story(self) -> Article:
        self.count += 1
        return make(f"Outlet {self.rng.randrange(20)}", self.count, *self.news.article())


async def fill(registry: StoryRegistry, stories: int, rng: random.Random) -> Makers:
    """`stories` new stories, bulletins and news by turns, in batches (a pipeline a round)."""
    makers = Makers(rng)
    started = time.perf_counter()
    filled = 0
    while filled < stories:
        size = min(FILL_BATCH, stories - filled)
        await registry.assign_many(
            [makers.quake() if n % 2 else makers.story() for n in range(size)]
        )
        filled += size
        if filled % 20_000 == 0:
            print(f"  filled {filled} in {time.perf_counter() - started:.0f} s", flush=True)
    return makers


@contextmanager
def start_redis() -> Iterator[str]:
    """A redis-server of its own on a free port, without persistence: its URL."""
    binary = shutil.which("redis-server")
    assert binary, "needs redis-server on PATH"
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.5)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(10)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def memory_by_kind(url: str) -> dict[str, tuple[int, int]]:
    """(keys, bytes) per kind of story key, MEMORY USAGE over every key (pipelined)."""
    client = redis.Redis.from_url(url, decode_responses=True)
    sizes: dict[str, tuple[int, int]] = {}
    batch: list[str] = []

    def flush() -> None:
        pipe = client.pipeline(transaction=False)
        for key in batch:
            pipe.memory_usage(key, samples=0)
        for key, used in zip(batch, pipe.execute(), strict=True):
            kind = key.split(":")[2]
            keys, total = sizes.get(kind, (0, 0))
            sizes[kind] = (keys + 1, total + int(used or 0))
        batch.clear()

    for key in client.scan_iter(count=5000):
        batch.append(key)
        if len(batch) >= 5000:
            flush()
    flush()
    client.close()
    return sizes


def server_cpu_s(client: redis.Redis) -> float:
    cpu = client.info("cpu")
    return float(cpu["used_cpu_user"]) + float(cpu["used_cpu_sys"])


async def timed(
    registry: StoryRegistry, articles: list[Article], server: redis.Redis
) -> tuple[float, float, float, float, float, int]:
    """(ms per article, CPU ms per article of this process, of Redis, candidates found per
    article, verified per article, new stories)."""
    before = dict(registry.counts)
    cpu, redis_cpu = time.process_time(), server_cpu_s(server)
    started = time.perf_counter()
    stories = await registry.assign_many(articles)
    spent = time.perf_counter() - started
    cpu, redis_cpu = time.process_time() - cpu, server_cpu_s(server) - redis_cpu
    n = len(articles)
    found = registry.counts["candidates"] - before.get("candidates", 0)
    verified = registry.counts["verified"] - before.get("verified", 0)
    new = sum(s.is_new for s in stories)
    return spent * 1000 / n, cpu * 1000 / n, redis_cpu * 1000 / n, found / n, verified / n, new


async def run(url: str, args: argparse.Namespace) -> None:
    client = aioredis.Redis.from_url(url)
    registry = StoryRegistry(client, "bench:", WINDOW_S)
    base = int(redis.Redis.from_url(url).info("memory")["used_memory"])
    started = time.perf_counter()
    makers = await fill(registry, args.stories, random.Random(7))
    filled = args.stories
    used = int(redis.Redis.from_url(url).info("memory")["used_memory"]) - base
    print(f"window filled with {filled} stories in {time.perf_counter() - started:.0f} s")
    server = redis.Redis.from_url(url)
    await measure(registry, "templated bulletins", makers.quake, args, server)
    await measure(registry, "diverse news", makers.story, args, server)
    await client.aclose()
    print(f"Redis: {used / filled:.0f} B per story over the fill ({used / 1e6:.1f} MB)")
    stats = redis.Redis.from_url(url).info("commandstats").get("cmdstat_evalsha", {})
    print(f"  script: {stats.get('calls', 0)} calls, {stats.get('usec_per_call', 0):.0f} us each")
    for kind, (keys, total) in sorted(memory_by_kind(url).items(), key=lambda kv: -kv[1][1]):
        print(f"  {kind:8s} {keys:8d} keys {total / 1e6:7.1f} MB {total / filled:6.0f} B/story")


async def measure(
    registry: StoryRegistry,
    label: str,
    make_one: Callable[[], Article],
    args: argparse.Namespace,
    server: redis.Redis,
) -> None:
    print(f"{label}, batches of {args.batch}:")
    per: list[float] = []
    cpus: list[float] = []
    features = registry.kept_features
    lookups, decoded = features.lookups, features.decoded
    for n in range(args.batches):
        batch = [make_one() for _ in range(args.batch)]
        ms, cpu, redis_cpu, found, verified, new = await timed(registry, batch, server)
        per.append(ms)
        cpus.append(cpu + redis_cpu)
        print(
            f"  batch {n + 1:2d}: {ms:5.2f} ms/article, CPU {cpu:4.2f} ms here + {redis_cpu:4.2f} "
            f"in Redis, {found:4.1f} candidates found, {verified:4.2f} verified, "
            f"{new}/{len(batch)} new"
        )
    hits = 1 - (features.decoded - decoded) / max(features.lookups - lookups, 1)
    print(f"  decoded candidate features: {len(features)} kept, {hits:.0%} of lookups found there")
    # The machine is shared: the median of the first three batches against the last three
    # says more about growth than one batch against another.
    steady = median(per[-3:]) / median(per[:3])
    print(
        f"  last/first: {per[-1] / per[0]:.2f}x (CPU {cpus[-1] / cpus[0]:.2f}x; median of the "
        f"last three/first three {steady:.2f}x), mean {sum(per) / len(per):.2f} ms/article, "
        f"{sum(cpus) / len(cpus):.2f} ms CPU"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--stories", type=int, default=100_000)
    parser.add_argument("--batches", type=int, default=10)
    parser.add_argument("--batch", type=int, default=500)
    args = parser.parse_args()
    with start_redis() as url:
        asyncio.run(run(url, args))


if __name__ == "__main__":
    main()
