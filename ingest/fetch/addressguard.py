"""Which addresses a fetch may reach: resolve a host, refuse loopback/private/reserved ones.

Pure policy and a resolver, no HTTP: `ingest.fetch.fetcher` checks every host (also after each
redirect) and pins its connections to the addresses checked here, so a DNS answer that changes
in between (DNS rebinding) cannot slip past.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import Awaitable, Callable

from ingest.errors import BlockedAddress, FetchError

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve_host(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an IP literal resolves to itself)."""
    with contextlib.suppress(ValueError):
        return [str(ipaddress.ip_address(host.strip("[]")))]
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchError(f"cannot resolve host {host!r}: {exc}") from exc
    return [str(info[4][0]) for info in infos]


def is_public_address(address: str) -> bool:
    """False for loopback, private, link-local, reserved, multicast and unspecified addresses."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


def refuse_private(host: str, addresses: list[str]) -> None:
    """BlockedAddress when any address of `host` is not public."""
    for address in addresses:
        if not is_public_address(address):
            raise BlockedAddress(
                f"refusing {host}: it resolves to non-public address {address} "
                "(set allow_private: true on the source, or WIREWATCH_ALLOW_PRIVATE_NETWORKS)"
            )
