"""Fixtures of the full-text tests: alert channels under the test's own key prefix."""

from __future__ import annotations

import pytest

from tests.fulltext import helpers


@pytest.fixture(autouse=True)
def _channels_under_the_key_prefix(monkeypatch: pytest.MonkeyPatch, key_prefix: str) -> None:
    monkeypatch.setattr(helpers, "CHANNEL_PREFIX", key_prefix)
