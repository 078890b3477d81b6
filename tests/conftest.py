"""Fixtures shared by every test area: settings and the real Redis."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.match.nlp import Ner, load_nlp
from ingest.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
# Database 15, so test keys and streams stay out of the default database 0.
TEST_REDIS_URL = os.environ.get("WIREWATCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def one_rule_folder(parent: Path, rule_id: str, channel: str, term: str) -> Path:
    """`parent/rules`, made here, holding one file with one rule: `all: [term]`."""
    rules = parent / "rules"
    rules.mkdir()
    (rules / f"{rule_id}.yaml").write_text(
        f"rules:\n  - id: {rule_id}\n    channel: {channel}\n    all: [{term}]\n",
        encoding="utf-8",
    )
    return rules


@pytest.fixture
def key_prefix() -> str:
    """A Redis key prefix of this test's own, so tests never see each other's keys."""
    return f"wwtest:{uuid.uuid4().hex[:12]}:"


@pytest.fixture
def make_settings(tmp_path: Path, key_prefix: str):  # type: ignore[no-untyped-def]
    """Build Settings for a test: real Redis, own key prefix, files under tmp_path."""

    def build(**overrides: object) -> Settings:
        values: dict[str, object] = {
            "redis_url": TEST_REDIS_URL,
            "key_prefix": key_prefix,
            "feeds_file": tmp_path / "feeds.yaml",
            "rules_dir": tmp_path / "rules",
            "outbox_dir": tmp_path / "outbox",
            "allow_private_networks": True,  # local test servers live on loopback
            "backfill_s": 0,  # test feeds carry fixed past dates; backfill tests set their own
        }
        values.update(overrides)
        return Settings(_env_file=None, **values)  # type: ignore[arg-type]

    return build


@pytest.fixture
def real_redis_cleanup(key_prefix: str) -> Iterator[None]:
    """Delete this test's keys from the real Redis afterwards."""
    yield
    import redis

    client = redis.Redis.from_url(TEST_REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{key_prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture(scope="session")
def ner() -> Ner:
    """The real small English model, without tagger/parser (loading takes about a second)."""
    return load_nlp("auto", batch_size=16)


@pytest.fixture(scope="session")
def blank_ner() -> Ner:
    return load_nlp("blank", batch_size=16)


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """Tests that run the CLI in process get its log handlers (writing to that test's captured
    stderr); put the root logger back afterwards, so later tests do not log into a closed file."""
    import logging

    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
