"""Reading runner execution logs from Cloud Logging, within the project's read budget.

Cloud Logging allows 60 ``entries.list`` calls per minute per project, so every
page read here goes through the project-wide limiter first, and one read asks
for several executions at once (an OR of execution names in one filter).

What the API documents, and what this module does about it
(``ListLogEntriesRequest`` / ``ListLogEntriesResponse`` in ``logging_v2``):

- "If a value for ``next_page_token`` appears and the ``entries`` field is
  empty, ... the search found no log entries so far but it did not have time
  to search all the possible log entries." An empty page proves nothing: the
  read follows the token, one limiter slot per page, up to a page cap.
- ``order_by="timestamp desc"`` returns the newest entries first, equal
  timestamps in ``insert_id`` order. So an execution is *covered* once it has
  ``limit`` lines (older ones would be dropped anyway) or once the search has
  gone past the time its log can start; the end of the results (no token)
  covers every execution asked for.
- "``page_token`` must be the value of ``next_page_token`` from the previous
  response. The values of other method parameters should be identical." When
  some executions are covered and others are not, the read drops the covered
  ones from the filter and starts a new search bounded above by the oldest
  entry seen (``timestamp<=``, inclusive; entries already seen are recognised
  by ``insert_id``). One chatty execution therefore cannot fill every page:
  the others get their own.

A read that stops with executions not covered (page cap, time budget, or no
limiter slot for the next page) is *incomplete* for them: callers must not
treat their lines as the whole log.

Filter forms used (and nothing else, so a local emulator can implement them
exactly)::

    resource.type="cloud_run_job" AND resource.labels.job_name="J"
    [AND resource.labels.location="R"]
    AND (labels."run.googleapis.com/execution_name"="a" OR labels."run.googleapis.com/execution_name"="b")
    [AND timestamp>="2025-01-01T00:00:00Z"] [AND timestamp<="2025-01-01T01:00:00.250000Z"]

When the executions span several regions (the runner table batches every
newly terminal execution of one refresh into a single read) the location clause
is left out: execution names carry a random suffix chosen by Cloud Run, so the
names alone select the right executions. The timestamp clauses bound the search
to when the executions ran, which keeps it cheap and partial pages rare.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from arr_actors.sources import limiter as limiter_mod
from arr_actors.sources.errors import SourceError, project_missing, translate

if TYPE_CHECKING:
    from arr_actors.config import Settings
    from arr_actors.sources.clients import Clients
    from arr_actors.sources.limiter import LoggingLimiter

EXECUTION_LABEL = "run.googleapis.com/execution_name"
MAX_PAGE_SIZE = 1000  # the largest page entries.list accepts
DEFAULT_LINES = 300
#: Pages one read may ask for (each is one call of the project's 60 per minute).
MAX_PAGES = 6
#: An execution's log is searched from a little before it was created and up to a
#: little after it completed (Cloud Logging stamps entries when they are written).
LOOKBACK_S = 300.0
SETTLE_S = 300.0


class LogReadDeferred(SourceError):
    """The project's Cloud Logging budget is used up for now; the read was not made."""


class LimiterUnavailable(SourceError):
    """The shared limiter file cannot be used; no read was made (the budget could not be checked)."""


@dataclass(frozen=True, slots=True)
class LogRead:
    """What one read found: chronological lines per execution, which of them are the whole log, calls made."""

    lines: Mapping[str, tuple[str, ...]]
    complete: frozenset[str]
    calls: int

    @property
    def incomplete(self) -> tuple[str, ...]:
        """Executions whose log may hold more (newer-first) lines than were read: read again later."""
        return tuple(name for name in self.lines if name not in self.complete)


def filter_quote(value: str) -> str:
    """``value`` as a string literal of the Logging query language."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def filter_time(epoch: float, *, round_up: bool = False) -> str:
    """A moment for a ``timestamp`` clause: whole seconds when exact (``2025-01-01T00:00:00Z``), else microseconds, rounded as asked."""
    micros = math.ceil(epoch * 1_000_000) if round_up else math.floor(epoch * 1_000_000)
    seconds, fraction = divmod(micros, 1_000_000)
    stamp = datetime.fromtimestamp(seconds, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{fraction:06d}Z" if fraction else f"{stamp}Z"


def build_filter(
    settings: Settings,
    region: str | None,
    executions: Sequence[str],
    *,
    since: float | None = None,
    until: float | None = None,
) -> str:
    """The Cloud Logging filter selecting the runner job's logs of ``executions``.

    ``region`` None leaves out the location clause (executions of several regions);
    ``since`` and ``until`` (epoch seconds, inclusive) bound the entries' timestamps.
    """
    if not executions:
        raise ValueError("build_filter needs at least one execution name")
    clauses = [
        'resource.type="cloud_run_job"',
        f"resource.labels.job_name={filter_quote(settings.runner_job)}",
    ]
    if region:
        clauses.append(f"resource.labels.location={filter_quote(region)}")
    names = " OR ".join(f'labels."{EXECUTION_LABEL}"={filter_quote(name)}' for name in executions)
    clauses.append(f"({names})")
    if since is not None:
        clauses.append(f"timestamp>={filter_quote(filter_time(since))}")
    if until is not None:
        clauses.append(f"timestamp<={filter_quote(filter_time(until, round_up=True))}")
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


def _execution_of(entry: Any) -> str:
    return str(entry.labels.get(EXECUTION_LABEL, "")) if entry.labels else ""


def _epoch_of(entry: Any) -> float | None:
    stamp = getattr(entry, "timestamp", None)
    if stamp is None or not hasattr(stamp, "timestamp"):
        return None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return float(stamp.timestamp())


class _Collector:
    """Newest-first lines per execution, at most ``limit`` each, each entry counted once."""

    def __init__(self, executions: Sequence[str], *, limit: int) -> None:
        self.limit = limit
        self.newest_first: dict[str, list[str]] = {name: [] for name in executions}
        self._seen: set[tuple[str, str]] = set()
        self.oldest: float | None = None  # the oldest timestamp read so far

    def add(self, entries: Iterable[Any]) -> None:
        for entry in entries:
            at = _epoch_of(entry)
            if at is not None:
                self.oldest = at if self.oldest is None else min(self.oldest, at)
            name = _execution_of(entry)
            lines = self.newest_first.get(name)
            if lines is None or len(lines) >= self.limit:
                continue
            insert_id = str(getattr(entry, "insert_id", "") or "")
            if insert_id:
                # A narrowed search starts again at the oldest instant already read.
                if (name, insert_id) in self._seen:
                    continue
                self._seen.add((name, insert_id))
            # A multi-line payload (a traceback) is one entry; keep its own order when reversing.
            lines.extend(reversed(entry_text(entry).rstrip("\n").split("\n")))

    def full(self, name: str) -> bool:
        return len(self.newest_first[name]) >= self.limit

    def chronological(self) -> dict[str, tuple[str, ...]]:
        return {name: tuple(reversed(lines[: self.limit])) for name, lines in self.newest_first.items()}


def group_entries(
    entries: Iterable[Any], executions: Sequence[str], *, limit_per_execution: int
) -> dict[str, list[str]]:
    """Entries read newest first -> chronological text lines per execution (newest ``limit`` kept)."""
    collector = _Collector(executions, limit=limit_per_execution)
    collector.add(entries)
    return {name: list(lines) for name, lines in collector.chronological().items()}


def read_logs(
    settings: Settings,
    *,
    region: str | None,
    executions: Sequence[str],
    starts: Mapping[str, float] | None = None,
    since: float | None = None,
    until: float | None = None,
    limit_per_execution: int = DEFAULT_LINES,
    wait_s: float = 60.0,
    max_pages: int = MAX_PAGES,
    budget_s: float | None = None,
    clients: Clients | None = None,
    limiter: LoggingLimiter | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> LogRead:
    """Chronological log lines of each execution, newest ``limit_per_execution`` kept, and which are whole.

    Every page takes one slot of the project-wide limiter. The first waits up
    to ``wait_s`` seconds (0 = do not wait); without it the read raises
    :class:`LogReadDeferred` and makes no call. Later pages share what is left
    of ``wait_s`` and stop the read when no slot comes. ``starts`` gives when
    each execution's log can begin (its creation): the search passing that time
    covers the execution. ``since``/``until`` bound the whole search. No page is
    started after ``max_pages`` pages or once ``budget_s`` seconds have passed.
    """
    names = list(dict.fromkeys(executions))
    if not names:
        return LogRead(lines={}, complete=frozenset(), calls=0)
    if not settings.project:
        raise project_missing()
    limiter = limiter if limiter is not None else limiter_mod.for_settings(settings)
    began = clock()
    starts = starts or {}
    collector = _Collector(names, limit=max(1, limit_per_execution))
    complete: set[str] = set()
    remaining = list(names)
    token = ""
    upper = until
    calls = 0
    own_clients = clients is None
    try:
        while remaining and calls < max_pages:
            if calls and budget_s is not None and clock() - began >= budget_s:
                break
            if not take_slot(limiter, wait_s=max(0.0, wait_s - (clock() - began)) if calls else wait_s):
                if calls:
                    break
                raise LogReadDeferred(
                    f"Cloud Logging read limit reached ({settings.api.logging_reads_per_minute} reads per minute "
                    "for this project); the read waits for the next refresh"
                )
            if clients is None:
                from arr_actors.sources.clients import Clients

                clients = Clients(settings)
            request = {
                "resource_names": [f"projects/{settings.project}"],
                "filter": build_filter(settings, region, remaining, since=since, until=upper),
                "order_by": "timestamp desc",
                "page_size": min(MAX_PAGE_SIZE, max(1, limit_per_execution) * len(remaining)),
                "page_token": token,
            }
            calls += 1
            try:
                # One call, one page: the pager's own iteration would fetch more pages unasked.
                # (the pager answers for the first response: its entries and next_page_token).
                page = clients.logging().list_log_entries(request=request, timeout=settings.api.call_timeout_s, retry=None)
            except Exception as exc:
                raise translate(exc, service="logging", timeout_s=settings.api.call_timeout_s) from exc
            collector.add(page.entries)
            if not page.next_page_token:
                complete.update(remaining)  # the end of the results: nothing more matches
                break
            covered = [
                name
                for name in remaining
                if collector.full(name)
                or (collector.oldest is not None and name in starts and collector.oldest < starts[name])
            ]
            if covered:
                complete.update(covered)
                remaining = [name for name in remaining if name not in complete]
                # A changed filter is a new query (its token would be refused): continue from
                # the oldest instant read, inclusive; entries already read are skipped by insert_id.
                token, upper = "", collector.oldest if collector.oldest is not None else upper
            else:
                token = page.next_page_token
    finally:
        if own_clients and clients is not None:
            clients.close()
    return LogRead(lines=collector.chronological(), complete=frozenset(complete), calls=calls)


def take_slot(limiter: LoggingLimiter, *, wait_s: float) -> bool:
    """One slot of the project's read budget (waiting up to ``wait_s``); False when none came.
    A limiter file that cannot be used raises LimiterUnavailable."""
    try:
        return limiter.try_acquire() if wait_s <= 0 else limiter.acquire(wait_s)
    except OSError as exc:
        raise LimiterUnavailable(
            f"cannot use the Cloud Logging limiter file {limiter.path} ({exc.strerror or exc}); "
            "check that paths.state_dir is writable"
        ) from exc


def read_execution_logs(
    settings: Settings,
    *,
    region: str | None,
    executions: Sequence[str],
    limit_per_execution: int = DEFAULT_LINES,
    since: float | None = None,
    until: float | None = None,
    wait_s: float = 60.0,
    clients: Clients | None = None,
    limiter: LoggingLimiter | None = None,
) -> dict[str, list[str]]:
    """Chronological log lines of each execution (see :func:`read_logs`); every requested execution is a key.

    For callers that show what was found; a caller that must know whether a
    log is whole (to remember it) uses :func:`read_logs`.
    """
    found = read_logs(
        settings,
        region=region,
        executions=executions,
        since=since,
        until=until,
        limit_per_execution=limit_per_execution,
        wait_s=wait_s,
        clients=clients,
        limiter=limiter,
    )
    return {name: list(lines) for name, lines in found.lines.items()}


class ExecutionNotFound(SourceError):
    """Cloud Run has no such execution of the runner job in that region."""


#: Pages ``diagnose --execution`` may read for one execution (it waits for limiter slots).
ONE_EXECUTION_MAX_PAGES = 20


def read_one_execution(
    settings: Settings,
    *,
    execution: str,
    region: str,
    wait_s: float = 60.0,
    max_pages: int = ONE_EXECUTION_MAX_PAGES,
    clients: Clients | None = None,
) -> LogRead:
    """One execution's log, the search bounded by when it ran (``diagnose --execution``).

    Cloud Run's ``GetExecution`` gives its create and completion times; the
    search covers that span with a margin either side (up to now while it
    runs). Raises :class:`ExecutionNotFound` when Cloud Run does not know it.
    """
    from arr_actors.sources.common import epoch

    if not settings.project:
        raise project_missing()
    own_clients = clients is None
    if clients is None:
        from arr_actors.sources.clients import Clients

        clients = Clients(settings)
    try:
        name = f"projects/{settings.project}/locations/{region}/jobs/{settings.runner_job}/executions/{execution}"
        try:
            found = clients.executions().get_execution(name=name, timeout=settings.api.call_timeout_s, retry=None)
        except Exception as exc:
            if any(c.__name__ == "NotFound" for c in type(exc).__mro__):
                raise ExecutionNotFound(
                    f"Cloud Run has no execution {execution} of job {settings.runner_job} in {region}"
                ) from exc
            raise translate(exc, service="run", timeout_s=settings.api.call_timeout_s, where=region) from exc
        created = epoch(found.create_time) or time.time()
        completed = epoch(found.completion_time)
        since = created - LOOKBACK_S
        return read_logs(
            settings,
            region=region,
            executions=[execution],
            starts={execution: since},
            since=since,
            until=None if completed is None else completed + SETTLE_S,
            wait_s=wait_s,
            max_pages=max_pages,
            clients=clients,
        )
    finally:
        if own_clients:
            clients.close()
