"""Where a reader of several alert streams stands: one stream id per channel, as one SSE `id`.

One channel: the id is the stream id itself (`1732950000000-0`). Several: a query string of
channel=stream id pairs (`alerts%3Aa=1732950000000-0&alerts%3Ab=0-0`), so any channel name
survives and the id stays one line, as SSE requires.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from urllib.parse import parse_qsl, urlencode

from ingest.delivery.streams import is_stream_id


class PositionError(ValueError):
    """A Last-Event-ID that is not one this console gave out."""


def encode(positions: Mapping[str, str]) -> str:
    if len(positions) == 1:
        (only,) = positions.values()
        return only
    return urlencode(list(positions.items()))


def decode(text: str, channels: Sequence[str]) -> dict[str, str]:
    """The positions in `text` for these channels; a channel it does not name is left out
    (the caller starts that one from now)."""
    text = text.strip()
    if len(channels) == 1 and is_stream_id(text):
        return {channels[0]: text}
    pairs = parse_qsl(text, keep_blank_values=True, strict_parsing=False)
    if not pairs:
        raise PositionError(f"not a position: {text[:80]!r}")
    found = dict(pairs)
    for channel, stream_id in found.items():
        if not is_stream_id(stream_id):
            raise PositionError(f"not a stream id for {channel!r}: {stream_id[:40]!r}")
    return {c: found[c] for c in channels if c in found}
