"""The footer: the newest toast (when a notice is live) over the status line
(paused, replay, filter, key hints)."""

from __future__ import annotations

from arr_actors.tables import TABLE_KEYS, table
from arr_actors_ui import keys, model, visible
from arr_actors_ui.context import RenderContext
from arr_actors_ui.model import UiState
from arr_actors_ui.text import Markup, clip, plain, width_of, wrap

#: The most lines a toast shown whole (a copied id or URL) takes.
MAX_WHOLE_LINES = 4


def footer_height(state: UiState, *, now: float, cols: int | None = None) -> int:
    """How many lines ``footer_lines`` takes, without drawing them (a toast
    shown whole needs ``cols`` to tell; without it, one line is assumed)."""
    question = 1 if state.confirm is not None else 0
    toasts = model.live_toasts(state, now)
    if not toasts:
        return 1 + question
    newest = _newest(toasts)
    if newest.whole and cols is not None:
        return 1 + question + len(_whole_pieces(newest.text, cols))
    return 2 + question


def _newest(toasts: tuple[model.Toast, ...]) -> model.Toast:
    # Ties (a stopped replay clock gives every toast the same time) go to the last one added.
    ranked = enumerate(toasts)
    return max(ranked, key=lambda it: ({"error": 2, "warning": 1}.get(it[1].level, 0), it[1].expires_at, it[0]))[1]


def _whole_pieces(text: str, cols: int) -> list[str]:
    """The toast cut anywhere (never at a space only), so the pieces put
    together are the text again: an id or URL can be selected by hand."""
    return wrap(" " + text, max(1, cols), words=False)[:MAX_WHOLE_LINES]


def footer_lines(state: UiState, *, now: float, cols: int, ctx: RenderContext) -> list[Markup]:
    """The toast line (when there is a live notice) and the status line."""
    lines: list[Markup] = []
    toasts = model.live_toasts(state, now)
    if toasts:
        newest = _newest(toasts)
        style = f"toast_{newest.level}"
        if newest.whole:
            lines.extend(plain(piece, cols, style=style, ellipsis=ctx.glyphs.ellipsis) for piece in _whole_pieces(ctx.text(newest.text), cols))
        else:
            more = f" (+{len(toasts) - 1})" if len(toasts) > 1 else ""
            text = " " + ctx.text(newest.text) + more
            lines.append(plain(text, cols, style=style, ellipsis=ctx.glyphs.ellipsis))
    if state.confirm is not None:
        text = f" {state.confirm.action.kind.capitalize()} {ctx.text(state.confirm.action.name)}?  y/enter: yes  n/esc: no"
        lines.append(plain(text, cols, style="toast_warning", ellipsis=ctx.glyphs.ellipsis))
    status: Markup = []
    if state.actions_disabled == "read-only":
        status.append(("paused", " READ-ONLY "))
    if state.paused:
        status.append(("paused", " PAUSED "))
    if ctx.replay_label:
        ended = ": END OF RECORDING" if state.replay_ended_at is not None else ""
        status.append(("replay", f" {ctx.text(ctx.replay_label)}{ended} "))
    status.extend(_filter_status(state, ctx=ctx))
    # Every item ends in a space and a key hint starts with one: two spaces
    # between items, as between the hints themselves.
    used = sum(width_of(t) for _, t in status)
    api = _api_status(state, now=now)
    api_width = sum(width_of(t) for _, t in api)
    # Quit and help always come first; the figures go right when there is room.
    room = cols - api_width if used + api_width + 16 <= cols else cols
    hints = [h for h in keys.FOOTER_HINTS[keys.context(state)] if not (state.replay and "refresh" in h.actions)]
    for i, (key, hint, _actions) in enumerate(hints):
        piece = [("key", f" {key} "), ("footer", f" {hint} ")]
        w = sum(width_of(t) for _, t in piece)
        if used + w > (room if i >= 2 else cols):
            break
        status.extend(piece)
        used += w
    if api and used + api_width <= cols:
        status.append(("footer", " " * (cols - used - api_width)))
        status.extend(api)
        used = cols
    if used < cols:
        status.append(("footer", " " * (cols - used)))
    lines.append(clip(status, cols))
    return lines


def _api_status(state: UiState, *, now: float) -> Markup:
    """Cloud calls per minute per service, and what is left of the Cloud Logging budget."""
    calls, left = model.api_usage(state, now)
    if not calls and left is None:
        return []
    out: Markup = [("footer", " calls/min " + " ".join(f"{service} {n}" for service, n in calls) + " ")]
    if left is not None:
        style = "warning" if left <= state.logging_budget // 6 else "footer"
        out.append((style, f" logging budget {left}/{state.logging_budget} left "))
    return out


def _filter_status(state: UiState, *, ctx: RenderContext) -> Markup:
    """The filters in force: the text (or why it filters nothing), the state
    quick filter and their scope."""
    out: Markup = []
    error = visible.filter_error(state)
    if state.filter_editing:
        out.append(("filter", f" /{ctx.text(state.filter_text)}_ "))
    elif state.filter_text:
        out.append(("filter", f" filter: {ctx.text(state.filter_text)} "))
    if state.state_filter:
        out.append(("filter", f" {state.state_filter} only "))
    if not out:
        return out
    scope = "all tables" if state.filter_all or state.filter_table not in TABLE_KEYS else f"{table(state.filter_table).title} only"
    out.append(("footer", f" {scope} "))
    if error:
        out.append(("error", f" {error} "))
    out.append(("footer", " enter keeps, esc clears " if state.filter_editing else " esc clears "))
    return out


__all__ = ["footer_height", "footer_lines"]
