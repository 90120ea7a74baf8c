"""The five tables: the one place a table is defined.

Adding a table is adding one ``TableSpec`` here (plus its source module): the
settings, the runtime, the UI and the JSON output all iterate over ``TABLES``.
A new kind of row is a row type in ``arr_actors.messages`` that answers what
every row answers (``key``, ``status``, ``is_running``, ``active``,
``runtime(now)``, ``detail_fields()``); the screen asks nothing else.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from arr_actors.rows import BuildRow, RunnerRow, VertexRow, WandbRunRow

#: What a cell shows: ``text`` (the field, ``-`` when empty), ``status`` (styled
#: by its value), ``note`` (styled as an error when the row failed), ``runtime``
#: (the row's runtime, counting while it runs; ``field`` only names the column),
#: ``clock`` (a moment: the time today, the date otherwise), ``basename`` (the
#: last part of a path such as an image's: the whole path is in the detail view),
#: ``suffix`` (what follows the last ``-``: Cloud Run names an execution after its
#: job plus a random suffix, and the suffix alone tells the rows apart).
CellKind = Literal["text", "status", "note", "runtime", "clock", "basename", "suffix"]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a table as the UI lays it out.

    ``field`` names the row attribute, ``kind`` how the cell shows it.
    ``width`` is the preferred width;
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
    kind: CellKind = "text"


@dataclass(frozen=True, slots=True)
class TableSpec:
    key: str
    title: str
    source: str  # "module:function" run in the table's child process
    row_type: type  # the row type in arr_actors.messages; columns name its fields
    columns: tuple[Column, ...]
    interval: float  # seconds between refreshes
    budget: float  # expected duration of a refresh (seconds)
    deadline: float  # hard limit: past it the child is killed
    limit: int  # rows shown
    empty_text: str  # "{regions}" is replaced by the number of configured regions
    # Libraries the table's fetch process loads when it starts, before its first
    # deadline runs (loading them takes seconds; fetching afterwards does not).
    preload: tuple[str, ...] = ()
    # Tables that list rows still active first name the rule drawn between
    # them and the finished ones (empty: rows stay in their order, no rule).
    divider: str = ""
    # Rows kept (fetched) beyond those shown, for zoom (`z`) to scroll into. The
    # runner keeps only what it shows: every terminal execution kept is a log
    # to read, and one read's 1000 entries are shared among them.
    history: int = 30
    # The fork template (a key of FORK_TEMPLATES) the table's fetch process is
    # forked from, with the libraries it shares with other tables already
    # loaded; empty: forked by the launcher, loading everything itself.
    template: str = ""

    def __post_init__(self) -> None:
        if self.template and self.template not in FORK_TEMPLATES:
            raise ValueError(f"table {self.key!r}: no fork template {self.template!r} (templates: {', '.join(FORK_TEMPLATES)})")
        fields = {f.name for f in dataclasses.fields(self.row_type)}
        for column in self.columns:
            if column.kind != "runtime" and column.field not in fields:
                raise ValueError(f"table {self.key!r}: column {column.field!r} is not a field of {self.row_type.__name__}")


#: Fork templates: each is a process that loads these modules once, then forks
#: the fetch processes of the tables naming it, which share those pages
#: copy-on-write. A template holds what several tables load alike and no more:
#: a library only one table uses costs the same loaded in that table's own
#: process, and loading it there keeps the other tables from waiting for it.
#: ``google``: the client stack every Google Cloud library is built on (gRPC,
#: protobuf, proto-plus, google.api_core, google.auth), measured as the modules
#: run_v2 + logging_v2, cloudbuild_v1 and aiplatform_v1 all load; ``wandb``:
#: what both W&B tables load before their first rows. Two templates, not one, so that
#: neither group of tables waits for the other's imports.
FORK_TEMPLATES: dict[str, tuple[str, ...]] = {
    "google": (
        "google.protobuf",
        "grpc",
        "proto",
        "google.auth.transport.requests",
        "google.auth.transport.grpc",
        "google.oauth2.service_account",
        "google.rpc.status_pb2",
        "google.longrunning.operations_pb2",
        "google.api_core.client_options",
        "google.api_core.client_logging",
        "google.api_core.universe",
        "google.api_core.path_template",
        "google.api_core.retry",
        "google.api_core.gapic_v1",
        "google.api_core.grpc_helpers",
        "google.api_core.operation",
        "google.api_core.operation_async",
        "google.api_core.operations_v1",
        "google.api_core.rest_streaming",
        # What every Google source loads once it makes a client and a call.
        "grpc._channel",
        "grpc._interceptor",
        "google.api.httpbody_pb2",
        "arr_actors.sources.common",
    ),
    # ``import wandb`` loads little; ``wandb.Api`` and our W&B source load the
    # rest (its public API package, requests), the same in both tables.
    "wandb": ("wandb", "requests", "wandb.apis.public", "arr_actors.sources.wandb_runs", "arr_actors.sources.common"),
}

TABLES: tuple[TableSpec, ...] = (
    TableSpec(
        key="runner",
        title="W&B Launch agent",
        source="arr_actors.sources.runner:fetch",
        row_type=RunnerRow,
        columns=(
            Column("execution", "Exec", 5, 5, 1, kind="suffix"),
            Column("queue", "Queue", 16, 5, 2),
            Column("region", "Region", 23, 11, 1),
            Column("status", "Status", 10, 9, kind="status"),
            Column("runs", "Runs", 4, 4, align="right"),
            Column("runtime", "Runtime", 8, 7, align="right", kind="runtime"),
            Column("created_at", "Created", 12, 8, 1, kind="clock"),
            Column("note", "Note", 60, 22, 3, kind="note"),
        ),
        interval=30.0,
        budget=10.0,
        deadline=45.0,
        limit=10,
        history=10,
        empty_text="no executions in {regions} regions",
        # The Executions and Logging clients, not all of run_v2 and logging_v2 (see the modules).
        preload=("arr_actors.sources.cloudrun", "arr_actors.sources.cloudlogging", "arr_actors.diagnostics.extract"),
        template="google",
    ),
    TableSpec(
        key="builds",
        title="Cloud Builds",
        source="arr_actors.sources.builds:fetch",
        row_type=BuildRow,
        columns=(
            Column("build_id", "Build", 10, 8, 1),
            Column("status", "Status", 10, 9, kind="status"),
            Column("image", "Image", 40, 10, 3, kind="basename"),
            Column("region", "Region", 23, 8, 2),
            Column("duration", "Duration", 8, 7, align="right", kind="runtime"),
            Column("created_at", "Created", 12, 8, 1, kind="clock"),
        ),
        interval=30.0,
        budget=5.0,
        deadline=30.0,
        limit=8,
        empty_text="no builds",
        preload=("google.cloud.devtools.cloudbuild_v1",),
        template="google",
        divider="finished",
    ),
    TableSpec(
        key="vertex",
        title="Vertex AI jobs",
        source="arr_actors.sources.vertex:fetch",
        row_type=VertexRow,
        columns=(
            Column("job_id", "Job", 19, 8, 1),
            Column("display_name", "Name", 24, 8, 2),
            Column("region", "Region", 23, 11, 1),
            Column("state", "State", 10, 9, kind="status"),
            Column("runtime", "Runtime", 8, 7, align="right", kind="runtime"),
            Column("created_at", "Created", 12, 8, 1, kind="clock"),
            Column("note", "Note", 50, 10, 3, kind="note"),
        ),
        interval=30.0,
        budget=10.0,
        deadline=45.0,
        limit=10,
        empty_text="no custom jobs in {regions} regions",
        # The JobService client and its types, not all of aiplatform_v1 (see the module).
        preload=("arr_actors.sources.aiplatform",),
        template="google",
    ),
    TableSpec(
        key="active",
        title="Active W&B runs",
        source="arr_actors.sources.wandb_runs:fetch_active",
        row_type=WandbRunRow,
        columns=(
            Column("run_id", "Run", 10, 8, 1),
            Column("name", "Name", 30, 10, 2),
            Column("state", "State", 10, 9, kind="status"),
            Column("runtime", "Runtime", 8, 7, align="right", kind="runtime"),
            Column("created_at", "Created", 12, 8, 1, kind="clock"),
        ),
        interval=30.0,
        budget=5.0,
        deadline=30.0,
        limit=10,
        empty_text="no active runs",
        preload=("wandb",),
        template="wandb",
    ),
    TableSpec(
        key="completed",
        title="Completed W&B runs",
        source="arr_actors.sources.wandb_runs:fetch_completed",
        row_type=WandbRunRow,
        columns=(
            Column("run_id", "Run", 10, 8, 1),
            Column("name", "Name", 30, 10, 2),
            Column("state", "State", 10, 9, kind="status"),
            Column("runtime", "Runtime", 8, 7, align="right", kind="runtime"),
            Column("note", "Exit / failure", 30, 10, 3, kind="note"),
            Column("created_at", "Created", 12, 8, 1, kind="clock"),
        ),
        interval=60.0,
        budget=5.0,
        deadline=30.0,
        limit=10,
        empty_text="no completed runs",
        preload=("wandb",),
        template="wandb",
    ),
)

TABLE_KEYS: tuple[str, ...] = tuple(t.key for t in TABLES)
_BY_KEY = {t.key: t for t in TABLES}

#: The log reader: a fetch process of its own, supervised like a table's, that
#: reads one item's whole log for the log view (``l``). It is no table (nothing
#: is listed), and starts only when a log is first opened.
LOG_READER = "logs"
#: What it loads at start-up: the Cloud Logging client (forked from the Google template).
LOG_READER_PRELOAD = ("arr_actors.sources.cloudlogging", "arr_actors.sources.logread")
#: Everything that has a fetch process: the tables and the log reader.
PROCESS_KEYS: tuple[str, ...] = (*TABLE_KEYS, LOG_READER)


def template_of(key: str) -> str:
    """The fork template a table's (or the log reader's) fetch process is forked from ("" for none)."""
    if key == LOG_READER:
        return "google"
    spec = _BY_KEY.get(key)
    return spec.template if spec is not None else ""


class _Grouped(Protocol):
    @property
    def active(self) -> bool: ...


_R = TypeVar("_R", bound=_Grouped)


def active_first(rows: Iterable[_R]) -> tuple[_R, ...]:
    """Rows still active (queued, running) before finished ones, each group in its given order."""
    rows = tuple(rows)
    return tuple(r for r in rows if r.active) + tuple(r for r in rows if not r.active)


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
        return getattr(module, attr)
    except AttributeError:
        raise AttributeError(f"{what} module {module_name!r} has no {attr!r}") from None
