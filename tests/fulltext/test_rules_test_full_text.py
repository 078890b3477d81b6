"""`wirewatch rules test --full-text`: entries' pages are fetched as the service would, so a
person sees why a rule matched (or did not) on a summary-only feed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.cli import main
from tests.fetch.server import Reply, serve
from tests.fulltext.helpers import HTML, feed, item, write_rules

pytestmark = pytest.mark.timeout(60)

PAGES = Path(__file__).resolve().parent / "pages"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[list[dict[str, object]], str]:
    assert main(["rules", "test", *args, "--json"]) == 0
    captured = capsys.readouterr()
    return [json.loads(line) for line in captured.out.splitlines()], captured.err


def test_full_text_fetches_the_page_and_says_which_were_not_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("WIREWATCH_ALLOW_PRIVATE_NETWORKS", "true")  # the pages are on loopback
    rules = write_rules(tmp_path / "rules", {"harvest": ["grain harvest"], "nav": ["volcano"]})
    with serve() as server:
        server.routes["/strike"] = Reply(200, (PAGES / "harbour_strike.html").read_bytes(), HTML)
        saved = tmp_path / "feed.xml"
        saved.write_bytes(feed(
            item("a", "Dockworkers walk out", "Dockworkers walked out.", server.url("/strike")),
            item("b", "Port statement", "The port issued a statement.", server.url("/gone")),
        ))  # fmt: skip
        plain, _ = run(capsys, str(saved), "--rules-dir", str(rules))
        full, said = run(capsys, str(saved), "--rules-dir", str(rules), "--full-text")
    assert [r["matches"] for r in plain] == [[], []]
    strike, statement = full
    assert strike["article"]["text_from"] == "page"  # type: ignore[index]
    assert [m["rule_id"] for m in strike["matches"]] == ["harvest"]  # type: ignore[union-attr]
    assert statement["article"]["text_from"] == "feed" and statement["matches"] == []  # type: ignore[index]
    assert "/gone: page not used (http_error): HTTP 404" in said
