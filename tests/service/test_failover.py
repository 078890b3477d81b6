"""Redis Sentinel failover with real processes on loopback (tests/service/sentinels.py): while
wire stories land in a watched spool, the primary is killed with -9 and, later, started again
(the sentinels make it a replica). Every story's alert is in the final primary's stream once,
`wirewatch notify` hands each to a webhook once and `wirewatch subscribe --group` prints each
once. With WIREWATCH_REDIS_MIN_REPLICAS=1 and the replica down, alerts wait in the outbox until
it is back, and nothing is doubled."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tests.conftest import ROOT
from tests.notify.helpers import Webhook
from tests.service.conftest import Workers, free_port
from tests.service.sentinels import SentinelSet, sentinel_set, wait_until
from tests.service.test_spool_watch import drop, spool_env, story_file, wait_running

__all__ = ["sentinel_set"]  # the fixture, used by name

pytestmark = [pytest.mark.slow]

PART = re.compile(r"part (\d+)")
SETTLE_S = 3.0  # after the last expected alert: time for a double to show


def stream_numbers(cluster: SentinelSet, channel: str) -> Counter[int]:
    """Story number -> alerts in the channel's stream on the current primary."""
    with cluster.primary().client() as client:
        entries = client.xrange(channel)
    return Counter(int(PART.findall(json.loads(f["alert"])["article"]["title"])[0])
                   for _, f in entries)  # fmt: skip


def listening(cluster: SentinelSet, channel: str) -> bool:
    """Both consumer groups (the notifier's and `desk-readers`) exist on the channel's stream,
    and the live subscriber is subscribed to the channel."""
    with cluster.primary().client() as client:
        try:
            groups = [group["name"] for group in client.xinfo_groups(channel)]
        except redis.ResponseError:  # no stream yet: no group either
            return False
        subscribed = dict(client.pubsub_numsub(channel)).get(channel, 0)
    return len(groups) == 2 and "desk-readers" in groups and subscribed >= 1


class Process:
    """A `wirewatch` command of the test's own, its output in files."""

    def __init__(self, folder: Path, name: str, env: dict[str, str], *args: str) -> None:
        self.out = folder / f"{name}.out"
        self.err = folder / f"{name}.err"
        with self.out.open("wb") as out, self.err.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ingest", *args], env=env, stdout=out, stderr=err, cwd=ROOT
            )

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def logs(self) -> str:
        return self.err.read_text(errors="replace")


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    started: list[Process] = []
    try:
        yield started
    finally:
        for process in started:
            process.stop()


def numbered(lines: list[str]) -> Counter[int]:
    return Counter(int(PART.findall(line)[0]) for line in lines if PART.search(line))


def drop_stories(inbox: Path, numbers: range, gap_s: float) -> None:
    for n in numbers:
        drop(inbox, f"story-{n}.txt", story_file(n))
        time.sleep(gap_s)


@pytest.mark.timeout(300)
@pytest.mark.parametrize("min_replicas", [0, 1])
def test_primary_killed_and_back_every_alert_once(
    tmp_path: Path,
    sentinel_set: SentinelSet,
    workers: Workers,
    processes: list[Process],
    min_replicas: int,
) -> None:
    cluster = sentinel_set
    channel = f"alerts:failover:{uuid.uuid4().hex[:6]}"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    env = spool_env(tmp_path, cluster.url(), inbox, channel)
    env["WIREWATCH_REDIS_MIN_REPLICAS"] = str(min_replicas)
    hook = Webhook()
    hook.start()
    notify_file = tmp_path / "notify.yaml"
    notify_file.write_text(
        f'notify:\n  - id: desk\n    channels: ["{channel}"]\n    to: "{hook.url()}"\n'
    )
    notify_env = {**env, "WIREWATCH_NOTIFY_FILE": str(notify_file), "PYTHONUNBUFFERED": "1",
                  "WIREWATCH_NOTIFY_SCAN_INTERVAL_S": "0.5"}  # fmt: skip
    workers.env = env
    try:
        workers.start()
        wait_running(workers)
        processes.append(Process(tmp_path, "notify", notify_env, "notify"))
        processes.append(
            Process(tmp_path, "subscribe", env, "subscribe", channel, "--group", "desk-readers",
                    "--consumer", "reader-1", "--timeout", "600")
        )  # fmt: skip
        processes.append(
            Process(tmp_path, "live", env, "subscribe", channel, "--timeout", "600")
        )  # fmt: skip
        # `subscribe --group` starts its group at the stream's end ("$"): an alert published
        # before it exists is not for it. On a loaded machine the three processes take seconds
        # to start, so wait until both groups exist and the live subscriber listens.
        wait_until(lambda: listening(cluster, channel), 60, "the groups and the live subscriber")

        drop_stories(inbox, range(0, 8), 0.2)
        wait_until(lambda: len(stream_numbers(cluster, channel)) == 8, 60, "the first 8 alerts")

        # Stories keep landing while the primary dies and the sentinels promote the replica.
        landing = threading.Thread(target=drop_stories, args=(inbox, range(8, 28), 0.25))
        landing.start()
        time.sleep(1.0)
        old, new = cluster.fail_primary()
        landing.join()
        time.sleep(2)
        cluster.bring_back(old)  # the sentinels make it a replica of the new primary
        drop_stories(inbox, range(28, 32), 0.2)

        expected = 32
        wait_until(lambda: len(stream_numbers(cluster, channel)) == expected, 90,
                   "every story's alert on the final primary")  # fmt: skip
        wait_until(lambda: len(numbered([m["title"] for m in hook.messages()])) == expected,
                   60, "every alert at the webhook")  # fmt: skip
        wait_until(lambda: len(numbered(processes[1].out.read_text().splitlines())) == expected,
                   60, "every alert printed by subscribe --group")  # fmt: skip
        wait_until(lambda: not list((tmp_path / "outbox").glob("*.json")), 30, "an empty outbox")
        time.sleep(SETTLE_S)

        assert cluster.primary() is new
        on_primary = stream_numbers(cluster, channel)
        assert sorted(on_primary) == list(range(expected)), on_primary
        assert set(on_primary.values()) == {1}, on_primary
        delivered = numbered([m["title"] for m in hook.messages()])
        assert sorted(delivered) == list(range(expected)) and set(delivered.values()) == {1}
        printed = numbered(processes[1].out.read_text().splitlines())
        assert sorted(printed) == list(range(expected)) and set(printed.values()) == {1}
        # A live (pub/sub) subscriber misses what is published while no primary answers, but
        # it is subscribed again after the failover and never prints an alert twice.
        live = numbered(processes[2].out.read_text().splitlines())
        assert set(range(28, expected)) <= set(live) and set(live.values()) == {1}, live
        with old.client() as replica:  # the old primary caught up as a replica
            assert replica.xlen(channel) == expected

        moved = f"moved from 127.0.0.1:{old.port} to 127.0.0.1:{new.port}"
        logs = workers.logs()
        assert logs.count(moved) == 1, logs
        assert processes[0].logs().count(moved) == 1, processes[0].logs()
        assert "Traceback" not in logs + "".join(p.logs() for p in processes)
        # No warning storm: the outage, the move, and (N = 1) the missing replica, each once.
        for said in (logs, *(p.logs() for p in processes)):
            troubles = [li for li in said.splitlines() if " WARNING " in li or " ERROR " in li]
            assert len(troubles) <= 5, "\n".join(troubles)
    except BaseException:
        print(workers.logs()[-20000:], processes and processes[0].logs()[-5000:], sep="\n")
        raise
    finally:
        hook.stop()


@pytest.mark.timeout(240)
def test_min_replicas_alerts_wait_for_the_replica(
    tmp_path: Path, sentinel_set: SentinelSet, workers: Workers
) -> None:
    cluster = sentinel_set
    channel = f"alerts:replicas:{uuid.uuid4().hex[:6]}"
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    workers.env = spool_env(tmp_path, cluster.url(), inbox, channel)
    workers.env["WIREWATCH_REDIS_MIN_REPLICAS"] = "1"
    workers.env["WIREWATCH_REDIS_MIN_REPLICAS_TIMEOUT_S"] = "0.5"
    outbox = tmp_path / "outbox"
    try:
        workers.start()
        wait_running(workers)
        drop_stories(inbox, range(0, 3), 0.2)
        wait_until(lambda: len(stream_numbers(cluster, channel)) == 3, 60, "3 alerts")
        assert not list(outbox.glob("*.json"))

        (replica,) = [n for n in cluster.nodes if n is not cluster.primary()]
        replica.stop()
        drop_stories(inbox, range(3, 9), 0.3)
        # Published on the primary, but not acknowledged by a replica: kept in the outbox.
        wait_until(lambda: len(list(outbox.glob("*.json"))) == 6, 60, "6 alerts in the outbox")
        time.sleep(3)  # retried every second meanwhile: still there, and never doubled
        assert len(list(outbox.glob("*.json"))) == 6
        assert set(stream_numbers(cluster, channel).values()) == {1}

        replica.start()
        wait_until(lambda: cluster.replicas_of(cluster.primary()) == 1, 60, "the replica back")
        wait_until(lambda: not list(outbox.glob("*.json")), 30, "the outbox delivered")
        time.sleep(SETTLE_S)
        on_primary = stream_numbers(cluster, channel)
        assert sorted(on_primary) == list(range(9)) and set(on_primary.values()) == {1}
        with replica.client() as client:
            assert client.xlen(channel) == 9
        logs = workers.logs()
        assert logs.count("replicas WIREWATCH_REDIS_MIN_REPLICAS asks for") == 1, logs
        assert logs.count("replicas acknowledge alerts again") == 1, logs
        assert "maximum number of running instances" not in logs  # retries never block a tick
    except BaseException:
        print(workers.logs()[-20000:])
        raise


def test_unknown_service_name_is_a_clear_error(tmp_path: Path, sentinel_set: SentinelSet) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
    env["WIREWATCH_REDIS_URL"] = sentinel_set.url().replace("/wwtest/", "/no-such-primary/")
    done = subprocess.run(
        [sys.executable, "-m", "ingest", "subscribe", "alerts:x", "--timeout", "1"],
        env=env, capture_output=True, text=True, timeout=60, cwd=ROOT,
    )  # fmt: skip
    assert done.returncode == 1
    assert "no sentinel monitors a primary named 'no-such-primary'" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_every_command_reaches_the_primary_through_the_sentinels(
    tmp_path: Path, sentinel_set: SentinelSet
) -> None:
    """`run --once`, `feeds`, `rules test --since` and `subscribe --replay` with a
    redis+sentinel:// URL (with a password on the primary): all find the primary."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    channel = f"alerts:commands:{uuid.uuid4().hex[:6]}"
    for node in sentinel_set.nodes:  # the primary and its replica want a password now
        with node.client() as client:
            client.config_set("masterauth", "pw-1")
            client.config_set("requirepass", "pw-1")
        node.password = "pw-1"
    for sentinel in sentinel_set.sentinels:
        with sentinel.client() as client:
            client.execute_command("SENTINEL", "SET", "wwtest", "auth-pass", "pw-1")
    env = spool_env(tmp_path, sentinel_set.url(password="pw-1"), inbox, channel)
    drop(inbox, "story-1.txt", story_file(1))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "ingest", *args], env=env,
                              capture_output=True, text=True, timeout=120, cwd=ROOT)  # fmt: skip

    ran = cli("run", "--once")
    assert ran.returncode == 0, ran.stderr
    assert stream_numbers(sentinel_set, channel) == Counter({1: 1})
    feeds = cli("feeds")
    assert feeds.returncode == 0, feeds.stderr
    (row,) = [line.split() for line in feeds.stdout.splitlines() if line.startswith("inbox ")]
    assert row[1] != "never", feeds.stdout  # polled: its state is on the primary
    assert row[-1] == "1", feeds.stdout  # the one story file, seen
    tried = cli("rules", "test", "--since", "1h")
    assert tried.returncode == 0 and "putin-ceasefire" in tried.stdout, tried.stdout + tried.stderr
    replayed = cli("subscribe", channel, "--replay", "--timeout", "1")
    assert replayed.returncode == 0, replayed.stderr
    assert numbered(replayed.stdout.splitlines()) == Counter({1: 1})
    env["WIREWATCH_REDIS_URL"] = sentinel_set.url(password="wrong-pw")
    refused = cli("feeds")
    assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr
    assert "wrong-pw" not in refused.stderr and "WIREWATCH_REDIS_URL" in refused.stderr


def test_quick_start_checks_a_sentinel_set_and_never_starts_one(
    sentinel_set: SentinelSet,
) -> None:
    from ingest.errors import ConfigError
    from ingest.service.localredis import ensure_local_redis

    said = ensure_local_redis(sentinel_set.url())
    assert said.startswith("Redis Sentinel answers at 127.0.0.1:") and "'wwtest'" in said
    nobody = f"redis+sentinel://127.0.0.1:{free_port()}/wwtest"
    with pytest.raises(ConfigError, match="no sentinel answers"):
        ensure_local_redis(nobody)
