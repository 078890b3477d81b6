"""OPML benchmark: a reader's export of N feeds in folders, imported into feeds.yaml, loaded by
the service, exported again.

    .venv/bin/python bench/bench_opml.py [--feeds 5000] [--folders 50] [--repeats 3]

Everything runs in a temporary folder, with no network and no Redis. Prints the best of the
repeats for: reading the OPML file (`read_opml`), `wirewatch feeds import` into a feeds.yaml that
already holds a commented entry (read, dedup, append as text, check, atomic write), loading the
resulting feeds.yaml as the service does (`load_sources`), importing the same file again (all
already there: nothing written), and `wirewatch feeds export` of the result.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.fetch.sources import load_sources  # noqa: E402
from ingest.parse.opml import read_opml  # noqa: E402
from ingest.service.subscriptions import export_opml, import_opml  # noqa: E402
from ingest.settings import Settings  # noqa: E402

FEEDS_YAML = "# my sources\nfeeds:\n  - url: https://mine.example/rss  # keep\n"


def reader_export(feeds: int, folders: int) -> str:
    """An export as Feedly or Inoreader writes it: folders, text and title, htmlUrl, extras."""
    per_folder = max(1, feeds // folders)
    parts = ['<?xml version="1.0" encoding="UTF-8"?>\n<opml version="1.0"><head>'
             "<title>Export</title></head><body>"]  # fmt: skip
    for n in range(feeds):
        if n % per_folder == 0:
            if n:
                parts.append("</outline>")
            folder = f"Folder {n // per_folder}"
            parts.append(f'<outline text="{folder}" title="{folder}">')
        host = f"host{n % 211}.example"
        parts.append(
            f'<outline type="rss" text="Feed {n} &amp; co" title="Feed {n} &amp; co" '
            f'xmlUrl="https://{host}/feeds/{n}.xml?format=rss&amp;lang=en" '
            f'htmlUrl="https://{host}/" description="" extra="kept"/>'
        )
    parts.append("</outline></body></opml>\n")
    return "\n".join(parts)


def best_s(
    repeats: int, step: Callable[[], object], reset: Callable[[], None] = lambda: None
) -> float:
    times = []
    for _ in range(repeats):
        reset()
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--feeds", type=int, default=5000)
    parser.add_argument("--folders", type=int, default=50)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        opml, feeds_file = home / "export.opml", home / "feeds.yaml"
        opml.write_text(reader_export(args.feeds, args.folders), encoding="utf-8")
        settings = Settings(_env_file=None, feeds_file=feeds_file)  # type: ignore[call-arg]
        raw = opml.read_bytes()

        def fresh() -> None:
            feeds_file.write_text(FEEDS_YAML, encoding="utf-8")

        figures = {
            "read OPML": best_s(args.repeats, lambda: read_opml(raw, str(opml))),
            "feeds import": best_s(args.repeats, lambda: import_opml(opml, feeds_file), fresh),
            "load feeds.yaml": best_s(args.repeats, lambda: load_sources(feeds_file, settings)),
            "import again (nothing new)": best_s(
                args.repeats, lambda: import_opml(opml, feeds_file)
            ),
            "feeds export": best_s(args.repeats, lambda: export_opml(settings)),
        }
        sources = len(load_sources(feeds_file, settings).sources)
    size_kb = len(raw) / 1024
    load = os.getloadavg()[0]
    print(f"{args.feeds} feeds in {args.folders} folders ({size_kb:.0f} kB of OPML); "
          f"feeds.yaml then holds {sources} sources; load average {load:.2f}")  # fmt: skip
    for name, seconds in figures.items():
        print(f"  {name:28s} {seconds * 1000:8.1f} ms")


if __name__ == "__main__":
    main()
