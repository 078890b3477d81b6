"""Shared helpers for the deploy/ checks: paths, YAML loading and the real setting names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from ingest.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = DEPLOY / "k8s"


def load_docs(path: Path) -> list[Any]:
    """Every non-empty YAML document of a file."""
    with path.open(encoding="utf-8") as handle:
        return [doc for doc in yaml.safe_load_all(handle) if doc is not None]


def env_prefix() -> str:
    return str(Settings.model_config.get("env_prefix", "")).upper()


def setting_env_names() -> set[str]:
    """The environment variable of every setting, as pydantic-settings reads them."""
    return {env_prefix() + name.upper() for name in Settings.model_fields}


def settings_from(env: dict[str, str]) -> Settings:
    """Settings built from these WIREWATCH_* values: raises when a value is invalid."""
    prefix = env_prefix()
    values = {k.removeprefix(prefix).lower(): v for k, v in env.items() if k.startswith(prefix)}
    return Settings.model_validate(values)


def default_shutdown_grace_s() -> float:
    return float(Settings.model_fields["shutdown_grace_s"].default)
