"""The console's pure parts: positions, pictures, links, the token check, where it may listen."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from ingest.errors import ConfigError
from ingest.web.charts import poll_strip, sparkline
from ingest.web.guard import Guard, WrongTokens, is_signed_in, safe_next, session_value
from ingest.web.positions import PositionError, decode, encode
from ingest.web.server import check_exposure, is_loopback
from ingest.web.views import safe_url
from tests.conftest import ROOT

pytestmark = pytest.mark.timeout(60)

CASES: dict[str, dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "cases.yaml").read_text(encoding="utf-8")
)
stream_ids = st.builds(lambda ms, seq: f"{ms}-{seq}", st.integers(0, 2**48), st.integers(0, 2**20))
channel_names = st.text(min_size=1, max_size=30).filter(lambda c: "\x00" not in c)


@given(st.dictionaries(channel_names, stream_ids, min_size=1, max_size=5))
def test_positions_round_trip_whatever_the_channel_names(positions: dict[str, str]) -> None:
    text = encode(positions)
    assert "\n" not in text and "\r" not in text  # one SSE `id:` line
    assert decode(text, list(positions)) == positions


def test_one_channel_position_is_the_stream_id_itself() -> None:
    assert encode({"alerts:a": "1700000000000-2"}) == "1700000000000-2"
    assert decode("1700000000000-2", ["alerts:a"]) == {"alerts:a": "1700000000000-2"}


def test_a_channel_the_position_does_not_name_is_left_to_start_from_now() -> None:
    text = encode({"a": "1-0", "b": "2-0"})
    assert decode(text, ["a", "c"]) == {"a": "1-0"}


@pytest.mark.parametrize("text", ["hello", "a=notanid&b=1-0", "", "a=-1-0"])
def test_a_position_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(PositionError):
        decode(text, ["a", "b"])


def test_sparkline_bars_scale_to_the_busiest_hour() -> None:
    svg = sparkline([0] * 22 + [2, 4], width=120, height=24)
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', svg)]
    assert len(heights) == 24 and heights[:22] == [0.0] * 22
    assert heights[-1] == 22.0 and heights[-2] == 11.0
    assert "4 alerts, this hour" in svg and "2 alerts, 1 h ago" in svg
    assert 'aria-label="6 alerts in the last 24 hours"' in svg


def test_poll_strip_newest_on_the_right_with_a_square_per_poll() -> None:
    svg = poll_strip(
        [(1_700_000_000, "ok"), (1_700_000_060, "not_modified"), (1_700_000_120, "error")], slots=5
    )
    classes = re.findall(r'<rect class="([\w-]+)"', svg)
    assert classes == ["poll-none", "poll-none", "poll-ok", "poll-same", "poll-error"]
    assert "2023-11-14 22:15:20 UTC: error" in svg
    assert "1 ok, 1 not modified, 1 error" in svg
    assert len(re.findall("<rect", poll_strip([(1, "ok")] * 50, slots=20))) == 20


@pytest.mark.parametrize(("url", "expected"), CASES["urls"].items())
def test_only_http_links_are_made(url: str, expected: str | None) -> None:
    assert safe_url(url) == expected


@pytest.mark.parametrize(("target", "expected"), CASES["next_targets"].items())
def test_sign_in_goes_back_only_to_a_local_path(target: str, expected: str) -> None:
    assert safe_next(target) == expected


def scope(**headers: str) -> dict[str, Any]:
    return {"headers": [(k.encode(), v.encode()) for k, v in headers.items()]}


def test_signed_in_by_bearer_or_by_the_cookie_only() -> None:
    token = "t0ken"
    cookie = f"wirewatch_session={session_value(token)}"
    assert is_signed_in(scope(authorization=f"Bearer {token}"), token)
    assert is_signed_in(scope(authorization=f"bearer {token}"), token)
    assert is_signed_in(scope(cookie=f"other=1; {cookie}"), token)
    assert not is_signed_in(scope(), token)
    assert not is_signed_in(scope(authorization="Bearer t0ke"), token)
    assert not is_signed_in(scope(authorization=f"Basic {token}"), token)
    assert not is_signed_in(scope(cookie=f"wirewatch_session={token}"), token)  # not the token
    assert not is_signed_in(scope(cookie=f"wirewatch_session={session_value('other')}"), token)
    assert not is_signed_in(scope(cookie='wirewatch_session="unterminated'), token)


@pytest.mark.parametrize(("host", "expected"), CASES["loopback_hosts"].items())
def test_loopback_hosts(host: str, expected: bool) -> None:
    assert is_loopback(host) is expected
    if expected:
        check_exposure(host, None)
    else:
        with pytest.raises(ConfigError, match="WIREWATCH_WEB_TOKEN"):
            check_exposure(host, None)
        check_exposure(host, "a-token")  # with a token it may listen anywhere


def test_the_command_refuses_a_public_host_without_a_token() -> None:
    env = {"PATH": "/usr/bin:/bin", "WIREWATCH_REDIS_URL": "redis://127.0.0.1:1/0"}
    done = subprocess.run(
        [sys.executable, "-m", "ingest", "web", "--host", "0.0.0.0", "--port", "1"],
        capture_output=True, text=True, timeout=50, cwd=ROOT, env=env,
    )  # fmt: skip
    assert done.returncode != 0
    assert "refusing to listen on 0.0.0.0 without a token" in done.stderr
    assert "WIREWATCH_WEB_TOKEN" in done.stderr


class CountedWaits(WrongTokens):
    def __init__(self) -> None:
        super().__init__(delay_s=0)
        self.waits = 0

    async def wait(self) -> None:
        self.waits += 1
        await super().wait()


async def _through_guard(token: str, path: str, **headers: str) -> tuple[int, int, bool]:
    """(status, waits for a wrong token, whether the app was reached) of one request."""
    reached: list[bool] = []

    async def app(scope, receive, send) -> None:  # type: ignore[no-untyped-def]
        reached.append(True)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    sent: list[dict[str, Any]] = []

    async def send(message) -> None:  # type: ignore[no-untyped-def]
        sent.append(message)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    waits = CountedWaits()
    guard = Guard(app, token=token, max_body_bytes=1000, wrong_tokens=waits)
    await guard(scope(**headers) | {"type": "http", "path": path}, receive, send)
    return sent[0]["status"], waits.waits, bool(reached)


@pytest.mark.parametrize(
    ("path", "headers", "expected"),
    [
        ("/api/rules", {}, (401, 0, False)),  # no token at all: answered at once
        ("/", {}, (303, 0, False)),
        ("/api/rules", {"authorization": "Bearer guess"}, (401, 1, False)),  # wrong: waits
        ("/", {"cookie": f"wirewatch_session={session_value('old-token')}"}, (303, 1, False)),
        ("/api/rules", {"authorization": "Bearer s3cret"}, (200, 0, True)),
        ("/", {"cookie": f"wirewatch_session={session_value('s3cret')}"}, (200, 0, True)),
        ("/healthz", {"authorization": "Bearer guess"}, (200, 0, True)),  # open path
    ],
)
async def test_a_wrong_token_waits_before_it_is_refused(
    path: str, headers: dict[str, str], expected: tuple[int, int, bool]
) -> None:
    assert await _through_guard("s3cret", path, **headers) == expected


async def test_wrong_tokens_are_answered_one_at_a_time() -> None:
    wrong = WrongTokens(delay_s=0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()
    await asyncio.gather(*(wrong.wait() for _ in range(4)))
    assert loop.time() - started >= 4 * 0.05  # queued, not side by side
