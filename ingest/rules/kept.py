"""Rule files parsed once: a good file's rules are kept between processes.

Reading YAML into line-numbered nodes and checking every rule costs ~40 us a rule, so a folder
of 10,000 rules took ~0.4 s of every `wirewatch` start. A file that loaded without a problem is
kept as JSON (plain data: nothing in the cache folder can run code) under the cache folder
(`ingest.cachedir`), named by its path and its bytes, and with the digest of the code that
parses rules: other bytes, another path or another wirewatch give another name, so a kept
file is never stale. A file with problems is never kept (its messages come from parsing).
When a file changes, the entry for its old bytes is removed as the new one is written.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

from ingest.cachedir import cache_dir
from ingest.rules.model import EntityCondition, NameSpec, NearCondition, Rule

log = logging.getLogger(__name__)

FORMAT = 1  # of the JSON below
_PARSING = ("model.py", "parse.py", "files.py", "kept.py")  # what decides a file's rules


@functools.cache
def _code_digest() -> str:
    digest = hashlib.blake2b(f"format {FORMAT}".encode(), digest_size=8)
    here = Path(__file__).parent
    for name in _PARSING:
        digest.update((here / name).read_bytes())
    return digest.hexdigest()


def _names(path: Path, raw: bytes) -> tuple[str, str]:
    """(the prefix every entry of this path has, this entry's file name)."""
    where = hashlib.blake2b(str(path.resolve()).encode("utf-8"), digest_size=8).hexdigest()
    what = hashlib.blake2b(raw, digest_size=16, key=_code_digest().encode()).hexdigest()
    return where, f"{where}-{what}.json"


def _folder() -> Path:
    return cache_dir() / "rules"


def kept_rules(path: Path, raw: bytes) -> list[Rule] | None:
    """The rules kept for these bytes at this path, or None."""
    _where, name = _names(path, raw)
    try:
        data = json.loads((_folder() / name).read_bytes())
        return [_rule(item, str(path)) for item in data]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, TypeError, KeyError, IndexError) as exc:
        log.debug("kept rules %s not usable: %s", name, exc)
        return None


def keep_rules(path: Path, raw: bytes, rules: list[Rule]) -> None:
    """Keep a good file's rules for the next process; replaces what was kept for the path."""
    where, name = _names(path, raw)
    folder = _folder()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, part = tempfile.mkstemp(dir=folder, prefix=".", suffix=".part")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            # dumps, not dump: `json.dump` streams through the pure-Python encoder, 10x slower
            # here, and this is most of a first start with 10,000 rules.
            out.write(json.dumps([_plain(rule) for rule in rules], ensure_ascii=False))
        os.replace(part, folder / name)  # whole or not at all
        for old in folder.glob(f"{where}-*.json"):
            if old.name != name:
                old.unlink(missing_ok=True)
    except OSError as exc:  # read-only or full: parse again next time
        log.debug("cannot keep the rules of %s in %s: %s", path, folder, exc)


def _plain(rule: Rule) -> list[Any]:
    return [
        rule.id, rule.channel, rule.all, rule.any, rule.none,
        [[c.label, None if c.names is None else [[n.name, n.aliases] for n in c.names]]
         for c in rule.entities],
        [[n.a, n.b, n.within] for n in rule.near],
        rule.line, rule.term_lines,
    ]  # fmt: skip


def _rule(item: list[Any], path: str) -> Rule:
    rule_id, channel, all_, any_, none, entities, near, line, term_lines = item
    return Rule(
        rule_id, channel, tuple(all_), tuple(any_), tuple(none),
        tuple(EntityCondition(label, None if names is None else
                              tuple(NameSpec(n, tuple(a)) for n, a in names))
              for label, names in entities),
        tuple(NearCondition(a, b, within) for a, b, within in near),
        path, line, tuple((t, n) for t, n in term_lines),
    )  # fmt: skip
