"""/api/events over real HTTP: follow, disconnect, miss some alerts, reconnect with
Last-Event-ID, and get exactly the missed ones: for one channel and for two."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import httpx
import pytest

from tests.web.conftest import Publisher, WebServer

pytestmark = [pytest.mark.usefixtures("real_redis_cleanup"), pytest.mark.timeout(90)]


@dataclass(frozen=True)
class Event:
    id: str
    name: str
    data: str

    @property
    def title(self) -> str:
        return str(json.loads(self.data)["article"]["title"])


class EventReader:
    """Reads SSE events off one open response, one at a time."""

    def __init__(self, response: httpx.Response) -> None:
        self.lines = response.iter_lines()

    def next(self) -> Event:
        fields: dict[str, list[str]] = {}
        for line in self.lines:
            if line == "":
                if "data" in fields:
                    return Event(
                        "".join(fields.get("id", [])),
                        "".join(fields.get("event", ["message"])),
                        "\n".join(fields["data"]),
                    )
                fields = {}  # a comment or a retry: no event
                continue
            if line.startswith(":"):
                continue
            name, _, value = line.partition(":")
            fields.setdefault(name, []).append(value.removeprefix(" "))
        raise AssertionError("the event stream ended")

    def take(self, count: int) -> list[Event]:
        return [self.next() for _ in range(count)]


@contextmanager
def follow(
    server: WebServer, channels: list[str], last_id: str | None = None
) -> Iterator[EventReader]:
    params = [("channel", c) for c in channels]
    headers = {"Last-Event-ID": last_id} if last_id else {}
    url = f"{server.url}/api/events"
    with (
        httpx.Client(timeout=httpx.Timeout(20.0)) as client,
        client.stream("GET", url, params=params, headers=headers) as response,
    ):
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        yield EventReader(response)


def titles(events: list[Event]) -> list[str]:
    return [e.title for e in events]


def test_one_channel_resumes_with_exactly_the_missed_alerts(
    start_web, publisher: Publisher, key_prefix: str
) -> None:
    channel = f"{key_prefix}alerts:one"
    server = start_web()
    publisher.alert(channel, 0, "before: not wanted")  # a follower starts from now
    with follow(server, [channel]) as reader:
        publisher.alert(channel, 1, "one")
        publisher.alert(channel, 2, "two")
        seen = reader.take(2)
    assert titles(seen) == ["one", "two"]
    assert all(e.name == "alert" for e in seen)
    for n, title in [(3, "three"), (4, "four"), (5, "five")]:
        publisher.alert(channel, n, title)  # while disconnected
    with follow(server, [channel], last_id=seen[-1].id) as reader:
        publisher.alert(channel, 6, "after")  # a marker: everything before it was replayed
        again = reader.take(4)
    assert titles(again) == ["three", "four", "five", "after"]
    assert len({e.id for e in seen + again}) == 6


def test_two_channels_resume_with_exactly_the_missed_alerts(
    start_web, publisher: Publisher, key_prefix: str
) -> None:
    a, b = f"{key_prefix}alerts:a", f"{key_prefix}alerts:b"
    server = start_web()
    with follow(server, [a, b]) as reader:
        publisher.alert(a, 1, "a1")
        publisher.alert(b, 1, "b1")
        publisher.alert(a, 2, "a2")
        publisher.alert(b, 2, "b2")
        # Leave after three: the fourth is already on its way, and must come again.
        seen = reader.take(3)
    assert titles(seen) == ["a1", "b1", "a2"]
    publisher.alert(b, 3, "b3")
    publisher.alert(a, 3, "a3")
    with follow(server, [a, b], last_id=seen[-1].id) as reader:
        publisher.alert(a, 4, "a4")
        again = reader.take(4)
    assert titles(again) == ["b2", "b3", "a3", "a4"]
    # Resuming from the middle (after b1) gives the rest of both channels, in order.
    with follow(server, [a, b], last_id=seen[1].id) as reader:
        middle = reader.take(5)
    assert titles(middle) == ["a2", "b2", "b3", "a3", "a4"]


def test_a_bad_last_event_id_is_refused(start_web, key_prefix: str) -> None:
    server = start_web()
    answer = httpx.get(
        f"{server.url}/api/events",
        params={"channel": [f"{key_prefix}a", f"{key_prefix}b"]},
        headers={"Last-Event-ID": "not a position"},
        timeout=10,
    )
    assert answer.status_code == 400
    assert "Last-Event-ID" in answer.json()["error"]
