"""What stands in front of every request: the token, a cap on request bodies, safe headers.

With a token set, every path but /healthz (and the sign-in page with its stylesheet) needs it:
an API client sends `Authorization: Bearer TOKEN`; a browser signs in once and then carries an
HttpOnly, SameSite=Strict cookie. The cookie holds an HMAC of the token, not the token, so a
cookie that leaks does not reveal it. Pages without it redirect to sign-in; the API answers 401.
A wrong token, whether in the sign-in form, a Bearer header or a cookie, is answered after
WRONG_TOKEN_DELAY_S and one at a time (`WrongTokens`), so guessing is slow; the right token and
requests without one never wait.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import quote

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SESSION_COOKIE = "wirewatch_session"
WRONG_TOKEN_DELAY_S = 1.0
OPEN_PATHS = frozenset({"/healthz", "/signin", "/static/style.css"})
# Scripts and styles only from the console itself: a value that slipped through escaping still
# could not run. SVG pictures are inline markup, not images, so img-src stays 'self'.
SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
     b"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
]  # fmt: skip


def session_value(token: str) -> str:
    """What the sign-in cookie holds for this token."""
    return hmac.new(token.encode(), b"wirewatch web session", hashlib.sha256).hexdigest()


def token_matches(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


def is_signed_in(scope: Scope, token: str) -> bool:
    return _credentials(scope, token) is True


def _credentials(scope: Scope, token: str) -> bool | None:
    """True: the token (or its session cookie) is given; False: a wrong one is; None: none."""
    bearer = _header(scope, b"authorization")
    given = None
    if bearer[:7].lower() == "bearer ":
        if token_matches(bearer[7:].strip(), token):
            return True
        given = False
    cookie = SimpleCookie()
    try:
        cookie.load(_header(scope, b"cookie"))
    except Exception:  # a malformed Cookie header is no session, not a crash
        return given
    morsel = cookie.get(SESSION_COOKIE)
    if morsel is None:
        return given
    return token_matches(morsel.value, session_value(token))


class WrongTokens:
    """Answers to wrong tokens wait WRONG_TOKEN_DELAY_S each, one after another."""

    def __init__(self, delay_s: float = WRONG_TOKEN_DELAY_S) -> None:
        self.delay_s = delay_s
        self._turn = asyncio.Lock()

    async def wait(self) -> None:
        async with self._turn:
            await asyncio.sleep(self.delay_s)


def safe_next(target: str) -> str:
    """A local path to go back to after sign-in; anything else (another site) becomes `/`."""
    if target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"


async def _respond(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _json(message: str) -> bytes:
    return json.dumps({"error": message}).encode()


class Guard:
    """ASGI middleware: token check, body size cap, security headers on every answer.

    A body that says its length is refused here when it is too long; one sent in chunks is
    cut off while it is read (`app.read_body`)."""

    def __init__(
        self,
        app: ASGIApp,
        token: str | None,
        max_body_bytes: int,
        wrong_tokens: WrongTokens | None = None,
    ) -> None:
        self.app = app
        self.token = token
        self.max_body_bytes = max_body_bytes
        self.wrong_tokens = wrong_tokens or WrongTokens()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_headers(send)
        if self.token and scope["path"] not in OPEN_PATHS:
            given = _credentials(scope, self.token)
            if given is not True:
                if given is False:
                    await self.wrong_tokens.wait()
                await self._refuse(scope, send)
                return
        length = _header(scope, b"content-length")
        if length.isdigit() and int(length) > self.max_body_bytes:
            await self._too_large(send)
            return
        await self.app(scope, receive, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        if scope["path"].startswith("/api/"):
            headers = [(b"content-type", b"application/json"), (b"www-authenticate", b"Bearer")]
            await _respond(send, 401, _json("sign in: Authorization: Bearer TOKEN"), headers)
            return
        query = scope.get("query_string", b"").decode("latin-1")
        back = scope["path"] + (f"?{query}" if query else "")
        location = "/signin?next=" + quote(back, safe="")
        await _respond(send, 303, b"", [(b"location", location.encode())])

    async def _too_large(self, send: Send) -> None:
        limit = f"request body over {self.max_body_bytes} bytes"
        await _respond(send, 413, _json(limit), [(b"content-type", b"application/json")])


def _with_headers(send: Send) -> Send:
    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            message["headers"] = [*message.get("headers", []), *SECURITY_HEADERS]
        await send(message)

    return sending
