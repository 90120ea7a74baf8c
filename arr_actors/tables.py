"""The five tables: the one place a table is defined.

Adding a table is adding one ``TableSpec`` here (plus its source module): the
settings, the runtime, the UI and the JSON output all iterate over ``TABLES``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table as the UI lays it out.

    ``field`` names the row attribute (or a derived value the UI knows:
    ``runtime``, ``created``, ``duration``). ``width`` is the preferred width;
    ``min_width`` is how far it may shrink; columns with higher ``shrink_order``
    give way first on narrow terminals. A note column gives way first, down to
    its minimum: the runner's keeps 22 columns, enough to say why an execution
    failed (its queue, the same on most rows, gives way next). The created
    column needs 8 for a time of day and takes 12 when it shows a date.
    """

    field: str
    header: str
    width: int
    min_width: int
    shrink_order: int = 0
    align: str = "left"


@dataclass(frozen=True, slots=True)
class TableSpec:
    key: str
    title: str
    source: str  # "module:function" run in the table's child process
    row_type: str  # name of the row type in arr_actors.messages
    columns: tuple[Column, ...]
    interval: float  # seconds between refreshes
    budget: float  # expected duration of a refresh (seconds)
    deadline: float  # hard limit: past it the child is killed
    limit: int  # rows shown
    empty_text: str  # "{regions}" is replaced by the number of configured regions
    # Libraries the table's fetch process loads when it starts, before its first
    # deadline runs (loading them takes seconds; fetching afterwards does not).
    preload: tuple[str, ...] = ()


TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        key="runner",
        title="W&B Launch agent",
        source="arr_actors.sources.runner:fetch",
        row_type="RunnerRow",
        columns=(
            Column("queue", "Queue", 16, 8, 2),
            Column("region", "Region", 23, 11, 1),
            Column("status", "Status", 10, 9),
            Column("runs", "Runs", 4, 4, align="right"),
            Column("runtime", "Runtime", 8, 7, align="right"),
            Column("created", "Created", 12, 8, 1),
            Column("note", "Note", 60, 22, 3),
        ),
        interval=30.0,
        budget=10.0,
        deadline=45.0,
        limit=10,
        empty_text="no executions in {regions} regions",
        preload=("google.cloud.run_v2", "google.cloud.logging_v2.services.logging_service_v2", "arr_actors.diagnostics.extract"),
    ),
    TableSpec(
        key="builds",
        title="Cloud Builds",
        source="arr_actors.sources.builds:fetch",
        row_type="BuildRow",
        columns=(
            Column("build_id", "Build", 10, 8, 1),
            Column("status", "Status", 10, 9),
            Column("image", "Image", 40, 10, 3),
            Column("region", "Region", 23, 8, 2),
            Column("duration", "Duration", 8, 7, align="right"),
            Column("created", "Created", 12, 8, 1),
        ),
        interval=30.0,
        budget=5.0,
        deadline=30.0,
        limit=8,
        empty_text="no builds",
        preload=("google.cloud.devtools.cloudbuild_v1",),
    ),
    TableSpec(
        key="vertex",
        title="Vertex AI jobs",
        source="arr_actors.sources.vertex:fetch",
        row_type="VertexRow",
        columns=(
            Column("job_id", "Job", 19, 8, 1),
            Column("display_name", "Name", 24, 8, 2),
            Column("state", "State", 10, 9),
            Column("runtime", "Runtime", 8, 7, align="right"),
            Column("created", "Created", 12, 8, 1),
            Column("note", "Note", 50, 10, 3),
        ),
        interval=30.0,
        budget=10.0,
        deadline=45.0,
        limit=10,
        empty_text="no custom jobs in {regions} regions",
        preload=("google.cloud.aiplatform_v1",),
    ),
    TableSpec(
        key="active",
        title="Active W&B runs",
        source="arr_actors.sources.wandb_runs:fetch_active",
        row_type="WandbRunRow",
        columns=(
            Column("run_id", "Run", 10, 8, 1),
            Column("name", "Name", 30, 10, 2),
            Column("state", "State", 10, 9),
            Column("runtime", "Runtime", 8, 7, align="right"),
            Column("created", "Created", 12, 8, 1),
        ),
        interval=30.0,
        budget=5.0,
        deadline=30.0,
        limit=10,
        empty_text="no active runs",
        preload=("wandb",),
    ),
    TableSpec(
        key="completed",
        title="Completed W&B runs",
        source="arr_actors.sources.wandb_runs:fetch_completed",
        row_type="WandbRunRow",
        columns=(
            Column("run_id", "Run", 10, 8, 1),
            Column("name", "Name", 30, 10, 2),
            Column("state", "State", 10, 9),
            Column("runtime", "Runtime", 8, 7, align="right"),
            Column("note", "Exit / failure", 30, 10, 3),
            Column("created", "Created", 12, 8, 1),
        ),
        interval=60.0,
        budget=5.0,
        deadline=30.0,
        limit=10,
        empty_text="no completed runs",
        preload=("wandb",),
    ),
)

TABLE_KEYS: tuple[str, ...] = tuple(t.key for t in TABLES)
_BY_KEY = {t.key: t for t in TABLES}


def table(key: str) -> TableSpec:
    """The spec of one table; KeyError names the valid keys."""
    try:
        return _BY_KEY[key]
    except KeyError:
        raise KeyError(f"unknown table {key!r} (tables: {', '.join(TABLE_KEYS)})") from None


def load_function(spec: str, *, what: str = "source") -> Callable[..., Any]:
    """Import a ``"module:function"`` spec (a table's source, a source factory);
    every failure names the spec."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"{what} {spec!r} is not 'module:function'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(f"cannot import {what} module {module_name!r}: {exc}") from exc
    try:
        return getattr(module, attr)  # type: ignore[no-any-return]
    except AttributeError:
        raise AttributeError(f"{what} module {module_name!r} has no {attr!r}") from None
