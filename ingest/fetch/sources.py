"""feeds.yaml -> Source list.

A broken file raises ConfigError; one bad entry is reported as `path:line: message` and the
other entries still load.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ingest.errors import ConfigError
from ingest.fetch.schedule import interval_in_force_s
from ingest.models import FullText, Source, SourceKind
from ingest.settings import Settings
from ingest.yamlfile import LineDict, LineList, load_yaml_file

log = logging.getLogger(__name__)

ENTRY_KEYS = frozenset({"url", "name", "interval_s", "allow_private", "group", "full_text"})
FULL_TEXT_MODES: tuple[FullText, ...] = ("auto", "always", "never")


@dataclass(frozen=True, slots=True)
class SourceList:
    """The sources that loaded, and one `path:line: message` per entry that did not."""

    sources: list[Source] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # values loaded, but not honoured as written


class EntryError(ConfigError):
    """One bad feeds.yaml entry."""

    def __init__(self, line: int, message: str) -> None:
        self.line = line
        super().__init__(message)


def load_sources(path: Path, settings: Settings) -> SourceList:
    """Read feeds.yaml; raises ConfigError only when the whole file is unusable."""
    data = load_yaml_file(path)
    entries = feed_entries(data, path)
    result = SourceList()
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        line = entries.lines[index]
        try:
            source = build_source(entry, line, path.parent, settings)
            _check_duplicate(source, seen)
        except EntryError as exc:
            result.errors.append(f"{path}:{exc.line}: {exc}")
            continue
        seen[source.key] = source.line
        result.sources.append(source)
        note = interval_note(source, settings)
        if note:
            result.notes.append(f"{path}:{_key_line(entry, 'interval_s', line)}: {note}")
        note = full_text_note(entry, source)
        if note:
            result.notes.append(f"{path}:{_key_line(entry, 'full_text', line)}: {note}")
    return result


def interval_note(source: Source, settings: Settings) -> str | None:
    """Why a source will not be polled at the interval written for it, if it will not."""
    in_force_s = interval_in_force_s(source, settings)
    if in_force_s == source.interval_s:
        return None
    return (
        f"interval_s {source.interval_s:g} is below the floor for http(s) sources "
        f"(WIREWATCH_MIN_INTERVAL_S={settings.min_interval_s:g}); {source.url} is polled "
        f"every {in_force_s:g} s at the most"
    )


def full_text_note(entry: Any, source: Source) -> str | None:
    """Why a `full_text:` written for a local source is not honoured (it never fetches pages)."""
    written = entry.get("full_text") if isinstance(entry, dict) else None
    if source.kind == "http" or written in (None, "never"):
        return None
    return (
        f"full_text {written} is ignored for {source.url}: local files and spools never fetch pages"
    )


def feed_entries(data: Any, path: Path) -> LineList:
    if data is None:
        raise ConfigError(f"{path}:1: empty file; expected `feeds:` with a list of sources")
    if not isinstance(data, LineDict) or "feeds" not in data:
        line = getattr(data, "line", 1)
        raise ConfigError(f"{path}:{line}: expected a mapping with a `feeds:` list")
    feeds = data["feeds"]
    if feeds is None:
        return _empty_list(data.lines["feeds"])
    if not isinstance(feeds, LineList):
        raise ConfigError(f"{path}:{data.lines['feeds']}: `feeds` must be a list of sources")
    return feeds


def _empty_list(line: int) -> LineList:
    empty = LineList()
    empty.line, empty.lines = line, []
    return empty


def _check_duplicate(source: Source, seen: dict[str, int]) -> None:
    if source.key in seen:
        raise EntryError(
            source.line, f"duplicate source {source.url} (first at line {seen[source.key]})"
        )


def build_source(entry: Any, line: int, base_dir: Path, settings: Settings) -> Source:
    """One feeds.yaml entry -> Source; raises EntryError naming what is wrong."""
    if isinstance(entry, str):  # `- https://...` shorthand
        entry = {"url": entry}
    if not isinstance(entry, dict):
        raise EntryError(line, "a source must be a mapping with at least `url:`")
    unknown = sorted(set(entry) - ENTRY_KEYS)
    if unknown:
        allowed = ", ".join(sorted(ENTRY_KEYS))
        raise EntryError(
            _key_line(entry, unknown[0], line), f"unknown key '{unknown[0]}' ({allowed})"
        )
    url, kind = _resolve_url(_required_str(entry, "url", line), line, base_dir)
    return Source(
        url=url,
        name=_optional_str(entry, "name", line) or default_name(url, kind),
        kind=kind,
        interval_s=_interval_s(entry, line, settings),
        allow_private=_optional_bool(entry, "allow_private", line),
        line=line,
        group=_optional_str(entry, "group", line),
        full_text=_full_text(entry, line, kind),
    )


def _key_line(entry: dict[str, Any], key: str, default: int) -> int:
    lines = getattr(entry, "lines", {})
    return int(lines.get(key, default))


def _required_str(entry: dict[str, Any], key: str, line: int) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value.strip():
        raise EntryError(_key_line(entry, key, line), f"`{key}` must be a non-empty string")
    return value.strip()


def _optional_str(entry: dict[str, Any], key: str, line: int) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str | int | float) or isinstance(value, bool):
        raise EntryError(_key_line(entry, key, line), f"`{key}` must be a string")
    return str(value).strip() or None


def _optional_bool(entry: dict[str, Any], key: str, line: int) -> bool:
    value = entry.get(key, False)
    if not isinstance(value, bool):
        raise EntryError(_key_line(entry, key, line), f"`{key}` must be true or false")
    return value


def _full_text(entry: dict[str, Any], line: int, kind: SourceKind) -> FullText:
    """`auto` for http(s) sources unless written; local files and spools never fetch pages."""
    value = entry.get("full_text", "auto")
    for mode in FULL_TEXT_MODES:
        if value == mode:
            return mode if kind == "http" else "never"
    where = _key_line(entry, "full_text", line)
    raise EntryError(where, f"`full_text` must be auto, always or never, not {value!r}")


def _interval_s(entry: dict[str, Any], line: int, settings: Settings) -> float:
    value = entry.get("interval_s")
    if value is None:
        return settings.default_interval_s
    if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
        where = _key_line(entry, "interval_s", line)
        raise EntryError(where, f"`interval_s` must be a positive number of seconds, not {value!r}")
    return float(value)


def _resolve_url(raw: str, line: int, base_dir: Path) -> tuple[str, SourceKind]:
    """(url, kind): http(s) URLs as written; local paths made absolute, file:// kept."""
    parts = urlsplit(raw)
    scheme = parts.scheme.lower()
    if scheme in ("http", "https"):
        if not parts.hostname:
            raise EntryError(line, f"`url` has no host: {raw}")
        return raw, "http"
    if scheme == "file":
        path = Path(unquote(parts.path))
        return raw, _local_kind(path, raw, line)
    if scheme and len(scheme) > 1:  # one letter is a Windows drive
        raise EntryError(line, f"unsupported URL scheme '{scheme}:' (http, https, file, or a path)")
    path = Path(raw).expanduser()
    path = path if path.is_absolute() else (base_dir / path)
    return str(path.resolve()), _local_kind(path, raw, line)


def _local_kind(path: Path, raw: str, line: int) -> SourceKind:
    if path.is_dir():
        return "spool"
    if path.is_file():
        return "file"
    raise EntryError(line, f"no such file or folder: {raw} (looked at {path})")


def default_name(url: str, kind: SourceKind) -> str:
    if kind == "http":
        parts = urlsplit(url)
        return f"{parts.hostname}{parts.path}".rstrip("/")
    return Path(unquote(urlsplit(url).path) if url.startswith("file:") else url).name or url


@dataclass
class SourcesFile:
    """feeds.yaml, re-read when it changes; a broken edit keeps the last good sources."""

    settings: Settings
    sources: tuple[Source, ...] = ()
    mtime_ns: int = -1

    def refresh(self) -> bool:
        """Reload if the file changed; True when the source list was (re)loaded.

        The first load raises ConfigError for an unusable file (nothing to poll); later ones
        log the error and keep polling the last good sources.
        """
        path = self.settings.feeds_file
        try:
            mtime_ns = path.stat().st_mtime_ns
        except OSError:
            mtime_ns = 0
        if mtime_ns == self.mtime_ns:
            return False
        first = self.mtime_ns == -1
        self.mtime_ns = mtime_ns
        try:
            loaded = load_sources(path, self.settings)
        except ConfigError as exc:
            if first:
                raise
            log.error("%s (still polling the %d sources loaded before)", exc, len(self.sources))
            return False
        for error in loaded.errors:
            log.error("%s", error)
        for note in loaded.notes:
            log.warning("%s", note)
        if loaded.sources or not loaded.errors:
            self.sources = tuple(loaded.sources)
        log.info("%d sources from %s", len(self.sources), path)
        return True
