"""The footer: the newest toast (when a notice is live) over the status line
(paused, replay, filter, key hints)."""

from __future__ import annotations

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
    if state.filter_editing:
        status.append(("filter", f" /{ctx.text(state.filter_text)}_ "))
        status.append(("footer", "  enter keeps, esc clears "))
    elif state.filter_text:
        status.append(("filter", f" filter: {ctx.text(state.filter_text)} "))
        status.append(("footer", "  esc clears "))
    # Every item ends in a space and a key hint starts with one: two spaces
    # between items, as between the hints themselves.
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


__all__ = ["footer_height", "footer_lines"]
