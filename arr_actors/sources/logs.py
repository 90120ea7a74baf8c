"""Reading runner execution logs from Cloud Logging: one ``entries.list`` per call.

Cloud Logging allows 60 ``entries.list`` calls per minute per project, so every
read here asks several executions at once (an OR of execution names in one
filter) and goes through the project-wide limiter first.

Filter forms used (and nothing else, so a local emulator can implement them
exactly)::

    resource.type="cloud_run_job" AND resource.labels.job_name="J"
    [AND resource.labels.location="R"]
    AND (labels."run.googleapis.com/execution_name"="a" OR labels."run.googleapis.com/execution_name"="b")
    [AND timestamp>="2025-01-01T00:00:00Z"]

When the executions span several regions (the runner table batches every
newly terminal execution of one refresh into a single read) the location clause
is left out: execution names carry a random suffix chosen by Cloud Run, so the
names alone select the right executions. The timestamp clause bounds the search
to the oldest execution's creation, which keeps the query cheap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from arr_actors.sources import limiter as limiter_mod
from arr_actors.sources.common import rfc3339
from arr_actors.sources.errors import SourceError, project_missing, translate

if TYPE_CHECKING:
    from arr_actors.config import Settings
    from arr_actors.sources.clients import Clients
    from arr_actors.sources.limiter import LoggingLimiter

EXECUTION_LABEL = "run.googleapis.com/execution_name"
MAX_PAGE_SIZE = 1000  # the largest page entries.list returns
DEFAULT_LINES = 300


class LogReadDeferred(SourceError):
    """The project's Cloud Logging budget is used up for now; the read was not made."""


class LimiterUnavailable(SourceError):
    """The shared limiter file cannot be used; no read was made (the budget could not be checked)."""


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def build_filter(
    settings: Settings, region: str | None, executions: Sequence[str], *, since: float | None = None
) -> str:
    """The Cloud Logging filter selecting the runner job's logs of ``executions``.

    ``region`` None leaves out the location clause (executions of several regions).
    """
    if not executions:
        raise ValueError("build_filter needs at least one execution name")
    clauses = [
        'resource.type="cloud_run_job"',
        f"resource.labels.job_name={_quote(settings.runner_job)}",
    ]
    if region:
        clauses.append(f"resource.labels.location={_quote(region)}")
    names = " OR ".join(f'labels."{EXECUTION_LABEL}"={_quote(name)}' for name in executions)
    clauses.append(f"({names})")
    if since is not None:
        clauses.append(f"timestamp>={_quote(rfc3339(since))}")
    return " AND ".join(clauses)


def entry_text(entry: Any) -> str:
    """The text of one log entry: its text payload, or a JSON payload's ``message``."""
    text = getattr(entry, "text_payload", "") or ""
    if text:
        return str(text)
    payload = getattr(entry, "json_payload", None)
    if payload:
        for key in ("message", "textPayload", "msg"):
            if key in payload:
                return str(payload[key])
    return ""


def group_entries(
    entries: Iterable[Any], executions: Sequence[str], *, limit_per_execution: int
) -> dict[str, list[str]]:
    """Entries read newest first -> chronological text lines per execution (newest ``limit`` kept)."""
    wanted = set(executions)
    newest_first: dict[str, list[str]] = {name: [] for name in executions}
    for entry in entries:
        name = entry.labels.get(EXECUTION_LABEL, "") if entry.labels else ""
        if name not in wanted:
            continue
        lines = newest_first[name]
        if len(lines) >= limit_per_execution:
            continue
        # A multi-line payload (a traceback) is one entry; keep its own order when reversing.
        for line in reversed(entry_text(entry).rstrip("\n").split("\n")):
            lines.append(line)
    return {name: list(reversed(lines[:limit_per_execution])) for name, lines in newest_first.items()}


def read_execution_logs(
    settings: Settings,
    *,
    region: str | None,
    executions: Sequence[str],
    limit_per_execution: int = DEFAULT_LINES,
    since: float | None = None,
    wait_s: float = 60.0,
    clients: Clients | None = None,
    limiter: LoggingLimiter | None = None,
) -> dict[str, list[str]]:
    """Chronological log lines of each execution, from ONE ``entries.list`` call.

    The call first takes a slot from the project-wide limiter, waiting up to
    ``wait_s`` seconds (0 = do not wait); without a slot it raises
    :class:`LogReadDeferred` and makes no call. Only the first page is read:
    up to ``limit_per_execution`` lines per execution (newest kept), capped at
    1000 entries in all. Every requested execution is a key of the result.
    """
    names = list(dict.fromkeys(executions))
    if not names:
        return {}
    if not settings.project:
        raise project_missing()
    limiter = limiter if limiter is not None else limiter_mod.for_settings(settings)
    try:
        granted = limiter.try_acquire() if wait_s <= 0 else limiter.acquire(wait_s)
    except OSError as exc:
        raise LimiterUnavailable(
            f"cannot use the Cloud Logging limiter file {limiter.path} ({exc.strerror or exc}); "
            "check that paths.state_dir is writable"
        ) from exc
    if not granted:
        raise LogReadDeferred(
            f"Cloud Logging read limit reached ({settings.api.logging_reads_per_minute} reads per minute "
            "for this project); the read waits for the next refresh"
        )
    own_clients = clients is None
    if clients is None:
        from arr_actors.sources.clients import Clients

        clients = Clients(settings)
    try:
        client = clients.logging()
        request = {
            "resource_names": [f"projects/{settings.project}"],
            "filter": build_filter(settings, region, names, since=since),
            "order_by": "timestamp desc",
            "page_size": min(MAX_PAGE_SIZE, max(1, limit_per_execution) * len(names)),
        }
        try:
            pager = client.list_log_entries(request=request, timeout=settings.api.call_timeout_s, retry=None)
            # The pager fetched the first page; iterating it would fetch more pages (more calls).
            entries = list(pager.entries)
        except Exception as exc:
            raise translate(exc, service="logging", timeout_s=settings.api.call_timeout_s) from exc
        return group_entries(entries, names, limit_per_execution=limit_per_execution)
    finally:
        if own_clients:
            clients.close()

