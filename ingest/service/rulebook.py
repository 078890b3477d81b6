"""The live rules: a folder of rule files, reloaded when a file is saved, added or deleted.

A file that breaks keeps its last good version running; every problem is logged as
`path:line: message`. The current Matcher is swapped in one assignment, so readers on other
threads always see a whole rule set.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
from collections.abc import Callable
from pathlib import Path

from ingest.errors import RuleError
from ingest.match.matcher import Matcher, model_problems
from ingest.match.nlp import Ner
from ingest.rules.files import RuleSet, load_rules_dir

log = logging.getLogger(__name__)

NerSource = Ner | Callable[[], Ner] | None
RULE_SUFFIXES = (".yaml", ".yml")
_MISSING_DIR_POLL_S = 1.0


class RuleBook:
    """Holds the current Matcher for a rules folder and keeps it up to date."""

    def __init__(self, rules_dir: Path, ner: NerSource = None, debounce_ms: int = 300) -> None:
        self.rules_dir = rules_dir
        self.debounce_ms = debounce_ms
        self._ner_source = ner
        self._ner: Ner | None = ner if isinstance(ner, Ner) else None
        self._ruleset = RuleSet(())
        self._matcher = Matcher((), self._ner)
        self._errors: tuple[RuleError, ...] = ()
        self.reload()

    @property
    def matcher(self) -> Matcher:
        return self._matcher

    @property
    def errors(self) -> tuple[RuleError, ...]:
        """The problems found by the last reload (their files run their last good version)."""
        return self._errors

    @property
    def ruleset(self) -> RuleSet:
        return self._ruleset

    def reload(self) -> tuple[RuleError, ...]:
        """Re-read the folder; broken files keep their last good version. Returns the errors."""
        ruleset = load_rules_dir(self.rules_dir, last_good=self._ruleset.files)
        errors = list(ruleset.errors)
        if not self.rules_dir.is_dir():
            # Most likely a checkout or a mount in progress: running with no rules would
            # silently drop alerts, so the previous rules stay until the folder is back.
            return self._report(errors)
        ner = self._ner_for(ruleset)
        ruleset, refused = refuse_unserved(ruleset, ner)
        errors += refused
        self._ruleset, self._matcher = ruleset, Matcher(ruleset, ner)
        return self._report(errors)

    def _report(self, errors: list[RuleError]) -> tuple[RuleError, ...]:
        # Said before `errors` shows them: whoever waits on `errors` finds the lines logged.
        for error in errors:
            log.error("%s", error)
        log.info("rules: %d active from %s", len(self._matcher.rules), self.rules_dir)
        self._errors = tuple(errors)
        return self._errors

    def _ner_for(self, ruleset: RuleSet) -> Ner | None:
        # A factory is called only once some rule has entity conditions: no model, no load time.
        wanted = any(rule.entities for rule in ruleset.rules)
        if self._ner is None and callable(self._ner_source) and wanted:
            self._ner = self._ner_source()
        return self._ner

    async def watch(self, stop: asyncio.Event) -> None:
        """Reload whenever a rule file changes, until `stop` is set."""
        from watchfiles import awatch

        while not stop.is_set():
            if not self.rules_dir.is_dir():
                # A removed folder cannot be watched: wait for it to come back, then re-read it.
                await _wait(stop, _MISSING_DIR_POLL_S)
                if self.rules_dir.is_dir():
                    await asyncio.to_thread(self.reload)
                continue
            async for changes in awatch(
                self.rules_dir, debounce=self.debounce_ms, step=50, stop_event=stop,
                recursive=False,
            ):  # fmt: skip
                if any(_is_rule_change(path) for _, path in changes):
                    await asyncio.to_thread(self.reload)
                if not self.rules_dir.is_dir():
                    break


def refuse_unserved(ruleset: RuleSet, ner: Ner | None) -> tuple[RuleSet, list[RuleError]]:
    """The rules without those the model cannot serve (`LABEL: any` with no model), and an
    error for each one refused."""
    unserved = model_problems(ruleset.rules, ner)
    if not unserved:
        return ruleset, []
    # The model does not change while the service runs, so such a rule could never be served:
    # it is refused on its own and every other rule goes live.
    refused = {e.rule_id for e in unserved}
    kept = tuple(r for r in ruleset.rules if r.id not in refused)
    errors = [RuleError(e.path, e.line, e.message + "; rule refused", e.rule_id) for e in unserved]
    return dataclasses.replace(ruleset, rules=kept), errors


def _is_rule_change(path: str) -> bool:
    # A Kubernetes ConfigMap volume never writes the visible files: it swaps the `..data`
    # symlink they point through, so that swap counts as an edit of every rule file.
    return path.endswith(RULE_SUFFIXES) or os.path.basename(path).startswith("..data")


async def _wait(stop: asyncio.Event, timeout_s: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout_s)
