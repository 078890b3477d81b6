"""YAML loading that remembers line numbers, so errors can say `path:line:`.

The only module that imports PyYAML.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ingest.errors import ConfigError


class LineDict(dict[str, Any]):
    """A mapping from a YAML file; `.line` is its 1-based line, `.lines[key]` each key's line."""

    line: int = 0
    lines: dict[str, int]


class LineList(list[Any]):
    """A sequence from a YAML file; `.line` is its 1-based line, `.lines[i]` each item's line."""

    line: int = 0
    lines: list[int]


class _Loader(yaml.SafeLoader):
    pass


# libyaml's loader, when PyYAML was built with it: 10,000 rules load in a fraction of the time
# (the pure-Python scanner is most of `rules test` start-up with big rule sets). Only valid
# files go through it: a file it refuses is parsed again by `_Loader`, whose messages are ours.
class _FastLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    pass


_STR = "tag:yaml.org,2002:str"


def _value(loader: _Loader, node: yaml.Node) -> Any:
    # A string is its node's value (what SafeConstructor returns for it), taken here without
    # the constructor's dispatch: most of a rule file is strings, and 10,000 rules are 90,000.
    if node.tag == _STR and type(node) is yaml.ScalarNode:
        return node.value
    return loader.construct_object(node, deep=True)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    result = LineDict()
    result.line = node.start_mark.line + 1
    result.lines = {}
    for key_node, value_node in node.value:
        key = _value(loader, key_node)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise yaml.constructor.ConstructorError(
                None, None, "a key must be a plain value", key_node.start_mark
            )
        result[str(key)] = _value(loader, value_node)
        result.lines[str(key)] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    result = LineList(_value(loader, child) for child in node.value)
    result.line = node.start_mark.line + 1
    result.lines = [child.start_mark.line + 1 for child in node.value]
    return result


for _loader in (_Loader, _FastLoader):
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
    _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


class YamlSyntaxError(ConfigError):
    """The file is not valid YAML; `line` is where the parser stopped."""

    def __init__(self, path: str, line: int, message: str) -> None:
        self.path = path
        self.line = line
        self.message = message
        super().__init__(f"{path}:{line}: {message}")


def load_yaml_text(text: str, path: str) -> Any:
    """Parse YAML text; mappings and sequences carry their line numbers."""
    try:
        return yaml.load(text, Loader=_FastLoader)  # SafeLoader subclasses: no arbitrary objects
    except yaml.YAMLError:
        pass
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        line, problem = _where(exc, text)
        raise YamlSyntaxError(path, line, f"invalid YAML: {problem}") from exc
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(path, 1, f"invalid YAML: {exc}") from exc


def _where(exc: yaml.MarkedYAMLError, text: str) -> tuple[int, str]:
    """The 1-based line to blame and the problem in words.

    When the parser only noticed at the end of the file (an unclosed bracket or quote), the
    line where the unfinished construct began is the useful one.
    """
    problem = exc.problem or exc.context or "invalid YAML"
    mark, context = exc.problem_mark, exc.context_mark
    at_end = mark is not None and mark.index >= len(text.rstrip())
    if at_end and context is not None:
        return context.line + 1, f"{problem} ({exc.context}, never closed)"
    chosen = mark or context
    return (chosen.line + 1 if chosen is not None else 1), problem


def load_yaml_file(path: Path) -> Any:
    """Read and parse a YAML file (UTF-8)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise YamlSyntaxError(str(path), 1, f"cannot read: {exc.strerror or exc}") from exc
    return load_yaml_text(decode_yaml(raw, str(path)), str(path))


def decode_yaml(raw: bytes, path: str) -> str:
    """A YAML file's bytes as text, as `Path.read_text` would read them (UTF-8)."""
    try:
        return raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except UnicodeDecodeError as exc:
        raise YamlSyntaxError(path, 1, "not UTF-8 text") from exc
