"""notify.yaml is watched: a destination added by an edit starts, one removed stops, and a
broken edit is reported as `path:line: message` while the last good version keeps delivering."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.notify.helpers import Notifiers, Webhook, make_alert, notify_env, publish, wait_for

pytestmark = [pytest.mark.timeout(120), pytest.mark.redis, pytest.mark.slow]


def entry(ident: str, channel: str, hook: Webhook) -> str:
    return f'  - id: {ident}\n    channels: ["{channel}"]\n    to: "{hook.url(ident)}"\n'


def test_edits_apply_and_a_broken_edit_keeps_the_last_good(
    tmp_path: Path, make_settings, key_prefix: str, real_redis_cleanup: None,
    notifiers: Notifiers, channel_base: str,
) -> None:  # fmt: skip
    channel = f"{channel_base}:reload"
    hook = Webhook()
    hook.start()
    notify_file = tmp_path / "notify.yaml"
    notify_file.write_text("notify:\n" + entry("one", channel, hook))
    env = notify_env(key_prefix, notify_file, WIREWATCH_NOTIFY_BACKLOG_S="0")
    settings = make_settings()
    alerts = [make_alert(channel, n) for n in range(4)]

    def got(path: str) -> list[str]:
        return [m["title"] for m in hook.messages() if m["_path"] == f"/{path}"]

    def title(n: int) -> str:
        return str(alerts[n]["article"]["title"])

    try:
        notifiers.start(env)
        wait_for(lambda: " running: " in notifiers.output(), 30, "the notifier to start")
        publish(settings, alerts[:1])
        wait_for(lambda: got("one") == [title(0)], 30, "the first alert")
        notify_file.write_text(
            "notify:\n" + entry("one", channel, hook) + entry("two", channel, hook)
        )
        wait_for(lambda: "notify.yaml: 2 destinations" in notifiers.output(), 30, "the reload")
        publish(settings, alerts[1:2])
        wait_for(lambda: got("two") == [title(1)], 30, "the added destination's first alert")
        notify_file.write_text("notify:\n  - id: one\n    channels: [x\n")
        wait_for(lambda: "keeping the last good version" in notifiers.output(), 30, "the error")
        publish(settings, alerts[2:3])
        wait_for(lambda: got("two") == [title(1), title(2)], 30, "delivery on the last good")
        notify_file.write_text("notify:\n" + entry("two", channel, hook))
        wait_for(lambda: "notify.yaml: 1 destinations" in notifiers.output(), 30, "the removal")
        publish(settings, alerts[3:4])
        wait_for(lambda: title(3) in got("two"), 30, "the last alert")
    finally:
        notifiers.stop_all()
        hook.stop()
    assert got("one") == [title(0), title(1), title(2)]  # alert 3 came after its removal
    assert got("two") == [title(1), title(2), title(3)]  # nothing from before it appeared
    assert f"{notify_file}:3: invalid YAML" in notifiers.output()
