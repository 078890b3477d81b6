"""The JSON API and the event stream: the pages' data for programs that do not speak Redis."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse

from ingest.delivery.streams import is_stream_id, last_ids, newest, since
from ingest.delivery.subscribe import since_to_stream_id
from ingest.errors import ConfigError, ModelError, StoreError
from ingest.match.explain import describe_near_miss
from ingest.service.report import feeds_table
from ingest.web.console import channels_of
from ingest.web.events import alert_events
from ingest.web.pages import console_of
from ingest.web.positions import PositionError, decode
from ingest.web.views import alert_record, feeds_json, rules_json

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000


def problem(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _limit(request: Request) -> int:
    text = request.query_params.get("limit", str(DEFAULT_LIMIT))
    if not text.isdigit() or not 1 <= int(text) <= MAX_LIMIT:
        raise ValueError(f"limit: give a number from 1 to {MAX_LIMIT}")
    return int(text)


def _start(text: str) -> tuple[str, bool]:
    """(stream id, inclusive): a stream id counts from after it, a time from that moment."""
    if is_stream_id(text):
        return text, False
    try:
        return since_to_stream_id(text), True
    except ValueError as exc:
        raise ValueError(f"give a stream id, unix seconds or an ISO time, not {text!r}") from exc


async def alerts(request: Request) -> Response:
    console = console_of(request)
    channels = channels_of(request, await console.rules.current())
    given = request.query_params.get("since")
    try:
        limit = _limit(request)
    except ValueError as exc:
        return problem(400, str(exc))
    try:
        start = _start(given) if given else None
    except ValueError as exc:
        return problem(400, f"since: {exc}")
    if start is None:
        entries = list(reversed(await newest(console.store, channels, limit)))
    else:
        entries = await since(console.store, channels, start[0], limit, inclusive=start[1])
    return JSONResponse({"alerts": [r for r in map(alert_record, entries) if r is not None]})


def _before(stream_id: str) -> str:
    """The position just before `stream_id`, so that reading after it includes that entry."""
    ms, _, seq = stream_id.partition("-")
    if int(seq or 0) > 0:
        return f"{ms}-{int(seq) - 1}"
    return f"{int(ms) - 1}-18446744073709551615" if int(ms) > 0 else "0-0"


async def _positions(request: Request, channels: list[str]) -> dict[str, str]:
    """Where to start: Last-Event-ID (a reconnect), else `?since=`, else now."""
    console = console_of(request)
    resume = request.headers.get("last-event-id") or request.query_params.get("since") or ""
    found: dict[str, str] = {}
    if resume:
        try:
            found = decode(resume, channels)
        except PositionError:
            start, inclusive = _start(resume)  # raises ValueError: neither kind
            position = _before(start) if inclusive else start
            found = dict.fromkeys(channels, position)
    missing = [c for c in channels if c not in found]
    now = await last_ids(console.store, missing) if missing else {}
    return {c: found.get(c) or now[c] for c in channels}


async def events(request: Request) -> Response:
    console = console_of(request)
    channels = channels_of(request, await console.rules.current())
    if not channels:
        return problem(400, "no channel: give ?channel=NAME (no rule names one yet)")
    try:
        positions = await _positions(request, channels)
    except ValueError as exc:
        return problem(400, f"Last-Event-ID or since: {exc}")
    headers = {"cache-control": "no-store", "x-accel-buffering": "no"}
    stream = alert_events(console.store, positions)
    return StreamingResponse(stream, media_type="text/event-stream", headers=headers)


async def feeds(request: Request) -> Response:
    console = console_of(request)
    try:
        table = await feeds_table(console.settings, console.store)
    except ConfigError as exc:
        return problem(500, str(exc))
    return JSONResponse(feeds_json(table, console.settings))


async def rules(request: Request) -> Response:
    console = console_of(request)
    loaded = await console.rules.current()
    return JSONResponse(rules_json(loaded, await console.activity(loaded)))


def _try_fields(body: bytes, limit: int) -> tuple[str, str, str | None]:
    try:
        data: Any = json.loads(body or b"null")
    except ValueError as exc:
        raise ValueError(f"body is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ValueError('body: give {"title": "...", "text": "..."}')
    title, text, rule = data.get("title", ""), data.get("text", ""), data.get("rule")
    if not isinstance(title, str) or not isinstance(text, str):
        raise ValueError("title and text must be strings")
    if rule is not None and not isinstance(rule, str):
        raise ValueError("rule must be a rule id")
    if len(title) + len(text) > limit:
        raise OverflowError(f"title and text are over {limit} characters")
    if not (title + text).strip():
        raise ValueError("give a title or a text")
    return title, text, rule


async def try_rules(request: Request) -> Response:
    console = console_of(request)
    try:
        title, text, rule = _try_fields(
            await console.read_body(request), console.settings.web_try_max_chars
        )
    except OverflowError as exc:
        return problem(413, str(exc))
    except ValueError as exc:
        return problem(400, str(exc))
    try:
        trial = await console.rules.trial(title, text, rule)
    except ModelError as exc:
        return problem(503, str(exc))
    answer: dict[str, Any] = {
        "article": trial.article.to_json(),
        "matches": [m.to_json() for m in trial.matches],
    }
    if trial.near_miss is not None:
        x = trial.near_miss
        answer["near_miss"] = {
            "rule_id": x.rule_id, "channel": x.channel, "missing": list(x.missing),
            "found": {"terms": list(x.terms), "entities": [e.to_json() for e in x.entities]},
            "notes": list(x.notes), "explanation": describe_near_miss(x),
        }  # fmt: skip
    return JSONResponse(answer)


async def healthz(request: Request) -> Response:
    try:
        await console_of(request).store.ping()
    except (StoreError, ConfigError) as exc:  # ConfigError: the sentinels know no such service
        return PlainTextResponse(f"unhealthy: {exc}\n", status_code=503)
    return PlainTextResponse("ok\n")
