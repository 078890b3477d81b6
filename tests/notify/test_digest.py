"""Digests: `digest_s: N` sends one message per N s with every alert since, none when there were
none, across a pattern of channels, and survives a notifier killed with -9 mid-send."""

from __future__ import annotations

import collections
import re
import signal
import time
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
LINK = re.compile(r"https://news\.example\.org/story/(\d+)")


def listed(hook: Webhook) -> list[int]:
    """The story numbers every digest received so far lists, one per line."""
    return [int(n) for m in hook.messages() for n in LINK.findall(m["message"])]


def test_digest_lists_every_alert_once_in_a_few_messages(
    tmp_path: Path, make_settings, key_prefix: str, notifiers: Notifiers, channel_base: str
) -> None:
    base = channel_base
    channels = [f"{base}:east", f"{base}:west"]
    hook = Webhook()
    hook.start()
    env = one_destination(tmp_path, key_prefix, "daily", f"{base}:*", hook.url("digest"), 2)
    settings = make_settings()
    alerts = [make_alert(channels[n % 2], n) for n in range(30)]
    try:
        publish(settings, alerts[:8])  # before the notifier starts: still "since" its start
        first = notifiers.start(env)
        wait_for(lambda: len(hook.messages()) >= 1, 30, "a first digest")
        hook.hold_from = 1  # the next digest stays in flight ...
        publish(settings, alerts[8:16])
        assert hook.held.wait(30), "no digest in flight"
        first.send_signal(signal.SIGKILL)  # ... when the notifier dies
        first.wait(10)
        hook.release()
        publish(settings, alerts[16:30])
        notifiers.start(env)
        notifiers.start({**env, "WIREWATCH_NOTIFY_CONSUMER": "notifier-b"})
        wait_for(lambda: set(range(30)) <= set(listed(hook)), 60, "every alert in a digest")
        wait_for(lambda: backlog(key_prefix, "daily", channels) == 0, 30, "all acknowledged")
        quiet_since = len(hook.messages())
        time.sleep(5)  # two more periods with nothing new: no empty digest
        assert len(hook.messages()) == quiet_since
    finally:
        hook.stop()
    counts = collections.Counter(listed(hook))
    assert {n: c for n, c in counts.items() if c != 1} == {}
    assert sorted(counts) == list(range(30))
    # One message per period, not one per alert.
    assert len(hook.messages()) <= 10
    assert all(m["title"].startswith("wirewatch: ") for m in hook.messages())


def test_a_digest_longer_than_the_service_takes_goes_in_parts(
    tmp_path: Path, make_settings, key_prefix: str, notifiers: Notifiers, channel_base: str
) -> None:
    # Apprise's json:// takes 32,768 characters a message: 100 alerts with long titles are more
    # than that, so one period's digest goes in several messages, each within the limit.
    channel = f"{channel_base}:long"
    hook = Webhook()
    hook.start()
    env = one_destination(tmp_path, key_prefix, "long", channel, hook.url("long"), 2)
    title = "Ceasefire talks go on into the night as negotiators trade drafts " * 6
    alerts = [make_alert(channel, n, title=f"{n}: {title}") for n in range(100)]
    try:
        notifiers.start(env)
        publish(make_settings(), alerts)
        wait_for(lambda: set(range(100)) <= set(listed(hook)), 60, "every alert in a digest")
    finally:
        hook.stop()
    assert sorted(listed(hook)) == list(range(100))
    assert len(hook.messages()) >= 2
    assert all(len(m["message"]) <= 32_768 for m in hook.messages())
