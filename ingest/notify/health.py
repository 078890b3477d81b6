"""How a destination is doing: failing since when, the last error (redacted), backoff delays.

A destination failing longer than `stale_after_s` is logged once; its status (JSON, no secrets)
is what `notify --test` and the web console show.
"""

from __future__ import annotations

import json
import logging
import random
import time
from dataclasses import dataclass, field

log = logging.getLogger("ingest.notify")


def backoff_s(failures: int, min_s: float, max_s: float, rng: random.Random) -> float:
    """Exponential backoff with jitter: between half and all of min_s * 2^(failures-1), capped."""
    ceiling = min(max_s, min_s * 2 ** max(0, failures - 1))
    return rng.uniform(ceiling / 2, ceiling)


@dataclass
class Health:
    destination: str
    shown: str  # the URL as Apprise shows it (secrets masked)
    stale_after_s: float
    failures: int = 0
    failing_since: float | None = None
    last_error: str = ""
    last_ok: float | None = None
    stale_logged: bool = False
    pending: int = 0
    oldest_pending_s: float = 0.0
    rng: random.Random = field(default_factory=random.Random)

    @property
    def failing(self) -> bool:
        return self.failing_since is not None

    def stale(self, now: float) -> bool:
        return self.failing_since is not None and now - self.failing_since > self.stale_after_s

    def succeeded(self, now: float) -> None:
        if self.failing_since is not None:
            log.info("destination %s accepts messages again after %.0f s", self.destination,
                     now - self.failing_since)  # fmt: skip
        self.failures, self.failing_since, self.last_ok = 0, None, now
        self.last_error, self.stale_logged = "", False

    def failed(self, error: str, now: float, min_s: float, max_s: float) -> float:
        """Record a failure (`error` already redacted); return the delay before the next try."""
        self.failures += 1
        if self.failing_since is None:
            self.failing_since = now
        self.last_error = error
        delay_s = backoff_s(self.failures, min_s, max_s, self.rng)
        log.warning("destination %s: %s; retrying in %.1f s", self.destination, error, delay_s)
        if self.stale(now) and not self.stale_logged:
            self.stale_logged = True
            log.error("destination %s has not accepted a message for %.0f s (since %s): %s",
                      self.destination, now - self.failing_since, _iso(self.failing_since),
                      error)  # fmt: skip
        return delay_s

    def state(self, now: float) -> str:
        return "stale" if self.stale(now) else "failing" if self.failing else "ok"

    def as_json(self, now: float) -> str:
        return json.dumps({
            "id": self.destination, "to": self.shown, "state": self.state(now),
            "failing_since": _iso(self.failing_since), "last_error": self.last_error,
            "last_ok": _iso(self.last_ok), "pending": self.pending,
            "oldest_pending_s": round(self.oldest_pending_s, 1), "updated": _iso(now),
        })  # fmt: skip


def _iso(moment: float | None) -> str | None:
    if moment is None:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))
