"""A feed whose 100 entries change trivially on every poll (a timestamp in the content):
the cost per poll, the seen set's size, and the alerts (only the first poll's).

    .venv/bin/python bench/bench_churn.py [--entries 100] [--polls 40] [--max-seen 2000]

Every poll brings 100 changed entries (same GUIDs, new text), so each is normalized and matched
again (a change may be news); rules that alerted for the story do not alert again. The figures
show that this stays bounded: the time per poll does not grow with the polls, the seen set
(one member per entry and per version) is trimmed at `--max-seen` (the service keeps 10,000
per source, and `WIREWATCH_SEEN_TTL_S` of age), and no alert follows the first poll. The real
Redis (db 15) is used under a key prefix of its own, deleted afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.delivery.store import Store  # noqa: E402
from ingest.fetch.feedstate import FeedStateStore  # noqa: E402
from ingest.fetch.fetcher import Fetcher  # noqa: E402
from ingest.match.matcher import Matcher  # noqa: E402
from ingest.match.nlp import load_nlp  # noqa: E402
from ingest.models import Source  # noqa: E402
from ingest.rules.files import load_rules_dir  # noqa: E402
from ingest.service.metrics import Metrics  # noqa: E402
from ingest.service.pipeline import Pipeline  # noqa: E402
from ingest.settings import Settings  # noqa: E402
from tests.stories.casebook import all_items  # noqa: E402

REDIS_URL = os.environ.get("WIREWATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
# The channel (a stream of that name) goes under the run's key prefix, deleted afterwards.
RULES = """rules:
  - {id: ceasefire, channel: "PREFIXalerts:churn", all: [ceasefire]}
  - {id: strike, channel: "PREFIXalerts:churn", any: [strike, walkout]}
  - {id: quake, channel: "PREFIXalerts:churn", any: [earthquake, magnitude]}
  - {id: court, channel: "PREFIXalerts:churn", any: [court, jury, verdict]}
"""


def feed(entries: list[tuple[str, str]], poll: int) -> bytes:
    stamp = datetime.now(UTC)
    updated = f"<p>Updated {stamp:%H:%M:%S}.{stamp.microsecond} (poll {poll})</p>"
    items = "".join(
        f"<item><title>{escape(title)}</title><link>https://churn.example/{n}</link>"
        f"<guid>churn-{n}</guid><pubDate>{format_datetime(stamp)}</pubDate><description>"
        f"{escape(f'<p>{body}</p>{updated}')}</description></item>"
        for n, (title, body) in enumerate(entries)
    )
    return (f"<?xml version='1.0'?><rss version='2.0'><channel><title>Churn</title>"
            f"<link>https://churn.example/</link>{items}</channel></rss>").encode()  # fmt: skip


async def main(entries_n: int, polls: int, max_seen: int) -> None:
    stories = {i.article.fingerprint: (i.article.title, i.article.body) for i in all_items()}
    entries = list(stories.values())[:entries_n]
    folder = Path(tempfile.mkdtemp(prefix="wwchurn-"))
    prefix = f"wwbench:{uuid.uuid4().hex[:10]}:"
    (folder / "rules").mkdir()
    (folder / "rules" / "churn.yaml").write_text(RULES.replace("PREFIX", prefix), encoding="utf-8")
    feed_file = folder / "churn.xml"
    settings = Settings(_env_file=None, redis_url=REDIS_URL, key_prefix=prefix,  # type: ignore[call-arg]
                        rules_dir=folder / "rules", outbox_dir=folder / "outbox")  # fmt: skip
    store = Store.from_settings(settings)
    matcher = Matcher(load_rules_dir(settings.rules_dir), load_nlp("blank", 16))
    # A local file polls like a feed without the network in the figures.
    source = Source(str(feed_file), "Churn", "file", 60.0)
    rows = []
    try:
        async with Fetcher(settings) as fetcher:
            pipeline = Pipeline(settings, store, fetcher, lambda: matcher, Metrics())
            pipeline.feed_states = FeedStateStore(store.client, prefix, max_seen=max_seen)
            seen_key = pipeline.feed_states.seen_key(source.key)
            for poll in range(polls):
                feed_file.write_bytes(feed(entries, poll))
                os.utime(feed_file, ns=(time.time_ns(), time.time_ns() + poll))  # a new mtime
                started, cpu = time.perf_counter(), time.process_time()
                report = await pipeline.poll_many([source])
                wall_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu
                members = await store.client.zcard(seen_key)
                rows.append((poll, report.articles, len(report.alerts), wall_s, cpu_s, members))
    finally:
        keys = [k async for k in store.client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await store.client.delete(*keys)
        await store.close()
    print(f"{entries_n} entries changing on every poll, {polls} polls, seen set capped at "
          f"{max_seen} (load average {os.getloadavg()[0]:.2f})")  # fmt: skip
    print("poll  matched  alerts   wall ms   CPU ms  seen-set members")
    for poll, matched, alerts, wall_s, cpu_s, members in rows:
        if poll < 3 or poll % 10 == 9 or poll == polls - 1:
            print(f"{poll:4d}  {matched:7d}  {alerts:6d}  {wall_s * 1000:8.0f}  "
                  f"{cpu_s * 1000:7.0f}  {members:8d}")  # fmt: skip
    later = rows[1:]
    print(f"after the first poll: {sum(r[2] for r in later)} alerts; "
          f"{sum(r[4] for r in later) / len(later) / entries_n * 1000:.2f} ms CPU per changed "
          f"entry; largest seen set {max(r[5] for r in rows)}")  # fmt: skip


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=100)
    parser.add_argument("--polls", type=int, default=40)
    parser.add_argument("--max-seen", type=int, default=2000)
    args = parser.parse_args()
    asyncio.run(main(args.entries, args.polls, args.max_seen))
