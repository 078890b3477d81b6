"""The CLI as a user types it: rules check, rules test (words and --json), feeds, --since."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from ingest.cli import main
from tests.conftest import ROOT, one_rule_folder
from tests.service.feedserver import rss, serve, story_item

SEED = ROOT / "seeds" / "000_820d276074f311ca.txt"

pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch, cli_env: Path) -> Path:
    monkeypatch.setenv("WIREWATCH_BACKFILL_S", "0")  # the test feeds carry 2025 dates
    return cli_env


def test_rules_check_reports_path_line_and_exits_1(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rules = env / "rules"
    shutil.copytree(ROOT / "rules", rules)
    assert main(["rules", "check", str(rules)]) == 0
    (rules / "broken.yaml").write_text(
        "rules:\n  - id: fine\n    channel: alerts:x\n    all: [a]\n"
        "  - id: bad\n    channel: alerts:x\n    entities:\n      PERSN: [Someone]\n",
        encoding="utf-8",
    )
    capsys.readouterr()
    assert main(["rules", "check", str(rules)]) == 1
    out = capsys.readouterr().out
    assert re.search(rf"^{re.escape(str(rules / 'broken.yaml'))}:8: rule 'bad': .*PERSN", out, re.M)


def test_rules_test_explains_the_seed_in_words(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rules", "test", str(SEED)]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if "ceasefire-leader" in x)
    for words in ("alerts:ceasefire", "'ceasefire'", "Donald Trump", "Vladimir Putin"):
        assert words in line


def test_rules_test_json_lines_follow_the_contract(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["rules", "test", "--json", str(SEED), str(ROOT / "seeds" / "sample-feed.xml")]) == 0
    )
    records = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(records) == 1 + 6
    seed = records[0]
    assert seed["article"]["source"]["url"] == SEED.resolve().as_uri()
    assert seed["article"]["dateline"] == {
        "place": "WASHINGTON",
        "date": "March 17",
        "agency": "Alliance News",
    }
    ceasefire = next(m for m in seed["matches"] if m["rule_id"] == "ceasefire-leader")
    assert set(ceasefire) == {"rule_id", "channel", "matched", "snippet"}
    assert ceasefire["matched"]["terms"] == ["ceasefire"]
    feed_urls = {r["article"]["source"]["url"] for r in records[1:]}
    assert feed_urls == {(ROOT / "seeds" / "sample-feed.xml").resolve().as_uri()}


STORIES = ROOT / "tests" / "normalize" / "cases" / "stories"
FOOTER = ROOT / "tests" / "stories" / "cases" / "footers" / "lakeside_patch.txt"


def test_rules_test_says_which_articles_are_copies(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two copies of one story (the first alerts, the second would be suppressed) and a
    # different story on the same topic.
    files = [STORIES / n for n in ("black_sea_reuters.txt", "black_sea_gazette.txt",
                                   "black_sea_other_agency.txt")]  # fmt: skip
    rules = one_rule_folder(env, "sea", "alerts:sea", "Black Sea")
    assert main(["rules", "test", "--rules-dir", str(rules), *map(str, files)]) == 0
    out = capsys.readouterr().out
    copy_lines = [line for line in out.splitlines() if "is a copy of story" in line]
    assert len(copy_lines) == 1
    assert copy_lines[0].strip().startswith("article 'US brokers Black Sea ceasefire")
    assert "first seen at black_sea_reuters.txt" in copy_lines[0]
    assert "(copy, no alert) sea" in out

    assert main(["rules", "test", "--rules-dir", str(rules), "--json", *map(str, files)]) == 0
    records = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert ["copy_of" in r for r in records] == [False, True, False]
    copy = records[1]
    assert copy["copy_of"]["source"]["name"] == "black_sea_reuters.txt"
    assert copy["copy_of"]["story_id"] == records[0]["article"]["id"]
    assert copy["suppressed"] == ["sea"]


def test_rules_test_keeps_stories_that_only_share_a_footer_apart(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    footer = FOOTER.read_text(encoding="utf-8")
    leads = [
        "Brookfield police arrested two men early Tuesday after an alarm call led officers to a "
        "hardware store on Mill Road, where a rear door had been forced open.",
        "A 58-year-old North Harbor woman was taken to Mercy General Hospital after her sedan "
        "left Route 9 and struck a utility pole near Cedar Lane on Monday evening.",
    ]
    paths = []
    for n, lead in enumerate(leads):
        path = env / f"item{n}.txt"
        path.write_text(f"Police item {n}\n\n{lead}\n{footer}", encoding="utf-8")
        paths.append(str(path))
    assert main(["rules", "test", "--json", *paths]) == 0
    records = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(records) == 2 and not any("copy_of" in r for r in records)


def test_rules_test_near_miss_for_one_rule(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    quake = ROOT / "seeds" / "003_afp_greece_earthquake.txt"
    assert main(["rules", "test", "--rule", "ceasefire-leader", str(quake)]) == 0
    out = capsys.readouterr().out
    assert "ceasefire-leader" in out and "ceasefire" in out.split("ceasefire-leader", 1)[1]


def test_rules_test_on_unreadable_path_is_an_error(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rules", "test", str(env / "missing.txt")]) == 1
    assert "missing.txt" in capsys.readouterr().err


@pytest.mark.usefixtures("real_redis_cleanup")
def test_run_once_then_feeds_and_rules_test_since(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    item = story_item(SEED, "https://wire.example/s", "s", "Seed", "2025-03-17T09:00:00+00:00")
    with serve() as server:
        server.pages["/w.xml"] = rss([item])
        (env / "feeds.yaml").write_text(
            f"feeds:\n  - url: {server.base_url}/w.xml\n    name: Local wire\n"
            "  - url: http://127.0.0.1:9/nothing.xml\n    name: Dead source\n",
            encoding="utf-8",
        )
        assert main(["run", "--once"]) == 0
    capsys.readouterr()
    assert main(["feeds"]) == 0
    table = capsys.readouterr().out
    local = next(x for x in table.splitlines() if x.startswith("Local wire"))
    dead = next(x for x in table.splitlines() if x.startswith("Dead source"))
    assert local.split()[-1] == "1"  # items seen
    assert "Error" in dead or "error" in dead
    assert main(["rules", "test", "--since", "1h", "--json"]) == 0
    records = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [r["article"]["url"] for r in records] == ["https://wire.example/s"]
    assert any(m["rule_id"] == "ceasefire-leader" for m in records[0]["matches"])


@pytest.mark.usefixtures("real_redis_cleanup")
def test_rules_test_since_says_which_stored_articles_were_copies(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two outlets carried one story: the service alerted once; rules test over the stored
    # articles says the second was a copy of the first.
    with serve() as server:
        for n, name in enumerate(("black_sea_reuters.txt", "black_sea_daily_herald.txt")):
            title, _blank, body = (STORIES / name).read_text(encoding="utf-8").split("\n", 2)
            item = {"title": title, "link": f"https://o{n}.example/s", "guid": f"o{n}",
                    "published": "2025-03-25T12:00:00+00:00", "body": body}  # fmt: skip
            server.pages[f"/o{n}.xml"] = rss([item], f"Outlet {n}")
        (env / "feeds.yaml").write_text(
            "feeds:\n"
            + "".join(
                f"  - url: {server.base_url}/o{n}.xml\n    name: Outlet {n}\n" for n in (0, 1)
            ),
            encoding="utf-8",
        )
        assert main(["run", "--once"]) == 0
    capsys.readouterr()
    assert main(["rules", "test", "--since", "1h", "--json"]) == 0
    records = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert len(records) == 2
    first, second = sorted(records, key=lambda r: "copy_of" in r)
    assert "copy_of" not in first
    assert second["copy_of"]["story_id"] == first["article"]["id"]
    assert second["copy_of"]["source"]["name"] == first["article"]["source"]["name"]


def test_rules_test_unknown_rule_is_a_clear_error(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["rules", "test", "--rule", "no-such-rule", str(SEED)]) == 1
    err = capsys.readouterr().err
    assert "no-such-rule" in err and "ceasefire-leader" in err and "Traceback" not in err


def test_blank_model_refuses_only_any_rules(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("WIREWATCH_SPACY_MODEL", "blank")
    assert main(["rules", "check"]) == 1
    checked = capsys.readouterr().out
    assert "GPE: any needs a statistical NER model" in checked
    assert main(["rules", "test", "--json", str(SEED)]) == 0
    captured = capsys.readouterr()
    assert "ORG: any needs a statistical NER model" in captured.err
    record = json.loads(captured.out)
    assert [m["rule_id"] for m in record["matches"]] == ["ceasefire-leader"]


def test_run_once_right_after_files_land_reads_them_and_names_what_it_left(
    env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    inbox = env / "inbox"
    inbox.mkdir()
    (env / "feeds.yaml").write_text(f"feeds:\n  - url: {inbox}\n", encoding="utf-8")
    (inbox / "seed.txt").write_bytes(SEED.read_bytes())  # just landed: mtime now
    (inbox / "next.txt.part").write_bytes(SEED.read_bytes()[:200])  # still being written
    assert main(["run", "--once"]) == 0
    err = capsys.readouterr().err
    assert "1 new articles" in err
    left = [line for line in err.splitlines() if "left for later" in line]
    assert len(left) == 1 and "next.txt.part" in left[0], err
