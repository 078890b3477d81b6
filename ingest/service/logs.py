"""Logging: readable lines on a terminal, one JSON object per line otherwise; a warning that
repeats word for word is said once per window, then once more with how often it came."""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime

REPEAT_WINDOW_S = 60.0
REPEATS_KEPT = 1_000  # distinct messages remembered; the oldest are forgotten first


class RepeatFilter(logging.Filter):
    """Lets the first of identical warnings through, holds the repeats within `window_s`, and
    adds "(repeated N times in the last M s)" to the next one let through after the window."""

    def __init__(
        self, window_s: float = REPEAT_WINDOW_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self.window_s = window_s
        self.clock = clock
        self._seen: dict[tuple[str, int, str], tuple[float, int]] = {}  # -> (first, held)

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = (record.name, record.levelno, record.getMessage())
        now = self.clock()
        earlier = self._seen.pop(key, None)
        if earlier is not None and now - earlier[0] < self.window_s:
            self._seen[key] = (earlier[0], earlier[1] + 1)
            return False
        self._seen[key] = (now, 0)
        if len(self._seen) > REPEATS_KEPT:
            del self._seen[next(iter(self._seen))]
        if earlier is not None and earlier[1]:
            first, held = earlier
            record.msg = (
                f"{record.getMessage()} (repeated {held} times in the last {now - first:.0f} s)"
            )
            record.args = None
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            data["exc"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False)


def setup_logging(level: str, log_format: str) -> None:
    """Log to stderr; `log_format` is auto, json or text."""
    handler = logging.StreamHandler(sys.stderr)
    use_json = log_format == "json" or (log_format == "auto" and not sys.stderr.isatty())
    if use_json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S")
        )
    handler.addFilter(RepeatFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("httpx", "httpcore", "apscheduler", "watchfiles"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
