"""notify.yaml loading, table-driven from cases/notify_files.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from ingest.notify.config import load_notify_file
from ingest.notify.secrets import Redactor

pytestmark = pytest.mark.timeout(30)
CASES = yaml.safe_load((Path(__file__).parent / "cases" / "notify_files.yaml").read_text())


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_notify_file(case: dict[str, Any], tmp_path: Path) -> None:
    path = tmp_path / "notify.yaml"
    path.write_text(case["file"])
    config = load_notify_file(path, Redactor(), case.get("env", {}))
    assert [d.id for d in config.destinations] == case["destinations"]
    assert list(config.errors) == [e.replace("FILE", str(path)) for e in case["errors"]]


def test_destination_fields_and_the_shown_url(tmp_path: Path) -> None:
    path = tmp_path / "notify.yaml"
    path.write_text(CASES[0]["file"])
    redact = Redactor()
    email, hook = load_notify_file(path, redact, CASES[0]["env"]).destinations
    assert email.url == "mailto://desk:hunter2x@smtp.example.org?to=desk@example.org"
    assert "hunter2x" not in email.shown and "hunter2x" not in repr(email)
    assert email.service.body_format == "html"  # e-mail takes HTML; the webhook plain text
    assert (hook.service.body_format, hook.digest_s) == ("text", 3600.0)
    assert (hook.names, hook.patterns) == ((), ("alerts:*",))
    assert redact("login hunter2x failed") == "login **** failed"
