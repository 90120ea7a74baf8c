"""The rows of the tables: one frozen dataclass per kind of row, and what every row answers.

A row is a message (``arr_actors.messages`` encodes it and re-exports these
names) that also answers, as pure properties and methods, what the screen asks
of any row: ``key``, ``ident`` and ``link`` (what a person copies),
``status``, ``is_running`` (its runtime grows while we watch), ``active`` (queued or running: not finished yet), ``runtime(now)`` and
``detail_fields()`` (what its detail view shows). So the screen needs no
knowledge of row types, and a new kind of row is one class here.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

#: How a detail line shows its value: ``text``; ``status`` (styled by its
#: value); ``time`` (epoch seconds, as a date and time); ``span`` (seconds, as a
#: duration); ``runtime`` (the row's runtime when shown, ``value`` unused);
#: ``reason`` (why the row ended: an error when the row failed); ``log``
#: (lines of log context, ``value`` a tuple of lines).
FieldKind = Literal["text", "status", "time", "span", "runtime", "reason", "log"]


@dataclass(frozen=True, slots=True)
class DetailField:
    """One entry of a row's detail view."""

    label: str
    value: str | int | float | tuple[str, ...] | None
    kind: FieldKind = "text"


def _elapsed(start: float | None, end: float | None, *, running: bool, now: float) -> float | None:
    """How long something between ``start`` and ``end`` took; counts on while it runs."""
    if start is None:
        return None
    if end is not None:
        return end - start
    return now - start if running else None


def _every_field(row: Any, *, runtime_label: str) -> tuple[DetailField, ...]:
    """Every field of a row under its own name, then its runtime.

    A reported runtime (``runtime_s``) is not listed on its own: the runtime
    line shows it (counting on from the fetch while the row runs), and two
    runtimes that disagree would say nothing.
    """
    out = []
    for f in dataclasses.fields(row):
        if f.name == "runtime_s":
            continue
        kind: FieldKind = "text"
        if f.name.endswith("_at"):
            kind = "time"
        elif f.name in ("status", "state"):
            kind = "status"
        out.append(DetailField(f.name.replace("_", " ").capitalize(), getattr(row, f.name), kind))
    out.append(DetailField(runtime_label, None, "runtime"))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class RunnerRow:
    """One Cloud Run execution of the runner job."""

    execution: str
    region: str
    queue: str
    status: str  # RUNNING, FINISHED, FAILED, CANCELLED, PENDING
    runs: int | None
    created_at: float
    started_at: float | None = None
    completed_at: float | None = None
    note: str = ""
    category: str = ""
    pattern: str = ""
    context: tuple[str, ...] = ()
    #: Vertex AI custom jobs its log says it created (see arr_actors.lineage).
    job_ids: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.region}/{self.execution}"

    @property
    def ident(self) -> str:
        """The id a person copies: the execution's name."""
        return self.execution

    @property
    def link(self) -> str:
        return ""

    @property
    def is_running(self) -> bool:
        return self.status == "RUNNING"

    @property
    def active(self) -> bool:
        return self.status in ("PENDING", "RUNNING")

    def runtime(self, now: float, *, fetched_at: float | None = None) -> float | None:
        start = self.started_at or self.created_at
        return _elapsed(start, self.completed_at, running=self.is_running, now=now)

    def detail_fields(self) -> tuple[DetailField, ...]:
        return (
            DetailField("Execution", self.execution),
            DetailField("Region", self.region),
            DetailField("Queue", self.queue),
            DetailField("Status", self.status, "status"),
            DetailField("Runs", self.runs),
            DetailField("Runtime", None, "runtime"),
            DetailField("Created", self.created_at, "time"),
            DetailField("Started", self.started_at, "time"),
            DetailField("Completed", self.completed_at, "time"),
            DetailField("Note", self.note, "reason"),
            DetailField("Category", self.category),
            DetailField("Pattern", self.pattern),
            DetailField("Log context", self.context, "log"),
            DetailField("Jobs created", self.job_ids, "log"),
        )


@dataclass(frozen=True, slots=True)
class BuildRow:
    """One Cloud Build build."""

    build_id: str
    status: str  # QUEUED, WORKING, SUCCESS, FAILURE, INTERNAL_ERROR, TIMEOUT, CANCELLED, EXPIRED
    image: str
    region: str
    created_at: float
    started_at: float | None = None
    finished_at: float | None = None
    log_url: str = ""

    @property
    def key(self) -> str:
        return self.build_id

    @property
    def ident(self) -> str:
        return self.build_id

    @property
    def link(self) -> str:
        """The build's log page."""
        return self.log_url

    @property
    def is_running(self) -> bool:
        return self.status == "WORKING"

    @property
    def active(self) -> bool:
        return self.status in ("QUEUED", "WORKING", "PENDING")

    def runtime(self, now: float, *, fetched_at: float | None = None) -> float | None:
        return _elapsed(self.started_at, self.finished_at, running=self.is_running, now=now)

    def detail_fields(self) -> tuple[DetailField, ...]:
        return _every_field(self, runtime_label="Duration")


@dataclass(frozen=True, slots=True)
class VertexRow:
    """One Vertex AI custom job."""

    job_id: str
    display_name: str
    region: str
    state: str  # PENDING, QUEUED, RUNNING, CANCELLING, SUCCEEDED, FAILED, CANCELLED, ... (no JOB_STATE_ prefix)
    created_at: float
    started_at: float | None = None
    ended_at: float | None = None
    note: str = ""
    #: The W&B run it reports to (its wandb-run-id label) and the image it runs, when known.
    run_id: str = ""
    image: str = ""

    @property
    def key(self) -> str:
        return f"{self.region}/{self.job_id}"

    @property
    def ident(self) -> str:
        return self.job_id

    @property
    def link(self) -> str:
        return ""

    @property
    def status(self) -> str:
        return self.state

    @property
    def is_running(self) -> bool:
        return self.state == "RUNNING"

    @property
    def active(self) -> bool:
        # A job being cancelled is not over yet: it still holds its machines.
        return self.state in ("PENDING", "QUEUED", "RUNNING", "CANCELLING")

    def runtime(self, now: float, *, fetched_at: float | None = None) -> float | None:
        return _elapsed(self.started_at, self.ended_at, running=self.is_running, now=now)

    def detail_fields(self) -> tuple[DetailField, ...]:
        return _every_field(self, runtime_label="Runtime")


@dataclass(frozen=True, slots=True)
class WandbRunRow:
    """One W&B run (active or completed table)."""

    run_id: str
    name: str
    state: str  # running, finished, failed, crashed, killed
    created_at: float
    runtime_s: float | None = None
    note: str = ""
    url: str = ""

    @property
    def key(self) -> str:
        return self.run_id

    @property
    def ident(self) -> str:
        return self.run_id

    @property
    def link(self) -> str:
        """The run's page on W&B."""
        return self.url

    @property
    def status(self) -> str:
        return self.state

    @property
    def is_running(self) -> bool:
        return self.state == "running"

    @property
    def active(self) -> bool:
        return self.state in ("pending", "running")

    def runtime(self, now: float, *, fetched_at: float | None = None) -> float | None:
        """W&B reports a runtime as of the fetch: a running run's counts on from then."""
        if self.runtime_s is None:
            return now - self.created_at if self.is_running else None
        if self.is_running and fetched_at is not None:
            return self.runtime_s + max(0.0, now - fetched_at)
        return self.runtime_s

    def detail_fields(self) -> tuple[DetailField, ...]:
        return _every_field(self, runtime_label="Runtime")


Row = RunnerRow | BuildRow | VertexRow | WandbRunRow


__all__ = ["BuildRow", "DetailField", "FieldKind", "Row", "RunnerRow", "VertexRow", "WandbRunRow"]
