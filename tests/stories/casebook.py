"""Load the labelled dedup cases under tests/stories/cases/ (see README there).

Each YAML file is one group of feed items, in arrival order. Items with the same `story` label
are copies of one story and must end in one story; items with different labels must never.
An item gives its text as `body`, as `file` (relative to the repository), or as `copy_of` another
item of the group with `edits` (what syndication does to a copy); `footer` appends a shared
footer from cases/footers/.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import combinations
from pathlib import Path
from typing import Any

import yaml

from ingest.models import Article, RawEntry
from ingest.normalize.article import normalize

ROOT = Path(__file__).resolve().parents[2]
CASES = Path(__file__).resolve().parent / "cases"
FOOTERS = CASES / "footers"
START = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Item:
    group: str
    index: int
    label: str  # "group/story": the story the item belongs to
    article: Article


def group_files() -> list[Path]:
    return sorted(CASES.glob("*.yaml"))


def load_group(path: Path) -> list[Item]:
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    bodies: list[str] = []
    items: list[Item] = []
    for index, raw in enumerate(spec["items"]):
        title, body = _text_of(raw, bodies, f"{path.name}: item {index}")
        bodies.append(body)
        if raw.get("footer"):
            body = f"{body.rstrip()}\n{(FOOTERS / raw['footer']).read_text(encoding='utf-8')}"
        items.append(Item(path.stem, index, f"{path.stem}/{raw['story']}",
                          _article(path.stem, index, raw["source"], title, body)))  # fmt: skip
    return items


def all_items() -> list[Item]:
    return [item for path in group_files() for item in load_group(path)]


def labelled_pairs(items: list[Item]) -> tuple[list[tuple[Item, Item]], list[tuple[Item, Item]]]:
    """(pairs of copies, pairs of different stories) within each group."""
    copies, different = [], []
    for a, b in combinations(items, 2):
        if a.group == b.group:
            (copies if a.label == b.label else different).append((a, b))
    return copies, different


def _text_of(raw: dict[str, Any], bodies: list[str], where: str) -> tuple[str, str]:
    title = raw.get("title")
    if "body" in raw:
        return title or "", raw["body"]
    if "file" in raw:
        text = (ROOT / raw["file"]).read_text(encoding="utf-8")
        if title is None:  # a story fixture: headline, blank line, story
            title, _blank, text = text.split("\n", 2)
        return title, text
    body = _edited(bodies[raw["copy_of"]], raw.get("edits", {}), where)
    return title or "", body


def _edited(body: str, edits: dict[str, Any], where: str) -> str:
    for old, new in edits.get("replace", {}).items():
        if old not in body:
            raise ValueError(f"{where}: replace: {old!r} is not in the text")
        body = body.replace(old, new)
    paragraphs = [p for p in body.split("\n") if p.strip()]
    if edits.get("drop_last"):
        paragraphs = paragraphs[: -edits["drop_last"]]
    for at, text in edits.get("insert", []):
        paragraphs.insert(at, text)
    paragraphs = list(edits.get("prepend", [])) + paragraphs + list(edits.get("append", []))
    if edits.get("footer"):
        paragraphs.append((FOOTERS / edits["footer"]).read_text(encoding="utf-8").strip())
    return "\n".join(paragraphs)


def _article(group: str, index: int, source: str, title: str, body: str) -> Article:
    slug = source.lower().replace(" ", "-")
    entry = RawEntry(
        source_name=source,
        source_url=f"https://{slug}.example/feed.xml",
        title=title,
        content=body,
        content_is_html=False,
        link=f"https://{slug}.example/{group}/{index}",
        published=START + timedelta(minutes=index),
        language="en",
    )
    return normalize(entry)
