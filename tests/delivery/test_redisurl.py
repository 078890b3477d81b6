"""The Sentinel form of WIREWATCH_REDIS_URL: the table in cases/redis_urls.yaml, a round trip
over generated URLs, and passwords kept out of every message."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from ingest.delivery.redisurl import (
    SENTINEL_PORT,
    describe_url,
    is_sentinel_url,
    parse_sentinel_url,
)
from ingest.errors import ConfigError

CASES = yaml.safe_load((Path(__file__).parent / "cases" / "redis_urls.yaml").read_text())
SECRETS = ("hunter2", "s3cret", "p@ss:word", "p%40ss%3Aword", "sp")


@pytest.mark.parametrize("case", CASES["good"], ids=lambda c: c["url"])
def test_good_urls(case: dict[str, Any]) -> None:
    parsed = parse_sentinel_url(case["url"])
    assert is_sentinel_url(case["url"])
    assert parsed.sentinels == tuple((host, port) for host, port in case["sentinels"])
    assert parsed.service == case["service"]
    assert parsed.db == case.get("db", 0)
    assert parsed.username == case.get("username")
    assert parsed.password == case.get("password")
    assert parsed.sentinel_username == case.get("sentinel_username")
    assert parsed.sentinel_password == case.get("sentinel_password")
    assert parsed.tls == case.get("tls", False)
    assert parsed.tls_options == tuple(tuple(o) for o in case.get("tls_options", []))
    for secret in (parsed.password, parsed.sentinel_password):
        if secret:
            assert secret not in repr(parsed)
            assert secret not in describe_url(case["url"])
            assert secret not in parsed.where


@pytest.mark.parametrize("case", CASES["bad"], ids=lambda c: c["url"])
def test_bad_urls(case: dict[str, Any]) -> None:
    with pytest.raises(ConfigError) as raised:
        parse_sentinel_url(case["url"])
    message = str(raised.value)
    assert case["error"] in message
    assert message.startswith("WIREWATCH_REDIS_URL ")
    for secret in ("hunter2",):
        assert secret not in message


def test_plain_urls_are_not_sentinel_urls() -> None:
    assert not is_sentinel_url("redis://127.0.0.1:6379/0")
    assert not is_sentinel_url("rediss://:pw@host:6380/0")
    assert describe_url("redis://:pw@host:6379/0") == "redis://***@host:6379/0"
    assert describe_url("redis://host:6379/0") == "redis://host:6379/0"


hosts = st.one_of(
    st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,10}){0,2}", fullmatch=True),
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
)
text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20)


@given(
    sentinels=st.lists(st.tuples(hosts, st.one_of(st.none(), st.integers(1, 65535))), min_size=1,
                       max_size=5),
    service=text,
    db=st.one_of(st.none(), st.integers(0, 15)),
    password=st.one_of(st.none(), text),
    sentinel_password=st.one_of(st.none(), text),
    tls=st.booleans(),
)  # fmt: skip
def test_round_trip(
    sentinels: list[tuple[str, int | None]],
    service: str,
    db: int | None,
    password: str | None,
    sentinel_password: str | None,
    tls: bool,
) -> None:
    """Any URL built from parts (percent-encoded where needed) parses back to those parts."""
    written = ",".join(
        (f"[{h}]" if ":" in h else h) + (f":{p}" if p is not None else "") for h, p in sentinels
    )
    auth = f":{quote(password, safe='')}@" if password else ""
    path = f"/{quote(service, safe='')}" + (f"/{db}" if db is not None else "")
    query = f"?sentinel_password={quote(sentinel_password, safe='')}" if sentinel_password else ""
    scheme = "rediss+sentinel" if tls else "redis+sentinel"
    url = f"{scheme}://{auth}{written}{path}{query}"
    parsed = parse_sentinel_url(url)
    assert parsed.sentinels == tuple((h, p or SENTINEL_PORT) for h, p in sentinels)
    assert parsed.service == service
    assert parsed.db == (db or 0)
    assert parsed.password == password
    assert parsed.sentinel_password == sentinel_password
    assert parsed.tls is tls
