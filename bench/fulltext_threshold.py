"""How short is "short"? The figures behind `SHORT_TEXT_CHARS` (ingest/service/fulltext.py).

`full_text: auto` fetches an entry's page when the text the feed gave is short or cut off. A
summary-only feed gives a title and the story's first sentence or two; a full-content feed
gives the whole story. This measures both on every complete story in the repository (the wire
stories of the dedup cases, the seeds, the normalize cases and the article pages in
tests/fulltext/pages): the length of the whole body, and of its first one and two sentences
(what summary-only feeds carry), after normalization, in characters.

    .venv/bin/python bench/fulltext_threshold.py
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from ingest.models import RawEntry  # noqa: E402
from ingest.normalize.article import normalize  # noqa: E402
from ingest.normalize.textnorm import first_sentences  # noqa: E402
from ingest.parse.pagetext import main_text  # noqa: E402
from ingest.service.fulltext import SHORT_TEXT_CHARS  # noqa: E402
from tests.stories.casebook import all_items  # noqa: E402

MIN_STORY_CHARS = 200  # dedup cases include deliberately truncated copies: not whole stories


def bodies() -> dict[str, str]:
    """Every complete story body in the repository, by where it came from."""
    found: dict[str, str] = {}
    for item in all_items():
        found.setdefault(item.article.fingerprint, item.article.body)
    for path in [*sorted((ROOT / "seeds").glob("*.txt")),
                 *sorted((ROOT / "tests/normalize/cases/stories").glob("*.txt"))]:  # fmt: skip
        entry = RawEntry(path.name, path.as_uri(), "", path.read_text(encoding="utf-8"), False)
        found.setdefault(path.name, normalize(entry).body)
    pages = ROOT / "tests/fulltext/pages"
    for case in sorted(pages.glob("*.yaml")):
        title = yaml.safe_load(case.read_text(encoding="utf-8"))["title"]
        page = next(p for p in pages.glob(f"{case.stem}.*") if p.suffix != ".yaml")
        found.setdefault(case.stem, main_text(page.read_bytes(), "", title))
    return {k: v for k, v in found.items() if len(v) >= MIN_STORY_CHARS}


def describe(name: str, lengths: list[int]) -> str:
    ordered = sorted(lengths)
    p90 = ordered[int(0.9 * (len(ordered) - 1))]
    p10 = ordered[int(0.1 * (len(ordered) - 1))]
    return (
        f"{name:<28} n={len(ordered):4d}  min {ordered[0]:5d}  p10 {p10:5d}  "
        f"median {statistics.median(ordered):7.0f}  p90 {p90:5d}  max {ordered[-1]:5d}"
    )


def main() -> None:
    stories = bodies()
    whole = [len(body) for body in stories.values()]
    # What a summary-only feed carries: the lede, as summaries cut it (no length cap here).
    one = [len(first_sentences(body, 1, 10_000)) for body in stories.values()]
    two = [len(first_sentences(body, 2, 10_000)) for body in stories.values()]
    print(describe("whole story", whole))
    print(describe("first sentence (summary)", one))
    print(describe("first two sentences", two))
    print("threshold  whole stories fetched needlessly  summaries not fetched (1 / 2 sentences)")
    for threshold in sorted({*range(300, 851, 50), SHORT_TEXT_CHARS}):
        needless = sum(1 for n in whole if n < threshold)
        missed_one = sum(1 for n in one if n >= threshold)
        missed_two = sum(1 for n in two if n >= threshold)
        mark = "  <- SHORT_TEXT_CHARS" if threshold == SHORT_TEXT_CHARS else ""
        share_two = missed_two / len(two)
        print(f"{threshold:9d}  {needless:4d} ({needless / len(whole):5.1%}){'':24}"
              f"{missed_one:4d} / {missed_two:4d} ({share_two:5.1%}){mark}")  # fmt: skip


if __name__ == "__main__":
    main()
