"""The rules as the service sees them: the same loader, the same errors, the same matcher.

The folder is re-read when a rule file changes (size or modification time, checked on each
request), and a broken file keeps its last good version, as in the service. The NER model is
loaded only when `/try` first needs it: the rest of the console runs without it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ingest.errors import RuleError
from ingest.match.evaluation import Explanation
from ingest.match.matcher import Matcher
from ingest.match.nlp import BLANK, Ner, load_nlp
from ingest.models import Article, Match
from ingest.rules.files import RuleSet, load_rules_dir, rule_files
from ingest.rules.model import Rule
from ingest.service.rulebook import refuse_unserved
from ingest.service.trial import pasted_article
from ingest.settings import Settings

Signature = tuple[bool, tuple[tuple[str, int, int], ...]]


@dataclass
class LoadedRules:
    """One reading of the rules folder."""

    ruleset: RuleSet
    errors: tuple[RuleError, ...]
    matcher: Matcher | None = field(default=None)  # built by the first /try

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self.ruleset.rules

    @property
    def channels(self) -> list[str]:
        return sorted({rule.channel for rule in self.rules})


@dataclass(frozen=True, slots=True)
class Trial:
    """What /try found for one pasted article."""

    article: Article
    matches: list[Match]
    near_miss: Explanation | None  # the chosen rule, when it did not match


def _signature(rules_dir: Path) -> Signature:
    if not rules_dir.is_dir():
        return False, ()
    stats = []
    for path in rule_files(rules_dir):
        try:
            info = path.stat()  # follows symlinks: a ConfigMap's `..data` swap shows here
        except OSError:
            continue
        stats.append((str(path), info.st_mtime_ns, info.st_size))
    return True, tuple(stats)


class RuleView:
    """The current rules of `settings.rules_dir`, and a matcher over them for /try."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._signature: Signature | None = None
        self._loaded = LoadedRules(RuleSet(()), ())
        self._last_good: Mapping[str, tuple[Rule, ...]] = {}
        self._lock = asyncio.Lock()
        self._ner: Ner | None = None
        self._ner_lock = threading.Lock()

    async def current(self) -> LoadedRules:
        async with self._lock:
            signature = await asyncio.to_thread(_signature, self.settings.rules_dir)
            if signature != self._signature:
                self._loaded = await asyncio.to_thread(self._load)
                self._signature = signature
            return self._loaded

    def _load(self) -> LoadedRules:
        ruleset = load_rules_dir(self.settings.rules_dir, last_good=self._last_good)
        self._last_good = ruleset.files
        # With a blank model the service refuses `LABEL: any` rules; with a real one it serves
        # them, so they are refused here only when the setting says blank.
        blank = self.settings.spacy_model == BLANK
        ruleset, refused = refuse_unserved(ruleset, None) if blank else (ruleset, [])
        return LoadedRules(ruleset, (*ruleset.errors, *refused))

    def _ner_for(self, rules: tuple[Rule, ...]) -> Ner | None:
        if not any(rule.entities for rule in rules):
            return None
        with self._ner_lock:  # two first /try requests load the model once
            if self._ner is None:
                self._ner = load_nlp(self.settings.spacy_model, self.settings.ner_batch_size)
        return self._ner

    def _matcher(self, loaded: LoadedRules) -> Matcher:
        if loaded.matcher is None:
            loaded.matcher = Matcher(loaded.rules, self._ner_for(loaded.rules))
        return loaded.matcher

    async def trial(self, title: str, text: str, rule_id: str | None) -> Trial:
        """Run the service's matcher over a pasted article; explain `rule_id` if it missed."""
        loaded = await self.current()
        return await asyncio.to_thread(self._trial, loaded, title, text, rule_id)

    def _trial(self, loaded: LoadedRules, title: str, text: str, rule_id: str | None) -> Trial:
        matcher = self._matcher(loaded)
        article = pasted_article(title, text)
        matches = matcher.match(article)
        near = None
        if rule_id and rule_id in matcher and rule_id not in {m.rule_id for m in matches}:
            near = matcher.explain(article, rule_id)
        return Trial(article, matches, near)
