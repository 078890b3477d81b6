"""`wirewatch notify` at the command line: start-up errors, `--test` with an unknown id, and the
shipped notify.example.yaml, which must load (with its ${NAME}s set)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ingest.notify.config import load_notify_file
from ingest.notify.secrets import Redactor
from tests.conftest import ROOT
from tests.notify.helpers import PYTHON, notify_env

pytestmark = pytest.mark.timeout(60)


def notify(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "ingest", "notify", *args], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=50,
    )  # fmt: skip


def test_missing_file_says_what_to_do(tmp_path: Path, key_prefix: str) -> None:
    done = notify(notify_env(key_prefix, tmp_path / "notify.yaml"))
    assert done.returncode == 1
    assert "notify.yaml: not found; copy notify.example.yaml there" in done.stderr


def test_broken_file_at_start_is_refused_with_its_lines_and_no_secret(
    tmp_path: Path, key_prefix: str
) -> None:
    path = tmp_path / "notify.yaml"
    path.write_text(
        'notify:\n  - id: a\n    channels: [x]\n    to: "bogus://u:Zq8secretWord@h.example/t"\n'
        "  - id: b\n    channels: [x]\n"
    )
    done = notify(notify_env(key_prefix, path))
    assert done.returncode == 1
    assert f"{path}:4: destination 'a': `to`: unknown Apprise scheme 'bogus'" in done.stderr
    assert f"{path}:5: destination 'b': `to` must be a non-empty string" in done.stderr
    assert "Zq8secretWord" not in done.stderr + done.stdout


def test_test_of_an_unknown_destination(tmp_path: Path, key_prefix: str) -> None:
    path = tmp_path / "notify.yaml"
    path.write_text('notify:\n  - id: a\n    channels: [x]\n    to: "json://127.0.0.1:9/h"\n')
    done = notify(notify_env(key_prefix, path), "--test", "nope")
    assert done.returncode == 2
    assert "no destination 'nope'" in done.stderr and "(a)" in done.stderr


def test_the_example_file_loads() -> None:
    env = {"SMTP_USER": "desk", "SMTP_PASS": "pw", "NTFY_TOPIC": "wirewatch-desk",
           "HOOK_TOKEN": "abc", "SLACK_TOKEN_A": "T1JJ3T3L2", "SLACK_TOKEN_B": "A1BRTD4JD",
           "SLACK_TOKEN_C": "TIiajkdnlazkcOXrIdevi7FQ"}  # fmt: skip
    config = load_notify_file(ROOT / "notify.example.yaml", Redactor(), env)
    assert config.errors == ()
    ids = [d.id for d in config.destinations]
    assert ids == ["desk-email", "morning-digest", "newsroom-slack", "phone", "my-webhook"]
    assert not (ROOT / "notify.yaml").exists()  # the demo must not try to send
