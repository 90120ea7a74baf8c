"""The footer: the newest toast (when a notice is live) over the status line
(paused, replay, filter, key hints)."""

from __future__ import annotations

from arr_actors.tables import TABLE_KEYS, table
from ui import keys, model
from ui.context import RenderContext
from ui.model import UiState
from ui.text import Markup, clip, plain, width_of


def footer_height(state: UiState, *, now: float) -> int:
    """How many lines ``footer_lines`` takes, without drawing them."""
    return 2 if model.live_toasts(state, now) else 1


def footer_lines(state: UiState, *, now: float, cols: int, ctx: RenderContext) -> list[Markup]:
    """The toast line (when there is a live notice) and the status line."""
    lines: list[Markup] = []
    toasts = model.live_toasts(state, now)
    if toasts:
        newest = max(toasts, key=lambda t: ({"error": 2, "warning": 1}.get(t.level, 0), t.expires_at))
        more = f" (+{len(toasts) - 1})" if len(toasts) > 1 else ""
        text = " " + ctx.text(newest.text) + more
        lines.append(plain(text, cols, style=f"toast_{newest.level}", ellipsis=ctx.glyphs.ellipsis))
    status: Markup = []
    if state.paused:
        status.append(("paused", " PAUSED "))
    if ctx.replay_label:
        status.append(("replay", f" {ctx.text(ctx.replay_label)} "))
    status.extend(_filter_status(state, ctx=ctx))
    used = sum(width_of(t) for _, t in status)
    for key, hint in keys.FOOTER_HINTS:
        piece = [("key", f" {key} "), ("footer", f" {hint} ")]
        w = sum(width_of(t) for _, t in piece)
        if used + w > cols:
            break
        status.extend(piece)
        used += w
    if used < cols:
        status.append(("footer", " " * (cols - used)))
    lines.append(clip(status, cols))
    return lines


def _filter_status(state: UiState, *, ctx: RenderContext) -> Markup:
    """The filters in force: the text (or why it filters nothing), the state
    quick filter and their scope."""
    out: Markup = []
    error = model.filter_error(state)
    if state.filter_editing:
        out.append(("filter", f" /{ctx.text(state.filter_text)}_ "))
    elif state.filter_text:
        out.append(("filter", f" filter: {ctx.text(state.filter_text)} "))
    if state.state_filter:
        out.append(("filter", f" {state.state_filter} only "))
    if not out:
        return out
    scope = "all tables" if state.filter_all or state.filter_table not in TABLE_KEYS else f"{table(state.filter_table).title} only"
    out.append(("footer", f" {scope}"))
    if error:
        out.append(("error", f"  {error}"))
    out.append(("footer", "  enter keeps, esc clears" if state.filter_editing else "  esc clears"))
    return out


__all__ = ["footer_height", "footer_lines"]
