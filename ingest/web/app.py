"""The console as one ASGI application: routes, the guard in front, Redis failures as 503."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ingest.errors import StoreError
from ingest.settings import Settings
from ingest.web import api, pages
from ingest.web.console import STATIC, Console
from ingest.web.guard import Guard


async def _store_failed(request: Request, exc: Exception) -> Response:
    """Redis away: say so (503), on a page or as JSON, instead of a stack trace."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": str(exc)}, status_code=503)
    console: Console = request.app.state.console
    return console.render(request, "error.html", status=503, message=str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
    console: Console = request.app.state.console
    return console.render(request, "error.html", status=exc.status_code, message=exc.detail)


def build_app(settings: Settings) -> Starlette:
    """The console for these settings; Redis is connected lazily and closed at shutdown."""
    console = Console(settings)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await console.close()

    routes = [
        Route("/", pages.alerts_page),
        Route("/feeds", pages.feeds_page),
        Route("/rules", pages.rules_page),
        Route("/try", pages.try_page, methods=["GET", "POST"]),
        Route("/signin", pages.signin_page, methods=["GET", "POST"]),
        Route("/signout", pages.signout, methods=["POST"]),
        Route("/api/alerts", api.alerts),
        Route("/api/events", api.events),
        Route("/api/feeds", api.feeds),
        Route("/api/rules", api.rules),
        Route("/api/try", api.try_rules, methods=["POST"]),
        Route("/healthz", api.healthz),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    guard = Middleware(
        Guard,
        token=console.token,
        max_body_bytes=settings.web_max_body_bytes,
        wrong_tokens=console.wrong_tokens,
    )
    app = Starlette(
        routes=routes,
        middleware=[guard],
        lifespan=lifespan,
        exception_handlers={StoreError: _store_failed, HTTPException: _http_error},
    )
    app.state.console = console
    return app
