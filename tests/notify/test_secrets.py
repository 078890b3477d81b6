"""Passwords and tokens of a URL appear in no output: not in the notifier's stdout or stderr (its
log, failures and a broken notify.yaml edit included), not in /metrics, not in `notify --test`
(ok and failing), not in the status kept in Redis. The same run shows a destination failing
longer than WIREWATCH_STALE_AFTER_S logged once and reported by `notify --test`."""

from __future__ import annotations

import base64
import subprocess
import urllib.request
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import ROOT
from tests.notify.helpers import (
    PYTHON,
    Notifiers,
    Webhook,
    free_port,
    make_alert,
    notify_env,
    publish,
    redis_dump,
    wait_for,
)

pytestmark = [pytest.mark.timeout(120), pytest.mark.redis, pytest.mark.slow]
PASSWORD = "Pw-9xQe7Lk2Zr"
PARAM_TOKEN = "Tq81mZ0paRam"
HEADER_TOKEN = "Hd44vYtOk3nX"
SECRETS = (PASSWORD, PARAM_TOKEN, HEADER_TOKEN)


def notify_test(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PYTHON, "-m", "ingest", "notify", "--test", *args], cwd=ROOT, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics") as reply:
        return str(reply.read().decode())


def oldest_s(metrics: str) -> float:
    name = 'wirewatch_notify_oldest_pending_seconds{destination="desk-hook"} '
    (line,) = [line for line in metrics.splitlines() if line.startswith(name)]
    return float(line.removeprefix(name))


def leaks(text: str) -> list[str]:
    forms = {f for s in SECRETS for f in (s, quote(s, safe=""), s.lower(), s.upper())}
    return sorted(f for f in forms if f in text)


def test_no_secret_in_any_output(
    tmp_path: Path, make_settings, key_prefix: str, real_redis_cleanup: None,
    notifiers: Notifiers, channel_base: str,
) -> None:  # fmt: skip
    channel = f"{channel_base}:secret"
    hook = Webhook()
    to = (f"json://desk:${{HOOK_PASS}}@127.0.0.1:{hook.port}/hook"
          f"?-token={PARAM_TOKEN}&+X-Api-Token={HEADER_TOKEN}")  # fmt: skip
    notify_file = tmp_path / "notify.yaml"
    notify_file.write_text(
        f'notify:\n  - id: desk-hook\n    channels: ["{channel}"]\n    to: "{to}"\n'
    )
    metrics_port = free_port()
    env = notify_env(key_prefix, notify_file, HOOK_PASS=PASSWORD, WIREWATCH_STALE_AFTER_S="1")
    env["WIREWATCH_NOTIFY_METRICS_PORT"] = str(metrics_port)
    outputs: list[str] = []
    notifiers.start(env)
    publish(make_settings(), [make_alert(channel, 1)])
    try:
        wait_for(lambda: "has not accepted a message" in notifiers.output(), 30, "stale logged")
        failing = notify_test(env)
        outputs += [failing.stdout, failing.stderr]
        assert failing.returncode == 1
        assert failing.stdout.startswith("desk-hook: error: ")
        assert "STALE: the notifier has not delivered here since" in failing.stdout
        down = 'wirewatch_notify_pending{destination="desk-hook"} 1.0'
        wait_for(lambda: down in scrape(metrics_port), 30, "the pending alert in /metrics")
        metrics = scrape(metrics_port)
        outputs.append(metrics)
        assert 'wirewatch_notify_failing{destination="desk-hook"} 1.0' in metrics
        assert oldest_s(metrics) > 0
        hook.start()
        wait_for(lambda: len(hook.messages()) == 1, 30, "the alert once the webhook is up")
        ok = notify_test(env, "desk-hook")
        outputs += [ok.stdout, ok.stderr]
        assert ok.returncode == 0 and ok.stdout.strip() == "desk-hook: ok"
        assert hook.messages()[-1]["title"] == "wirewatch test message"
        metrics = scrape(metrics_port)
        outputs.append(metrics)
        assert 'wirewatch_notify_deliveries_total{destination="desk-hook",outcome="ok"} 1.0' in (
            metrics
        )
        notify_file.write_text(  # a broken edit that quotes the password in an unknown scheme
            f'notify:\n  - id: desk-hook\n    channels: ["{channel}"]\n'
            f'    to: "bogus://desk:{PASSWORD}@127.0.0.1/{PARAM_TOKEN}"\n'
        )
        wait_for(lambda: "keeping the last good version" in notifiers.output(), 30, "the reload")
    finally:
        notifiers.stop_all()
        hook.stop()
    log = notifiers.output()
    outputs += [log, redis_dump(key_prefix)]
    assert log.count("has not accepted a message") == 1  # stale: logged once
    assert "unknown Apprise scheme 'bogus' (bogus://****)" in log
    assert "wirewatch notify" in log  # masking hides secrets, not ordinary words
    assert leaks("\n".join(outputs)) == []
    # The destination did get the credentials: they were hidden, not lost.
    basic = base64.b64encode(f"desk:{PASSWORD}".encode()).decode()
    assert any(basic in r and HEADER_TOKEN in r and PARAM_TOKEN in r for r in hook.requests)
