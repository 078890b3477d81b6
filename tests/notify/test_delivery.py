"""The contract end to end: real `wirewatch notify` processes, a real webhook on loopback that
is down at first, a notifier killed with -9 mid-send and restarted, a second notifier sharing
the work; every alert reaches the destination exactly once."""

from __future__ import annotations

import collections
import signal
from pathlib import Path

import pytest

from tests.notify.helpers import (
    Notifiers,
    Webhook,
    backlog,
    make_alert,
    one_destination,
    publish,
    wait_for,
)

pytestmark = [
    pytest.mark.timeout(120),
    pytest.mark.redis,
    pytest.mark.slow,
    pytest.mark.usefixtures("real_redis_cleanup"),
]


def titles(hook: Webhook) -> list[str]:
    return [m["title"] for m in hook.messages()]


def test_down_then_up_killed_and_restarted_each_alert_once(
    tmp_path: Path, make_settings, key_prefix: str, notifiers: Notifiers, channel_base: str
) -> None:
    channel = f"{channel_base}:desk"
    hook = Webhook()
    env = one_destination(tmp_path, key_prefix, "desk-hook", channel, hook.url())
    settings = make_settings()
    first = notifiers.start(env)
    alerts = [make_alert(channel, n) for n in range(20)]
    publish(settings, alerts[:10])
    wait_for(lambda: "retrying in" in notifiers.output(), 30, "a refused delivery to be retried")
    publish(settings, alerts[10:20])
    hook.hold_from = 5  # after five deliveries, the next message stays in flight ...
    hook.start()  # the destination comes up: it gets what it missed
    try:
        assert hook.held.wait(30), "no message in flight to kill the notifier on"
        first.send_signal(signal.SIGKILL)  # ... when the notifier dies: no answer was given
        first.wait(10)
        hook.release()
        more = [make_alert(channel, n) for n in range(20, 40)]
        publish(settings, more)
        notifiers.start(env)  # the same consumer: its own unacknowledged alerts come first
        notifiers.start({**env, "WIREWATCH_NOTIFY_CONSUMER": "notifier-b"})
        wanted = [a["article"]["title"] for a in alerts + more]
        wait_for(lambda: set(wanted) <= set(titles(hook)), 60, "every alert delivered")
        wait_for(lambda: backlog(key_prefix, "desk-hook", [channel]) == 0, 30, "all acknowledged")
    finally:
        hook.stop()
    counts = collections.Counter(titles(hook))
    assert {t: c for t, c in counts.items() if c != 1} == {}
    assert sorted(counts) == sorted(wanted)
