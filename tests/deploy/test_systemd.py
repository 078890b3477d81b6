"""deploy/wirewatch.service and wirewatch.env.example.

`systemd-analyze verify` checks the unit where the binary exists; the structural checks below run
everywhere. They use a small parser rather than configparser, because systemd keys repeat
(`Environment=` and `SystemCallFilter=` lines add up) and configparser keeps only the last.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path, PurePosixPath

import pytest

from tests.deploy.helpers import (
    DEPLOY,
    default_shutdown_grace_s,
    setting_env_names,
    settings_from,
)

UNIT = DEPLOY / "wirewatch.service"
WEB_UNIT = DEPLOY / "wirewatch-web.service"
ENV_EXAMPLE = DEPLOY / "wirewatch.env.example"
INSTALLED_EXEC = "/opt/wirewatch/venv/bin/wirewatch"


def parse_unit(text: str) -> dict[str, dict[str, list[str]]]:
    """Section -> key -> every value given, in order (line continuations joined)."""
    sections: dict[str, dict[str, list[str]]] = {}
    current: dict[str, list[str]] | None = None
    for line in text.replace("\\\n", " ").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = sections.setdefault(line[1:-1], {})
            continue
        assert current is not None, f"key outside a section: {line}"
        key, sep, value = line.partition("=")
        assert sep, f"not KEY=value: {line}"
        current.setdefault(key.strip(), []).append(value.strip())
    return sections


def service(unit: Path = UNIT) -> dict[str, list[str]]:
    return parse_unit(unit.read_text(encoding="utf-8"))["Service"]


def unit_environment(unit: Path = UNIT) -> dict[str, str]:
    env: dict[str, str] = {}
    for value in service(unit).get("Environment", []):
        for assignment in value.split():
            name, _, setting = assignment.strip('"').partition("=")
            env[name] = setting
    return env


def seconds(value: str) -> float:
    """A systemd time span: `45`, `45s`, `1min 30s`."""
    units = {"": 1.0, "s": 1.0, "sec": 1.0, "min": 60.0, "m": 60.0, "h": 3600.0, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)\s*([a-z]*)", value)
    assert parts, value
    return sum(float(n) * units[u] for n, u in parts)


def single(key: str, unit: Path = UNIT) -> str:
    values = service(unit)[key]
    assert len(values) == 1, f"{key} is set {len(values)} times"
    return values[0]


@pytest.mark.timeout(10)
def test_sections() -> None:
    sections = parse_unit(UNIT.read_text(encoding="utf-8"))
    assert {"Unit", "Service", "Install"} <= set(sections)
    assert sections["Install"]["WantedBy"] == ["multi-user.target"]
    unit = sections["Unit"]
    assert "network-online.target" in " ".join(unit["Wants"]).split()
    after = " ".join(unit["After"]).split()
    assert {"network-online.target", "redis-server.service"} <= set(after)
    assert "redis-server.service" not in " ".join(unit.get("Requires", [])), "Redis is optional"


@pytest.mark.timeout(10)
def test_runs_wirewatch_in_the_foreground_as_its_own_user() -> None:
    assert single("Type") == "simple"
    assert single("User") == "wirewatch"
    assert single("ExecStart").split() == [INSTALLED_EXEC, "run"]
    assert single("WorkingDirectory") == "/var/lib/wirewatch"
    assert single("Restart") == "on-failure"


@pytest.mark.timeout(10)
def test_environment_points_at_etc_and_names_real_settings() -> None:
    env = unit_environment()
    unknown = {n for n in env if n.startswith("WIREWATCH_")} - setting_env_names()
    assert not unknown, f"not settings of ingest/settings.py: {sorted(unknown)}"
    settings_from(env)
    assert env["WIREWATCH_FEEDS_FILE"] == "/etc/wirewatch/feeds.yaml"
    assert env["WIREWATCH_RULES_DIR"] == "/etc/wirewatch/rules"
    assert single("EnvironmentFile") == "-/etc/wirewatch/wirewatch.env"


@pytest.mark.timeout(10)
def test_stop_waits_longer_than_the_drain() -> None:
    assert single("KillSignal") == "SIGTERM"
    grace_s = float(unit_environment().get("WIREWATCH_SHUTDOWN_GRACE_S", 0) or 0)
    grace_s = grace_s or default_shutdown_grace_s()
    assert seconds(single("TimeoutStopSec")) > grace_s


@pytest.mark.timeout(10)
def test_hardening_leaves_only_the_state_dir_writable() -> None:
    svc = service()
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "PrivateTmp": "yes",
        "ProtectHome": "yes",
    }.items():
        assert svc[key] == [value], key
    writable = [PurePosixPath(p.lstrip("-")) for v in svc["ReadWritePaths"] for p in v.split()]
    state_dirs = [d for v in svc.get("StateDirectory", []) for d in v.split()]
    writable += [PurePosixPath("/var/lib", d) for d in state_dirs]
    outbox = PurePosixPath(unit_environment()["WIREWATCH_OUTBOX_DIR"])
    assert any(outbox.is_relative_to(w) for w in writable), f"{outbox} is not writable"
    assert PurePosixPath(single("WorkingDirectory")) in writable


@pytest.mark.timeout(10)
def test_env_example_names_real_settings() -> None:
    names = set()
    for line in ENV_EXAMPLE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"#?(WIREWATCH_[A-Z0-9_]+)=", line.strip())
        if match:
            names.add(match.group(1))
    assert "WIREWATCH_REDIS_URL" in names
    unknown = names - setting_env_names()
    assert not unknown, f"not settings of ingest/settings.py: {sorted(unknown)}"


def wirewatch_executable() -> Path:
    found = Path(sys.executable).parent / "wirewatch"
    if found.is_file():
        return found
    which = shutil.which("wirewatch")
    assert which, "the wirewatch console script is not installed"
    return Path(which)


@pytest.mark.timeout(60)
@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None,
    reason="systemd-analyze is not installed; the unit is still checked by the parser tests",
)
@pytest.mark.parametrize("unit", [UNIT, WEB_UNIT], ids=lambda p: p.name)
def test_systemd_analyze_verify(tmp_path: Path, unit: Path) -> None:
    # verify checks that ExecStart exists: point it at this checkout's console script.
    text = unit.read_text(encoding="utf-8")
    assert INSTALLED_EXEC in text
    copy = tmp_path / unit.name
    copy.write_text(text.replace(INSTALLED_EXEC, str(wirewatch_executable())), encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)],
        capture_output=True,
        text=True,
        timeout=50,
        check=False,
    )
    # Unknown keys and bad values are only warnings (exit 0): any line about the unit fails.
    complaints = [
        line for line in (result.stdout + result.stderr).splitlines() if unit.name in line
    ]
    assert result.returncode == 0 and not complaints, result.stdout + result.stderr


# -- the web console's unit -----------------------------------------------------------------


@pytest.mark.timeout(10)
def test_web_unit_runs_wirewatch_web_on_loopback_as_the_service_user() -> None:
    sections = parse_unit(WEB_UNIT.read_text(encoding="utf-8"))
    assert sections["Install"]["WantedBy"] == ["multi-user.target"]
    assert single("ExecStart", WEB_UNIT).split() == [INSTALLED_EXEC, "web"]
    assert single("User", WEB_UNIT) == single("User")
    assert single("Restart", WEB_UNIT) == "on-failure"
    env = unit_environment(WEB_UNIT)
    unknown = {n for n in env if n.startswith("WIREWATCH_")} - setting_env_names()
    assert not unknown, f"not settings of ingest/settings.py: {sorted(unknown)}"
    settings = settings_from(env)
    assert settings.web_host == "127.0.0.1"  # beyond loopback only with a token, set locally
    assert env["WIREWATCH_RULES_DIR"] == unit_environment()["WIREWATCH_RULES_DIR"]
    assert env["WIREWATCH_FEEDS_FILE"] == unit_environment()["WIREWATCH_FEEDS_FILE"]
    assert single("EnvironmentFile", WEB_UNIT) == single("EnvironmentFile")


@pytest.mark.timeout(10)
def test_web_unit_is_hardened_and_writes_nothing() -> None:
    svc = service(WEB_UNIT)
    for key, value in {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "PrivateTmp": "yes",
                       "ProtectHome": "yes"}.items():  # fmt: skip
        assert svc[key] == [value], key
    assert "ReadWritePaths" not in svc and "StateDirectory" not in svc


@pytest.mark.timeout(10)
def test_caches_go_to_the_units_cache_directory() -> None:
    # Home is hidden (ProtectHome): without this, every start unpacks the language model and
    # parses every rule file again. cache_dir() is $XDG_CACHE_HOME/wirewatch.
    svc = service()
    assert svc["CacheDirectory"] == ["wirewatch"]
    assert PurePosixPath(unit_environment()["XDG_CACHE_HOME"], "wirewatch") == PurePosixPath(
        "/var/cache/wirewatch"
    )
