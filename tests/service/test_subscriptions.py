"""`wirewatch feeds import / export` as a user runs them: readers' OPML files into a feeds.yaml
that keeps its comments and order, bad files changing nothing, a round trip that changes nothing,
5,000 feeds, and imported sources polled and shown with their group."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest.cli import main
from ingest.fetch.sources import load_sources
from ingest.parse.opml import read_opml
from ingest.settings import Settings
from tests.conftest import ROOT
from tests.service.feedserver import rss, serve

pytestmark = pytest.mark.timeout(120)

CASES = ROOT / "tests" / "parse" / "opml"
GOOD = sorted(p for p in CASES.glob("*.opml") if not p.name.startswith("bad_"))
BAD = sorted(CASES.glob("bad_*.opml"))
MINE = (
    "# The sources wirewatch polls.\n"
    "feeds:\n"
    "  - url: https://mine.example/rss   # the desk's own\n"
    "    name: Mine\n"
    "\n"
    "  # - url: https://paused.example/rss\n"
)


@pytest.fixture
def env(cli_env: Path) -> Path:
    tmp_path = cli_env
    (tmp_path / "feeds.yaml").write_text(MINE, encoding="utf-8")
    return tmp_path


def settings() -> Settings:
    return Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.mark.parametrize("opml", GOOD, ids=lambda p: p.stem)
def test_a_readers_export_is_imported_keeping_the_file_as_it_was(
    env: Path, opml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    want = json.loads(opml.with_suffix(".expected.json").read_text(encoding="utf-8"))
    assert main(["feeds", "import", str(opml)]) == 0
    err = capsys.readouterr().err
    assert f"added {want['imported']} sources to " in err
    if want["repeated"]:
        assert f"{want['repeated']} listed twice in the file" in err
    text = (env / "feeds.yaml").read_text(encoding="utf-8")
    assert text.startswith(MINE)  # comments, blank line and order untouched
    sources = load_sources(env / "feeds.yaml", settings()).sources
    taken = {}
    for url, name, group, _line in want["feeds"]:
        taken.setdefault(url, (url, name, group))
    assert [(s.url, s.name, s.group) for s in sources[1:]] == list(taken.values())
    assert main(["feeds", "import", str(opml)]) == 0  # again: everything is there already
    assert f"added 0 sources to {env / 'feeds.yaml'} ({want['imported']} already" in (
        capsys.readouterr().err
    )
    assert (env / "feeds.yaml").read_text(encoding="utf-8") == text


@pytest.mark.parametrize("opml", BAD, ids=lambda p: p.stem)
def test_a_bad_file_is_named_by_line_and_changes_nothing(
    env: Path, opml: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    want = json.loads(opml.with_suffix(".expected.json").read_text(encoding="utf-8"))
    assert main(["feeds", "import", str(opml)]) == 1
    err = capsys.readouterr().err.splitlines()
    errors = [line for line in err if line.startswith("error: ")]
    assert [e.split(": ", 2)[1] for e in errors] == [
        f"{opml}:{w.split(':', 1)[0]}" for w in want["errors"]
    ]
    assert err[-1].startswith("nothing was imported")
    assert (env / "feeds.yaml").read_text(encoding="utf-8") == MINE


def test_a_broken_feeds_yaml_is_named_and_left_alone(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = MINE + "  - url: [unclosed\n"
    (env / "feeds.yaml").write_text(broken, encoding="utf-8")
    assert main(["feeds", "import", str(GOOD[0])]) == 1
    assert f"{env / 'feeds.yaml'}:7: invalid YAML" in capsys.readouterr().err
    assert (env / "feeds.yaml").read_text(encoding="utf-8") == broken


def test_an_opml_file_that_is_missing_is_a_clear_error(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["feeds", "import", "nowhere.opml"]) == 1
    assert "nowhere.opml:1: cannot read" in capsys.readouterr().err


def test_export_then_import_changes_nothing(
    env: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for opml in GOOD:
        assert main(["feeds", "import", str(opml)]) == 0
    (env / "inbox").mkdir()
    with (env / "feeds.yaml").open("a", encoding="utf-8") as out:
        out.write("  - url: inbox/\n    name: Inbox\n")
    before = (env / "feeds.yaml").read_bytes()
    capsys.readouterr()
    assert main(["feeds", "export"]) == 0
    exported = capsys.readouterr()
    assert re.search(
        r"left out \(spool, no reader can poll it\): .*feeds\.yaml:\d+: ", exported.err
    )
    (env / "export.opml").write_text(exported.out, encoding="utf-8")
    assert main(["feeds", "import", "export.opml"]) == 0
    assert "added 0 sources" in capsys.readouterr().err
    assert (env / "feeds.yaml").read_bytes() == before
    # Into an empty feeds.yaml, then out again: the same OPML.
    monkeypatch.setenv("WIREWATCH_FEEDS_FILE", str(env / "fresh.yaml"))
    assert main(["feeds", "import", "export.opml"]) == 0
    capsys.readouterr()
    assert main(["feeds", "export"]) == 0
    again = capsys.readouterr().out
    assert _undated(again) == _undated(exported.out)
    imported = sum(
        json.loads(p.with_suffix(".expected.json").read_text())["imported"] for p in GOOD
    )
    assert len(read_opml(again.encode(), "again.opml").subscriptions) == 1 + imported


def test_export_of_local_sources_only_says_there_is_nothing(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (env / "inbox").mkdir()
    (env / "feeds.yaml").write_text("feeds:\n  - url: inbox/\n", encoding="utf-8")
    assert main(["feeds", "export"]) == 0
    out, err = capsys.readouterr()
    assert "has no http(s) source to export" in err and "<body>\n  </body>" in out


def _undated(opml: str) -> str:
    return re.sub(r"<dateCreated>.*</dateCreated>", "", opml)


def test_five_thousand_feeds(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folders = [f"Folder {n}" for n in range(50)]
    outlines = "\n".join(
        f'  <outline text="{folder}" title="{folder}">\n'
        + "\n".join(
            f'    <outline type="rss" text="Feed {f}-{n}" title="Feed {f}-{n}" '
            f'xmlUrl="https://host{n % 97}.example/{f}/{n}.xml" '
            f'htmlUrl="https://host{n % 97}.example/" description="" extra="kept"/>'
            for n in range(100)
        )
        + "\n  </outline>"
        for f, folder in enumerate(folders)
    )
    opml = env / "big.opml"
    opml.write_text(
        f'<?xml version="1.0"?>\n<opml version="2.0"><head/><body>\n{outlines}\n</body></opml>\n'
    )
    started = time.perf_counter()
    assert main(["feeds", "import", str(opml)]) == 0
    took_s = time.perf_counter() - started
    assert "added 5000 sources" in capsys.readouterr().err
    sources = load_sources(env / "feeds.yaml", settings()).sources
    assert len(sources) == 5001 and sources[-1].group == "Folder 49"
    print(f"imported 5,000 feeds in {took_s:.2f} s")  # shown with -s; no timed assertion


@pytest.mark.usefixtures("real_redis_cleanup")
def test_imported_sources_are_polled_and_shown_with_their_group(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Published an hour ago: a first poll alerts entries within WIREWATCH_BACKFILL_S (a day).
    published = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    items = [
        {"title": f"Harbour item {n}", "link": f"https://wire.example/{n}", "guid": f"g{n}",
         "published": published, "body": "The harbour council met."}
        for n in range(3)
    ]  # fmt: skip
    with serve() as server:
        server.pages["/world.xml"] = rss(items)
        server.pages["/tech.xml"] = rss(items[:1])
        (env / "reader.opml").write_text(
            '<?xml version="1.0"?><opml version="1.0"><head><title>Export</title></head><body>'
            f'<outline text="World"><outline type="rss" text="World wire" '
            f'xmlUrl="{server.base_url}/world.xml"/></outline>'
            f'<outline text="Tech"><outline type="rss" text="Tech wire" '
            f'xmlUrl="{server.base_url}/tech.xml"/></outline></body></opml>',
            encoding="utf-8",
        )
        (env / "feeds.yaml").write_text("feeds: []\n", encoding="utf-8")
        assert main(["feeds", "import", "reader.opml"]) == 0
        assert main(["run", "--once"]) == 0
    capsys.readouterr()
    assert main(["feeds"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:3] == ["SOURCE", "GROUP", "LAST"]
    rows = {line.split("  ")[0]: line.split() for line in table[1:]}
    assert rows["World wire"][2] == "World" and rows["World wire"][-1] == "3"
    assert rows["Tech wire"][2] == "Tech" and rows["Tech wire"][-1] == "1"
