"""The help view: every key binding, grouped by where it works."""

from __future__ import annotations

from ui import keys
from ui.context import RenderContext
from ui.text import Markup, clip, fit, plain, width_of

KEY_WIDTH = 14


def help_lines(*, cols: int, rows: int, ctx: RenderContext) -> list[Markup]:
    """Every binding, grouped by where it works; two columns when there is room."""
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
                columns[target].append(plain(f" {name}", width, style="header"))
            else:
                key_part = fit(f"  {name}", min(KEY_WIDTH, width))
                columns[target].append(
                    [("key", key_part), ("body", fit(f" {description}", max(0, width - width_of(key_part))))]
                )
    lines: list[Markup] = [plain(" Keys (esc or ? closes)", cols, style="title_focus")]
    blank = [("body", " " * width)]
    for i in range(max(len(columns[0]), len(columns[1]))):
        left = columns[0][i] if i < len(columns[0]) else blank
        right = columns[1][i] if i < len(columns[1]) else ([] if not two else blank)
        lines.append(left + right)
    return [clip(line, cols) for line in lines]


__all__ = ["KEY_WIDTH", "help_lines"]
