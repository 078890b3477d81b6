"""Where wirewatch keeps what it can compute again: $XDG_CACHE_HOME/wirewatch, else
~/.cache/wirewatch. Everything kept there is an optimisation: a folder that cannot be written
(a read-only home, no home) only means computing it again in every process."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "wirewatch"
