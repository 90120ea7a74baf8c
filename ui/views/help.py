"""The help view: every key binding, grouped by where it works, under a title
line; the bindings scroll when the screen is too small to show them all."""

from __future__ import annotations

from ui import keys
from ui.context import RenderContext
from ui.text import Markup, clip, fit, plain, width_of

KEY_WIDTH = 14
TITLE = "Keys (esc or ? closes)"


def help_content(*, cols: int, ctx: RenderContext) -> list[Markup]:
    """Every binding, grouped by where it works; two columns when there is room."""
    cut = ctx.glyphs.ellipsis
    blocks: list[list[tuple[str, str, str]]] = []
    group = ""
    for title, key_names, description in keys.help_rows():
        if title != group:
            group = title
            blocks.append([("header", title, "")])
        blocks[-1].append(("key", key_names, description))
    two = cols >= 70
    width = cols // 2 if two else cols
    columns: list[list[Markup]] = [[], []]
    half = (sum(len(b) for b in blocks) + 1) // 2
    for block in blocks:
        target = 1 if two and columns[0] and len(columns[0]) + len(block) > half + 2 else 0
        for kind, name, description in block:
            if kind == "header":
                columns[target].append(plain(f" {name}", width, style="header", ellipsis=cut))
            else:
                key_part = fit(f"  {name}", min(KEY_WIDTH, width), ellipsis=cut)
                room = max(0, width - width_of(key_part))
                columns[target].append([("key", key_part), ("body", fit(f" {description}", room, ellipsis=cut))])
    lines: list[Markup] = []
    blank = [("body", " " * width)]
    for i in range(max(len(columns[0]), len(columns[1]))):
        left = columns[0][i] if i < len(columns[0]) else blank
        right = columns[1][i] if i < len(columns[1]) else ([] if not two else blank)
        lines.append(clip(left + right, cols))
    return lines


def help_max_scroll(*, cols: int, rows: int, ctx: RenderContext) -> int:
    """How far the help scrolls in ``rows`` lines (its title included)."""
    return max(0, len(help_content(cols=cols, ctx=ctx)) - _visible(rows))


def help_lines(*, cols: int, rows: int, ctx: RenderContext, scroll: int = 0) -> list[Markup]:
    """The title line and the bindings from ``scroll`` on; when they do not all
    fit, the title says which lines show and that the arrows scroll."""
    content = help_content(cols=cols, ctx=ctx)
    visible = _visible(rows)
    top = max(0, len(content) - visible)
    scroll = max(0, min(scroll, top))
    if not top:
        title = plain(f" {TITLE}", cols, style="title_focus", ellipsis=ctx.glyphs.ellipsis)
    else:
        # The longest form that fits beside the word "Keys", judged by the
        # widest numbers so that the title does not jump while scrolling.
        n = len(content)
        forms = (
            "lines {a}-{b} of {n}  esc closes, arrows scroll ",
            "{a}-{b}/{n}  esc closes, arrows scroll ",
            "{a}-{b}/{n}  arrows scroll ",
            "{a}-{b}/{n} ",
        )
        form = next((f for f in forms if width_of(f.format(a=n, b=n, n=n)) + 6 <= cols), forms[-1])
        right = form.format(a=scroll + 1, b=scroll + visible, n=n)
        room = cols - width_of(right)
        title = clip(
            [
                ("title_focus", fit(" Keys", max(0, room), ellipsis=ctx.glyphs.ellipsis)),
                ("title_focus", right if room >= 0 else ""),
            ],
            cols,
        )
    return [title, *content[scroll : scroll + visible]]


def _visible(rows: int) -> int:
    return max(1, rows - 1)


__all__ = ["KEY_WIDTH", "help_content", "help_lines", "help_max_scroll"]
