"""ASCII forms of everything we draw: on a non-UTF-8 terminal our own words never turn into question marks."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest
import ui_samples as S
from urwid.testing import render_text

from arr_actors.messages import RunnerRow
from arr_actors.sources import runner
from ui import model, screen
from ui.context import ASCII_FORMS, ASCII_GLYPHS, UTF8_GLYPHS, RenderContext, to_ascii
from ui.model import Detail, UiState

ROOT = Path(__file__).resolve().parents[2]
ASCII = RenderContext(regions=18, ascii=True)
# The screen's code and everything whose texts reach it as data. The launch
# command's progress line is printed by ``launch``, not drawn on this screen.
SCREEN_SOURCES = [
    p for base in ("ui", "arr_actors") for p in sorted((ROOT / base).rglob("*.py")) if "launch" not in p.parts
]


def string_literals(path: Path) -> list[tuple[int, str]]:
    """Every string literal of a module that is not a docstring, with its line."""
    out = []
    previous = tokenize.NEWLINE
    for tok in tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline):
        if tok.type == tokenize.STRING:
            docstring = previous in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT) and tok.string.endswith(
                ('"""', "'''")
            )
            if not docstring:
                out.append((tok.start[0], tok.string))
        elif getattr(tokenize, "FSTRING_MIDDLE", None) == tok.type:
            out.append((tok.start[0], tok.string))
        if tok.type not in (tokenize.COMMENT, tokenize.NL):
            previous = tok.type
    return out


def test_every_non_ascii_character_in_our_texts_has_an_ascii_form() -> None:
    missing = []
    for path in SCREEN_SOURCES:
        for line, literal in string_literals(path):
            for char in literal:
                if not char.isascii() and char not in ASCII_FORMS:
                    missing.append(f"{path.relative_to(ROOT)}:{line}: {char!r}")
    assert not missing, "characters without an ASCII form:\n" + "\n".join(missing)


def test_the_scan_sees_our_notes() -> None:
    # guards the test above: it must read the literals that carry the ellipsis
    literals = "".join(s for _, s in string_literals(ROOT / "arr_actors" / "sources" / "runner.py"))
    assert "Running…" in literals


def test_ascii_forms_are_ascii_and_every_glyph_has_one() -> None:
    assert all(form.isascii() and "?" not in form for form in ASCII_FORMS.values())
    for name in ("ellipsis", "dots", "divider", "focus", "arrow"):
        utf8, ascii_ = getattr(UTF8_GLYPHS, name), getattr(ASCII_GLYPHS, name)
        assert ascii_.isascii() and utf8 in ASCII_FORMS, name
    assert all(frame.isascii() for frame in ASCII_GLYPHS.spinner)
    assert len(ASCII_GLYPHS.ellipsis) == 1  # it marks a cut cell in one column, as the UTF-8 one does


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (runner.RUNNING_NOTE, "Running..."),
        (runner.PENDING_NOTE, "Waiting to start..."),
        (runner.READING_NOTE, "reading its log..."),
        ("build → deploy — done", "build -> deploy - done"),
        ("naïve", "na?ve"),  # outside text with no ASCII form still shows as ?
        ("plain", "plain"),
    ],
)
def test_to_ascii(text: str, expected: str) -> None:
    assert to_ascii(text) == expected
    assert ASCII.text(text) == expected


def notes_state() -> UiState:
    rows = (
        RunnerRow("vertex-ai-launcher-aaa11", "us-central1", "q", "RUNNING", 1, S.NOW - 60, S.NOW - 50,
                  note=runner.RUNNING_NOTE),
        RunnerRow("vertex-ai-launcher-bbb22", "us-central1", "q", "PENDING", 0, S.NOW - 5, note=runner.PENDING_NOTE),
        RunnerRow("vertex-ai-launcher-ccc33", "us-central1", "q", "FAILED", 1, S.NOW - 900, S.NOW - 890, S.NOW - 10,
                  note=runner.READING_NOTE),
    )  # fmt: skip
    state = UiState()
    for message in (*S.all_ok(), S.ok_snapshot("runner", rows=rows), S.fetch_started("vertex")):
        state = model.receive(state, message, now=S.NOW)
    return state


@pytest.mark.parametrize("size", [(80, 24), (200, 60), (50, 12)])
def test_an_ascii_screen_shows_our_words_with_ascii_dots(size: tuple[int, int]) -> None:
    state = notes_state()
    views = {
        "tables": state,
        "detail": state.replace(detail=Detail("runner", state.snapshots["runner"].rows[0].key)),
        "help": state.replace(help_open=True),
        "filter": state.replace(filter_editing=True, filter_text="x", paused=True),
    }
    for name, view in views.items():
        lines = render_text(screen.screen(view, now=S.NOW, size=size, ctx=ASCII), size)
        text = "\n".join(lines)
        assert text.isascii(), name
        # "?" stands alone only as a key name ("? closes", " ?  help"); never after a word
        assert not re.search(r"[^\s]\?|\?[^\s]", text), name
    tables = "\n".join(render_text(screen.screen(state, now=S.NOW, size=(200, 60), ctx=ASCII), (200, 60)))
    for note in ("Running...", "Waiting to start...", "reading its log..."):
        assert note in tables
    detail = "\n".join(render_text(screen.screen(views["detail"], now=S.NOW, size=size, ctx=ASCII), size))
    assert "W&B Launch agent > " in detail or size[0] < 60


def test_cut_text_ends_in_the_ascii_ellipsis_everywhere() -> None:
    state = notes_state()
    for view, size in ((state, (50, 12)), (state.replace(help_open=True), (30, 12))):
        text = "\n".join(render_text(screen.screen(view, now=S.NOW, size=size, ctx=ASCII), size))
        assert text.isascii()
        assert "~" in text  # something was cut, and said so in ASCII
