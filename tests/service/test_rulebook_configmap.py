"""Rules mounted from a Kubernetes ConfigMap: the kubelet swaps a `..data` symlink instead of
writing the files, and the swap must reload the rules like a save does."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from ingest.service.rulebook import RuleBook
from tests.service.test_rulebook import RULE, _matched, _within


def publish_version(folder: Path, version: str, term: str) -> None:
    """What the kubelet's atomic writer does: a new timestamped folder, then a symlink swap."""
    payload = folder / f"..{version}"
    payload.mkdir()
    (payload / "watch.yaml").write_text(RULE.format(id="cm", term=term), encoding="utf-8")
    temporary = folder / "..data_tmp"
    temporary.symlink_to(payload.name)
    os.replace(temporary, folder / "..data")
    visible = folder / "watch.yaml"
    if not visible.is_symlink():
        visible.symlink_to("..data/watch.yaml")


@pytest.mark.timeout(20)
async def test_configmap_symlink_swap_reloads(tmp_path: Path) -> None:
    publish_version(tmp_path, "2025_03_17_v1", "ceasefire")
    book = RuleBook(tmp_path, None, debounce_ms=50)
    assert _matched(book, "A ceasefire began.") == ["cm"]
    stop = asyncio.Event()
    task = asyncio.create_task(book.watch(stop))
    await asyncio.sleep(0.3)
    try:
        publish_version(tmp_path, "2025_03_17_v2", "truce")
        await _within(lambda: _matched(book, "A truce began.") == ["cm"])
        assert _matched(book, "A ceasefire began.") == []
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
