"""The HTML pages: server-rendered, complete without JavaScript (the live list on `/` adds a
little), and read-only: of the forms that post, /try changes nothing and sign-in/sign-out only
the browser's session cookie."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ingest.delivery.streams import id_key, last_ids, newest
from ingest.errors import ConfigError, ModelError
from ingest.service.report import feeds_table
from ingest.web.console import Console, channels_of
from ingest.web.destinations import notify_destinations
from ingest.web.guard import SESSION_COOKIE, safe_next, session_value, token_matches
from ingest.web.positions import encode
from ingest.web.views import alert_card, alert_record, feed_rows, rules_json

ALERTS_SHOWN = 50
COOKIE_MAX_AGE_S = 30 * 86400


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


async def alerts_page(request: Request) -> Response:
    console = console_of(request)
    loaded = await console.rules.current()
    channels = channels_of(request, loaded)
    # Positions first, then the list: an alert landing in between is left to the live stream,
    # so it shows once, not twice and not never.
    positions = await last_ids(console.store, channels)
    entries = [
        e
        for e in await newest(console.store, channels, ALERTS_SHOWN)
        if id_key(e.id) <= id_key(positions[e.channel])
    ]
    records = [r for r in map(alert_record, entries) if r is not None]
    return console.render(
        request,
        "alerts.html",
        cards=[alert_card(r) for r in records],
        channels=channels,
        position=encode(positions) if positions else "",
        limit=ALERTS_SHOWN,
    )


async def feeds_page(request: Request) -> Response:
    console = console_of(request)
    try:
        table = await feeds_table(console.settings, console.store)
    except ConfigError as exc:
        return console.render(request, "feeds.html", rows=[], errors=[str(exc)], notes=[])
    rows = feed_rows(table, console.settings)
    destinations = await notify_destinations(console.store)
    return console.render(
        request, "feeds.html", rows=rows, errors=table.errors, notes=table.notes,
        destinations=destinations,
    )  # fmt: skip


async def rules_page(request: Request) -> Response:
    console = console_of(request)
    loaded = await console.rules.current()
    table = rules_json(loaded, await console.activity(loaded))
    return console.render(
        request, "rules.html", rules=table["rules"], errors=table["errors"],
        rules_dir=str(console.settings.rules_dir),
    )  # fmt: skip


async def try_page(request: Request) -> Response:
    console = console_of(request)
    loaded = await console.rules.current()
    rule_ids = [rule.id for rule in loaded.rules]
    if request.method == "GET":
        return console.render(request, "try.html", rule_ids=rule_ids, form={}, trial=None)
    form = await console.read_form(request)
    title, text = form.get("title", ""), form.get("text", "")
    limit = console.settings.web_try_max_chars
    problem = None
    trial = None
    if len(title) + len(text) > limit:
        problem = f"title and text are over {limit} characters; paste less"
    elif not (title + text).strip():
        problem = "paste a title or a text"
    else:
        try:
            trial = await console.rules.trial(title, text, form.get("rule") or None)
        except ModelError as exc:
            problem = str(exc)
    return console.render(
        request, "try.html", status=400 if problem else 200,
        rule_ids=rule_ids, form=form, trial=trial, problem=problem,
    )  # fmt: skip


async def signin_page(request: Request) -> Response:
    console = console_of(request)
    target = safe_next(request.query_params.get("next", "/"))
    if console.token is None:
        return RedirectResponse(target, status_code=303)
    if request.method == "GET":
        return console.render(request, "signin.html", next=target, problem=None)
    form = await console.read_form(request)
    target = safe_next(form.get("next", "/"))
    if not token_matches(form.get("token", ""), console.token):
        await console.wrong_tokens.wait()
        problem = "That is not the token (WIREWATCH_WEB_TOKEN)."
        return console.render(request, "signin.html", status=401, next=target, problem=problem)
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        SESSION_COOKIE, session_value(console.token), max_age=COOKIE_MAX_AGE_S,
        httponly=True, samesite="strict", secure=request.url.scheme == "https",
    )  # fmt: skip
    return response


async def signout(request: Request) -> Response:
    response = RedirectResponse("/signin", status_code=303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict")
    return response
