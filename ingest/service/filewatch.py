"""Watch one file (notify.yaml) for edits, as `rulebook.py` watches the rules folder.

The folder is watched, not the file: editors and ConfigMap volumes replace a file rather than
write it in place, and a watch on the old file would go silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Awaitable, Callable
from pathlib import Path

_MISSING_DIR_POLL_S = 1.0


async def watch_file(
    path: Path, on_change: Callable[[], Awaitable[None]], stop: asyncio.Event, debounce_ms: int
) -> None:
    """Await `on_change()` after each change of `path`, until `stop` is set."""
    from watchfiles import awatch

    folder = path.parent if str(path.parent) else Path(".")
    while not stop.is_set():
        if not folder.is_dir():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), _MISSING_DIR_POLL_S)
            continue
        async for changes in awatch(
            folder, debounce=debounce_ms, step=50, stop_event=stop, recursive=False
        ):
            if any(_concerns(path, changed) for _, changed in changes):
                await on_change()
            if not folder.is_dir():
                break


def _concerns(path: Path, changed: str) -> bool:
    # A Kubernetes ConfigMap volume swaps the `..data` symlink instead of writing the file.
    name = os.path.basename(changed)
    return name == path.name or name.startswith("..data")
