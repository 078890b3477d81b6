"""A Redis that requires a password, reached over TLS (`rediss://`), with the real CLI.

The TLS endpoint is a TLS-terminating proxy (Python's ssl module, certificates from trustme) in
front of a password-protected redis-server, so the test needs no TLS build of Redis.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from tests.conftest import ROOT
from tests.service.conftest import PrivateRedis, free_port
from tests.service.feedserver import rss, serve, story_item

SEED = ROOT / "seeds" / "000_820d276074f311ca.txt"
PASSWORD = "s3cret-pass"


class TlsProxy:
    """Accepts TLS on a port of its own and relays bytes to a plain TCP port."""

    def __init__(self, target_port: int, context: ssl.SSLContext) -> None:
        self.target_port = target_port
        self.context = context
        self.port = free_port()
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        server = self.loop.run_until_complete(
            asyncio.start_server(self._relay, "127.0.0.1", self.port, ssl=self.context)
        )
        self.ready.set()
        self.loop.run_forever()
        server.close()
        self.loop.run_until_complete(server.wait_closed())
        self.loop.close()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            try:
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            except (ConnectionError, ssl.SSLError):
                pass
            finally:
                sink.close()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))

    def __enter__(self) -> TlsProxy:
        self.thread.start()
        assert self.ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def secured_redis(tmp_path: Path) -> Iterator[tuple[PrivateRedis, str]]:
    """(the password-protected server, a rediss:// URL through the TLS proxy)."""
    folder = tmp_path / "redis"
    folder.mkdir()
    server = PrivateRedis(folder, password=PASSWORD)
    server.start()
    authority = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(context)
    ca_file = tmp_path / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    try:
        with TlsProxy(server.port, context) as proxy:
            yield server, f"rediss://:{PASSWORD}@127.0.0.1:{proxy.port}/0?ssl_ca_certs={ca_file}"
    finally:
        server.stop()


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ingest", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


@pytest.mark.timeout(120)
def test_password_and_tls(tmp_path: Path, secured_redis: tuple[PrivateRedis, str]) -> None:
    server, url = secured_redis
    marker = uuid.uuid4().hex[:8]
    item = story_item(
        SEED, f"https://wire.example/{marker}", marker, "Seed", "2025-03-17T09:00:00+00:00"
    )
    with serve() as feeds:
        feeds.pages["/wire.xml"] = rss([item])
        (tmp_path / "feeds.yaml").write_text(f"feeds:\n  - url: {feeds.base_url}/wire.xml\n")
        env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
        env.update(
            WIREWATCH_REDIS_URL=url,
            WIREWATCH_FEEDS_FILE=str(tmp_path / "feeds.yaml"),
            WIREWATCH_RULES_DIR=str(ROOT / "rules"),
            WIREWATCH_ALLOW_PRIVATE_NETWORKS="true",
            WIREWATCH_BACKFILL_S="0",  # the test feeds carry 2025 dates
            WIREWATCH_OUTBOX_DIR=str(tmp_path / "outbox"),
        )
        done = cli(env, "run", "--once")
        assert done.returncode == 0, done.stderr
    replayed = cli(env, "subscribe", "alerts:ceasefire", "--replay", "--timeout", "1")
    assert replayed.returncode == 0, replayed.stderr
    alerts = [json.loads(line) for line in replayed.stdout.splitlines()]
    assert [a["article"]["url"] for a in alerts] == [f"https://wire.example/{marker}"]
    client = server.client()
    try:
        assert client.xlen("alerts:ceasefire") == 1  # it really went to the secured server
    finally:
        client.close()

    env["WIREWATCH_REDIS_URL"] = url.replace(PASSWORD, "wrong-password")
    refused = cli(env, "run", "--once")
    assert refused.returncode == 1, refused.stderr + env["WIREWATCH_REDIS_URL"]
    assert "Traceback" not in refused.stderr
    assert "wrong-password" not in refused.stderr  # passwords never appear in messages
    assert "Redis" in refused.stderr
