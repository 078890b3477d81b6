"""The shape STYLE.md asks for, checked: data flows one way through layers, and each heavy
library is imported by exactly one module."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ingest"

# Modules by layer; a module may import its own layer and the ones below, never above.
FOUNDATION = {
    "__init__",
    "errors",
    "settings",
    "models",
    "yamlfile",
    "logs",
    "metrics",
    "localredis",
    "outbox",
    "textnorm",
    "urls",
    "language",
    "terms",
}
SERVICE = {"publish", "handoff", "rulebook", "subscribe", "report", "trial", "pipeline", "explain"}
TOP = {"worker", "cli", "__main__"}
# Everything else is a stage (fetch, parse, normalize, dedup, match, store, ...).

HEAVY = {  # library -> the one module allowed to import it
    "feedparser": "xmlfeed",
    "spacy": "nlp",
    "redis": "store",
    "yaml": "yamlfile",
    "httpx": "fetch",
    "httpcore": "fetch",
    "apscheduler": "worker",
    "watchfiles": "rulebook",
    "prometheus_client": "metrics",
    "ahocorasick": "termindex",
}


def layer(module: str) -> int:
    if module in FOUNDATION:
        return 0
    if module in SERVICE:
        return 2
    if module in TOP:
        return 3
    return 1


def imports(path: Path) -> set[str]:
    """Top-level names of everything the module imports, lazily inside functions too."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


MODULES = sorted(PACKAGE.glob("*.py"))


@pytest.mark.timeout(30)
@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_imports_only_from_its_layer_or_below(path: Path) -> None:
    own = layer(path.stem)
    for name in imports(path):
        if name.startswith("ingest."):
            target = name.split(".")[1]
            assert layer(target) <= own, f"{path.stem} (layer {own}) imports {target}"


@pytest.mark.timeout(30)
def test_each_heavy_library_has_one_importer() -> None:
    importers: dict[str, set[str]] = {library: set() for library in HEAVY}
    for path in MODULES:
        for name in imports(path):
            library = name.split(".")[0]
            if library in importers:
                importers[library].add(path.stem)
    assert importers == {library: {owner} for library, owner in HEAVY.items()}
