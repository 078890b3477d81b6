"""Real-text articles for bench_pipeline.py: the seed stories' sentences mixed into new ones.

Deterministic (one seeded generator): the same arguments always give the same feed file.
Only `ceasefire_share` of the articles mention a ceasefire, so the rule `all: [ceasefire]`
picks out that share and no more.

Two corpora. "remixed": whole seed sentences, about 120 of them, so each sentence is in many
articles: to the story stage every article shares sentences and openings with many others (its
source's "boilerplate", candidates to verify), the worst case for it. "shuffled": the same
sentences with their inner words in a new order each time they are used, so articles share
words but hardly a sentence or an opening: a feed of different stories, the common case.
"""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from html import escape
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = (ROOT / "seeds", ROOT / "tests" / "normalize" / "cases" / "stories")
_SENTENCE = re.compile(r"(?<=[.!?\"”])\s+(?=[A-Z“\"])")
_CEASEFIRE = re.compile(r"cease[- ]?fire|truce", re.IGNORECASE)
# Openings of wire stories, so that dateline parsing has real work to do.
DATELINES = (
    "UNITED NATIONS (AP) — ",
    "KYIV, March 17 (Reuters) - ",
    "ATHENS (AFP) - ",
    "FRANKFURT, 18 March (dpa) - ",
    "WASHINGTON, March 17 (Alliance News): ",
    "",
)


def seed_sentences() -> tuple[list[str], list[str]]:
    """(sentences without a ceasefire, sentences with one) from every seed story."""
    found: dict[str, None] = {}
    for folder in SOURCES:
        for path in sorted(folder.glob("*.txt")):
            for line in path.read_text(encoding="utf-8").splitlines():
                for sentence in _SENTENCE.split(line.strip()):
                    if len(sentence.split()) >= 6:
                        found.setdefault(sentence, None)
    sentences = list(found)
    return (
        [s for s in sentences if not _CEASEFIRE.search(s)],
        [s for s in sentences if _CEASEFIRE.search(s)],
    )


def shuffled(rng: random.Random, sentence: str) -> str:
    """The sentence with the words between its first and its last in another order."""
    words = sentence.split()
    inner = words[1:-1]
    rng.shuffle(inner)
    return " ".join([words[0], *inner, words[-1]]) if len(words) > 2 else sentence


def article_paragraphs(
    rng: random.Random,
    plain: list[str],
    ceasefire: list[str],
    candidate: bool,
    words: int,
    shuffle_words: bool = False,
) -> list[str]:
    """Sentences in paragraphs of 2-4, about `words` words in all."""
    chosen: list[str] = [rng.choice(ceasefire)] if candidate else []
    while sum(len(s.split()) for s in chosen) < words:
        chosen.append(rng.choice(plain))
    if shuffle_words:
        chosen = [shuffled(rng, s) for s in chosen]
    rng.shuffle(chosen)
    paragraphs = []
    while chosen:
        size = rng.randint(2, 4)
        paragraphs.append(" ".join(chosen[:size]))
        chosen = chosen[size:]
    paragraphs[0] = rng.choice(DATELINES) + paragraphs[0]
    return paragraphs


def rss_item(number: int, title: str, paragraphs: list[str], published: datetime) -> str:
    body = "".join(f"<p>{escape(p, quote=False)}</p>" for p in paragraphs)
    return (
        "<item>"
        f"<title>{escape(title)}</title>"
        f"<link>https://bench.example.org/news/{number}</link>"
        f'<guid isPermaLink="false">bench-{number}</guid>'
        f"<pubDate>{published.strftime('%a, %d %b %Y %H:%M:%S +0000')}</pubDate>"
        f"<description><![CDATA[{body}]]></description>"
        "</item>"
    )


def write_feed(
    path: Path,
    count: int,
    *,
    seed: int = 12,
    ceasefire_share: float = 0.05,
    words: int = 280,
    corpus: str = "remixed",
) -> int:
    """Write an RSS file of `count` distinct articles; returns how many mention a ceasefire."""
    if corpus not in ("remixed", "shuffled"):
        raise ValueError(f"corpus is remixed or shuffled, not {corpus!r}")
    rng = random.Random(seed)
    plain, ceasefire = seed_sentences()
    candidates = set(rng.sample(range(count), round(count * ceasefire_share)))
    start = datetime(2026, 11, 1, tzinfo=UTC)
    seen: set[str] = set()
    items = []
    for number in range(count):
        while True:
            paragraphs = article_paragraphs(
                rng, plain, ceasefire, number in candidates, words, corpus == "shuffled"
            )
            if paragraphs[0] not in seen:  # distinct openings: distinct articles
                break
        seen.add(paragraphs[0])
        title = " ".join(rng.choice(plain).split()[:10]).rstrip(",.;:")
        items.append(rss_item(number, title, paragraphs, start + timedelta(minutes=number)))
    path.write_text(
        '<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        "<title>Bench wire</title><link>https://bench.example.org/</link>"
        "<description>bench</description>" + "\n".join(items) + "</channel></rss>\n",
        encoding="utf-8",
    )
    return len(candidates)
