"""Small inline SVG pictures: a sparkline of alerts per hour, a strip of recent polls.

Pure functions of numbers and fixed words, so the markup they return holds nothing that came
from a feed or a rule file (the templates mark it safe for that reason).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

POLL_CLASSES = {"ok": "poll-ok", "not_modified": "poll-same", "error": "poll-error"}
POLL_WORDS = {"ok": "ok", "not_modified": "not modified", "error": "error"}


def sparkline(counts: Sequence[int], width: int = 120, height: int = 24) -> str:
    """Bars of alerts per hour, oldest first; the tallest bar fills the height."""
    if not counts:
        return ""
    top = max(max(counts), 1)
    step = width / len(counts)
    bars = []
    for i, count in enumerate(counts):
        bar_h = 0.0 if count == 0 else max(1.5, (height - 2) * count / top)
        hours_ago = len(counts) - 1 - i
        label = f"{count} alert{'s' if count != 1 else ''}, " + (
            "this hour" if hours_ago == 0 else f"{hours_ago} h ago"
        )
        bars.append(
            f'<rect x="{i * step + 0.5:.1f}" y="{height - 1 - bar_h:.1f}" '
            f'width="{max(step - 1, 1):.1f}" height="{bar_h:.1f}"><title>{label}</title></rect>'
        )
    total = sum(counts)
    return (
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{total} alerts in the last {len(counts)} hours">'
        f'<line x1="0" y1="{height - 0.5}" x2="{width}" y2="{height - 0.5}" class="axis"/>'
        + "".join(bars)
        + "</svg>"
    )


def poll_strip(polls: Sequence[tuple[int, str]], slots: int = 20, size: int = 9) -> str:
    """One square per recent poll, oldest on the left: ok, not modified, or error."""
    shown = list(polls)[-slots:]
    width = slots * (size + 2)
    offset = slots - len(shown)  # right-aligned: the newest poll always sits at the end
    cells = [
        f'<rect class="poll-none" x="{i * (size + 2)}" y="0" width="{size}" height="{size}" '
        'rx="2"/>'
        for i in range(offset)
    ]
    for i, (when_s, kind) in enumerate(shown):
        moment = datetime.fromtimestamp(when_s, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        css = POLL_CLASSES.get(kind, "poll-unknown")
        word = POLL_WORDS.get(kind, "unknown")
        cells.append(
            f'<rect class="{css}" x="{(offset + i) * (size + 2)}" y="0" width="{size}" '
            f'height="{size}" rx="2"><title>{moment}: {word}</title></rect>'
        )
    counts = {w: sum(1 for _, k in shown if k == w) for w in POLL_WORDS}
    summary = ", ".join(f"{n} {POLL_WORDS[w]}" for w, n in counts.items() if n)
    return (
        f'<svg class="polls" width="{width}" height="{size}" viewBox="0 0 {width} {size}" '
        f'role="img" aria-label="last {len(shown)} polls: {summary or "none yet"}">'
        + "".join(cells)
        + "</svg>"
    )
