"""The console's state for one process: the Redis store, the rules view, the templates."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse

from ingest.delivery.store import RuleActivity, Store
from ingest.settings import Settings
from ingest.web import charts
from ingest.web.guard import WrongTokens
from ingest.web.rules import LoadedRules, RuleView
from ingest.web.views import HOURS_SHOWN

HERE = Path(__file__).resolve().parent
TEMPLATES = HERE / "templates"
STATIC = HERE / "static"


def _templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # The charts are built from numbers and fixed words only (see charts.py): safe as markup.
    env.globals["sparkline"] = lambda counts: Markup(charts.sparkline(counts))
    env.globals["poll_strip"] = lambda polls: Markup(charts.poll_strip(polls))
    env.filters["moment"] = moment
    env.filters["shorter"] = shorter
    return env


def shorter(path: str, folder: str) -> str:
    """A rule file's path without the rules folder the page already names."""
    prefix = folder.rstrip("/") + "/"
    return path[len(prefix) :] if path.startswith(prefix) else path


def moment(text: object) -> str:
    """`2026-11-30T05:30:11Z` as `2026-11-30 05:30:11 UTC`; anything else as it is."""
    value = str(text or "")
    if len(value) == 20 and value[10] == "T" and value.endswith("Z"):
        return f"{value[:10]} {value[11:19]} UTC"
    return value


class Console:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.token = settings.web_token or None  # an empty value means no token
        self.store = Store.from_settings(settings)
        self.rules = RuleView(settings)
        self.templates = _templates()
        self.wrong_tokens = WrongTokens()  # the sign-in form's and the guard's, one queue

    async def close(self) -> None:
        await self.store.close()

    def render(
        self, request: Request, name: str, status: int = 200, **context: Any
    ) -> HTMLResponse:
        page = self.templates.get_template(name).render(
            path=request.url.path, signed_in=bool(self.token), **context
        )
        return HTMLResponse(page, status_code=status, headers={"cache-control": "no-store"})

    async def activity(self, loaded: LoadedRules) -> dict[str, RuleActivity]:
        ids = [rule.id for rule in loaded.rules]
        return await self.store.rule_activity(ids, HOURS_SHOWN, time.time())

    async def read_body(self, request: Request) -> bytes:
        """The request body, cut off with 413 past the size cap (also when sent in chunks)."""
        limit = self.settings.web_max_body_bytes
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > limit:
                raise HTTPException(413, f"request body over {limit} bytes")
        return bytes(body)

    async def read_form(self, request: Request) -> dict[str, str]:
        """An urlencoded form, first value of each field."""
        text = (await self.read_body(request)).decode("utf-8", "replace")
        return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


def channels_of(request: Request, loaded: LoadedRules) -> list[str]:
    """The channels asked for (`?channel=`), else every channel of the active rules."""
    asked = [c for c in request.query_params.getlist("channel") if c]
    return list(dict.fromkeys(asked)) or loaded.channels
