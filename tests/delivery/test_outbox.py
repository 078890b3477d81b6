"""The on-disk outbox: whole alerts or nothing, oldest first, bounded, shared-folder safe."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ingest.delivery.outbox import Outbox

pytestmark = pytest.mark.timeout(10)


def test_put_then_pending_in_order_then_done(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "out", max_items=10)
    for n in range(3):
        assert box.put(f"a{n}", f"s{n}", f'{{"n": {n}}}')
        os.utime(box.folder / f"a{n}.json", ns=(n * 10**9, n * 10**9))
    items = list(box.pending())
    assert [(i.story_id, i.alert_json) for i in items] == [
        (f"s{n}", f'{{"n": {n}}}') for n in range(3)
    ]
    box.done(items[0])
    assert box.depth() == 2


def test_same_alert_twice_is_one_file(tmp_path: Path) -> None:
    box = Outbox(tmp_path, max_items=10)
    box.put("a", "s", "{}")
    box.put("a", "s", "{}")
    assert box.depth() == 1


def test_full_outbox_refuses(tmp_path: Path) -> None:
    box = Outbox(tmp_path, max_items=2)
    assert box.put("a", "s", "{}") and box.put("b", "s", "{}")
    assert not box.put("c", "s", "{}")
    assert box.depth() == 2


def test_broken_file_is_set_aside(tmp_path: Path) -> None:
    box = Outbox(tmp_path, max_items=10)
    box.put("good", "s", "{}")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    assert [i.path.name for i in box.pending()] == ["good.json"]
    assert (tmp_path / "bad.broken").exists()


def test_vanishing_file_is_skipped(tmp_path: Path) -> None:
    box = Outbox(tmp_path, max_items=10)
    box.put("a", "s", "{}")
    box.put("b", "s", "{}")
    seen = []
    for item in box.pending():
        seen.append(item.path.name)
        for other in tmp_path.glob("*.json"):  # another process drained the rest
            other.unlink()
    assert len(seen) == 1


def test_missing_folder_is_empty(tmp_path: Path) -> None:
    box = Outbox(tmp_path / "nowhere", max_items=10)
    assert list(box.pending()) == [] and box.depth() == 0
