"""Column widths: the 80-column layouts stay, and spare width goes to the columns that are cut, by priority."""

from __future__ import annotations

import ui_samples as S

from arr_actors.messages import BuildRow, VertexRow
from arr_actors.tables import TABLE_KEYS, Column, table
from ui.columns import column_widths, table_widths
from ui.context import RenderContext

CTX = RenderContext(regions=18)
BUILD_ID = "fcc5e053-1d2b-4c1e-9a7f-0b6e8f3d2a11"
LONG_NOTE = (
    "The replica workerpool0-0 exited with a non-zero status of 1. "
    "To find out more about why your job exited please check the logs"
)


def widths(key: str, rows, cols: int) -> tuple[int, ...]:
    return table_widths(table(key), rows, cols=cols, now=S.NOW, fetched_at=S.NOW - 12, ctx=CTX)


def test_80_and_120_column_layouts_of_the_samples_are_unchanged() -> None:
    # The runner's execution suffix and the vertex region (whole at 80 columns)
    # take their room from the queue, the job's name and the notes.
    expected = {
        "runner": [(5, 5, 12, 9, 4, 7, 9, 22), (5, 12, 15, 9, 4, 7, 12, 49)],
        "builds": [(8, 9, 31, 11, 8, 8), (8, 9, 71, 11, 8, 8)],
        "vertex": [(19, 9, 12, 9, 7, 8, 10), (19, 15, 12, 9, 7, 8, 44)],
        "active": [(8, 44, 9, 7, 8), (8, 84, 9, 7, 8)],
        "completed": [(8, 15, 9, 7, 28, 8), (8, 15, 9, 7, 68, 8)],
    }
    for key in TABLE_KEYS:
        assert [widths(key, S.ROWS[key](), cols) for cols in (80, 120)] == expected[key], key


def test_at_200_columns_a_build_id_is_whole_and_the_image_keeps_room() -> None:
    rows = (BuildRow(BUILD_ID, "SUCCESS", "us-docker.pkg.dev/p/r/trainer:v1", "us-central1", S.NOW - 60), *S.build_rows())
    spec = table("builds")
    got = widths("builds", rows, 200)
    assert sum(got) + len(got) - 1 == 200
    build, image = (spec.columns.index(next(c for c in spec.columns if c.field == f)) for f in ("build_id", "image"))
    assert got[build] == len(BUILD_ID)
    assert got[image] >= len("trainer:v1")


def test_at_200_columns_the_vertex_note_is_whole() -> None:
    rows = (VertexRow("1234567890123456789", "gentle-canyon-758", "us-central1", "FAILED", S.NOW - 60, note=LONG_NOTE),)
    # The region column (12 with its gap) leaves the note 123 of its 126 at 200
    # columns: every other column at what it needs, the note all the rest.
    got = widths("vertex", rows, 200)
    assert got[-1] == 200 - sum(got[:-1]) - (len(got) - 1) and got[-1] >= len(LONG_NOTE) - 3
    assert got[1] >= len("gentle-canyon-758") and got[2] == len("us-central1")
    got = widths("vertex", rows, 203)
    assert got[-1] >= len(LONG_NOTE)


def test_spare_width_goes_to_cut_columns_most_important_first() -> None:
    columns = (
        Column("a", "A", 10, 4, 1),  # an id: important
        Column("b", "B", 10, 4, 3),  # a note: gives way first
        Column("c", "C", 10, 4, 2),
    )
    natural = (30, 30, 5)
    # preferred: 10, 10, 5 (+2 spaces) = 27; 13 to spare: all to the id, which is cut
    assert column_widths(columns, 40, natural) == (23, 10, 5)
    # 23 to spare: the id gets its 20, the note the rest
    assert column_widths(columns, 50, natural) == (30, 13, 5)
    # more than every cut column needs: the rest goes to the column that gives way first
    assert column_widths(columns, 80, natural) == (30, 43, 5)
    # nothing to spare: as before, the note shrinks first
    assert column_widths(columns, 20, natural) == (10, 4, 4)


def test_without_known_content_the_spare_width_goes_to_the_note() -> None:
    spec = table("runner")
    wide = column_widths(spec.columns, 200)
    assert wide[:-1] == tuple(c.width for c in spec.columns[:-1])
    assert sum(wide) + len(wide) - 1 == 200
