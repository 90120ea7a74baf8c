"""The region health view: one line per region, healthiest first (see ``ui.health``)."""

from __future__ import annotations

from arr_actors.timefmt import format_ago
from ui import health
from ui.context import RenderContext
from ui.model import UiState
from ui.text import Markup, cells, clip, plain

#: (header, width, align); the last error takes what is left.
COLUMNS = (
    ("Region", 24, "left"),
    ("1 h ok", 6, "right"),
    ("fail", 5, "right"),
    ("24 h ok", 7, "right"),
    ("fail", 5, "right"),
    ("Failures by cause, 24 h", 30, "left"),
    ("Last success", 12, "left"),
)


def health_lines(state: UiState, *, now: float, cols: int, rows: int, ctx: RenderContext) -> list[Markup]:
    """Title, header and one line per region (as many as fit)."""
    regions = health.region_health(state.history.values(), now=now)
    title = " Region health: runner executions and Vertex AI jobs (esc or h closes)"
    lines: list[Markup] = [plain(title, cols, style="title_focus", ellipsis=ctx.glyphs.ellipsis)]
    widths = [w for _, w, _ in COLUMNS]
    rest = max(0, cols - sum(widths) - len(widths))
    header = [("header", h, w, a) for h, w, a in COLUMNS] + [("header", "Last error", rest, "left")]
    lines.append(cells(header, cols=cols, ellipsis=ctx.glyphs.ellipsis, line_style=None))
    if not regions:
        text = "  no execution or job has finished in the last 24 h of what the tables fetched"
        return [*lines, plain(text, cols, style="dim", ellipsis=ctx.glyphs.ellipsis)]
    for h in regions[: max(0, rows - 2)]:
        causes = ", ".join(f"{group} {count}" for group, count in h.day.groups) or "-"
        success = "-" if h.last_success_at is None else f"{format_ago(now - h.last_success_at)} ago"
        error = ctx.text(h.last_error) if h.last_error else "-"
        bad = "status_failed" if h.hour.failed else "body"
        pieces = [
            ("body", ctx.text(h.region), widths[0], "left"),
            ("status_ok", str(h.hour.succeeded), widths[1], "right"),
            (bad, str(h.hour.failed), widths[2], "right"),
            ("body", str(h.day.succeeded), widths[3], "right"),
            ("error" if h.day.failed else "body", str(h.day.failed), widths[4], "right"),
            ("body", causes, widths[5], "left"),
            ("age", success, widths[6], "left"),
            ("error" if h.last_error else "dim", error, rest, "left"),
        ]
        lines.append(cells(pieces, cols=cols, ellipsis=ctx.glyphs.ellipsis, line_style=None))
    return [clip(line, cols) for line in lines]


__all__ = ["COLUMNS", "health_lines"]
