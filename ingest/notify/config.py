"""notify.yaml -> destinations. Every problem is reported as `path:line: message`, with the
passwords and tokens of the URL masked; a file with any problem is refused whole (the caller keeps
running its last good version), so a half-edited file never sends half its messages.

```yaml
notify:
  - id: desk-email
    channels: [alerts:ceasefire, "alerts:*"]
    to: "mailto://${SMTP_USER}:${SMTP_PASS}@smtp.example.org?to=desk@example.org"
    digest_s: 0
```
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.notify.secrets import Redactor, mask_unparsed, url_secrets
from ingest.notify.sender import Service, known_scheme, parse
from ingest.yamlfile import LineDict, LineList, YamlSyntaxError, load_yaml_file

KEYS = ("id", "channels", "to", "digest_s")
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")  # it names Redis keys and metric labels
ENV_RE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
PATTERN_CHARS = frozenset("*?[")


@dataclass(frozen=True, slots=True)
class Destination:
    """Where some channels' alerts go. `url` holds secrets: never print it; print `shown`."""

    id: str
    channels: tuple[str, ...]
    url: str = field(repr=False)
    digest_s: float
    line: int
    shown: str = field(compare=False)
    service: Service = field(compare=False, repr=False)

    @property
    def patterns(self) -> tuple[str, ...]:
        return tuple(c for c in self.channels if PATTERN_CHARS & set(c))

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c for c in self.channels if not PATTERN_CHARS & set(c))


@dataclass(frozen=True, slots=True)
class NotifyConfig:
    destinations: tuple[Destination, ...] = ()
    errors: tuple[str, ...] = ()


class _EntryError(Exception):
    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(message)


def load_notify_file(
    path: Path, redact: Redactor, env: Mapping[str, str] | None = None
) -> NotifyConfig:
    """Read notify.yaml. Secrets of every URL found are added to `redact` before anything else."""
    env = os.environ if env is None else env
    try:
        entries = _entries(load_yaml_file(path), path)
    except YamlSyntaxError as exc:
        return NotifyConfig(errors=(str(exc),))
    except _EntryError as exc:
        return NotifyConfig(errors=(f"{path}:{exc.line}: {exc}",))
    destinations: list[Destination] = []
    errors: list[str] = []
    seen: dict[str, int] = {}
    for entry, line in zip(entries, entries.lines, strict=True):
        try:
            destination = _destination(entry, line, redact, env)
            if destination.id in seen:
                raise _EntryError(line, f"duplicate id (first at line {seen[destination.id]})")
        except _EntryError as exc:
            who = f"destination '{entry['id']}': " if _has_str(entry, "id") else ""
            errors.append(redact(f"{path}:{exc.line}: {who}{exc}"))
            continue
        seen[destination.id] = line
        destinations.append(destination)
    return NotifyConfig(tuple(destinations), tuple(errors))


def _has_str(entry: Any, key: str) -> bool:
    return isinstance(entry, dict) and isinstance(entry.get(key), str)


def _entries(data: Any, path: Path) -> LineList:
    if data is None:
        raise _EntryError(1, "empty file; expected `notify:` with a list of destinations")
    if not isinstance(data, LineDict) or "notify" not in data:
        raise _EntryError(getattr(data, "line", 1), "expected a mapping with a `notify:` list")
    for key in data:
        if key != "notify":
            raise _EntryError(data.lines[key], f"unknown key '{key}' (expected 'notify')")
    items = data["notify"]
    if items is None:
        empty = LineList()
        empty.line, empty.lines = data.lines["notify"], []
        return empty
    if not isinstance(items, LineList):
        raise _EntryError(data.lines["notify"], "`notify` must be a list of destinations")
    return items


def _line_of(entry: LineDict, key: str, default: int) -> int:
    return int(getattr(entry, "lines", {}).get(key, default))


def _destination(entry: Any, line: int, redact: Redactor, env: Mapping[str, str]) -> Destination:
    if not isinstance(entry, LineDict):
        raise _EntryError(line, "a destination must be a mapping with id, channels and to")
    unknown = [k for k in entry if k not in KEYS]
    if unknown:
        raise _EntryError(_line_of(entry, unknown[0], line),
                          f"unknown key '{unknown[0]}' (expected {', '.join(KEYS)})")  # fmt: skip
    ident = _required_str(entry, "id", line)
    if not ID_RE.match(ident):
        why = "`id` may hold letters, digits, '.', '_' and '-' (64 at most)"
        raise _EntryError(_line_of(entry, "id", line), why)
    channels = _channels(entry, line)
    digest_s = _digest_s(entry, line)
    to_line = _line_of(entry, "to", line)
    url = _expand(_required_str(entry, "to", line), to_line, env)
    try:
        service = _service(url, to_line)
    except _EntryError:
        redact.add(url_secrets(url, None))  # unparsed: every piece of it is treated as secret
        raise
    redact.add(url_secrets(url, service.shown))
    return Destination(ident, channels, url, digest_s, line, service.shown, service)


def _required_str(entry: LineDict, key: str, line: int) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise _EntryError(_line_of(entry, key, line), f"`{key}` must be a non-empty string")
    return value.strip()


def _expand(url: str, line: int, env: Mapping[str, str]) -> str:
    missing = [name for name in ENV_RE.findall(url) if name not in env]
    if missing:
        raise _EntryError(line, f"`to` uses ${{{missing[0]}}}, which is not set in the environment")
    return ENV_RE.sub(lambda m: env[m.group(1)], url)


def _channels(entry: LineDict, line: int) -> tuple[str, ...]:
    value = entry.get("channels")
    if isinstance(value, str):
        value = [value]
    ok = isinstance(value, list) and value and all(isinstance(c, str) and c.strip() for c in value)
    if not ok:
        raise _EntryError(_line_of(entry, "channels", line),
                          "`channels` must be a list of channel names or patterns")  # fmt: skip
    return tuple(dict.fromkeys(c.strip() for c in value or ()))


def _digest_s(entry: LineDict, line: int) -> float:
    value = entry.get("digest_s", 0)
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise _EntryError(_line_of(entry, "digest_s", line),
                          "`digest_s` must be a number of seconds, 0 or more")  # fmt: skip
    return float(value)


def _service(url: str, line: int) -> Service:
    scheme = url.partition("://")[0]
    if "://" not in url or not scheme:
        raise _EntryError(line, f"`to` is not an Apprise URL ({mask_unparsed(url)})")
    if not known_scheme(url):
        raise _EntryError(line, f"`to`: unknown Apprise scheme '{scheme}' ({mask_unparsed(url)})")
    service = parse(url)
    if service is None:
        raise _EntryError(line, f"`to`: malformed {scheme}:// URL ({mask_unparsed(url)})")
    return service
