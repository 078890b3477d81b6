"""Local sources: a feed file read when it changed, a spool folder read file by file.

Plain blocking file I/O; `Fetcher` runs these in a worker thread. Documents carry their file
metadata as headers, `content-length` and `x-file-mtime-ns`: the spool bookkeeping in
`schedule` reads them to remember which files were ingested.
"""

from __future__ import annotations

import logging
import mimetypes
import os
from pathlib import Path
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

from ingest.errors import TooLarge
from ingest.fetch.schedule import SourceState
from ingest.models import Document, FetchResult, Source
from ingest.settings import Settings

log = logging.getLogger(__name__)

SPOOL_SETTLE_S = 1.0  # a spool file modified more recently than this may still be written
SPOOL_MAX_FILES_PER_POLL = 500  # the rest wait for the next poll
SPOOL_SKIP_SUFFIXES = (".tmp", ".part", ".partial", ".swp", "~")


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


def read_spool(source: Source, state: SourceState, settings: Settings, now_s: float) -> FetchResult:
    """Every settled file in the folder not ingested yet, oldest first, one Document each."""
    documents = []
    for path, stat in pending_spool_files(local_path(source.url), state, now_s):
        try:
            documents.append(_file_document(path, stat, settings.max_body_bytes))
        except TooLarge as exc:
            log.warning("spool %s: skipped: %s", source.url, exc)
        except FileNotFoundError:  # taken away between listing and reading
            continue
        if len(documents) >= SPOOL_MAX_FILES_PER_POLL:
            break
    return FetchResult(source=source, documents=tuple(documents), not_modified=not documents)


def pending_spool_files(
    folder: Path, state: SourceState, now_s: float
) -> list[tuple[Path, os.stat_result]]:
    seen = {(name, size, mtime) for name, size, mtime in state.spool_seen}
    settle_ns = int((now_s - SPOOL_SETTLE_S) * 1e9)
    pending = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith(".") or entry.name.endswith(SPOOL_SKIP_SUFFIXES):
                continue
            if not entry.is_file():
                continue
            stat = entry.stat()
            path = Path(entry.path)
            if stat.st_mtime_ns <= state.spool_horizon_ns or stat.st_mtime_ns > settle_ns:
                continue
            if (spool_name(path), stat.st_size, stat.st_mtime_ns) not in seen:
                pending.append((path, stat))
    pending.sort(key=lambda item: (item[1].st_mtime_ns, item[0].name))
    return pending
