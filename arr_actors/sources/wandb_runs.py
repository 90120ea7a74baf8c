"""The active and completed tables: W&B runs of the configured entity/project.

Both tables use the W&B public API (``wandb.Api``) with server-side filters,
newest first, one page of ``limit`` runs: runs that are alive (running,
pending, preempting), and the most recent that are over (finished, failed,
crashed, killed, preempted). The states are the wandb SDK's own run-state list
(``wandb.sdk.sweeps.run_state.RunState``: alive and dead states). They run in separate child
processes, but build their client the same way (``clients.build_wandb_api``).
Every request the W&B client sends for them is counted (``counting``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from datetime import timezone
from typing import TYPE_CHECKING, Any

from arr_actors import partial_rows
from arr_actors.compat import fromisoformat
from arr_actors.messages import MAX_EPOCH, MAX_SECONDS, TableData, WandbRunRow
from arr_actors.sources import counting
from arr_actors.sources.errors import SourceError, translate_wandb, wandb_project_missing

if TYPE_CHECKING:
    from arr_actors.config import Settings
    from arr_actors.sources.common import SourceContext

#: Alive states: the run may still make progress (a pending run is queued or requeued).
ACTIVE_STATES = ("running", "pending", "preempting")
#: Dead states: the run is over (a preempted run ended because its machine was taken back).
COMPLETED_STATES = ("finished", "failed", "crashed", "killed", "preempted")
ORDER = "-created_at"
# Summary keys that carry why a run ended, in the order they are preferred.
_EXIT_KEYS = ("exit_code", "exitcode", "_exit_code")
_REASON_KEYS = ("failure_reason", "error", "_failure_reason", "exception")


def parse_time(value: Any) -> float | None:
    """W&B timestamps (``2025-01-02T03:04:05`` UTC, with or without ``Z``) as epoch seconds."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        # Outside the moments a message may hold, one run would fail the whole table.
        return float(value) if 0 <= value <= MAX_EPOCH else None
    text = str(value).strip().replace("Z", "+00:00")
    try:
        stamp = fromisoformat(text)
    except ValueError:
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    seconds = stamp.timestamp()
    return seconds if 0 <= seconds <= MAX_EPOCH else None


def runtime_of(summary: Mapping[str, Any], *, state: str, created_at: float, heartbeat_at: float | None, now: float) -> float | None:
    """Seconds the run has run: the summary's ``_runtime``, else from its timestamps."""
    runtime = summary.get("_runtime")
    if isinstance(runtime, (int, float)) and not isinstance(runtime, bool) and 0 <= runtime <= MAX_SECONDS:
        return float(runtime)  # a run logs its own summary: anything larger is not a runtime
    if state in ACTIVE_STATES:
        return max(0.0, now - created_at) if created_at else None
    if heartbeat_at is not None and created_at:
        return max(0.0, heartbeat_at - created_at)
    return None


def exit_note(summary: Mapping[str, Any], *, state: str, exitcode: Any = None) -> str:
    """``exit code 1: CUDA out of memory`` — how the run ended, from its exit code and summary."""
    parts: list[str] = []
    codes = [exitcode, *(summary.get(key) for key in _EXIT_KEYS)]
    for code in codes:
        if isinstance(code, int) and not isinstance(code, bool):
            parts.append(f"exit code {code}")
            break
    for key in _REASON_KEYS:
        reason = summary.get(key)
        if isinstance(reason, str) and reason.strip():
            parts.append(" ".join(reason.split()))
            break
    if not parts and state != "finished":
        parts.append(state)
    return ": ".join(parts)


def run_row(run: Any, *, now: float, completed: bool) -> WandbRunRow:
    state = str(run.state)
    created_at = parse_time(getattr(run, "created_at", None)) or 0.0
    heartbeat_at = parse_time(getattr(run, "heartbeat_at", None))
    summary = dict(run.summary_metrics or {})
    return WandbRunRow(
        run_id=str(run.id),
        name=str(run.name or run.id),
        state=state,
        created_at=created_at,
        runtime_s=runtime_of(summary, state=state, created_at=created_at, heartbeat_at=heartbeat_at, now=now),
        note=exit_note(summary, state=state, exitcode=getattr(run, "exitcode", None)) if completed else "",
        url=str(run.url),
    )


def ask_exit_code(runs: Any) -> bool:
    """Add the run's ``exitcode`` to the one page query of ``runs``; False if this wandb cannot.

    The public API's run fragment leaves out ``exitcode`` (a field of W&B's Run
    type). Asking for it in the same query keeps the refresh at one call; if a
    future wandb builds its query differently the note falls back to the state.
    """
    query = getattr(runs, "QUERY", None)
    anchor = "projectId\n"
    if not isinstance(query, str) or anchor not in query:
        return False
    if "exitcode" not in query:
        runs.QUERY = query.replace(anchor, anchor + "exitcode\n", 1)
    return True


def project_path(settings: Settings, default_entity: Callable[[], str | None]) -> str:
    """``entity/project``: the configured entity, else the key's default entity (asked only then)."""
    if not settings.wandb.project:
        raise wandb_project_missing()
    entity = settings.wandb.entity or default_entity()
    if not entity:
        raise SourceError("no W&B entity: set `wandb.entity` in the config file or ARR_WANDB_ENTITY")
    return f"{entity}/{settings.wandb.project}"


def _fetch(settings: Settings, ctx: SourceContext, *, table: str, states: tuple[str, ...]) -> TableData:
    if not settings.wandb.project:
        raise wandb_project_missing()
    limit = settings.policy(table).kept
    filters: dict[str, Any] = {"state": states[0]} if len(states) == 1 else {"state": {"$in": list(states)}}
    completed = table == "completed"
    clients = ctx.clients
    try:
        # Before the Api is built: building it already asks the server who the key belongs to.
        counting.count_wandb_requests()
        # A new Api each fetch (its helper process stops with the fetch), so no run list is cached from the last one.
        with clients.wandb_api() as api:
            path = project_path(settings, lambda: clients.wandb_default_entity(api))
            runs = api.runs(path, filters=filters, order=ORDER, per_page=limit, lazy=False)
            if completed:
                ask_exit_code(runs)
            # One page of ``limit`` runs; reading past it would fetch the next page.
            found = list(itertools.islice(runs, limit))
            now = ctx.clock()
            data = TableData(rows=tuple(run_row(run, now=now, completed=completed) for run in found))
            # On screen now, while the helper stops.
            partial_rows.report(data)
    except SourceError:
        raise
    except Exception as exc:
        raise translate_wandb(exc, timeout_s=settings.api.call_timeout_s) from exc
    return data


def fetch_active(settings: Settings, ctx: SourceContext) -> TableData:
    return _fetch(settings, ctx, table="active", states=ACTIVE_STATES)


def fetch_completed(settings: Settings, ctx: SourceContext) -> TableData:
    return _fetch(settings, ctx, table="completed", states=COMPLETED_STATES)
