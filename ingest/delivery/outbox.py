"""A bounded on-disk outbox for alerts that could not be published (Redis away).

One JSON file per alert, written to a temporary name, fsynced and renamed, so a crash at any
point leaves either the whole alert or nothing. Delivery is idempotent (the claim in Redis), so
an alert that was published but not yet removed from the outbox is not doubled by a retry.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Pending:
    path: Path
    story_id: str
    alert_json: str  # the alert exactly as it will be published


class Outbox:
    def __init__(self, folder: Path, max_items: int) -> None:
        self.folder = folder
        self.max_items = max_items

    def put(self, alert_id: str, story_id: str, alert_json: str) -> bool:
        """Keep an alert for later delivery; False when the outbox is full (the alert is lost
        from the outbox, but its article is not marked seen, so a later poll redoes it)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.depth() >= self.max_items:
            log.error(
                "outbox %s is full (%d alerts); not keeping %s",
                self.folder,
                self.max_items,
                alert_id,
            )
            return False
        final = self.folder / f"{alert_id}.json"
        temporary = final.with_suffix(".tmp")
        payload = json.dumps({"story_id": story_id, "alert": alert_json})
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, final)
        return True

    def pending(self) -> Iterator[Pending]:
        """Alerts waiting, oldest first; unreadable files are reported and set aside.

        Safe when another process drains the same folder: a file that vanishes is skipped.
        """
        for path in self._files_oldest_first():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                yield Pending(path, data["story_id"], data["alert"])
            except FileNotFoundError:
                continue
            except (OSError, ValueError, KeyError) as exc:
                log.error("outbox file %s is unreadable (%s); moved aside", path, exc)
                with contextlib.suppress(OSError):
                    path.rename(path.with_suffix(".broken"))

    def _files_oldest_first(self) -> list[Path]:
        stamped: list[tuple[int, Path]] = []
        if not self.folder.is_dir():
            return []
        for path in self.folder.glob("*.json"):
            with contextlib.suppress(FileNotFoundError):
                stamped.append((path.stat().st_mtime_ns, path))
        return [path for _, path in sorted(stamped)]

    def done(self, item: Pending) -> None:
        item.path.unlink(missing_ok=True)

    def depth(self) -> int:
        if not self.folder.is_dir():
            return 0
        return sum(1 for _ in self.folder.glob("*.json"))
