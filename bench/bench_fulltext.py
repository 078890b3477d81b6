"""Full-text benchmark: pages per second through the whole path against trafilatura alone.

    .venv/bin/python bench/bench_fulltext.py [--pages 150] [--rounds 2] [--markup divs]

A summary-only feed of N entries links to N article pages of realistic weight (a mega-menu,
consent banner, inline scripts and JSON-LD, related lists, comments, footer: ~46 KB each, the
story bodies from the repository's wire stories). The menus sit in <nav> and <footer>, or with
`--markup divs` in divs known only by their class (then nothing is dropped by its tag). A local
HTTP/1.1 server in a child process serves them. Each figure comes from a child process of its
own (so peak memory is its own):

- trafilatura alone: `trafilatura.extract(html)` with its defaults, one page after another,
  from memory: the lower bound of any extraction;
- wirewatch extraction: `parse.pagetext.main_text` alone (our options and pruning), same pages;
- the whole path: the running service's stages (`service/stages.py`: fetching and matching side
  by side) over `--feeds` summary-only feeds (`full_text: auto`), each on a loopback address
  of its own: feeds fetched and parsed, every page fetched over HTTP (address guard, caps,
  per-host slots), extracted in the extraction processes, then normalized, grouped into
  stories, matched (the bundled rules, the default spaCy model) and published on the real
  Redis (db 15, a key prefix of its own, deleted afterwards), until every feed is done.
  Twice in one process: *one shot*, as a service just started meets them (the spaCy model
  imported and loaded when the first article needs it, the first call of everything; the time
  from the process's start is printed too), then *steady*, the same feeds and pages under a
  fresh key prefix (nothing seen, no stories yet), as a running service meets each poll.

Goal: the whole path of a running service (steady) within 1.2x of trafilatura alone, which is
timed the same way (after a first page). Peak RSS is reported per process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_RATIO = 1.2
REDIS_URL = os.environ.get("WIREWATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
MENU = ["News", "World", "Politics", "Business", "Markets", "Tech", "Science", "Health", "Sport",
        "Culture", "Opinion", "Weather", "Travel", "Video", "Podcasts", "Newsletters"]  # fmt: skip


def first_sentences(text: str, count: int, max_chars: int) -> str:
    from ingest.normalize.textnorm import first_sentences as cut

    return cut(text, count, max_chars)


def stories() -> list[tuple[str, str]]:
    """(title, body) of every wire story in the repository's dedup cases."""
    from tests.stories.casebook import all_items

    found: dict[str, tuple[str, str]] = {}
    for item in all_items():
        if len(item.article.body) > 600:
            found.setdefault(item.article.fingerprint, (item.article.title, item.article.body))
    return list(found.values())


def page(n: int, title: str, body: str, rng: random.Random) -> bytes:
    """One article page with the furniture and weight of a real news site's."""
    menu = "".join(
        f'<li><a href="/{m.lower()}/{k}">{m} {k}</a></li>' for m in MENU for k in range(10)
    )
    script = json.dumps({"ads": [{"slot": k, "size": [300, 250], "targeting": "x" * 200}
                                 for k in range(60)]})  # fmt: skip
    related = "".join(f'<li><a href="/r/{n}/{k}">{escape(t)}</a></li>'
                      for k, (t, _) in enumerate(rng.sample(STORIES, 20)))  # fmt: skip
    comments = "".join(f'<div class="comment"><b>reader{k}</b><p>{escape(c[:200])}</p></div>'
                       for k, (_, c) in enumerate(rng.sample(STORIES, 10)))  # fmt: skip
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in body.split("\n") if p.strip())
    nav, foot = SECTIONS[os.environ.get("BENCH_MARKUP", "html5")]
    return (
        f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>{escape(title)}"
        f"</title><script>window.__CONFIG__={script};</script>"
        f"<script type='application/ld+json'>{json.dumps({'headline': title, 'body': body})}"
        "</script><style>" + ".c{color:red}" * 800 + "</style></head><body>"
        "<div class='cookie-consent'><p>We use cookies to improve your experience.</p>"
        "<button>Accept</button></div>"
        f"{nav[0]}<ul>{menu}</ul>{nav[1]}<main><article><h1>{escape(title)}</h1>"
        f"<div class='byline'>By Staff</div><div class='body'>{paragraphs}</div></article>"
        f"<section class='related'><h3>Related</h3><ul>{related}</ul></section>"
        f"<section class='comments'>{comments}</section></main>"
        f"{foot[0]}<ul>{menu}</ul><p>© 2026 Bench News</p>{foot[1]}</body></html>"
    ).encode()


STORIES: list[tuple[str, str]] = []
# Where the menus sit (`--markup`): in HTML5's <nav> and <footer>, as most news sites put them
# now, or in divs with class names only, as older templates do (nothing to drop by its tag).
SECTIONS = {
    "html5": (("<header><nav>", "</nav></header>"), ("<footer>", "</footer>")),
    "divs": (("<div class='header'><div class='menu'>", "</div></div>"),
             ("<div class='site-footer'>", "</div>")),
}  # fmt: skip


def build(count: int, feeds: int = 1) -> tuple[list[bytes], dict[str, bytes]]:
    """The feeds (title and one sentence per entry, entries dealt round-robin) and the pages,
    by path."""
    STORIES.extend(stories())
    rng = random.Random(7)
    pages: dict[str, bytes] = {}
    items: list[list[str]] = [[] for _ in range(feeds)]
    for n in range(count):
        title, body = STORIES[n % len(STORIES)]
        title = f"{title} ({n})"
        pages[f"/story/{n}"] = page(n, title, body, rng)
        lede = escape(first_sentences(body, 1, 300))  # what a summary-only feed carries
        items[n % feeds].append(
            f"<item><title>{escape(title)}</title><link>LINK/story/{n}</link>"
            f"<guid>bench-{n}</guid><description>{lede}</description></item>"
        )
    bodies = [("<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Bench"
               f"</title><link>LINK/</link>{''.join(i)}</channel></rss>").encode()
              for i in items]  # fmt: skip
    return bodies, pages


def serve(port_queue: multiprocessing.Queue, count: int, feeds: int) -> None:  # type: ignore[type-arg]
    """One server per feed, each on an address of its own (127.0.0.k): feeds of different
    outlets, as the per-host limits see them."""
    bodies, pages = build(count, feeds)
    bases = []
    for k, body in enumerate(bodies):
        routes = dict(pages)
        server = ThreadingHTTPServer((f"127.0.0.{k + 1}", 0), _handler(routes))
        base = f"http://127.0.0.{k + 1}:{server.server_address[1]}"
        routes["/feed.xml"] = body.replace(b"LINK", base.encode())
        bases.append(base)
        threading.Thread(target=server.serve_forever, daemon=True).start()
    port_queue.put(" ".join(bases))
    threading.Event().wait()


def _handler(routes: dict[str, bytes]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in two writes: without this, Nagle's algorithm and the
        # client's delayed ACK add 40 ms to every page (no real web server answers like that).
        disable_nagle_algorithm = True

        def do_GET(self) -> None:
            body = routes.get(self.path)
            if body is None:
                self.send_error(404)
                return
            kind = "application/rss+xml" if self.path.startswith("/feed") else "text/html"
            self.send_response(200)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


def run_alone(count: int, rounds: int, ours: bool) -> dict[str, float]:
    import trafilatura

    from ingest.parse.pagetext import main_text

    _feeds, pages = build(count)
    bodies = list(pages.values())
    main_text(bodies[0], "https://x.example/") if ours else trafilatura.extract(bodies[0])
    best, cpu_s = float("inf"), float("inf")
    for _ in range(rounds):
        started, cpu_started = time.perf_counter(), time.process_time()
        for n, html in enumerate(bodies):
            if ours:
                main_text(html, f"https://bench.example/story/{n}", "")
            else:
                trafilatura.extract(html)
        best = min(best, time.perf_counter() - started)
        cpu_s = min(cpu_s, time.process_time() - cpu_started)
    return {"seconds": best, "cpu_s": cpu_s, "pages": len(bodies), "bytes": sum(map(len, bodies))}


async def run_path(bases: list[str], count: int) -> dict[str, float]:
    """The running service's two stages (fetching, matching) over one summary feed per base
    address, until every feed has been polled and its articles matched and published: twice
    in one process. First as a service just started meets them (`one_shot`: the spaCy model is
    imported and loaded when the first article needs it, first calls of everything), then the
    same feeds and pages again under a fresh key prefix (nothing seen, no stories), as the
    service, once running, meets every later poll (`steady`)."""
    from ingest.fetch.fetcher import Fetcher
    from ingest.match.matcher import Matcher
    from ingest.match.nlp import load_nlp
    from ingest.models import Source
    from ingest.rules.files import load_rules_dir

    run = f"wwbench:{uuid.uuid4().hex[:10]}:"  # the channels' streams and both passes' keys
    prefixes = [f"{run}one:", f"{run}steady:"]
    rules_dir = channels_under(Path(os.environ.get("BENCH_RULES_DIR", ROOT / "rules")), run)
    settings = [bench_settings(prefix, rules_dir) for prefix in prefixes]
    model = os.environ.get("BENCH_SPACY_MODEL", "auto")
    matcher = Matcher(load_rules_dir(settings[0].rules_dir), load_nlp(model, 16))
    sources = [Source(f"{b}/feed.xml", f"Bench {k}", "http", 3600.0, full_text="auto")
               for k, b in enumerate(bases)]  # fmt: skip
    figures: dict[str, float] = {"pages": count}
    async with Fetcher(settings[0]) as fetcher:
        pages = None
        try:
            for name, options in zip(("one_shot", "steady"), settings, strict=True):
                one, pages = await path_pass(options, fetcher, matcher, sources, pages)
                assert one["articles"] == count, f"{one['articles']} articles of {count}"
                figures.update({f"{name}_{k}": v for k, v in one.items()})
        finally:
            if pages is not None:
                pages.close()
            forget(run)
    figures["seconds"], figures["cpu_s"] = figures["steady_seconds"], figures["steady_cpu_s"]
    return figures


def bench_settings(prefix: str, rules_dir: Path) -> Any:
    from ingest.settings import Settings

    return Settings(_env_file=None, redis_url=REDIS_URL, key_prefix=prefix,  # type: ignore[call-arg]
                    allow_private_networks=True, backfill_s=0, rules_dir=rules_dir,
                    outbox_dir=Path("/tmp") / prefix.replace(":", "_"))  # fmt: skip


async def path_pass(
    settings: Any, fetcher: Any, matcher: Any, sources: list[Any], pages: Any
) -> tuple[dict[str, float], Any]:
    """One pass of every source through the service's stages: timed from the first poll to
    the last article published. `pages`: the extraction processes of an earlier pass."""
    from ingest.delivery.store import Store
    from ingest.service.metrics import Metrics
    from ingest.service.pipeline import Pipeline
    from ingest.service.stages import Stages

    store = Store.from_settings(settings)
    metrics = Metrics()
    try:
        pipeline = Pipeline(settings, store, fetcher, lambda: matcher, metrics)
        if pages is None:
            await pipeline.pages.warm_up()  # the service starts its processes once
        else:  # the same processes, counting into this pass's metrics
            pipeline.pages, pages._metrics = pages, metrics
        stages = Stages(settings, pipeline, store, lambda: sources, metrics, "bench")
        stopping, hard = asyncio.Event(), asyncio.Event()
        stalls: list[float] = []
        watching = asyncio.create_task(watch_loop(stalls))
        pool = pipeline.pages._pool
        workers = list(pool._processes) if pool is not None else []  # type: ignore[attr-defined]
        cpu_started = time.process_time() + sum(map(cpu_of, workers))
        started = time.perf_counter()
        running = asyncio.create_task(stages.run(stopping, hard))
        while not all(pipeline.known_state(s).last_success_at for s in sources) or stages.busy:
            await asyncio.sleep(0.01)
        elapsed_s = time.perf_counter() - started
        cpu_s = time.process_time() + sum(map(cpu_of, workers)) - cpu_started
        since_start = {"process_s": process_age(), "process_cpu_s": cpu_s + cpu_started}
        watching.cancel()
        stopping.set()
        await running
        child_mb = max((peak_rss_mb(pid) for pid in workers), default=0.0)
    finally:
        await store.close()

    def total(counter: object, name: str = "_total", **labels: str) -> float:
        samples = counter.collect()[0].samples  # type: ignore[attr-defined]
        return sum(s.value for s in samples if s.name.endswith(name)
                   and all(s.labels.get(k) == v for k, v in labels.items()))  # fmt: skip

    return {"seconds": elapsed_s, "cpu_s": cpu_s, "articles": total(metrics.articles),
            "used": total(metrics.pages, outcome="used"), "ner": total(metrics.ner_articles),
            "extract_s": total(metrics.page_extract_seconds, "_sum"),
            "match_s": total(metrics.ner_seconds), "child_rss_mb": child_mb,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "loop_stall_p99_ms": 1000 * sorted(stalls)[int(0.99 * (len(stalls) - 1))],
            "loop_stall_max_ms": 1000 * max(stalls), **since_start}, pipeline.pages  # fmt: skip


async def watch_loop(stalls: list[float], tick_s: float = 0.005) -> None:
    """How late the event loop wakes a task that sleeps `tick_s` (the time it was held by
    work on the loop itself, or, on a loaded machine, by the other processes)."""
    while True:
        asked = time.perf_counter()
        await asyncio.sleep(tick_s)
        stalls.append(max(0.0, time.perf_counter() - asked - tick_s))


def forget(prefix: str) -> None:
    """Delete every key the run wrote."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


async def run_pages(bases: list[str], count: int) -> dict[str, float]:
    """The page stage alone: every feed entry's page fetched (Fetcher.fetch_page, the guard,
    caps and per-host slots) and extracted in the extraction processes (PageTexts)."""
    import httpx

    from ingest.fetch.fetcher import Fetcher
    from ingest.models import Source
    from ingest.parse.documents import parse_document
    from ingest.service.fulltext import PageTexts
    from ingest.service.metrics import Metrics
    from ingest.settings import Settings

    settings = Settings(_env_file=None, allow_private_networks=True)  # type: ignore[call-arg]
    sources = [Source(f"{b}/feed.xml", f"Bench {k}", "http", 3600.0, full_text="auto")
               for k, b in enumerate(bases)]  # fmt: skip
    feeds = []
    async with httpx.AsyncClient() as client:
        for source in sources:
            from ingest.models import Document

            body = (await client.get(source.url)).content
            feeds.append(parse_document(Document(source.url, body), source).entries)
    async with Fetcher(settings) as fetcher:
        pages = PageTexts(fetcher, settings, Metrics())
        await pages.warm_up()
        workers = list(pages._pool._processes)  # type: ignore[union-attr]
        cpu_started = time.process_time() + sum(map(cpu_of, workers))
        started = time.perf_counter()
        done = await asyncio.gather(
            *(pages.fill(s, e) for s, e in zip(sources, feeds, strict=True))
        )
        elapsed_s = time.perf_counter() - started
        cpu_s = time.process_time() + sum(map(cpu_of, workers)) - cpu_started
        pages.close()
    used = sum(outcomes["used"] for _, outcomes in done)
    return {"seconds": elapsed_s, "cpu_s": cpu_s, "pages": count, "used": used}


def channels_under(rules_dir: Path, prefix: str) -> Path:
    """A copy of the rule files whose channels (streams of that name) are under `prefix`, so
    that the run's cleanup deletes them and no shared channel gets the bench's alerts."""
    import re

    copy = Path(tempfile.mkdtemp(prefix="wwbench-rules-"))
    for path in rules_dir.glob("*.yaml"):
        text = re.sub(r'(channel:\s*"?)', rf"\g<1>{prefix}", path.read_text(encoding="utf-8"))
        (copy / path.name).write_text(text, encoding="utf-8")
    return copy


def process_age() -> float:
    """Seconds since this process started (its interpreter's start included)."""
    start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
    uptime_s = float(Path("/proc/uptime").read_text().split()[0])
    return uptime_s - start_ticks / os.sysconf("SC_CLK_TCK")


def cpu_of(pid: int) -> float:
    """CPU seconds (user + system) a live process has used."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pid: int) -> float:
    """A live process's peak resident memory (VmHWM), in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def child(mode: str, count: int, rounds: int, base: str) -> None:
    if mode == "path":
        figures = asyncio.run(run_path(base.split(), count))
    elif mode == "pages":
        figures = asyncio.run(run_pages(base.split(), count))
    else:
        figures = run_alone(count, rounds, ours=mode == "ours")
    figures.setdefault("rss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    print(json.dumps(figures))


TERM_RULES = """rules:
  - {id: ceasefire, channel: "alerts:bench", all: [ceasefire]}
  - {id: strike, channel: "alerts:bench", any: [strike, walkout], none: [lightning]}
  - {id: vote, channel: "alerts:bench", all: [parliament], any: [vote, ballot]}
  - {id: quake, channel: "alerts:bench", any: [earthquake, magnitude]}
"""


def measure(mode: str, count: int, rounds: int, base: str, env: dict[str, str]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--pages", str(count), "--rounds", str(rounds),
         "--base", base],
        check=True, capture_output=True, text=True, cwd=ROOT, env={**os.environ, **env},
    )  # fmt: skip
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=150)
    parser.add_argument("--feeds", type=int, default=10, help="outlets the pages are spread over")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--child", choices=["alone", "ours", "pages", "path"])
    parser.add_argument("--base", default="")
    parser.add_argument("--rules", choices=["bundled", "terms"], default="bundled",
                        help="bundled rules (NER), or term rules only")  # fmt: skip
    parser.add_argument("--markup", choices=sorted(SECTIONS), default="html5",
                        help="menus in <nav> and <footer>, or in divs")  # fmt: skip
    args = parser.parse_args()
    if args.child:
        child(args.child, args.pages, args.rounds, args.base)
        return
    os.environ["BENCH_MARKUP"] = args.markup  # the server and every child build the same pages
    ports: multiprocessing.Queue[str] = multiprocessing.Queue()
    server = multiprocessing.Process(
        target=serve, args=(ports, args.pages, args.feeds), daemon=True
    )
    server.start()
    base = ports.get(timeout=60)
    env: dict[str, str] = {}
    if args.rules == "terms":
        folder = Path(tempfile.mkdtemp(prefix="wwbench-rules-"))
        (folder / "bench.yaml").write_text(TERM_RULES, encoding="utf-8")
        env = {"BENCH_RULES_DIR": str(folder), "BENCH_SPACY_MODEL": "blank"}
    runs: dict[str, list[dict[str, float]]] = {"alone": [], "ours": [], "pages": [], "path": []}
    try:
        for _round in range(args.rounds):  # interleaved, so a busy spell hits all three alike
            for mode, figures in runs.items():
                figures.append(measure(mode, args.pages, 1, base, env))
    finally:
        server.terminate()
    alone, ours, pages = (min(runs[m], key=lambda f: f["seconds"]) for m in runs if m != "path")
    one = min(runs["path"], key=lambda f: f["one_shot_seconds"])
    one = {k.removeprefix("one_shot_"): v for k, v in one.items() if k.startswith("one_shot_")}
    path = min(runs["path"], key=lambda f: f["steady_seconds"])
    path = {k.removeprefix("steady_"): v for k, v in path.items() if k.startswith("steady_")}
    one["pages"] = path["pages"] = args.pages
    kb = alone["bytes"] / alone["pages"] / 1024
    print(f"{args.pages} pages of {kb:.0f} KB on average from {args.feeds} summary-only feeds, "
          f"menus in {args.markup}, {args.rules} rules, best of {args.rounds} rounds, "
          f"load average {os.getloadavg()[0]:.2f}")  # fmt: skip
    for name, fig in (("trafilatura alone", alone), ("wirewatch extraction", ours),
                      ("page stage (fetch + extraction processes)", pages),
                      ("whole path, one shot (a service just started)", one),
                      ("whole path, steady (a running service)", path)):  # fmt: skip
        rate = fig["pages"] / fig["seconds"]
        cpu_ms = fig["cpu_s"] / fig["pages"] * 1000
        print(f"  {name:<46} {rate:6.1f} pages/s  {fig['seconds']:5.2f} s  "
              f"{cpu_ms:5.1f} ms CPU/page  peak RSS {fig['rss_mb']:4.0f} MB")  # fmt: skip
    print(f"  one shot from the process's start (imports, rules, extraction processes started, "
          f"the model loaded at the first article that needs it): {one['process_s']:.2f} s, "
          f"{one['process_cpu_s']:.2f} s CPU")  # fmt: skip
    for name, fig in (("one shot", one), ("steady", path)):
        print(f"  in the path ({name}): extraction {fig['extract_s']:.2f} s (summed over pages, "
              f"waits included), matching {fig['match_s']:.2f} s, articles read by the NER "
              f"model {fig['ner']:.0f}, pages used {fig['used']:.0f}/{args.pages}")  # fmt: skip
    print(f"  each extraction process peaked at {path['child_rss_mb']:.0f} MB; the event loop "
          f"woke a 5 ms sleeper late by {path['loop_stall_p99_ms']:.0f} ms at p99, "
          f"{path['loop_stall_max_ms']:.0f} ms at most (steady)")  # fmt: skip
    print(f"  page stage / trafilatura alone: {pages['seconds'] / alone['seconds']:.2f}x in time, "
          f"{pages['cpu_s'] / alone['cpu_s']:.2f}x in CPU")  # fmt: skip
    for name, fig in (("one shot", one), ("steady", path)):
        ratio = fig["seconds"] / alone["seconds"]
        verdict = "ok" if ratio <= GOAL_RATIO else "over the goal"
        cpu_ratio = fig["cpu_s"] / alone["cpu_s"]
        print(f"  whole path ({name}) / trafilatura alone: {ratio:.2f}x in time (goal "
              f"{GOAL_RATIO}x: {verdict}), {cpu_ratio:.2f}x in CPU")  # fmt: skip


if __name__ == "__main__":
    main()
