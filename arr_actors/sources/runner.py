"""The runner table: Cloud Run v2 executions of the runner job in every region.

One refresh lists the job's executions in all configured regions at once,
keeps the newest N, and diagnoses the terminal ones. A terminal execution's
diagnosis never changes, so it comes from the on-disk memory when known; the
logs of executions that became terminal since the last refresh are read in one
batched ``entries.list`` search (a few pages at most), through the project-wide
limiter. When the limiter says no, the read is deferred to the next refresh and
the table says so; a log the search could not finish is shown as not complete,
never remembered, and read again on a later refresh.

Cloud Run documents the order of ``ListExecutions`` ("Lists Executions from a
Job. Results are sorted by creation time, descending." — ``run_v2``
``ExecutionsClient.list_executions``), so one page of ``limit`` executions per
region holds that region's newest ones.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from arr_actors import partial_rows
from arr_actors.diagnostics import formats
from arr_actors.messages import RunnerRow, TableData
from arr_actors.sources import logs, runner_memory
from arr_actors.sources.clients import require_project
from arr_actors.sources.common import epoch, fan_out, last_segment, location_of
from arr_actors.sources.errors import SourceError, api_core_name, describe

if TYPE_CHECKING:
    from arr_actors.config import Settings
    from arr_actors.diagnostics.extract import Diagnosis
    from arr_actors.sources.common import SourceContext

TERMINAL = ("FINISHED", "FAILED", "CANCELLED")
#: Environment variable the runner image reads its W&B Launch queue from (``launch`` sets it).
QUEUE_ENV = "LAUNCH_QUEUE"
#: Container environment variables that name the W&B Launch queue the runner serves.
QUEUE_ENVS = (QUEUE_ENV, "WANDB_LAUNCH_QUEUE", "WANDB_QUEUE")
#: A terminal execution whose log lacks the wrapper's final stats this soon after it
#: ended is read again next refresh (Cloud Logging ingests with a delay); after that,
#: what was read is the answer.
LOG_SETTLE_S = 120.0
# Logs are searched from a little before the oldest execution was created.
_LOG_LOOKBACK_S = logs.LOOKBACK_S

RUNNING_NOTE = "Running…"
PENDING_NOTE = "Waiting to start…"
#: A terminal execution whose log is being read (shown until the fetch ends).
READING_NOTE = "reading its log…"
#: A terminal execution whose log search did not finish this refresh.
INCOMPLETE_NOTE = "log not complete yet — next try with the next refresh"


@dataclass(frozen=True, slots=True)
class Execution:
    """What the runner table needs from one ``run_v2.Execution``."""

    name: str
    region: str
    queue: str
    status: str
    created_at: float
    started_at: float | None
    completed_at: float | None

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL

    @property
    def key(self) -> str:
        return runner_memory.memory_key(self.region, self.name)


# ------------------------------------------------------------ pure mapping


def _condition_state(condition: Any) -> str:
    return getattr(condition.state, "name", str(condition.state))


def _execution_reason(condition: Any) -> str:
    return getattr(condition.execution_reason, "name", str(condition.execution_reason))


def execution_status(execution: Any) -> str:
    """RUNNING, FINISHED, FAILED, CANCELLED or PENDING from an execution's conditions and counts.

    The ``Completed`` condition is authoritative once it is decided (as in the
    Cloud Run console); the task counts decide when it is missing or undecided.
    """
    completed = next((c for c in execution.conditions if c.type_ == "Completed"), None)
    cancelled = execution.cancelled_count > 0
    if completed is not None:
        state = _condition_state(completed)
        reason = _execution_reason(completed)
        if state == "CONDITION_SUCCEEDED":
            return "FINISHED"
        if state == "CONDITION_FAILED":
            return "CANCELLED" if reason in ("CANCELLED", "CANCELLING") or cancelled else "FAILED"
    if execution.completion_time is not None:
        if cancelled:
            return "CANCELLED"
        if execution.failed_count > 0:
            return "FAILED"
        if execution.task_count and execution.succeeded_count >= execution.task_count:
            return "FINISHED"
        return "FAILED"
    if cancelled and execution.running_count == 0:
        return "CANCELLED"
    if execution.running_count > 0 or execution.start_time is not None:
        return "RUNNING"
    return "PENDING"


def execution_queue(execution: Any, *, default: str) -> str:
    """The Launch queue from the container environment (a RunJob override lands there)."""
    for container in execution.template.containers:
        for env in container.env:
            if env.name in QUEUE_ENVS and env.value:
                return str(env.value)
    for key in ("launch-queue", "wandb-launch-queue", "queue"):
        if execution.labels.get(key):
            return str(execution.labels[key])
    return default


def parse_execution(execution: Any, *, region: str, default_queue: str) -> Execution:
    return Execution(
        name=last_segment(execution.name),
        region=location_of(execution.name, region),
        queue=execution_queue(execution, default=default_queue),
        status=execution_status(execution),
        created_at=epoch(execution.create_time) or 0.0,
        started_at=epoch(execution.start_time),
        completed_at=epoch(execution.completion_time),
    )


def newest(executions: Sequence[Execution], limit: int) -> list[Execution]:
    return sorted(executions, key=lambda e: (e.created_at, e.name), reverse=True)[:limit]


def terminal_note(status: str, diagnosis: Diagnosis) -> str:
    """The note of a diagnosed terminal execution."""
    summary = diagnosis.summary.strip()
    if status == "FINISHED":
        if "Runner completed:" in summary:
            return summary
        if diagnosis.runs is not None:
            return f"completed: Runs: {diagnosis.runs}"
        return summary if summary and diagnosis.outcome == "finished" else "completed"
    if status == "CANCELLED":
        return f"cancelled: {summary}" if summary and diagnosis.pattern else "cancelled"
    return summary or "failed (no error found in the log)"


def build_row(execution: Execution, diagnosis: Diagnosis | None, *, pending_note: str = "") -> RunnerRow:
    """One table row; ``diagnosis`` is None for running executions and unread logs."""
    if diagnosis is None:
        if execution.status == "RUNNING":
            note = RUNNING_NOTE
        elif execution.status == "PENDING":
            note = PENDING_NOTE
        else:
            note = pending_note or "log not read yet"
        return RunnerRow(
            execution=execution.name,
            region=execution.region,
            queue=execution.queue,
            status=execution.status,
            runs=None,
            created_at=execution.created_at,
            started_at=execution.started_at,
            completed_at=execution.completed_at,
            note=note,
        )
    return RunnerRow(
        execution=execution.name,
        region=execution.region,
        queue=execution.queue,
        status=execution.status,
        runs=diagnosis.runs,
        created_at=execution.created_at,
        started_at=execution.started_at,
        completed_at=execution.completed_at,
        note=terminal_note(execution.status, diagnosis),
        category=diagnosis.category,
        pattern=diagnosis.pattern or "",
        context=tuple(diagnosis.context),
        job_ids=tuple(diagnosis.job_ids),
    )


def should_remember(execution: Execution, lines: Sequence[str], *, now: float) -> bool:
    """Whether a terminal execution's log, as read, is the whole log and its diagnosis final.

    The wrapper's final stats are its last words, so a log holding them is
    complete. Cloud Logging ingests with a delay, so a log without them (or an
    empty one) is trusted only once the execution has been over for a while;
    until then it is read again on the next refresh.
    """
    if any(formats.FINAL_STATS_RE.match(line) for line in lines):
        return True
    ended = execution.completed_at or execution.created_at
    return now - ended >= LOG_SETTLE_S


# ------------------------------------------------------------------- I/O


def _list_region(ctx: SourceContext, region: str, *, limit: int) -> list[Any]:
    settings = ctx.settings
    parent = f"projects/{settings.project}/locations/{region}/jobs/{settings.runner_job}"
    pager = ctx.clients.executions().list_executions(
        request={"parent": parent, "page_size": limit}, timeout=settings.api.call_timeout_s, retry=None
    )
    # Newest first as documented (see the module docstring): one page is the newest ``limit``;
    # reading exactly one page's worth never asks for a second page.
    return list(itertools.islice(pager, limit))


def list_executions(ctx: SourceContext, *, limit: int) -> tuple[list[Execution], str]:
    """Executions of all regions (newest ``limit`` of each) and the partial-failure warning."""
    settings = ctx.settings
    outcome = fan_out(
        ctx.pool(), settings.regions, lambda r: _list_region(ctx, r, limit=limit), timeout_s=settings.api.call_timeout_s
    )
    failures = outcome.failures
    if failures and not outcome.results and all(api_core_name(e) == "NotFound" for _, e in failures):
        raise SourceError(
            f"runner job {settings.runner_job!r} not found in any of the {len(settings.regions)} configured "
            "regions: check `runner_job` and `regions` in the config"
        )
    outcome.raise_if_all_failed(service="run", timeout_s=settings.api.call_timeout_s)
    executions = [
        parse_execution(item, region=region, default_queue=settings.queue)
        for region, items in outcome.results.items()
        for item in items
    ]
    # A region without the job (NotFound) is named too: `regions` should list only where it is deployed.
    warning = outcome.warning(len(settings.regions))
    return executions, warning


@dataclass(frozen=True, slots=True)
class LogOutcome:
    """What reading the logs of newly terminal executions gave one refresh."""

    diagnoses: Mapping[str, Diagnosis]  # by memory key; only executions whose log was read whole
    incomplete: frozenset[str]  # memory keys whose log search did not finish
    reads: int  # entries.list calls made
    deferred: str  # why nothing was read (the limiter said no), or ""
    warning: str  # why the read failed, or ""


def read_new_terminal(ctx: SourceContext, pending: Sequence[Execution]) -> LogOutcome:
    """Read and diagnose the logs of newly terminal executions in one batched search.

    Diagnoses of logs read whole and final are stored in the memory before
    returning; an execution whose log the search did not finish gets no
    diagnosis and is read again next refresh.
    """
    if not pending:
        return LogOutcome({}, frozenset(), 0, "", "")
    settings = ctx.settings
    regions = {e.region for e in pending}
    now = ctx.clock()
    try:
        found = logs.read_logs(
            settings,
            region=next(iter(regions)) if len(regions) == 1 else None,
            executions=[e.name for e in pending],
            starts={e.name: e.created_at - _LOG_LOOKBACK_S for e in pending},
            since=min(e.created_at for e in pending) - _LOG_LOOKBACK_S,
            until=max(e.completed_at or now for e in pending) + logs.SETTLE_S,
            wait_s=0,
            budget_s=settings.policy("runner").budget,
            clients=ctx.clients,
        )
    except logs.LogReadDeferred:
        deferred = (
            f"log read for {len(pending)} finished execution{'s' if len(pending) != 1 else ''} deferred to the "
            f"next refresh (Cloud Logging limit: {settings.api.logging_reads_per_minute} reads per minute)"
        )
        return LogOutcome({}, frozenset(), 0, deferred, "")
    except logs.LimiterUnavailable as exc:
        return LogOutcome({}, frozenset(), 0, "", f"logs not read: {exc}")
    except SourceError as exc:
        return LogOutcome({}, frozenset(), 1, "", f"logs not read: {exc}")
    except Exception as exc:
        return LogOutcome({}, frozenset(), 1, "", f"logs not read: {describe(exc)}")
    memory = ctx.memory()
    diagnoses: dict[str, Diagnosis] = {}
    incomplete: set[str] = set()
    for execution in pending:
        if execution.name not in found.complete:
            incomplete.add(execution.key)
            continue
        lines = found.lines.get(execution.name, ())
        diagnosis = runner_memory.diagnose(lines, status=execution.status)
        diagnoses[execution.key] = diagnosis
        if should_remember(execution, lines, now=now):
            memory.put(execution.key, execution.status, diagnosis)
    return LogOutcome(diagnoses, frozenset(incomplete), found.calls, "", "")


def fetch(settings: Settings, ctx: SourceContext) -> TableData:
    require_project(settings)
    limit = settings.policy("runner").kept
    executions, warning = list_executions(ctx, limit=limit)
    top = newest(executions, limit)
    remembered: dict[str, Diagnosis] = {}
    pending: list[Execution] = []
    terminal = [e for e in top if e.terminal]
    if terminal:
        memory = ctx.memory()
        remembered = memory.get_many(e.key for e in terminal)
        pending = [e for e in terminal if e.key not in remembered]
    if pending:
        # The log read takes seconds: show the executions now, their notes when it is done.
        partial = tuple(build_row(e, remembered.get(e.key), pending_note=READING_NOTE) for e in top)
        partial_rows.report(TableData(rows=partial, warning=warning))
    read = read_new_terminal(ctx, pending)
    diagnoses: Mapping[str, Diagnosis] = {**remembered, **read.diagnoses}
    pending_note = "log read deferred (Cloud Logging limit)" if read.deferred else "log not read (see table status)"
    rows = tuple(
        build_row(e, diagnoses.get(e.key), pending_note=INCOMPLETE_NOTE if e.key in read.incomplete else pending_note)
        for e in top
    )
    memory_notice = getattr(ctx.memory(), "notice", "") if terminal else ""
    warnings = "; ".join(w for w in (warning, read.warning, memory_notice) if w)
    return TableData(rows=rows, warning=warnings, log_reads=read.reads, deferred=read.deferred)
