"""Local sources: a feed file read when it changed, a spool folder read file by file.

Plain blocking file I/O; `Fetcher` runs these in a worker thread. Documents carry their file
metadata as headers, `content-length` and `x-file-mtime-ns`: the spool bookkeeping in
`schedule` reads them to remember which files were ingested.
"""

from __future__ import annotations

import logging
import mimetypes
import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from ingest.errors import TooLarge
from ingest.fetch.schedule import SourceState
from ingest.models import Document, FetchResult, Source
from ingest.settings import Settings

log = logging.getLogger(__name__)

SPOOL_MAX_FILES_PER_POLL = 500  # a burst is read in polls of this many files, one after another
SPOOL_SKIP_SUFFIXES = (".tmp", ".part", ".partial", ".swp", "~")
SPOOL_LEFT_NAMES_MAX = 20  # names of files left for later that a result carries, for messages


def local_path(url: str) -> Path:
    """The path of a file:// URI or a plain local path."""
    if url.startswith("file:"):
        return Path(url2pathname(unquote(urlsplit(url).path)))
    return Path(url)


def file_signature(stat: os.stat_result) -> str:
    return f"{stat.st_mtime_ns}-{stat.st_size}"


def read_file_source(source: Source, state: SourceState, settings: Settings) -> FetchResult:
    """A local feed file; not_modified when its mtime and size are unchanged."""
    path = local_path(source.url)
    stat = path.stat()
    signature = file_signature(stat)
    if state.etag == signature:
        return FetchResult(source=source, documents=(), not_modified=True, etag=signature)
    document = _file_document(path, stat, settings.max_body_bytes)
    return FetchResult(source=source, documents=(document,), etag=signature)


def _file_document(path: Path, stat: os.stat_result, cap_bytes: int) -> Document:
    if stat.st_size > cap_bytes:
        raise TooLarge(f"{path} is {stat.st_size} bytes, over the {cap_bytes}-byte cap")
    with path.open("rb") as handle:
        body = handle.read(cap_bytes + 1)
    if len(body) > cap_bytes:
        raise TooLarge(f"{path} grew over the {cap_bytes}-byte cap while being read")
    headers = (("content-length", str(len(body))), ("x-file-mtime-ns", str(stat.st_mtime_ns)))
    content_type = mimetypes.guess_type(path.name)[0] or ""
    return Document(url=path.as_uri(), body=body, content_type=content_type, headers=headers)


def spool_name(path: Path) -> str:
    """The name a spool file is tracked by: the last segment of its file:// URI."""
    return path.as_uri().rsplit("/", 1)[-1]


def is_in_progress_name(name: str) -> bool:
    """Names that writers use while a file is not complete; they wait until renamed."""
    return name.startswith(".") or name.endswith(SPOOL_SKIP_SUFFIXES)


def read_spool(source: Source, state: SourceState, settings: Settings, now_s: float) -> FetchResult:
    """Every landed file in the folder not ingested yet, oldest first, one Document each."""
    listing = list_spool(local_path(source.url), state, now_s, settings.spool_settle_s)
    documents = []
    for path, stat in listing.ready[:SPOOL_MAX_FILES_PER_POLL]:
        try:
            documents.append(_file_document(path, stat, settings.max_body_bytes))
        except TooLarge as exc:
            log.warning("spool %s: skipped: %s", source.url, exc)
        except FileNotFoundError:  # taken away between listing and reading
            continue
    return FetchResult(
        source=source,
        documents=tuple(documents),
        not_modified=not documents,
        settles_in_s=listing.settles_in_s,
        more_pending=len(listing.ready) > SPOOL_MAX_FILES_PER_POLL,
        left_for_later=listing.in_progress[:SPOOL_LEFT_NAMES_MAX],
    )


@dataclass(frozen=True, slots=True)
class SpoolListing:
    ready: list[tuple[Path, os.stat_result]]  # landed and not ingested yet, oldest first
    settles_in_s: float | None  # the soonest moment a file still changing counts as landed
    in_progress: tuple[str, ...]  # names that wait for a rename


def list_spool(folder: Path, state: SourceState, now_s: float, settle_s: float) -> SpoolListing:
    seen = {(name, size, mtime) for name, size, mtime in state.spool_seen}
    settle_ns = int((now_s - settle_s) * 1e9)
    ready, in_progress = [], []
    soonest_ns: int | None = None  # mtime of the oldest file still changing
    with os.scandir(folder) as entries:
        for entry in entries:
            if not entry.is_file():
                continue
            if is_in_progress_name(entry.name):
                in_progress.append(entry.name)
                continue
            stat = entry.stat()
            path = Path(entry.path)
            if stat.st_mtime_ns <= state.spool_horizon_ns:
                continue
            if (spool_name(path), stat.st_size, stat.st_mtime_ns) in seen:
                continue
            if stat.st_mtime_ns > settle_ns:
                soonest_ns = min(soonest_ns or stat.st_mtime_ns, stat.st_mtime_ns)
                continue
            ready.append((path, stat))
    ready.sort(key=lambda item: (item[1].st_mtime_ns, item[0].name))
    settles_in_s = None
    if soonest_ns is not None:
        settles_in_s = max(0.0, soonest_ns / 1e9 + settle_s - now_s) + 0.01
    return SpoolListing(ready, settles_in_s, tuple(sorted(in_progress)))
