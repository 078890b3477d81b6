"""Why an article is not a copy of a candidate: the registry's debug line and `rules test`."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from ingest.service.trial import run_trial
from ingest.settings import Settings
from ingest.stories.registry import StoryRegistry
from tests.conftest import one_rule_folder
from tests.stories.casebook import CASES, load_group

pytestmark = pytest.mark.timeout(30)

# Same-template notices: each one is a candidate of the next, and turned down on its numbers.
QUAKES = load_group(CASES / "earthquake_bulletins.yaml")
WHY = re.compile(r"names or numbers differ: .+ / .+")
AFTERSHOCK = [QUAKES[0].article, QUAKES[2].article]  # Hualien, then its aftershock
SETTINGS = Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def quake_rules(tmp_path: Path) -> Path:
    """A rules folder with one rule that both notices match."""
    return one_rule_folder(tmp_path, "quake", "alerts:q", "earthquake")


@pytest.mark.usefixtures("real_redis_cleanup")
async def test_a_turned_down_candidate_is_logged_with_the_test_and_its_figure(
    client: aioredis.Redis, key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ingest.stories")
    registry = StoryRegistry(client, key_prefix, 3600)
    first, second = QUAKES[0].article, QUAKES[2].article  # Hualien and its aftershock
    assert (await registry.assign(first)).is_new
    assert (await registry.assign(second)).is_new
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    expected = f"article {second.id} is not a copy of story {first.id} (article {first.id}): "
    assert [line for line in lines if line.startswith(expected)], lines
    assert all(WHY.search(line) for line in lines if line.startswith(expected))


def test_rules_test_with_a_rule_says_why_not_a_copy(quake_rules: Path) -> None:
    rules, settings, articles = quake_rules, SETTINGS, AFTERSHOCK
    lines = list(run_trial(settings, rules, articles, as_json=False, rule_id="quake"))
    said = [line.strip() for line in lines if "not a copy of story" in line]
    title = QUAKES[0].article.title
    assert len(said) == 1 and said[0].startswith(
        f"not a copy of story {title!r} ({QUAKES[0].article.id}): names or numbers differ: "
    )
    # without --rule the output stays as it was
    plain = list(run_trial(settings, rules, articles, as_json=False, rule_id=None))
    assert not [line for line in plain if "not a copy of story" in line]


def test_rules_test_json_with_a_rule_carries_why_not_a_copy(quake_rules: Path) -> None:
    rules, settings, articles = quake_rules, SETTINGS, AFTERSHOCK
    first, second = (
        json.loads(line)
        for line in run_trial(settings, rules, articles, as_json=True, rule_id="quake")
    )
    assert "not_copies" not in first
    (candidate,) = second["not_copies"]
    assert candidate["story_id"] == QUAKES[0].article.id
    assert candidate["title"] == QUAKES[0].article.title
    assert WHY.fullmatch(candidate["why"])
    plain = [json.loads(line) for line in run_trial(settings, rules, articles, as_json=True,
                                                     rule_id=None)]  # fmt: skip
    assert all("not_copies" not in record for record in plain)
