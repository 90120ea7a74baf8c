"""The log view's state, pure: bounded buffer, landing on the error, search, scroll, wrap, follow, save."""

from __future__ import annotations

from arr_actors_ui import logview

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


# ------------------------------------------------------------ pages from the log reader

def _source(failed: bool = True) -> logview.LogSource:
    from arr_actors.messages import LogSource

    return LogSource("runner", "r/x", "execution x", "x", "r", 1.0, None if not failed else 2.0, failed)


def test_the_excerpt_shows_until_the_first_page_replaces_it_and_the_view_lands_on_the_error() -> None:
    from arr_actors.messages import LogPage

    view = logview.requested(3, _source(), follow=False, preview=["excerpt a", "excerpt b"], height=10)
    assert view.preview and view.lines == ("excerpt a", "excerpt b")
    assert "excerpt; reading the full log" in logview.header(view, height=10)
    newest = tuple(f"new {i}" for i in range(40)) + (ERROR,) + tuple(f"new {i}" for i in range(40, 60))
    view = logview.received(view, LogPage(3, newest, done=False, error_line=ERROR), height=10)
    assert not view.preview and view.lines == newest and view.error == 40 and view.top <= 40 < view.top + 10
    assert "reading older lines" in logview.header(view, height=10)
    # An older page goes before, and the view stays on the same lines.
    top = view.top
    view = logview.received(view, LogPage(3, ("old 0", "old 1"), older=True), height=10)
    assert view.lines[:2] == ("old 0", "old 1") and view.error == 42 and view.top == top + 2
    assert view.reading is False  # that page was the last (done)


def test_pages_of_another_request_are_not_this_views() -> None:
    from arr_actors.messages import LogPage

    view = logview.requested(3, _source(), follow=False, height=10)
    assert logview.received(view, LogPage(2, ("stale",)), height=10) == view


def test_older_pages_past_the_bound_are_cut_and_said_so() -> None:
    from arr_actors.messages import LogPage

    view = logview.requested(1, _source(), follow=False, max_lines=5, height=3)
    view = logview.received(view, LogPage(1, ("c", "d", "e"), done=False), height=3)
    view = logview.received(view, LogPage(1, ("a", "b", "b2"), older=True), height=3)
    assert view.lines == ("b", "b2", "c", "d", "e") and view.cut
    assert "older lines not read" in logview.header(view, height=3)


def test_a_failed_read_keeps_the_lines_and_says_why() -> None:
    from arr_actors.messages import LogPage

    view = logview.requested(1, _source(failed=False), follow=True, height=3)
    view = logview.received(view, LogPage(1, ("a", "b"), done=True, next_read_at=50.0), height=3)
    view = logview.received(view, LogPage(1, error="log read timed out after 3 s", next_read_at=60.0), height=3)
    assert view.lines == ("a", "b") and view.problem.startswith("log read timed out") and view.next_read_at == 60.0
    # Following: the next read's lines are appended, and the trouble is over.
    view = logview.received(view, LogPage(1, ("c",), next_read_at=70.0), height=3)
    assert view.lines == ("a", "b", "c") and view.problem == ""


def test_every_table_with_logs_names_its_item() -> None:
    import ui_samples as S

    runner = logview.source_for("runner", S.runner_rows()[0])
    job = logview.source_for("vertex", S.vertex_rows()[0])
    build = logview.source_for("builds", S.build_rows()[0])
    assert runner is not None and runner.ident == S.runner_rows()[0].execution
    assert job is not None and job.ident == S.vertex_rows()[0].job_id
    assert build is not None and build.ident == S.build_rows()[0].build_id
    assert logview.source_for("active", S.runner_rows()[0]) is None


def test_the_status_line_under_a_log_names_the_keys_that_work_there() -> None:
    # In the log view q closes it, / searches and s saves: the status line must
    # not offer the tables' "q quit", "/ filter" or "s sort".
    from arr_actors_ui import model, screen
    from arr_actors_ui.context import RenderContext

    state = model.UiState().replace(log=logview.opened("x", LOG, height=20))
    status = screen.screen_lines(state, now=1.0, cols=120, rows=30, ctx=RenderContext())[-1]
    text = "".join(piece for _, piece in status)
    assert " esc/q  close " in text and " ctrl c  quit " in text
    assert " q  quit " not in text and " filter " not in text and " sort " not in text
