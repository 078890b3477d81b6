"""`wirewatch web`: serve the console with uvicorn, on loopback unless a token guards it."""

from __future__ import annotations

import ipaddress
import logging

import uvicorn

from ingest.errors import ConfigError
from ingest.settings import Settings
from ingest.web.app import build_app

log = logging.getLogger(__name__)

# SIGTERM: open event streams never end by themselves, so they are cut after this.
GRACEFUL_SHUTDOWN_S = 3


def is_loopback(host: str) -> bool:
    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve anywhere


def check_exposure(host: str, token: str | None) -> None:
    """Refuse to listen beyond this machine without a token."""
    if not token and not is_loopback(host):
        raise ConfigError(
            f"wirewatch web: refusing to listen on {host} without a token: anyone who can reach "
            "it could read your alerts. Set WIREWATCH_WEB_TOKEN to a long random value (for "
            "example `openssl rand -hex 32`), or listen on 127.0.0.1"
        )


def serve(settings: Settings, host: str, port: int) -> None:
    """Run the console until SIGTERM/SIGINT."""
    check_exposure(host, settings.web_token or None)
    config = uvicorn.Config(
        build_app(settings),
        host=host,
        port=port,
        log_config=None,  # the service's logging setup (text or JSON) stays in charge
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
        server_header=False,
    )
    log.info("wirewatch web on http://%s:%d/", host if ":" not in host else f"[{host}]", port)
    uvicorn.Server(config).run()
