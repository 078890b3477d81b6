"""Watching spool folders: a file that lands is polled at once instead of at the next interval.

inotify events through watchfiles (the periodic rescan at the source's interval stays as the
backstop for filesystems without events). Only the fact that something landed is reported;
the spool reader decides which files are complete (`ingest.fetch.localsource`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from pathlib import Path

from watchfiles import Change, awatch

from ingest.fetch.localsource import is_in_progress_name

log = logging.getLogger(__name__)

QUIET_MS = 50  # changes are handed on once the folder has been quiet this long
RETRY_S = 5.0  # after the watch failed (a folder vanished): try again


class SpoolWatcher:
    """Calls `landed(source_key)` whenever a file appears or changes in a watched spool."""

    def __init__(self, landed: Callable[[str], None]) -> None:
        self._landed = landed
        self._folders: dict[Path, str] = {}
        self._task: asyncio.Task[None] | None = None

    def watch(self, folders: Mapping[Path, str]) -> None:
        """Watch exactly these folders (folder -> source key); restarts when they change."""
        wanted = {folder.resolve(): key for folder, key in folders.items()}
        if wanted == self._folders and self._task is not None:
            return
        self.stop()
        self._folders = wanted
        if wanted:
            self._task = asyncio.create_task(self._run(dict(wanted)))

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self, folders: dict[Path, str]) -> None:
        while True:
            present = [folder for folder in folders if folder.is_dir()]
            try:
                if present:
                    await self._follow(present, folders)
            except (OSError, RuntimeError) as exc:
                log.warning("watching spool folders failed (%s); rescanning on schedule", exc)
            await asyncio.sleep(RETRY_S)

    async def _follow(self, present: list[Path], folders: dict[Path, str]) -> None:
        async for changes in awatch(
            *present, step=QUIET_MS, recursive=False, debounce=1_000, ignore_permission_denied=True
        ):
            for key in sorted(landed_sources(changes, folders)):
                self._landed(key)


def landed_sources(changes: set[tuple[Change, str]], folders: Mapping[Path, str]) -> set[str]:
    """The spool sources in which a complete-looking file was added or changed."""
    keys = set()
    for change, name in changes:
        path = Path(name)
        if change == Change.deleted or is_in_progress_name(path.name):
            continue
        key = folders.get(path.parent)
        if key is not None:
            keys.add(key)
    return keys
