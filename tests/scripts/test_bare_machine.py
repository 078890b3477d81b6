"""`bash scripts/test` on a bare machine (no Chromium, no venv support): what is missing is
installed where it can be, and where it cannot, the one command to run is said before anything
else happens."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.timeout(60)


def bare_path(tmp_path: Path, *tools: str) -> str:
    """A PATH holding only these tools (no apt-get, no sudo): a machine this user cannot change."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("bash", "dirname", "id", "cat", *tools):
        found = shutil.which(tool)
        assert found, tool
        if not (bin_dir / tool).exists():
            (bin_dir / tool).symlink_to(found)
    return str(bin_dir)


def run(script: str, tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environ = {"PATH": bare_path(tmp_path), "HOME": str(tmp_path), **env}
    return subprocess.run(
        ["bash", str(ROOT / "scripts" / script), *args],
        env=environ, capture_output=True, text=True, timeout=50, check=False,
    )  # fmt: skip


def test_the_test_command_stops_first_with_the_command_to_run(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-chromium")
    done = run("test", tmp_path, WIREWATCH_TEST_CHROMIUM=missing)
    assert done.returncode == 3
    assert "    sudo apt-get install -y chromium\n" in done.stderr
    assert f"need Chromium at {missing}" in done.stderr
    assert "setting up .venv" not in done.stderr and done.stdout == ""  # nothing else ran


def test_a_chromium_that_is_there_passes(tmp_path: Path) -> None:
    present = tmp_path / "chromium"
    present.write_text("#!/bin/sh\n", encoding="utf-8")
    present.chmod(0o755)
    done = run("need-chromium", tmp_path, WIREWATCH_TEST_CHROMIUM=str(present))
    assert (done.returncode, done.stderr) == (0, "")


def test_leaving_the_browser_tests_out_needs_no_chromium(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-chromium")
    for marks in ("not browser", "not slow and not browser"):
        done = run("need-chromium", tmp_path, "-q", "-m", marks, WIREWATCH_TEST_CHROMIUM=missing)
        assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("installs", [True, False], ids=["installed", "install-fails"])
def test_apt_get_is_used_where_this_user_may(tmp_path: Path, installs: bool) -> None:
    """apt-get (here a fake that records its arguments, and installs or not), run directly by
    root or through passwordless sudo (a fake too) by anyone else."""
    chromium = tmp_path / "chromium"
    fake = tmp_path / "fake"
    fake.mkdir()
    log = tmp_path / "apt.log"
    install = f"touch {chromium}; chmod +x {chromium}" if installs else "true"
    (fake / "apt-get").write_text(
        f'#!/bin/sh\necho "$@" >> {log}\ncase "$1" in install) {install};; esac\n', "utf-8"
    )
    (fake / "sudo").write_text('#!/bin/sh\n[ "$1" = -n ] && shift\nexec "$@"\n', "utf-8")
    for tool in ("apt-get", "sudo"):
        (fake / tool).chmod(0o755)
    done = subprocess.run(
        ["bash", str(ROOT / "scripts" / "need-chromium")],
        env={"PATH": f"{fake}:{bare_path(tmp_path, 'touch', 'chmod', 'true')}",
             "HOME": str(tmp_path), "WIREWATCH_TEST_CHROMIUM": str(chromium)},
        capture_output=True, text=True, timeout=50, check=False,
    )  # fmt: skip
    assert log.read_text().splitlines() == ["update -qq", "install -y -qq chromium"]
    assert done.returncode == (0 if installs else 3), done.stderr
    assert ("sudo apt-get install -y chromium" in done.stderr) is not installs


def test_setup_without_venv_support_says_the_command_first(tmp_path: Path) -> None:
    """A bare Debian's python3 cannot make a venv (no python3-venv): said before anything."""
    home = tmp_path / "checkout"
    (home / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "setup", home / "scripts" / "setup")
    (home / "pyproject.toml").write_text("", encoding="utf-8")
    fake = tmp_path / "python3-without-venv"
    fake.write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
    fake.chmod(0o755)
    for python, said in ((str(fake), "    sudo apt-get install -y python3-venv\n"),
                         ("no-such-python", "no no-such-python on PATH")):  # fmt: skip
        done = subprocess.run(
            ["bash", str(home / "scripts" / "setup")],
            env={"PATH": bare_path(tmp_path), "HOME": str(tmp_path), "PYTHON": python},
            capture_output=True, text=True, timeout=50, check=False,
        )  # fmt: skip
        assert done.returncode == 3 and said in done.stderr, done.stderr
        assert not (home / ".venv").exists()
