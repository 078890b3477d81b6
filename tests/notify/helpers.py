"""What the notify tests share: a webhook receiver on loopback, an SMTP server (aiosmtpd), alerts
published straight into the streams, and `wirewatch notify` processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import redis

from tests.conftest import ROOT, TEST_REDIS_URL

PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], bool], timeout_s: float, what: str, step_s: float = 0.1) -> None:
    """Poll until `check()` holds; a generous bound, never a timed assertion."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(step_s)
    raise AssertionError(f"gave up waiting for {what}")


class Webhook:
    """A JSON webhook on 127.0.0.1: records what Apprise's json:// posts. `failing` answers 500;
    before `start()` (or after `stop()`) nothing listens, so connections are refused."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.received: list[dict[str, Any]] = []
        self.requests: list[str] = []  # raw request lines and bodies, to search for secrets
        self.failing = False
        # While `holding`, a request waits for `release()` and is then refused (500, not kept):
        # a test kills the notifier while its message is in flight, before any answer.
        self.holding = False
        self.hold_from: int | None = None  # start holding once this many messages were kept
        self.held = threading.Event()
        self._release = threading.Event()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    def url(self, path: str = "hook", user: str = "", password: str = "") -> str:
        auth = f"{user}:{password}@" if password else ""
        return f"json://{auth}127.0.0.1:{self.port}/{path}"

    def start(self) -> None:
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                with hook._lock:
                    if hook.hold_from is not None and len(hook.received) >= hook.hold_from:
                        hook.holding, hook.hold_from = True, None
                if hook.holding:
                    hook.held.set()
                    hook._release.wait(30)
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                with hook._lock:
                    hook.requests.append(f"{self.requestline}\n{self.headers}\n{body.decode()}")
                    ok = not hook.failing
                    if ok:
                        hook.received.append({**json.loads(body), "_path": self.path})
                self.send_response(200 if ok else 500)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def release(self) -> None:
        self.holding = False
        self._release.set()

    def stop(self) -> None:
        self.release()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def messages(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self.received)


class Mailbox:
    """An SMTP server on loopback (aiosmtpd) that keeps every message it receives; it asks for
    a login (plain, over loopback) so the test can check that the password works and stays
    hidden."""

    def __init__(self, user: str, password: str) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult, LoginPassword

        self.port = free_port()
        self.messages: list[Message] = []
        self.raw: list[bytes] = []
        self.logins: list[str] = []
        box = self

        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str,
                         auth_data: Any) -> AuthResult:  # fmt: skip
            ok = isinstance(auth_data, LoginPassword) and (
                auth_data.login.decode(),
                auth_data.password.decode(),
            ) == (user, password)
            box.logins.append("ok" if ok else "refused")
            return AuthResult(success=ok)

        class Handler:
            async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
                box.raw.append(envelope.content)
                box.messages.append(message_from_bytes(envelope.content))
                return "250 OK"

        self._controller = Controller(
            Handler(), hostname="127.0.0.1", port=self.port, authenticator=authenticate,
            auth_require_tls=False,  # loopback only; the login is still checked
        )  # fmt: skip

    def __enter__(self) -> Mailbox:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()


def make_alert(channel: str, n: int, rule_id: str = "test-rule", title: str = "") -> dict[str, Any]:
    """An alert as the service publishes it (DESIGN.md, "Alerts")."""
    alert_id = f"{rule_id}:{uuid.uuid4().hex[:10]}:{n}"
    return {
        "schema": 1,
        "alert_id": alert_id,
        "rule_id": rule_id,
        "channel": channel,
        "matched": {
            "terms": ["ceasefire"],
            "entities": [{"label": "PERSON", "name": "Vladimir Putin", "mentions": ["Putin"]}],
        },
        "article": {
            "id": f"article-{n}",
            "url": f"https://news.example.org/story/{n}",
            "title": title or f"Ceasefire talks, story {n}",
            "published": "2025-03-17T00:00:00Z",
            "source": {"name": "Example", "url": "https://news.example.org/rss"},
            "dateline": {"place": "WASHINGTON", "date": "March 17", "agency": "Alliance News"},
            "summary": "Talks went on.",
            "language": "en",
        },
        "snippet": f"Putin spoke of a ceasefire in story {n}.",
        "created_at": "2026-11-25T10:00:00Z",
        "also_seen_in": [{"name": "Other Wire", "url": f"https://other.example.net/{n}"}],
    }


def publish(settings: Any, alerts: list[dict[str, Any]]) -> None:
    """Publish through the store's own publish function, as the service does."""
    import asyncio

    from ingest.delivery.store import Store

    async def go() -> None:
        store = Store.from_settings(settings)
        try:
            for alert in alerts:
                await store.publish_payload(
                    alert["rule_id"], alert["channel"], alert["alert_id"],
                    alert["alert_id"], json.dumps(alert),
                )  # fmt: skip
        finally:
            await store.close()

    asyncio.run(go())


def notify_env(prefix: str, notify_file: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WIREWATCH_")}
    env.update({
        "WIREWATCH_REDIS_URL": TEST_REDIS_URL, "WIREWATCH_KEY_PREFIX": prefix,
        "WIREWATCH_NOTIFY_FILE": str(notify_file), "WIREWATCH_LOG_FORMAT": "json",
        "WIREWATCH_NOTIFY_CLAIM_IDLE_S": "3", "WIREWATCH_NOTIFY_LOCK_TTL_S": "4",
        "WIREWATCH_NOTIFY_BACKOFF_MIN_S": "0.2", "WIREWATCH_NOTIFY_BACKOFF_MAX_S": "1",
        "WIREWATCH_NOTIFY_SCAN_INTERVAL_S": "0.5", "WIREWATCH_NOTIFY_SEND_TIMEOUT_S": "3",
        "WIREWATCH_NOTIFY_CONSUMER": "notifier-a", "PYTHONUNBUFFERED": "1",
    })  # fmt: skip
    env.update(extra)
    return env


def one_destination(
    folder: Path,
    prefix: str,
    dest_id: str,
    channel: str,
    to: str,
    digest_s: int = 0,
    **extra: str,
) -> dict[str, str]:
    """Write a notify.yaml of one destination into `folder`; the notifier's environment for it
    (`extra`: more variables, such as the secrets `to` names)."""
    digest = f"    digest_s: {digest_s}\n" if digest_s else ""
    notify_file = folder / "notify.yaml"
    notify_file.write_text(
        f'notify:\n  - id: {dest_id}\n    channels: ["{channel}"]\n    to: "{to}"\n{digest}'
    )
    return notify_env(prefix, notify_file, **extra)


class Notifiers:
    """`wirewatch notify` processes; their stdout and stderr kept in files."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
        n = len(self.procs)
        with (
            (self.log_dir / f"notify-{n}.out").open("wb") as out,
            (self.log_dir / f"notify-{n}.err").open("wb") as err,
        ):
            proc = subprocess.Popen(
                [PYTHON, "-m", "ingest", "notify", *args], cwd=ROOT, env=env, stdout=out, stderr=err
            )
        self.procs.append(proc)
        return proc

    def output(self) -> str:
        return "\n".join(p.read_text() for p in sorted(self.log_dir.glob("notify-*.*")))

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def redis_dump(prefix: str) -> str:
    """Every key and value under the prefix, as text (to search for secrets)."""
    client = redis.Redis.from_url(TEST_REDIS_URL, decode_responses=True)
    try:
        parts = []
        for key in client.scan_iter(match=f"{prefix}*", count=1000):
            kind = client.type(key)
            value: Any = {
                "string": client.get, "hash": client.hgetall,
            }.get(kind, lambda k: "")(key)  # fmt: skip
            parts.append(f"{key}={value}")
        return "\n".join(parts)
    finally:
        client.close()


def backlog(prefix: str, destination: str, streams: list[str]) -> int:
    """Alerts of these streams not yet delivered to the destination (pending + never read)."""
    client = redis.Redis.from_url(TEST_REDIS_URL, decode_responses=True)
    try:
        total = 0
        for stream in streams:
            for group in client.xinfo_groups(stream):
                if group["name"] == f"{prefix}notify:{destination}":
                    total += int(group["pending"]) + int(group["lag"] or 0)
        return total
    finally:
        client.close()
