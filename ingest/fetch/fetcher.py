"""Fetch a source: http(s) politely and safely, a local feed file, or a spool folder.

The only module that imports httpx. Every foreign exception leaves as a FetchError subclass
(`raise ... from exc`), so the worker records it on the source and moves on.

http(s): conditional GET (ETag / Last-Modified), redirects followed by hand (max_redirects,
loop detection, permanent moves reported), Retry-After and Cache-Control max-age reported,
a total time bound for slow-drip bodies, a size cap counted on decoded bytes (gzip bombs),
and an SSRF guard that resolves every host (also after each redirect) and refuses
non-public addresses unless allowed.

The pieces that need no network live beside it: the address policy in `ingest.fetch.addressguard`,
decompression, header values and the FetchResult of an answer in `ingest.fetch.httpparts`. Local
sources (file, spool) are read by `ingest.fetch.localsource` in a worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import select
import socket
import ssl
import time
from collections.abc import AsyncIterator, Callable, Iterable
from contextvars import ContextVar
from dataclasses import dataclass, replace
from types import TracebackType
from typing import Any

import httpcore
import httpx

from ingest.errors import BlockedAddress, FetchError, NotHtml, TooLarge, WirewatchError
from ingest.fetch.addressguard import Resolver, is_public_address, refuse_private, resolve_host
from ingest.fetch.httpparts import (
    HttpAnswer,
    Inflater,
    conditional_headers,
    http_result,
    parse_retry_after_s,
)
from ingest.fetch.localsource import read_file_source, read_spool
from ingest.fetch.pages import (
    PAGE_ACCEPT,
    PAUSE_STATUSES,
    HostPauses,
    is_html,
    looks_like_html,
    page_may_reach_private,
)
from ingest.fetch.schedule import SourceState
from ingest.models import FetchResult, Page, PageOutcome, Source
from ingest.settings import Settings

__all__ = [
    "Fetcher",
    "Resolver",
    "is_public_address",
    "pin_addresses",
    "refuse_private",
    "resolve_host",
]

log = logging.getLogger(__name__)

ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, text/plain;q=0.8, */*;q=0.5"
)
ACCEPT_ENCODING = "gzip, deflate"  # only what `Inflater` decodes under the size cap
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})

PrivateOk = Callable[[str], bool]  # host -> whether this hop may reach private addresses

# Whether the request being sent may reach private addresses; set per request, read at connect.
_allow_private: ContextVar[bool] = ContextVar("wirewatch_allow_private", default=False)


class _PinnedBackend(httpcore.AsyncNetworkBackend):
    """Resolves once, checks the addresses, and connects to exactly those.

    Without this, httpx would resolve the host again at connect time, and a DNS answer that
    changed in between (DNS rebinding) would slip past the check in `Fetcher._guard`.
    """

    def __init__(self, inner: httpcore.AsyncNetworkBackend, resolver: Resolver) -> None:
        self._inner = inner
        self._resolve = resolver

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._resolve(host, port)
        if not _allow_private.get():
            refuse_private(host, addresses)
        last_error: Exception | None = None
        for address in addresses:
            try:
                return _KnownSocket(
                    await self._inner.connect_tcp(
                        address, port, timeout, local_address, socket_options
                    )
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout, OSError) as exc:
                last_error = exc
        raise last_error or httpcore.ConnectError(f"no address for {host}")

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        raise BlockedAddress("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _KnownSocket(httpcore.AsyncNetworkStream):
    """The backend's stream, its socket looked up once.

    On every request and every response closed, httpcore asks each idle connection in the
    pool whether its socket is readable (a server that hung up); anyio answers by building its
    table of socket attributes anew, a getpeername() call included, each time: a third of the
    CPU a page's fetch took with a pool of 20 connections (py-spy, bench_fulltext)."""

    def __init__(self, inner: httpcore.AsyncNetworkStream) -> None:
        self._inner = inner
        self._socket: socket.socket | None = inner.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        await self._inner.write(buffer, timeout)

    async def aclose(self) -> None:
        await self._inner.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        return _KnownSocket(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self._socket is not None:
            return _is_readable(self._socket)
        return self._inner.get_extra_info(info)


def _is_readable(sock: socket.socket) -> bool:
    """Whether a read would return at once (data, or the b"" of a closed connection);
    a socket closed on our side counts as readable, so that the pool drops it."""
    if sock.fileno() < 0:
        return True
    if not hasattr(select, "poll"):  # Windows
        return bool(select.select([sock], [], [], 0)[0])
    poller = select.poll()
    poller.register(sock, select.POLLIN)
    return bool(poller.poll(0))


def pin_addresses(transport: httpx.AsyncHTTPTransport, resolver: Resolver) -> bool:
    """Put `_PinnedBackend` under httpx's connection pool; False if httpx's internals moved."""
    pool = getattr(transport, "_pool", None)
    inner = getattr(pool, "_network_backend", None)
    if not isinstance(inner, httpcore.AsyncNetworkBackend):
        return False
    pool._network_backend = _PinnedBackend(inner, resolver)  # type: ignore[union-attr]
    return True


@dataclass(slots=True)
class _HostSlot:
    semaphore: asyncio.Semaphore
    users: int = 0  # requests holding it or waiting for it


class Fetcher:
    """Owns one HTTP client (keep-alive) and the concurrency limits; use as `async with`."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        resolver: Resolver = resolve_host,
    ) -> None:
        self._settings = settings
        self._transport = transport
        self._resolve = resolver
        self._client: httpx.AsyncClient | None = None
        self._slots = asyncio.Semaphore(settings.concurrency)
        self._host_slots: dict[str, _HostSlot] = {}  # hosts with a request running or waiting
        self.addresses_pinned = False  # True once connections go only to checked addresses
        self._page_pauses = HostPauses(settings.page_host_pause_s)

    async def __aenter__(self) -> Fetcher:
        self._client = self._build_client()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _build_client(self) -> httpx.AsyncClient:
        s = self._settings
        # The slots bound the requests in flight. The pool keeps a connection for each request
        # that may be in flight on its host (`concurrency` polls, each asking its feed's host for
        # `per_host_concurrency` pages at a time): with room for only `concurrency`, the pages of
        # one outlet closed another's idle connections, and 340 of 480 requests (bench_fulltext,
        # 10 outlets) opened a new one (a TLS handshake each, on the real web).
        kept = s.concurrency * s.per_host_concurrency
        limits = httpx.Limits(max_connections=kept, max_keepalive_connections=kept)
        headers = {"User-Agent": s.user_agent, "Accept": ACCEPT, "Accept-Encoding": ACCEPT_ENCODING}
        transport = self._transport
        if transport is None:
            transport = self._pinned_transport(limits)
        return httpx.AsyncClient(
            timeout=_timeout(s),
            limits=limits,
            headers=headers,
            follow_redirects=False,
            trust_env=False,  # a proxy from the environment would bypass the address guard
            transport=transport,
        )

    def _pinned_transport(self, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
        transport = httpx.AsyncHTTPTransport(limits=limits, trust_env=False)
        self.addresses_pinned = pin_addresses(transport, self._resolve)
        if not self.addresses_pinned:
            log.warning("httpx internals changed: addresses are checked but not pinned")
        return transport

    async def fetch(self, source: Source, state: SourceState) -> FetchResult:
        """Poll one source once; raises FetchError (or a subclass) when it cannot."""
        if self._client is None:
            raise RuntimeError("Fetcher is used outside `async with Fetcher(settings)`")
        started = time.monotonic()
        try:
            result = await self._fetch_kind(source, state)
        except WirewatchError:
            raise
        except httpx.TimeoutException as exc:
            raise FetchError(f"timed out ({type(exc).__name__}) fetching {source.url}") from exc
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            raise FetchError(f"{type(exc).__name__} fetching {source.url}: {exc}") from exc
        except OSError as exc:
            raise FetchError(f"cannot read {source.url}: {exc.strerror or exc}") from exc
        except Exception as exc:  # never let one source take the worker down
            raise FetchError(
                f"unexpected {type(exc).__name__} fetching {source.url}: {exc}"
            ) from exc
        return _with_elapsed(result, time.monotonic() - started)

    async def _fetch_kind(self, source: Source, state: SourceState) -> FetchResult:
        if source.kind == "http":
            return await self._fetch_http(source, state)
        if source.kind == "file":
            return await asyncio.to_thread(read_file_source, source, state, self._settings)
        return await asyncio.to_thread(read_spool, source, state, self._settings, time.time())

    async def _fetch_http(self, source: Source, state: SourceState) -> FetchResult:
        total_s = self._settings.http_total_timeout_s
        try:
            async with self._slots, asyncio.timeout(total_s):
                answer, permanent_url = await self._follow(source, state)
        except TimeoutError as exc:
            raise FetchError(
                f"gave up on {source.url} after {total_s:g} s (total timeout)"
            ) from exc
        return http_result(source, state, answer, permanent_url)

    async def _follow(self, source: Source, state: SourceState) -> tuple[HttpAnswer, str | None]:
        """GET with redirects followed by hand; returns the last answer and a permanent move."""
        start = state.permanent_url or source.url
        return await self._follow_url(
            start, conditional_headers(state), lambda _host: self._feed_may_reach_private(source)
        )

    async def _follow_url(
        self,
        start: str,
        headers: dict[str, str],
        may_reach_private: PrivateOk,
        *,
        page: bool = False,
    ) -> tuple[HttpAnswer, str | None]:
        url = start
        visited, permanent_url, all_permanent = {url}, None, True
        for _hop in range(self._settings.max_redirects + 1):
            answer = await self._get(url, headers, may_reach_private, page=page)
            if answer.status not in REDIRECT_STATUSES:
                return answer, permanent_url
            url = _redirect_target(answer)
            if url in visited:
                raise FetchError(f"redirect loop: {answer.url} -> {url}")
            visited.add(url)
            all_permanent = all_permanent and answer.status in PERMANENT_REDIRECTS
            permanent_url = url if all_permanent else None
        raise FetchError(f"more than {self._settings.max_redirects} redirects from {start}")

    async def _get(
        self, url: str, headers: dict[str, str], may_reach_private: PrivateOk, *, page: bool
    ) -> HttpAnswer:
        assert self._client is not None  # checked in fetch()
        target = httpx.URL(url)
        if target.scheme not in ("http", "https") or not target.host:
            raise FetchError(f"refusing to fetch {url!r}: only http(s) URLs with a host")
        async with self._host_slot(target.host):
            token = _allow_private.set(await self._guard(target, may_reach_private(target.host)))
            try:
                response = await self._client.send(
                    self._client.build_request("GET", target, headers=headers), stream=True
                )
            finally:
                _allow_private.reset(token)
            try:
                body = b""
                if response.status_code < 300:
                    body = await (self._read_page(response) if page else self._read_body(response))
            finally:
                await response.aclose()
        return HttpAnswer(url, response.status_code, response.headers, body)

    # -- pages (full_text) ------------------------------------------------------------------

    async def fetch_page(self, url: str, source: Source) -> Page:
        """An entry's linked page, or why it could not be had (never raises for the page's
        own failures: the entry then stays as its feed gave it)."""
        if self._client is None:
            raise RuntimeError("Fetcher is used outside `async with Fetcher(settings)`")
        host = httpx.URL(url).host if url.startswith(("http://", "https://")) else ""
        if not host:
            return Page(url, "refused", detail="not an http(s) link")
        paused_s = self._page_pauses.remaining_s(host)
        if paused_s > 0:
            return Page(url, "paused", detail=f"{host} asked for a pause ({paused_s:.0f} s left)")
        try:
            return await self._fetch_page(url, source)
        except Exception as exc:  # whatever happened, the entry stays as its feed gave it
            return Page(url, _page_outcome(exc), detail=f"{type(exc).__name__}: {exc}")

    async def _fetch_page(self, url: str, source: Source) -> Page:
        settings = self._settings
        headers = {"Accept": PAGE_ACCEPT}
        may_reach = functools.partial(page_may_reach_private, source=source, settings=settings)
        async with self._slots:  # the page's time runs from when it may start, not before
            try:
                async with asyncio.timeout(settings.page_timeout_s):
                    answer, _moved = await self._follow_url(url, headers, may_reach, page=True)
            except TimeoutError as exc:
                raise FetchError(f"gave up after {settings.page_timeout_s:g} s") from exc
        if answer.status in PAUSE_STATUSES:
            retry_after_s = parse_retry_after_s(answer.headers.get("retry-after"))
            self._page_pauses.pause(httpx.URL(answer.url).host, retry_after_s)
        if answer.status >= 300:
            detail = f"HTTP {answer.status} from {answer.url}"
            return Page(url, "http_error", final_url=answer.url, detail=detail)
        content_type = answer.headers.get("content-type", "")
        return Page(url, "fetched", answer.url, answer.body, content_type)

    async def _read_page(self, response: httpx.Response) -> bytes:
        content_type = response.headers.get("content-type", "")
        if not is_html(content_type):
            raise NotHtml(f"{content_type.split(';')[0]} is not HTML")
        body = await self._read_body(response, self._settings.page_max_bytes)
        if not content_type and not looks_like_html(body):
            raise NotHtml("no Content-Type, and the body is not markup")
        return body

    @contextlib.asynccontextmanager
    async def _host_slot(self, host: str) -> AsyncIterator[None]:
        """At most `per_host_concurrency` requests to `host` at once. A host's slot is kept
        only while requests hold it or wait for it: entry pages name new hosts without end."""
        slot = self._host_slots.get(host)
        if slot is None:
            slot = self._host_slots[host] = _HostSlot(
                asyncio.Semaphore(self._settings.per_host_concurrency)
            )
        slot.users += 1
        try:
            async with slot.semaphore:
                yield
        finally:
            slot.users -= 1
            if not slot.users:
                del self._host_slots[host]

    def _feed_may_reach_private(self, source: Source) -> bool:
        return self._settings.allow_private_networks or source.allow_private

    async def _guard(self, url: httpx.URL, private_ok: bool) -> bool:
        """Check the host's addresses now; returns whether private ones are allowed."""
        if private_ok:
            return True
        port = url.port or (443 if url.scheme == "https" else 80)
        refuse_private(url.host, await self._resolve(url.host, port))
        return False

    async def _read_body(self, response: httpx.Response, cap: int | None = None) -> bytes:
        cap = cap or self._settings.max_body_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise TooLarge(f"body of {declared} bytes is over the {cap}-byte cap")
        inflater = Inflater(response.headers.get("content-encoding", ""), cap)
        chunks = [inflater.feed(raw) async for raw in response.aiter_raw()]
        chunks.append(inflater.flush())
        return b"".join(chunks)


def _timeout(s: Settings) -> httpx.Timeout:
    return httpx.Timeout(
        connect=s.http_connect_timeout_s,
        read=s.http_read_timeout_s,
        write=s.http_read_timeout_s,
        pool=s.http_total_timeout_s,
    )


def _redirect_target(answer: HttpAnswer) -> str:
    location = answer.headers.get("location")
    if not location:
        raise FetchError(f"HTTP {answer.status} redirect without Location from {answer.url}")
    return str(httpx.URL(answer.url).join(location.strip()).copy_with(fragment=None))


def _page_outcome(exc: BaseException) -> PageOutcome:
    """The `wirewatch_pages_total` outcome of a page that could not be had."""
    if isinstance(exc, BlockedAddress):
        return "refused"
    if isinstance(exc, TooLarge):
        return "too_large"
    if isinstance(exc, NotHtml):
        return "not_html"
    if isinstance(exc, httpx.TimeoutException) or isinstance(exc.__cause__, TimeoutError):
        return "timeout"
    return "error"


def _with_elapsed(result: FetchResult, elapsed_s: float) -> FetchResult:
    return replace(result, elapsed_s=elapsed_s)
