"""YAML loading: libyaml's fast loader gives exactly what the pure-Python one gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ingest.yamlfile import LineDict, LineList, _FastLoader, _Loader, load_yaml_text

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted(
    p
    for p in [*ROOT.glob("rules/*.yaml"), *ROOT.glob("tests/**/*.yaml")]
    if "/.venv/" not in str(p)
)


def shape(value: Any) -> Any:
    """The value with every line number it carries, for comparing two loads."""
    if isinstance(value, LineDict):
        return ("map", value.line, value.lines, {k: shape(v) for k, v in value.items()})
    if isinstance(value, LineList):
        return ("seq", value.line, value.lines, [shape(v) for v in value])
    return value


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_fast_loader_gives_the_same_values_and_lines(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    try:
        expected = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError:  # a case file that is broken on purpose: broken for both
        with pytest.raises(yaml.YAMLError):
            yaml.load(text, Loader=_FastLoader)
        return
    assert shape(yaml.load(text, Loader=_FastLoader)) == shape(expected)


def test_invalid_yaml_is_reported_by_the_reference_loader() -> None:
    with pytest.raises(Exception, match=r"^r\.yaml:3: invalid YAML: .*never closed"):
        load_yaml_text("rules:\n  - id: x\n    all: [a, b\n", "r.yaml")
