"""Adding sources to feeds.yaml the way a person would: new entries typed at the end of the list.

The file is never loaded and dumped again (that would drop the user's comments, blank lines and
quoting). New entries are composed as text in the list's own indentation and inserted after its
last line; the result is parsed before it is written, and must hold exactly the old entries
followed by the new ones, or nothing is written. The write is atomic (a temporary file renamed
over the old one) and keeps the file's line endings.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ingest.errors import ConfigError
from ingest.fetch.sources import feed_entries
from ingest.yamlfile import LineDict, decode_yaml, load_yaml_text

DEFAULT_PORTS = {"http": 80, "https": 443}
_EMPTY_FEEDS = re.compile(
    r"^(?P<key>\s*feeds\s*:)\s*(?:\[\s*\]|~|null|Null|NULL)?\s*(?P<note>#.*)?$"
)
_ITEM = re.compile(r"^(?P<dash>\s*)-(?P<gap>\s+|$)")
_PLAIN = re.compile(r"^[^\s\-?:,\[\]{}#&*!|>'\"%@`][^\n\r\t]*$")  # what may stay unquoted


@dataclass(frozen=True, slots=True)
class NewEntry:
    """A source to append to feeds.yaml."""

    url: str
    name: str | None = None
    group: str | None = None
    allow_private: bool = False

    def as_data(self) -> dict[str, Any]:
        """What the entry must read back as."""
        data: dict[str, Any] = {"url": self.url}
        if self.name:
            data["name"] = self.name
        if self.group:
            data["group"] = self.group
        if self.allow_private:
            data["allow_private"] = True
        return data


def url_identity(url: str) -> str:
    """The same http(s) address however it is spelled (case of scheme and host, default port,
    fragment); anything else as written."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or not parts.hostname:
        return url.strip()
    try:
        port = parts.port
    except ValueError:
        return url.strip()
    netloc = parts.hostname + (f":{port}" if port and port != DEFAULT_PORTS[scheme] else "")
    query = f"?{parts.query}" if parts.query else ""
    return f"{scheme}://{netloc}{parts.path or '/'}{query}"


def known_urls(path: Path) -> dict[str, int]:
    """The address (`url_identity`) of every entry in feeds.yaml, broken ones too, with its line;
    empty when there is no file yet."""
    text = _read(path)
    if not _has_content(text):
        return {}
    entries = feed_entries(load_yaml_text(text, str(path)), path)
    known: dict[str, int] = {}
    for entry, line in zip(entries, entries.lines, strict=True):
        url = entry.get("url") if isinstance(entry, dict) else entry
        if isinstance(url, str) and url.strip():
            known.setdefault(url_identity(url), line)
    return known


def append_entries(path: Path, entries: Sequence[NewEntry], comment: str | None = None) -> None:
    """Add these entries at the end of the `feeds:` list (with a comment line above them)."""
    if not entries:
        return
    raw = path.read_bytes() if path.exists() else b""
    text = _read(path)
    newline = "\r\n" if b"\r\n" in raw else "\n"
    updated = _with_entries(text, path, entries, comment)
    _check(text, updated, path, entries)
    _write(path, updated.replace("\n", newline))


def _read(path: Path) -> str:
    try:
        return decode_yaml(path.read_bytes(), str(path)) if path.exists() else ""
    except OSError as exc:
        raise ConfigError(f"{path}:1: cannot read: {exc.strerror or exc}") from exc


def _has_content(text: str) -> bool:
    return any(line.strip() and not line.lstrip().startswith("#") for line in text.split("\n"))


def _with_entries(text: str, path: Path, entries: Sequence[NewEntry], comment: str | None) -> str:
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()  # the final newline; put back on return
    if not _has_content(text):
        return "\n".join([*lines, "feeds:", *_block(entries, 2, comment)]) + "\n"
    data = load_yaml_text(text, str(path))
    feeds = feed_entries(data, path)  # ConfigError with path:line when there is no list
    assert isinstance(data, LineDict)
    key_at = data.lines["feeds"] - 1
    key_indent = _indent(lines[key_at])
    if feeds:
        if feeds.line - 1 == key_at:
            raise ConfigError(
                f"{path}:{key_at + 1}: `feeds:` is written as a [...] list; write one `- url:` "
                "per line, and wirewatch can add to it"
            )
        dash = _dash_indent(lines, feeds.lines[0] - 1)
    else:
        lines[key_at] = _bare_key(lines[key_at], path, key_at + 1)
        dash = key_indent + 2
    at = _end_of_list(lines, key_at, key_indent)
    return "\n".join(lines[:at] + _block(entries, dash, comment) + lines[at:]) + "\n"


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _dash_indent(lines: list[str], first_item: int) -> int:
    """The column of the dash that opens the first item (on its line, or alone above it)."""
    for index in range(first_item, -1, -1):
        found = _ITEM.match(lines[index])
        if found:
            return len(found["dash"])
    return _indent(lines[first_item])


def _bare_key(line: str, path: Path, number: int) -> str:
    """`feeds: []` or `feeds: ~` as `feeds:`, ready for items below it."""
    found = _EMPTY_FEEDS.match(line)
    if not found:
        raise ConfigError(
            f"{path}:{number}: `feeds:` is not written as a list of `- url:` lines; "
            "wirewatch cannot add to it"
        )
    return found["key"] + (f"  {found['note']}" if found["note"] else "")


def _end_of_list(lines: list[str], key_at: int, key_indent: int) -> int:
    """Where new items go: after the list's last line, before whatever follows the list."""
    end = len(lines)
    for index in range(key_at + 1, len(lines)):
        line = lines[index]
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or _indent(line) > key_indent:
            continue
        if stripped.startswith("-") and _indent(line) == key_indent:
            continue  # items written at the key's own indentation
        end = index
        break
    if end < len(lines):  # comments right above the next key belong to it
        while end - 1 > key_at and lines[end - 1].lstrip().startswith("#"):
            if _indent(lines[end - 1]) > key_indent:
                break
            end -= 1
    while end - 1 > key_at and not lines[end - 1].strip():
        end -= 1
    return end


def _block(entries: Sequence[NewEntry], dash: int, comment: str | None) -> list[str]:
    pad, key_pad = " " * dash, " " * (dash + 2)
    block = [f"{pad}# {' '.join(comment.split())}"] if comment else []
    for entry in entries:
        block.append(f"{pad}- url: {yaml_scalar(entry.url)}")
        if entry.name:
            block.append(f"{key_pad}name: {yaml_scalar(entry.name)}")
        if entry.group:
            block.append(f"{key_pad}group: {yaml_scalar(entry.group)}")
        if entry.allow_private:
            block.append(f"{key_pad}allow_private: true")
    return block


def yaml_scalar(value: str) -> str:
    """The value as a YAML scalar that reads back as this very string."""
    plain = bool(_PLAIN.match(value)) and not value.endswith((" ", ":"))
    if plain and ": " not in value and " #" not in value and _reads_back(value):
        return value
    return _double_quoted(value)


def _reads_back(value: str) -> bool:
    try:
        loaded = load_yaml_text(f"v: {value}\n", "<value>")
    except ConfigError:
        return False
    return isinstance(loaded, dict) and loaded.get("v") == value and type(loaded["v"]) is str


def _double_quoted(value: str) -> str:
    out = []
    for char in value:
        code = ord(char)
        if char in '"\\':
            out.append("\\" + char)
        elif char.isprintable():
            out.append(char)
        elif code < 0x100:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def _check(before: str, after: str, path: Path, entries: Sequence[NewEntry]) -> None:
    """The new text must hold the old entries unchanged, then exactly the new ones."""
    old = (
        list(feed_entries(load_yaml_text(before, str(path)), path)) if _has_content(before) else []
    )
    new = list(feed_entries(load_yaml_text(after, str(path)), path))
    expected = old + [entry.as_data() for entry in entries]
    if new != expected:
        raise ConfigError(
            f"{path}:1: adding to this file would change what it says (a layout wirewatch does "
            "not follow); nothing was written: add the entries by hand"
        )


def _write(path: Path, text: str) -> None:
    path = path.resolve()  # a symlinked feeds.yaml stays a symlink; its target is rewritten
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = path.stat().st_mode & 0o7777 if path.exists() else None
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8", newline="") as out:
            out.write(text)
        if mode is not None:
            os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
