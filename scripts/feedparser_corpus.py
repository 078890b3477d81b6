"""Run feedparser's own test corpus through wirewatch's fetch and parse stages.

The corpus is not in the feedparser wheel; take it from the sdist:

    .venv/bin/pip download --no-binary :all: --no-deps feedparser==6.0.11 -d /tmp/fp
    tar xzf /tmp/fp/feedparser-6.0.11.tar.gz -C /tmp/fp
    .venv/bin/python scripts/feedparser_corpus.py /tmp/fp/feedparser-6.0.11/tests [--run-once]

Every file goes three ways: straight into parse_document, through a file source, and over
HTTP from a local server (with the `Header:` lines the corpus file asks for; .gz/.z files
are served with their Content-Encoding). Prints the outcome counts per way; a traceback
(any exception that is not a FetchError or ParseError) is a bug and is printed in full.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import subprocess
import sys
import tempfile
import threading
import traceback
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from ingest.errors import FetchError, ParseError
from ingest.fetch.fetcher import Fetcher
from ingest.fetch.schedule import SourceState
from ingest.models import Document, FetchResult, Source
from ingest.parse.documents import parse_document
from ingest.settings import Settings

HEADER_LINE = re.compile(rb"^Header:\s*([\w-]+):\s*(.*?)\s*$", re.MULTILINE)
REASONS = (
    "declares XML entities",
    "HTML page",
    "binary data",
    "empty document",
    "not a usable feed",
    "not a feed",
    "no words",
    "not a JSON Feed",
)
ENCODINGS = {".gz": "gzip", ".z": "deflate"}


def corpus_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix in (".xml", ".gz", ".z"))


def declared_headers(body: bytes, suffix: str) -> dict[str, str]:
    """The headers a corpus file asks to be served with (status lines left out)."""
    headers = {
        name.decode().lower(): value.decode("latin-1") for name, value in HEADER_LINE.findall(body)
    }
    headers = {
        k: v for k, v in headers.items() if k not in ("status", "location", "content-length")
    }
    if suffix in ENCODINGS:
        headers["content-encoding"] = ENCODINGS[suffix]
    return headers


def outcome_of(parse: object) -> str:
    if isinstance(parse, BaseException):
        text = str(parse)
        reason = next((r for r in REASONS if r in text), "other")
        return f"{type(parse).__name__}: {reason}"
    return "entries" if parse else "no entries"


def parse_all(result: FetchResult, source: Source) -> int:
    return sum(len(parse_document(doc, source).entries) for doc in result.documents)


class Tally:
    def __init__(self) -> None:
        self.counts: dict[str, Counter[str]] = {}
        self.entries: Counter[str] = Counter()
        self.tracebacks: list[str] = []
        self.rejects: list[str] = []

    def run(self, way: str, name: str, step: object) -> None:
        """Record the outcome of `step()` (a callable returning an entry count)."""
        try:
            count = step()  # type: ignore[operator]
        except (FetchError, ParseError) as exc:
            self._add(way, outcome_of(exc))
            self.rejects.append(f"{way}: {type(exc).__name__}: {exc}")
            return
        except Exception:
            self.tracebacks.append(f"{way} {name}\n{traceback.format_exc()}")
            self._add(way, "TRACEBACK")
            return
        self.entries[way] += count
        self._add(way, outcome_of(count))

    def _add(self, way: str, key: str) -> None:
        self.counts.setdefault(way, Counter())[key] += 1


def direct(tally: Tally, files: list[Path]) -> None:
    for path in files:
        source = Source(url=str(path), name="corpus", kind="file", interval_s=60)
        content_type = declared_headers(path.read_bytes(), "").get("content-type", "")
        doc = Document(url=path.as_uri(), body=path.read_bytes(), content_type=content_type)
        tally.run("direct", path.name, lambda d=doc, s=source: len(parse_document(d, s).entries))


async def fetched(tally: Tally, fetcher: Fetcher, way: str, sources: list[Source]) -> None:
    async def one(source: Source) -> tuple[Source, FetchResult | BaseException]:
        try:
            return source, await fetcher.fetch(source, SourceState())
        except Exception as exc:
            return source, exc

    for source, result in await asyncio.gather(*(one(s) for s in sources)):
        if isinstance(result, BaseException):
            tally.run(way, source.url, lambda exc=result: _raise(exc))
        else:
            tally.run(way, source.url, lambda r=result, s=source: parse_all(r, s))


def _raise(exc: BaseException) -> int:
    raise exc


@contextmanager
def corpus_server(root: Path) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = (root / self.path.lstrip("/")).resolve()
            if not path.is_file() or root not in path.parents:
                self.send_error(404)
                return
            body = path.read_bytes()
            self.send_response(200)
            for name, value in declared_headers(body, path.suffix).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def run(root: Path) -> Tally:
    files = corpus_files(root)
    tally = Tally()
    direct(tally, files)
    settings = Settings(_env_file=None, allow_private_networks=True, per_host_concurrency=16)  # type: ignore[call-arg]
    file_sources = [Source(url=str(p), name="corpus", kind="file", interval_s=60) for p in files]
    with corpus_server(root) as base:
        http_sources = [
            Source(
                url=f"{base}/{p.relative_to(root).as_posix()}",
                name="corpus",
                kind="http",
                interval_s=60,
            )
            for p in files
        ]
        async with Fetcher(settings) as fetcher:
            await fetched(tally, fetcher, "file", file_sources)
            await fetched(tally, fetcher, "http", http_sources)
    return tally


def run_once(root: Path, workdir: Path) -> int:
    """The whole corpus as one feeds.yaml through `wirewatch run --once` (fresh key prefix)."""
    feeds = workdir / "feeds.yaml"
    lines = ["feeds:"] + [
        f"  - url: {p}\n    name: corpus-{i}" for i, p in enumerate(corpus_files(root))
    ]
    feeds.write_text("\n".join(lines) + "\n", encoding="utf-8")
    env = {
        **os.environ,
        "WIREWATCH_FEEDS_FILE": str(feeds),
        "WIREWATCH_RULES_DIR": str(Path(__file__).resolve().parent.parent / "rules"),
        "WIREWATCH_KEY_PREFIX": f"corpus:{uuid.uuid4().hex[:8]}:",
        "WIREWATCH_OUTBOX_DIR": str(workdir / "outbox"),
        "WIREWATCH_LOG_FORMAT": "text",
    }
    done = subprocess.run(
        [sys.executable, "-m", "ingest", "run", "--once"], env=env, capture_output=True,
        text=True, timeout=1800,
    )  # fmt: skip
    tracebacks = done.stderr.count("Traceback")
    print(f"\nwirewatch run --once: exit {done.returncode}; {done.stderr.strip().splitlines()[-1]}")
    print(f"tracebacks in its output: {tracebacks}")
    return 1 if tracebacks or done.returncode else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("corpus", type=Path, help="feedparser's tests/ folder from the sdist")
    parser.add_argument("--rejects", action="store_true", help="list every refused file")
    parser.add_argument(
        "--run-once", action="store_true", help="also run the corpus through `wirewatch run --once`"
    )
    args = parser.parse_args()
    root = args.corpus.resolve()
    if not root.is_dir():
        print(f"{root}: not a folder; see the module docstring for how to get the corpus")
        return 2
    tally = asyncio.run(run(root))
    print(f"corpus: {root} ({len(corpus_files(root))} files)")
    for way, counts in tally.counts.items():
        print(f"\n{way}: {sum(counts.values())} files, {tally.entries[way]} entries")
        for key, count in counts.most_common():
            print(f"  {count:6d}  {key}")
    if args.rejects:
        print("\nrefused:", *tally.rejects, sep="\n  ")
    for text in tally.tracebacks:
        print(f"\n{text}")
    print(f"\ntracebacks: {len(tally.tracebacks)}")
    status = 1 if tally.tracebacks else 0
    if args.run_once:
        with tempfile.TemporaryDirectory() as workdir:
            status = max(status, run_once(root, Path(workdir)))
    return status


if __name__ == "__main__":
    sys.exit(main())
