"""Load the case tables under tests/normalize/cases/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

CASES = Path(__file__).resolve().parent / "cases"
SEEDS = Path(__file__).resolve().parents[2] / "seeds"


def load(name: str) -> Any:
    return yaml.safe_load((CASES / name).read_text(encoding="utf-8"))


def case_id(text: str, width: int = 40) -> str:
    return text[:width].replace("\n", "\\n") or "<empty>"
