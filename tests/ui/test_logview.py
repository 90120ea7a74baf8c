"""The log view's state, pure: bounded buffer, landing on the error, search, scroll, wrap, follow, save."""

from __future__ import annotations

from ui import logview

LOG = tuple(f"line {i}" for i in range(100))
ERROR = "torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB"


def test_opening_lands_on_the_diagnosed_error_line() -> None:
    lines = [*LOG[:70], ERROR, *LOG[70:]]
    view = logview.opened("exec", lines, error_text="CUDA out of memory. Tried to allocate 2.00 GiB", height=20)
    assert view.error == 70
    shown = [i for i, _ in logview.visible(view, cols=80, rows=20)]
    assert 70 in shown and shown[0] > 0
    # Without an error line it opens at the top, or at the end when following.
    assert logview.opened("x", LOG, height=20).top == 0
    assert logview.opened("x", LOG, follow=True, height=20).top == 80


def test_search_finds_next_and_previous_and_wraps() -> None:
    view = logview.opened("x", LOG, height=10)
    view = logview.searched(view, "line 5", height=10)
    assert view.match == 5
    view = logview.searched(view, "line 5", height=10)
    assert view.match == 50
    view = logview.searched(view, "line 5", height=10, forward=False)
    assert view.match == 5
    view = logview.searched(view, "line 5", height=10, forward=False)
    assert view.match == 59  # wrapped to the last match
    assert view.top <= 59 < view.top + 10
    missing = logview.searched(view, "nowhere", height=10)
    assert missing.match is None and "(no match)" in logview.header(missing, height=10)


def test_following_appends_keeps_the_end_in_view_and_drops_the_oldest_with_a_note() -> None:
    view = logview.opened("run", LOG, follow=True, height=10, max_lines=120)
    view = logview.appended(view, [f"new {i}" for i in range(50)], height=10)
    assert len(view.lines) == 120 and view.dropped == 30 and view.lines[0] == "line 30"
    assert logview.visible(view, cols=80, rows=10)[-1][1] == "new 49"
    assert "30 oldest lines dropped" in logview.header(view, height=10)
    assert logview.saved_text(view).startswith("[30 older lines were dropped")
    # Paused, new lines arrive but the view stays where it is.
    paused = logview.toggled(view, "pause")
    moved = logview.appended(paused, ["newer"], height=10)
    assert moved.top == paused.top - 1  # one more dropped: the same lines stay in view
    assert "following (paused)" in logview.header(moved, height=10)


def test_lines_are_inert_and_wrap_by_terminal_columns() -> None:
    view = logview.opened("x", ["\x1b[31mred\x1b[0m \x07bell", "界" * 30], height=10)
    assert view.lines[0] == "red bell"
    assert logview.visible(view, cols=20, rows=10)[1] == (1, "界" * 10)
    wrapped = logview.toggled(view, "wrap")
    assert [text for _, text in logview.visible(wrapped, cols=20, rows=10)][1:] == ["界" * 10] * 3


def test_scroll_keys_stay_within_the_log() -> None:
    view = logview.opened("x", LOG, height=10)
    assert logview.scrolled(view, "scroll_bottom", height=10).top == 90
    assert logview.scrolled(view, "scroll_up", height=10).top == 0
    assert logview.scrolled(view, "scroll_page_down", height=10).top == 9
