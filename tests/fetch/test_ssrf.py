"""The address guard: non-public addresses are refused unless allowed, also after redirects."""

from __future__ import annotations

import httpx
import pytest

from ingest.errors import BlockedAddress, FetchError
from ingest.fetch.fetcher import Fetcher, is_public_address
from ingest.fetch.schedule import SourceState
from tests.fetch.helpers import http_source, rss
from tests.fetch.server import Reply, serve

pytestmark = pytest.mark.timeout(10)

PUBLIC_IP = "93.184.216.34"
FAKE_DNS = {
    "news.example.com": [PUBLIC_IP],
    "intranet.example.com": ["10.1.2.3"],
    "mixed.example.com": [PUBLIC_IP, "127.0.0.1"],
    "metadata.example.com": ["169.254.169.254"],
    "v6.example.com": ["2606:4700:4700::1111"],
}


async def fake_resolve(host: str, port: int) -> list[str]:
    if host in FAKE_DNS:
        return FAKE_DNS[host]
    return [host]  # IP literals


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("127.0.0.1", False),
        ("127.8.9.10", False),
        ("10.0.0.1", False),
        ("172.16.5.4", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),  # carrier-grade NAT
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("::1", False),
        ("::", False),
        ("fe80::1%eth0", False),
        ("fc00::1", False),
        ("::ffff:127.0.0.1", False),
        ("::ffff:10.0.0.1", False),
        ("93.184.216.34", True),
        ("8.8.8.8", True),
        ("2606:4700:4700::1111", True),
        ("::ffff:8.8.8.8", True),
    ],
)
def test_is_public_address(address: str, public: bool) -> None:
    assert is_public_address(address) is public


async def test_loopback_refused_without_a_request(make_settings) -> None:
    with serve() as server:
        server.routes["/feed"] = Reply(body=rss(1))
        async with Fetcher(make_settings(allow_private_networks=False)) as fetcher:
            with pytest.raises(BlockedAddress, match=r"non-public address 127\.0\.0\.1"):
                await fetcher.fetch(http_source(server.url("/feed")), SourceState())
        assert server.requests == []


@pytest.mark.parametrize(("everywhere", "per_source"), [(True, False), (False, True)])
async def test_loopback_allowed_when_configured(make_settings, everywhere, per_source) -> None:
    with serve() as server:
        server.routes["/feed"] = Reply(body=rss(1))
        settings = make_settings(allow_private_networks=everywhere)
        async with Fetcher(settings) as fetcher:
            source = http_source(server.url("/feed"), allow_private=per_source)
            result = await fetcher.fetch(source, SourceState())
        assert result.status == 200


class Streamed(httpx.AsyncByteStream):
    """A body that arrives as a stream, as from the network (bytes content is pre-read)."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def __aiter__(self):  # type: ignore[no-untyped-def]
        yield self.body


def redirecting_transport(location: str, seen: list[str]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        if request.url.host == "news.example.com":
            return httpx.Response(302, headers={"Location": location})
        return httpx.Response(200, stream=Streamed(rss(1)))

    return httpx.MockTransport(handle)


@pytest.mark.parametrize(
    "location",
    [
        "http://127.0.0.1:8080/admin",
        "http://[::1]/",
        "http://intranet.example.com/feed",
        "http://mixed.example.com/feed",
        "http://metadata.example.com/latest/meta-data/",
    ],
)
async def test_redirect_to_private_is_refused(make_settings, location) -> None:
    seen: list[str] = []
    settings = make_settings(allow_private_networks=False)
    transport = redirecting_transport(location, seen)
    async with Fetcher(settings, transport=transport, resolver=fake_resolve) as fetcher:
        with pytest.raises(BlockedAddress):
            await fetcher.fetch(http_source("http://news.example.com/rss"), SourceState())
    assert seen == ["http://news.example.com/rss"]


async def test_redirect_to_public_is_followed(make_settings) -> None:
    seen: list[str] = []
    settings = make_settings(allow_private_networks=False)
    transport = redirecting_transport("https://v6.example.com/rss", seen)
    async with Fetcher(settings, transport=transport, resolver=fake_resolve) as fetcher:
        result = await fetcher.fetch(http_source("http://news.example.com/rss"), SourceState())
    assert result.documents[0].url == "https://v6.example.com/rss"
    assert seen == ["http://news.example.com/rss", "https://v6.example.com/rss"]


@pytest.mark.parametrize("location", ["file:///etc/passwd", "gopher://news.example.com/"])
async def test_redirect_to_other_scheme_is_refused(make_settings, location) -> None:
    seen: list[str] = []
    transport = redirecting_transport(location, seen)
    async with Fetcher(make_settings(), transport=transport, resolver=fake_resolve) as fetcher:
        with pytest.raises(FetchError, match="only http"):
            await fetcher.fetch(http_source("http://news.example.com/rss"), SourceState())
    assert len(seen) == 1


async def test_unresolvable_host_is_a_fetch_error(make_settings) -> None:
    settings = make_settings(allow_private_networks=False)
    async with Fetcher(settings) as fetcher:
        with pytest.raises(FetchError, match="cannot resolve"):
            await fetcher.fetch(http_source("http://no-such-host.invalid/rss"), SourceState())


class Rebinding:
    """A DNS that answers a public address first and loopback afterwards."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls += 1
        return [PUBLIC_IP] if self.calls == 1 else ["127.0.0.1"]


async def test_dns_rebinding_is_caught_at_connect(make_settings) -> None:
    with serve() as server:
        server.routes["/feed"] = Reply(body=rss(1))
        port = server.server.server_address[1]
        dns = Rebinding()
        async with Fetcher(make_settings(allow_private_networks=False), resolver=dns) as fetcher:
            assert fetcher.addresses_pinned
            with pytest.raises(BlockedAddress, match=r"127\.0\.0\.1"):
                await fetcher.fetch(http_source(f"http://rebind.test:{port}/feed"), SourceState())
        assert dns.calls == 2
        assert server.requests == []


async def test_connection_goes_to_the_checked_address(make_settings) -> None:
    async def local_dns(host: str, port: int) -> list[str]:
        return ["127.0.0.1"] if host == "feeds.test" else []

    with serve() as server:
        server.routes["/feed"] = Reply(body=rss(2))
        port = server.server.server_address[1]
        async with Fetcher(
            make_settings(allow_private_networks=False), resolver=local_dns
        ) as fetcher:
            source = http_source(f"http://feeds.test:{port}/feed", allow_private=True)
            result = await fetcher.fetch(source, SourceState())
        assert result.status == 200
        assert server.requests[0].headers["host"] == f"feeds.test:{port}"
