"""Real news text in the repository, as articles: the corpus for NER agreement and name benches.

Every article written out in full that the project carries: the seed stories and the bundled
sample feed (`seeds/`), the wire stories of the normalize and parse fixtures, the story-dedup
cases (items with a `body`) and every article of the matching cases. Each comes back with a
name that says where it is from.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest.models import Article  # noqa: E402
from ingest.service.trial import load_articles, pasted_article  # noqa: E402
from ingest.settings import Settings  # noqa: E402
from ingest.yamlfile import load_yaml_file  # noqa: E402

FILES = (
    "seeds/*.txt",
    "seeds/sample-feed.xml",
    "tests/normalize/cases/stories/*.txt",
    "tests/parse/cases/*story*.txt",
)
CASE_FILES = (
    "tests/match/cases/*.yaml",
    "tests/match/explain_cases.yaml",
    "tests/stories/cases/*.yaml",
)
CEASEFIRE = re.compile(r"cease[- ]?fires?", re.IGNORECASE)
MIN_PARAGRAPH_WORDS = 8


def _file_articles() -> Iterator[tuple[str, Article]]:
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    for pattern in FILES:
        for path in sorted(ROOT.glob(pattern)):
            articles, _ = load_articles([path], settings)
            for number, article in enumerate(articles):
                name = str(path.relative_to(ROOT))
                yield (f"{name}#{number}" if len(articles) > 1 else name), article


def _case_articles() -> Iterator[tuple[str, Article]]:
    for pattern in CASE_FILES:
        for path in sorted(ROOT.glob(pattern)):
            data = load_yaml_file(path)
            name = str(path.relative_to(ROOT))
            for key, field in (("articles", "text"), ("cases", "text"), ("items", "body")):
                for number, item in enumerate(data.get(key) or ()):
                    if isinstance(item, dict) and item.get(field):
                        title = str(item.get("title", ""))
                        yield f"{name}:{key}[{number}]", pasted_article(title, str(item[field]))


def real_articles() -> list[tuple[str, Article]]:
    """(where it is from, article) for every real article in the repository, distinct texts."""
    seen: set[str] = set()
    found = []
    for name, article in (*_file_articles(), *_case_articles()):
        if article.text.strip() and article.text not in seen:
            seen.add(article.text)
            found.append((name, article))
    return found


def paragraphs() -> list[tuple[str, str]]:
    """(where it is from, paragraph) for every paragraph of MIN_PARAGRAPH_WORDS words or more."""
    found: dict[str, str] = {}
    for name, article in real_articles():
        for line in article.body.splitlines():
            line = " ".join(line.split())
            if len(line.split()) >= MIN_PARAGRAPH_WORDS:
                found.setdefault(line, name.split("#")[0].split(":")[0])
    return [(name, text) for text, name in found.items()]
