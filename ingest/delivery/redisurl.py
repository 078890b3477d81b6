"""`WIREWATCH_REDIS_URL`, read in one place: one server (`redis://`, `rediss://`, handed to
redis-py as it is) or a Redis Sentinel set that names the primary (`redis+sentinel://`,
`rediss+sentinel://`, parsed here):

    redis+sentinel://[[USER]:PASSWORD@]HOST[:PORT][,HOST[:PORT]...]/SERVICE[/DB][?OPTIONS]

USER and PASSWORD are the primary's (and its replicas'); PORT defaults to 26379, the sentinels'
port, and DB to 0. OPTIONS: `sentinel_username` and `sentinel_password` when the sentinels want
their own (`requirepass` in sentinel.conf), and with `rediss+sentinel://` (TLS to the sentinels
and to Redis) `ssl_ca_certs`, `ssl_certfile`, `ssl_keyfile`, `ssl_cert_reqs`. A percent-encoded
character stands for itself. Pure parsing: this module does not import redis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote

from ingest.errors import ConfigError

SENTINEL_SCHEMES = ("redis+sentinel", "rediss+sentinel")
SENTINEL_PORT = 26379
TLS_OPTIONS = ("ssl_ca_certs", "ssl_certfile", "ssl_keyfile", "ssl_cert_reqs")
SENTINEL_AUTH_OPTIONS = ("sentinel_username", "sentinel_password")
CERT_REQS = ("none", "optional", "required")
_SECRET = re.compile(r"((?:^|[?&])sentinel_password=)[^&]*")
_HOST_PORT = re.compile(
    r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<host>[^:\[\]]+))(?::(?P<port>[^:]*))?$"
)


@dataclass(frozen=True, slots=True)
class SentinelUrl:
    """What a `redis+sentinel://` URL says: where the sentinels are and which primary to ask for."""

    sentinels: tuple[tuple[str, int], ...]
    service: str
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sentinel_username: str | None = None
    sentinel_password: str | None = field(default=None, repr=False)
    tls: bool = False
    tls_options: tuple[tuple[str, str], ...] = ()  # (ssl_* option, value), as given

    @property
    def where(self) -> str:
        """The sentinels and the service, for messages (no secrets)."""
        hosts = ",".join(_host_port(host, port) for host, port in self.sentinels)
        return f"sentinels {hosts}, service {self.service!r}"


def is_sentinel_url(url: str) -> bool:
    return url.partition("://")[0].lower() in SENTINEL_SCHEMES


def describe_url(url: str) -> str:
    """The URL without its passwords, for messages."""
    scheme, sep, rest = url.partition("://")
    rest = _SECRET.sub(r"\1***", rest)
    if "@" in rest:
        rest = "***@" + rest.rpartition("@")[2]
    return f"{scheme}{sep}{rest}"


def parse_sentinel_url(url: str) -> SentinelUrl:
    """The parts of a `redis+sentinel://` URL; ConfigError saying what is wrong otherwise."""
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in SENTINEL_SCHEMES:
        raise _bad(
            url, f"the scheme must be one of {', '.join(s + '://' for s in SENTINEL_SCHEMES)}"
        )
    rest, _, query = rest.partition("?")
    rest = rest.partition("#")[0]
    authority, slash, path = rest.partition("/")
    userinfo, at, hosts = authority.rpartition("@")
    username, password = _credentials(url, userinfo) if at else (None, None)
    sentinels = tuple(_sentinel(url, part) for part in hosts.split(","))
    if not slash:
        raise _bad(
            url, "no service name: end the URL with /SERVICE (the sentinels' name of the primary)"
        )
    service, db = _service_and_db(url, path)
    tls = scheme.lower() == "rediss+sentinel"
    options = _options(url, query, tls)
    return SentinelUrl(
        sentinels=sentinels,
        service=service,
        db=db,
        username=username,
        password=password,
        sentinel_username=options.pop("sentinel_username", None),
        sentinel_password=options.pop("sentinel_password", None),
        tls=tls,
        tls_options=tuple(sorted(options.items())),
    )


def _bad(url: str, why: str) -> ConfigError:
    return ConfigError(f"WIREWATCH_REDIS_URL {describe_url(url)}: {why}")


def _credentials(url: str, userinfo: str) -> tuple[str | None, str | None]:
    user, colon, password = userinfo.partition(":")
    if not colon:
        raise _bad(url, "write the password as :PASSWORD@ (or USER:PASSWORD@)")
    return (unquote(user) or None), (unquote(password) or None)


def _sentinel(url: str, part: str) -> tuple[str, int]:
    found = _HOST_PORT.match(part.strip())
    if not part.strip() or found is None:
        raise _bad(url, f"sentinel {part!r} is not HOST or HOST:PORT")
    host = found.group("v6") or unquote(found.group("host"))
    port_text = found.group("port")
    if port_text is None:
        return host, SENTINEL_PORT
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise _bad(url, f"sentinel {part!r}: the port must be a number from 1 to 65535")
    return host, int(port_text)


def _service_and_db(url: str, path: str) -> tuple[str, int]:
    segments = path.split("/")
    if segments[-1] == "" and len(segments) > 1:  # a trailing slash
        segments.pop()
    service = unquote(segments[0])
    if not service:
        raise _bad(
            url, "no service name: end the URL with /SERVICE (the sentinels' name of the primary)"
        )
    if len(segments) > 2:
        raise _bad(url, "the path is /SERVICE or /SERVICE/DB, nothing more")
    if len(segments) == 1:
        return service, 0
    if not segments[1].isdigit():
        raise _bad(url, f"database {segments[1]!r} is not a number")
    return service, int(segments[1])


def _options(url: str, query: str, tls: bool) -> dict[str, str]:
    known = SENTINEL_AUTH_OPTIONS + (TLS_OPTIONS if tls else ())
    options: dict[str, str] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        if name not in known:
            extra = "" if tls else " (the ssl_* options need rediss+sentinel://)"
            raise _bad(url, f"unknown option {name!r}; known: {', '.join(known)}{extra}")
        if name in options:
            raise _bad(url, f"option {name!r} is given twice")
        options[name] = value
    reqs = options.get("ssl_cert_reqs")
    if reqs is not None and reqs not in CERT_REQS:
        raise _bad(url, f"ssl_cert_reqs must be one of {', '.join(CERT_REQS)}")
    return {name: value for name, value in options.items() if value != ""}


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
