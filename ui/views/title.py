"""A table's title line: its name, row count, spinner, state and freshness, in one line.

When the line is too narrow, the least important segments go first and an
error is cut before anything more important is dropped.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from arr_actors.messages import FetchStarted, TableSnapshot, TableStatus
from arr_actors.tables import TableSpec
from arr_actors.timefmt import format_ago, format_clock
from ui.context import SPINNER_FPS, RenderContext
from ui.text import Markup, clip, fit, width_of

#: What a table that is not ``ok`` says about itself, and its style.
STATE_LABELS: dict[TableStatus, tuple[str, str]] = {
    TableStatus.STALE: ("STALE", "stale"),
    TableStatus.ERROR: ("ERROR", "trouble"),
    TableStatus.TIMEOUT: ("TIMED OUT", "trouble"),
    TableStatus.RESTARTING: ("RESTARTING", "trouble"),
    TableStatus.CIRCUIT_OPEN: ("CIRCUIT OPEN", "trouble"),
}


@dataclass(frozen=True, slots=True)
class _Segment:
    text: str
    style: str
    priority: int  # 0 is never dropped; higher numbers go first
    truncatable: bool = False


def title_line(
    spec: TableSpec,
    snapshot: TableSnapshot | None,
    started: FetchStarted | None,
    *,
    now: float,
    focused: bool,
    shown: int,
    cols: int,
    ctx: RenderContext,
) -> Markup:
    """The title of a table and everything about its freshness, in one line."""
    base = "title_focus" if focused else "title"
    g = ctx.glyphs
    segments = [_Segment(f"{g.focus if focused else ' '} {spec.title}", base, 0)]
    if snapshot is not None:
        total = len(snapshot.rows)
        count = f"{shown}/{total} rows" if shown != total else f"{total} row{'' if total == 1 else 's'}"
        segments.append(_Segment(count, base, 3))
    if started is not None:
        frame = g.spinner[int(now * SPINNER_FPS) % len(g.spinner)]
        segments.append(_Segment(f"{frame} {format_ago(now - started.started_at)}", "spinner", 1))
    if snapshot is not None:
        label = STATE_LABELS.get(snapshot.state)
        if label is not None:
            segments.append(_Segment(label[0], label[1], 1))
        if snapshot.throttled_until is not None and snapshot.throttled_until > now:
            until = format_clock(snapshot.throttled_until, now)
            segments.append(_Segment(f"THROTTLED by the Cloud Logging limit until {until}", "warning", 1))
        if snapshot.state.failing and snapshot.next_refresh_at is not None and started is None:
            wait = snapshot.next_refresh_at - now
            text = f"next try in {format_ago(wait)}" if wait >= 1 else "next try now"
            segments.append(_Segment(text, base, 3))
        if snapshot.fetched_at is not None:
            segments.append(_Segment(f"updated {format_ago(now - snapshot.fetched_at)} ago", "age", 4))
        if snapshot.duration_s is not None:
            took = f"took {snapshot.duration_s:.1f} s"
            over = snapshot.budget_pct is not None and snapshot.budget_pct > 100
            if snapshot.budget_pct is not None:
                took += f" ({snapshot.budget_pct:.0f}% of budget)"
            segments.append(_Segment(took, "warning" if over else "age", 6 if not over else 5))
        if snapshot.warning:
            segments.append(_Segment(ctx.text(snapshot.warning), "warning", 5, truncatable=True))
        if snapshot.error and snapshot.rows:
            # without rows the body shows the whole error instead
            segments.append(_Segment(ctx.text(snapshot.error), "error", 2, truncatable=True))
    segments = _fit_segments(segments, cols, ellipsis=g.ellipsis)
    line: Markup = []
    for i, seg in enumerate(segments):
        if i:
            line.append((base, "  "))
        line.append((seg.style, seg.text))
    used = sum(width_of(t) for _, t in line)
    if used < cols:
        line.append((base, " " * (cols - used)))
    return clip(line, cols)


def _fit_segments(segments: list[_Segment], cols: int, *, ellipsis: str, min_truncated: int = 12) -> list[_Segment]:
    """Drop and cut segments until they fit ``cols``.

    Duration and warning go first; then an error may be cut down to
    ``min_truncated`` columns before anything more important is dropped; what
    stays is cut to fill the line exactly.
    """

    def width(segs: Sequence[_Segment], *, squeezed: bool = False) -> int:
        sizes = [min(width_of(s.text), min_truncated) if squeezed and s.truncatable else width_of(s.text) for s in segs]
        return sum(sizes) + 2 * (len(segs) - 1)

    def drop(segs: list[_Segment], level: int, *, squeezed: bool) -> list[_Segment]:
        while width(segs, squeezed=squeezed) > cols and any(s.priority == level for s in segs):
            last = max(i for i, s in enumerate(segs) if s.priority == level)
            segs = segs[:last] + segs[last + 1 :]
        return segs

    for level in (6, 5):
        segments = drop(segments, level, squeezed=False)
    for level in (4, 3, 2, 1):
        segments = drop(segments, level, squeezed=True)
    over = width(segments) - cols
    out = []
    for seg in reversed(segments):
        room = width_of(seg.text) - min_truncated
        if over > 0 and seg.truncatable and room > 0:
            cut = min(over, room)
            seg = dataclasses.replace(seg, text=fit(seg.text, width_of(seg.text) - cut, ellipsis=ellipsis))
            over -= cut
        out.append(seg)
    return out[::-1]


__all__ = ["STATE_LABELS", "title_line"]
