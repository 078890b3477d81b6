"""The shape STYLE.md asks for, checked: `ingest/` is one package per stage in data-flow order,
a package imports only from packages below it, and each heavy library has one importing package."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "ingest"

# Bottom to top. The foundation modules (models, settings, errors, yamlfile, cachedir, bulk) sit
# under every stage; the stages follow the data; the service wires them; the CLI sits on top.
ORDER = [
    "foundation",
    "fetch",
    "parse",
    "normalize",
    "stories",
    "rules",
    "match",
    "delivery",
    "service",
    "notify",
    "web",
    "top",
]
FOUNDATION = {"__init__", "errors", "settings", "models", "yamlfile", "cachedir", "bulk"}
TOP = {"cli", "__main__"}

HEAVY = {  # library -> the one unit allowed to import it
    "feedparser": "parse",
    "trafilatura": "parse",
    "spacy": "match",
    "redis": "delivery",
    "yaml": "foundation",
    "httpx": "fetch",
    "httpcore": "fetch",
    "apscheduler": "service",
    "watchfiles": "service",
    "prometheus_client": "service",
    "ahocorasick": "match",
    "apprise": "notify",
    "spacy_lookups_data": "rules",
    "starlette": "web",
    "uvicorn": "web",
    "jinja2": "web",
    "markupsafe": "web",
    "numpy": "normalize",
}


def unit(module: str) -> str:
    """The unit of a dotted module path below `ingest` ("fetch.fetcher" -> "fetch")."""
    head = module.split(".")[0]
    if head in FOUNDATION:
        return "foundation"
    if head in TOP:
        return "top"
    return head


def imports(path: Path) -> set[str]:
    """Every module the file imports, lazily inside functions too."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.ImportFrom):
            raise AssertionError(f"{path}: relative import; write `from ingest.x import y`")
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def module_name(path: Path) -> str:
    return ".".join(path.relative_to(PACKAGE).with_suffix("").parts)


@pytest.mark.timeout(30)
def test_every_package_is_a_stage_in_the_order() -> None:
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert packages == set(ORDER) - {"foundation", "top"}
    loose = {p.stem for p in PACKAGE.glob("*.py")}
    assert loose == FOUNDATION | TOP


@pytest.mark.timeout(30)
@pytest.mark.parametrize("path", MODULES, ids=module_name)
def test_imports_only_from_its_package_or_below(path: Path) -> None:
    own = unit(module_name(path))
    for name in imports(path):
        if name.startswith("ingest."):
            target = unit(name.removeprefix("ingest."))
            assert ORDER.index(target) <= ORDER.index(own), (
                f"{module_name(path)} ({own}) imports {name} ({target}), which sits above it"
            )


@pytest.mark.timeout(30)
def test_each_package_says_what_it_takes_and_gives() -> None:
    for name in ORDER[1:-1]:
        doc = ast.get_docstring(ast.parse((PACKAGE / name / "__init__.py").read_text()))
        assert doc and len(doc.split()) >= 20, f"ingest/{name}/__init__.py needs its docstring"


@pytest.mark.timeout(30)
def test_each_heavy_library_has_one_importing_package() -> None:
    importers: dict[str, set[str]] = {library: set() for library in HEAVY}
    for path in MODULES:
        for name in imports(path):
            library = name.split(".")[0]
            if library in importers:
                importers[library].add(unit(module_name(path)))
    assert importers == {library: {owner} for library, owner in HEAVY.items()}
