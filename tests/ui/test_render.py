from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
import ui_samples as S
from urwid.testing import render_runs, render_text, resolve_attr

from arr_actors.messages import DetailField, Notice, PauseChanged, TableSnapshot, WandbRunRow
from arr_actors.tables import TABLES, Column, TableSpec, table
from ui import keys, model, palette, screen
from ui.canvas import Lines
from ui.columns import column_widths, table_widths
from ui.context import SPINNER_FPS, UTF8_GLYPHS, RenderContext
from ui.model import Detail, UiState
from ui.text import Markup, width_of
from ui.views.detail import detail_view
from ui.views.footer import footer_height, footer_lines
from ui.views.tables import allocate, row_line

CTX = RenderContext(regions=18)
ACTIVE = re.compile("[\x00-\x1f\x7f-\x9f]")


def loaded(*extra: object, **changes) -> UiState:
    state = UiState()
    for message in (*S.all_ok(), *extra):
        state = model.receive(state, message, now=S.NOW)
    return state.replace(**changes)


def text(state: UiState, size=(80, 24), *, now: float = S.NOW, ctx=CTX) -> list[str]:
    lines = render_text(screen.screen(state, now=now, size=size, ctx=ctx), size)
    assert len(lines) == size[1]
    assert all(len(line) == size[0] for line in lines), "every line fills the width exactly"
    return lines


def line_with(lines: list[str], needle: str) -> str:
    found = [line for line in lines if needle in line]
    assert found, f"{needle!r} not on screen:\n" + "\n".join(lines)
    return found[0]


def runs_with(state: UiState, needle: str, size=(80, 24)) -> list[tuple[object, str]]:
    rows = render_runs(screen.screen(state, now=S.NOW, size=size, ctx=CTX), size)
    for row in rows:
        if needle in "".join(t for _, t in row):
            return row
    raise AssertionError(f"{needle!r} not rendered")


# ----------------------------------------------------------------- table states


def test_loading_before_any_snapshot() -> None:
    state = model.receive(UiState(), S.fetch_started("runner"), now=S.NOW)
    lines = text(state)
    for spec in TABLES:
        line_with(lines, spec.title)
    assert sum("waiting for the first refresh…" in line for line in lines) == 4
    line_with(lines, "loading…")
    title = line_with(lines, "W&B Launch agent")
    assert any(frame in title for frame in UTF8_GLYPHS.spinner)
    assert "3 s" in title  # how long the fetch has been running


def test_ok_tables_show_rows_and_freshness() -> None:
    lines = text(loaded(), (120, 40))
    title = line_with(lines, "W&B Launch agent")
    assert "3 rows" in title and "updated 12 s ago" in title and "took 1.2 s (12% of budget)" in title
    line_with(lines, "europe-west4")
    line_with(lines, S.FAILED_NOTE)
    assert "1 row " in line_with(lines, "Active W&B runs")


def test_empty_tables_say_so() -> None:
    state = UiState()
    for key in ("runner", "builds", "vertex", "active", "completed"):
        state = model.receive(state, S.ok_snapshot(key, rows=()), now=S.NOW)
    lines = text(state)
    line_with(lines, "no executions in 18 regions")
    line_with(lines, "no builds")
    line_with(lines, "no custom jobs in 18 regions")
    line_with(lines, "no active runs")
    line_with(lines, "no completed runs")
    assert "0 rows" in line_with(lines, "Cloud Builds")


def test_stale_keeps_rows_and_shows_error_age_and_next_try() -> None:
    stale = S.ok_snapshot(
        "runner",
        state="stale",
        error="DeadlineExceeded: ListExecutions timed out",
        fetched_at=S.NOW - 300,
        next_refresh_at=S.NOW + 20,
        seq=2,
    )
    lines = text(loaded(stale), (120, 40))
    title = line_with(lines, "W&B Launch agent")
    for part in ("STALE", "next try in 20 s", "updated 5 min ago", "DeadlineExceeded: ListExecutions timed out"):
        assert part in title, part
    line_with(lines, S.FAILED_NOTE)  # last known good rows stay
    style = dict((t.strip(), a) for a, t in runs_with(loaded(stale), "STALE", (120, 40)))
    assert style["STALE"] == "stale"


def test_stale_at_80_columns_cuts_the_error_not_the_state() -> None:
    stale = S.ok_snapshot(
        "runner", state="stale", error="DeadlineExceeded: " + "very long explanation " * 5, next_refresh_at=S.NOW + 20
    )
    title = line_with(text(loaded(stale)), "W&B Launch agent")
    assert "STALE" in title and "next try in 20 s" in title
    assert title.rstrip().endswith("…")


def test_timeout_without_rows_shows_the_whole_error() -> None:
    error = "refresh took longer than its 45 s deadline; the fetch process was killed (restart 2)"
    snapshot = TableSnapshot(table="vertex", seq=1, state="timeout", error=error, next_refresh_at=S.NOW + 8)
    lines = text(model.receive(UiState(), snapshot, now=S.NOW))
    title = line_with(lines, "Vertex AI jobs")
    assert "TIMED OUT" in title and "next try in 8 s" in title
    body = " ".join(line.strip() for line in lines)
    assert "no data: " + error in body


def test_circuit_open() -> None:
    snapshot = S.ok_snapshot(
        "builds", state="circuit_open", error="5 failures in 60 s: Unavailable", next_refresh_at=S.NOW + 45
    )
    title = line_with(text(loaded(snapshot), (120, 40)), "Cloud Builds")
    assert "CIRCUIT OPEN" in title and "next try in 45 s" in title and "Unavailable" in title
    narrow = line_with(text(loaded(snapshot)), "Cloud Builds")
    assert "CIRCUIT OPEN  next try in 45 s  5 failures in 60 s" in narrow


def test_paused_is_always_visible() -> None:
    state = loaded(PauseChanged(True), Notice("x" * 200, level="error"), filter_editing=True, filter_text="abc")
    footer = text(state)[-1]
    assert footer.startswith(" PAUSED ")
    assert "PAUSED" not in text(loaded())[-1]


def test_filter_narrows_every_table() -> None:
    state = loaded(filter_text="europe")
    lines = text(state)
    assert "1/3 rows" in line_with(lines, "W&B Launch agent")
    assert not any("us-central1" in line for line in lines)
    line_with(lines, "no rows match 'europe'")
    assert "filter: europe" in lines[-1]


def test_detail_of_a_failed_execution() -> None:
    state = loaded(detail=Detail(table="runner", key=S.runner_rows()[1].key, row=S.runner_rows()[1]))
    lines = text(state, (100, 40))
    assert "W&B Launch agent › europe-west4/vertex-ai-launcher-def34" in lines[0]
    assert S.FAILED_NOTE in line_with(lines, "Error")
    assert "oom" in line_with(lines, "Category")
    assert "3" in line_with(lines, "Runs")
    line_with(lines, f"Log context ({len(S.CONTEXT)} lines)")
    for context_line in S.CONTEXT:
        line_with(lines, context_line)


def test_detail_scrolls() -> None:
    row = S.runner_rows()[1]
    state = loaded(detail=Detail(table="runner", key=row.key, row=row))
    size = (80, 12)
    view = detail_view(state, now=S.NOW, cols=80, rows=11, ctx=CTX)
    assert view.max_scroll > 0
    top = text(state, size)
    assert "Execution" in top[1] and "lines 1-10 of" in top[0]
    bottom = text(state.replace(detail=Detail(table="runner", key=row.key, row=row, scroll=view.max_scroll)), size)
    assert "Killing agent" in bottom[-2]
    assert "Execution" not in "".join(bottom)


def test_detail_of_other_rows_lists_every_field() -> None:
    row = S.vertex_rows()[1]
    lines = text(loaded(detail=Detail(table="vertex", key=row.key, row=row)), (100, 30))
    for label in (
        "Job id",
        "Display name",
        "Region",
        "State",
        "Created at",
        "Started at",
        "Ended at",
        "Note",
        "Runtime",
    ):
        line_with(lines, label)
    line_with(lines, "The replica workerpool0-0 exited with a non-zero status of 1.")


def test_detail_of_a_row_that_went_away_shows_the_copy() -> None:
    row = S.vertex_rows()[1]
    state = loaded(S.ok_snapshot("vertex", rows=(), seq=2), detail=Detail(table="vertex", key=row.key, row=row))
    lines = text(state)
    line_with(lines, "no longer in the latest refresh")
    line_with(lines, "train-llama-13b")


def test_detail_of_a_table_without_rows_shows_its_state() -> None:
    snapshot = TableSnapshot(table="builds", seq=1, state="error", error="PermissionDenied: enable the API", attempts=3)
    lines = text(model.receive(UiState(), snapshot, now=S.NOW).replace(detail=Detail(table="builds")))
    assert "Cloud Builds › table state" in lines[0]
    line_with(lines, "PermissionDenied: enable the API")
    assert "3" in line_with(lines, "Attempts")


@pytest.mark.parametrize("size", [(80, 24), (60, 40)])
def test_help_lists_every_key(size: tuple[int, int]) -> None:
    # The help scrolls where it does not fit: read every page of it.
    state, pages = loaded(help_open=True), []
    for _ in range(100):
        pages.append("\n".join(text(state, size)))
        measured = screen.measure(state, now=S.NOW, size=size, ctx=CTX)
        after, _, _ = model.press(
            state, "page down", now=S.NOW, page=measured.page, detail_max_scroll=measured.detail_max_scroll,
            help_max_scroll=measured.help_max_scroll,
        )
        if after == state:
            break
        state = after
    for _group, key_names, description in keys.help_rows():
        assert any(key_names in page and description in page for page in pages), (key_names, description)


@pytest.mark.parametrize("size", [(1, 1), (5, 2), (20, 5), (40, 10), (60, 15), (200, 60)])
@pytest.mark.parametrize("view", ["tables", "help", "detail", "filter"])
def test_any_size_renders_exactly(size: tuple[int, int], view: str) -> None:
    row = S.runner_rows()[1]
    state = loaded(S.fetch_started("builds"))
    state = {
        "tables": state,
        "help": state.replace(help_open=True),
        "detail": state.replace(detail=Detail("runner", row.key, row)),
        "filter": state.replace(filter_editing=True, filter_text="abc", paused=True),
    }[view]
    text(state, size)
    screen.measure(state, now=S.NOW, size=size, ctx=CTX)


# ------------------------------------------------------------------ 80 x 24


def test_80x24_shows_all_five_tables_and_enough_of_each_note_to_say_why() -> None:
    lines = text(loaded())
    for spec in TABLES:
        line_with(lines, spec.title)
    header = line_with(lines, "Queue")
    assert "Note" in header
    failed = line_with(lines, "FAILED")
    assert "europe-west4" in failed and "FAILED" in failed and "19m50s" in failed  # these cells intact
    # The note keeps its minimum (the reason stays readable) and is cut there;
    # the queue, the same on most rows, gives way next; the execution's suffix says which one it is.
    minimum = table("runner").columns[-1].min_width
    assert S.FAILED_NOTE[: minimum - 1] + "…" in failed
    assert "vert…" in failed
    assert failed.split()[0] == S.runner_rows()[1].execution.rsplit("-", 1)[-1]
    assert "q  quit" in lines[-1]


def test_builds_divider_between_active_and_finished() -> None:
    lines = text(loaded(), (120, 40))
    divider = next(i for i, line in enumerate(lines) if "── finished ──" in line)
    assert "QUEUED" in lines[divider - 1] and "SUCCESS" in lines[divider + 1]


def test_focused_table_gets_more_rows() -> None:
    many = tuple(WandbRunRow(f"r{i}", f"run-{i}", "finished", S.NOW - i, runtime_s=10.0) for i in range(12))
    state = loaded(S.ok_snapshot("completed", rows=many), focus="completed")
    lines = text(state)
    shown = sum(1 for line in lines if re.search(r"\brun-\d+\b", line))
    assert shown >= 5
    state, _, _ = model.press(state, "end", now=S.NOW)
    assert "run-11" in "".join(text(state))  # the selection scrolls into view


def test_column_widths_shrink_note_first_then_hide() -> None:
    spec = table("runner")
    wide = column_widths(spec.columns, 200)
    assert sum(wide) + len(wide) - 1 == 200 and wide[-1] > spec.columns[-1].width
    narrow = column_widths(spec.columns, 80)
    assert sum(narrow) + len(narrow) - 1 <= 80
    assert narrow[-1] == spec.columns[-1].min_width
    status = [c.field for c in spec.columns].index("status")
    assert narrow[status] == spec.columns[status].width  # status kept whole
    tiny = column_widths(spec.columns, 40)
    assert sum(w + 1 for w in tiny if w) - 1 <= 40
    assert tiny[-1] == 0 and tiny[status] > 0


def test_allocate_gives_every_table_a_row_and_the_focus_more() -> None:
    body = allocate([10, 10, 10, 10, 10], [2] * 5, avail=23, focus=2)
    assert sum(body) == 13 and min(body) >= 1 and body[2] == max(body)
    assert allocate([1, 1, 1, 1, 1], [1] * 5, avail=23, focus=0) == [1] * 5


# ------------------------------------------------------------- time on screen


def test_spinner_animates_and_stops_at_the_deadline() -> None:
    state = loaded(S.fetch_started("builds", started=S.NOW - 1, deadline=3))
    first = line_with(text(state), "Cloud Builds")
    second = line_with(text(state, now=S.NOW + 1 / SPINNER_FPS), "Cloud Builds")
    assert first != second
    after = line_with(text(state, now=S.NOW + 2.5), "Cloud Builds")
    assert not any(frame in after for frame in UTF8_GLYPHS.spinner)


def test_running_rows_tick_locally() -> None:
    state = loaded()
    before, after = text(state, (120, 40)), text(state, (120, 40), now=S.NOW + 1)
    assert "9m50s" in line_with(before, "RUNNING") and "9m51s" in line_with(after, "RUNNING")
    assert line_with(before, "FINISHED") == line_with(after, "FINISHED")
    # W&B runtimes count from the moment they were fetched
    assert "6m52s" in line_with(before, "llama-7b-lr3e-4") and "6m53s" in line_with(after, "llama-7b-lr3e-4")


def test_wakeups_only_when_something_moves() -> None:
    assert screen.wakeup_interval(UiState(), now=S.NOW) is None
    fetching = model.receive(UiState(), S.fetch_started("runner", started=S.NOW, deadline=3), now=S.NOW)
    assert screen.wakeup_interval(fetching, now=S.NOW) == pytest.approx(1 / 8)
    assert screen.wakeup_interval(fetching, now=S.NOW + 4) is None  # past the deadline
    assert screen.wakeup_interval(loaded(), now=S.NOW) == 1.0  # ages count up


# ---------------------------------------------------------------- attributes


def test_status_and_selection_attributes_resolve_in_mono() -> None:
    entries = palette.entries("color")
    state = loaded()
    failed_style = next(a for a, t in runs_with(state, "FAILED") if "FAILED" in t)
    assert failed_style == "status_failed"
    mono = resolve_attr(failed_style, entries, colors=1)
    assert mono.bold and mono.underline
    selected_row = runs_with(state, "us-central1")  # the first runner row is selected
    assert {a for a, _ in selected_row} == {"selected"}
    assert resolve_attr("selected", entries, colors=1).standout
    assert resolve_attr(failed_style, entries, colors=256).foreground.startswith("#f")


def test_toasts_show_in_the_footer_with_their_level() -> None:
    state = loaded(Notice("runner: 2 of 18 regions failed", level="error"))
    lines = text(state)
    assert "runner: 2 of 18 regions failed" in lines[-2]
    assert {a for a, _ in runs_with(state, "regions failed")} == {"toast_error"}
    assert "regions failed" not in "".join(text(state, now=S.NOW + 60))


# ------------------------------------------------------------- hostile text


def test_escape_sequences_and_controls_render_inert() -> None:
    hostile = S.HOSTILE_NAME
    rows = (WandbRunRow("rhostile", hostile, "running", S.NOW - 30, runtime_s=5.0, note=hostile),)
    snapshot = S.ok_snapshot("active", rows=rows, error=hostile, state="stale", warning=hostile)
    state = loaded(snapshot, Notice(hostile, level="error"), filter_text="")
    for size in ((80, 24), (120, 40)):
        widget = screen.screen(state, now=S.NOW, size=size, ctx=CTX)
        canvas_text = "\n".join(render_text(widget, size))
        assert not ACTIVE.search(canvas_text.replace("\n", ""))
        assert "evilnamered" in canvas_text
        for row in render_runs(widget, size):
            for attr, _ in row:
                assert attr in palette.STYLES
    detail = state.replace(detail=Detail(table="active", key="rhostile", row=rows[0]))
    canvas_text = "".join(text(detail, (120, 40)))
    assert not ACTIVE.search(canvas_text) and "evilnamered" in canvas_text


# -------------------------------------------------------------------- ASCII


def test_ascii_terminal_gets_ascii_only() -> None:
    ctx = RenderContext(ascii=True)
    named = (WandbRunRow("r1", "naïve ✓ run", "running", S.NOW, runtime_s=1.0),)
    state = loaded(S.fetch_started("runner"), S.ok_snapshot("active", rows=named))
    lines = text(state, (80, 24), ctx=ctx) + text(state, (120, 40), ctx=ctx)
    assert all(line.isascii() for line in lines)
    assert any("-- finished ---" in line for line in lines)
    assert any("na?ve ? run" in line for line in lines)
    assert line_with(lines, "W&B Launch agent").startswith(">")


# ------------------------------------------------------- the screen's canvas


def reference(lines: list[Markup], size: tuple[int, int]):
    """What urwid's own widgets make of the same lines, each clipped to the width."""
    import urwid

    return urwid.Filler(urwid.Pile([urwid.Text(line or "", wrap="clip") for line in lines[: size[1]]]), valign="top")


@pytest.mark.parametrize("encoding", ["utf8", "ascii"])
@pytest.mark.parametrize("size", [(80, 24), (13, 6), (200, 50)])
@pytest.mark.parametrize(
    "lines",
    [
        [[("body", "plain ascii")], [("failed", "FAILED"), ("body", " wide 漢字漢字 text")]],
        [[("body", "x" * 300)], [("running", "漢" * 200)], [("body", "")], [("queued", "é" * 90)]],
        [[("body", "a"), ("finished", ""), ("failed", "bc")]] * 60,
        [[("body", "bell\x07 esc\x1b[31m red")], [("failed", "no\u00a0break space")]],
    ],
    ids=["mixed", "too-wide", "too-many", "controls"],
)
def test_the_screen_canvas_draws_lines_as_urwid_text_would(
    lines: list[Markup], size: tuple[int, int], encoding: str
) -> None:
    """Lines of any width (wide characters included) become exactly the rows,
    text and styles urwid's Text widgets give them, padded to the screen, on a
    UTF-8 terminal and on one that is not."""
    from urwid.util import set_temporary_encoding

    with set_temporary_encoding(encoding):
        ours = render_runs(Lines(lines), size)
        theirs = render_runs(reference(lines, size), size)
    assert [("".join(t for _, t in row)) for row in ours] == [("".join(t for _, t in row)) for row in theirs]
    # Styles per column agree, except that urwid leaves padding unstyled where we say "body".
    for mine, ref in zip(ours, theirs, strict=True):
        expand = lambda row: [a for a, t in row for _ in t]  # noqa: E731
        assert [a or "body" for a in expand(mine)] == [a or "body" for a in expand(ref)]
    assert len(ours) == size[1] and all(width_of("".join(t for _, t in row)) == size[0] for row in ours)


def test_every_screen_renders_the_same_through_the_canvas_and_through_urwid_text() -> None:
    state = loaded(Notice("a toast with 漢字", level="error"))
    for size in ((80, 24), (120, 40)):
        lines = screen.screen_lines(state, now=S.NOW, cols=size[0], rows=size[1], ctx=CTX)
        assert render_text(Lines(lines), size) == render_text(reference(lines, size), size)


# ------------------------------------------------------- rows and measures


@dataclass(frozen=True, slots=True)
class QueueRow:
    """A row type the screen has never heard of."""

    name: str
    state: str
    created_at: float
    started_at: float | None = None

    @property
    def key(self) -> str:
        return self.name

    @property
    def status(self) -> str:
        return self.state

    @property
    def is_running(self) -> bool:
        return self.state == "RUNNING"

    @property
    def active(self) -> bool:
        return self.is_running

    def runtime(self, now: float, *, fetched_at: float | None = None) -> float | None:
        return None if self.started_at is None else now - self.started_at

    def detail_fields(self) -> tuple[DetailField, ...]:
        return (DetailField("Name", self.name), DetailField("Runtime", None, "runtime"))


def queue_spec(*columns: Column) -> TableSpec:
    return TableSpec(
        key="queues", title="Queues", source="nowhere:fetch", row_type=QueueRow, columns=columns,
        interval=30.0, budget=5.0, deadline=30.0, limit=10, empty_text="no queues",
    )


def test_a_new_row_type_is_drawn_from_its_spec_alone() -> None:
    spec = queue_spec(
        Column("name", "Name", 12, 6, 1),
        Column("state", "State", 10, 9, kind="status"),
        Column("runtime", "Runtime", 8, 7, align="right", kind="runtime"),
        Column("created_at", "Created", 12, 8, 1, kind="clock"),
    )
    rows = (QueueRow("q-fast", "RUNNING", S.NOW - 100, S.NOW - 75), QueueRow("q-slow", "FAILED", S.NOW - 50))
    widths = table_widths(spec, rows, cols=60, now=S.NOW, fetched_at=S.NOW, ctx=CTX)
    running, failed = (
        row_line(spec, row, now=S.NOW, fetched_at=S.NOW, widths=widths, cols=60, selected=False, ctx=CTX)
        for row in rows
    )
    assert "".join(t for _, t in running).split()[:3] == ["q-fast", "RUNNING", "1m15s"]
    assert ("status_failed", "FAILED   ") in failed and "".join(t for _, t in failed).split()[2] == "-"
    assert sum(width_of(t) for _, t in running) == 60


def test_a_column_must_name_a_field_of_its_row_type() -> None:
    with pytest.raises(ValueError, match="'owner' is not a field of QueueRow"):
        queue_spec(Column("name", "Name", 12, 6), Column("owner", "Owner", 10, 6))


@pytest.mark.parametrize("size", [(80, 12), (80, 40), (30, 8), (120, 6)])
def test_measures_agree_with_what_is_drawn(size: tuple[int, int]) -> None:
    row = S.runner_rows()[1]
    for state in (
        loaded(detail=Detail(table="runner", key=row.key, row=row)),
        loaded(Notice("toast"), detail=Detail(table="runner", key=row.key, row=row)),
        loaded(detail=Detail(table="builds")),
    ):
        measured = screen.measure(state, now=S.NOW, size=size, ctx=CTX)
        footer = footer_lines(state, now=S.NOW, cols=size[0], ctx=CTX)
        assert footer_height(state, now=S.NOW) == len(footer)
        view = detail_view(state, now=S.NOW, cols=size[0], rows=max(1, size[1] - len(footer)), ctx=CTX)
        assert (measured.page, measured.detail_max_scroll) == (view.page, view.max_scroll)
