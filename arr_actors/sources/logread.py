"""One item's whole log from Cloud Logging, for the log view: read in the log reader's fetch process.

Each kind of item writes under its own monitored resource, and its entries are
selected by the labels the services document:

- a runner execution (Cloud Run job): ``resource.type="cloud_run_job"``, the
  job and location labels, and ``labels."run.googleapis.com/execution_name"``;
- a Vertex AI custom job: ``resource.type="ml_job"`` and
  ``resource.labels.job_id`` (the job's numeric id);
- a build: ``resource.type="build"`` and ``resource.labels.build_id``.

The first read goes newest first (``order_by="timestamp desc"``), one page of
at most 1000 entries per call, each call taking one slot of the project-wide
limiter (60 reads a minute, shared with the runner table). Every page is
handed on as it arrives, so the newest lines — where a failure is — show
first, and the read stops at ``api.log_max_lines`` lines (the older ones are
said to be cut). Following reads oldest first from the cursor: entries at the
cursor's instant already read are recognised by their ``insert_id``. As in
:mod:`arr_actors.sources.logs`, an empty page with a ``next_page_token`` only
means the search has not finished, and the read goes on.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from arr_actors.messages import LogCursor, LogPage, LogRequest, LogSource
from arr_actors.sources import limiter as limiter_mod
from arr_actors.sources.errors import SourceError, project_missing, translate
from arr_actors.sources.logs import (
    EXECUTION_LABEL,
    LOOKBACK_S,
    MAX_PAGE_SIZE,
    SETTLE_S,
    entry_text,
    filter_quote,
    filter_time,
    take_slot,
)

if TYPE_CHECKING:
    from arr_actors.config import Settings
    from arr_actors.sources.clients import Clients
    from arr_actors.sources.limiter import LoggingLimiter

#: Pages one follow-up read may take (what a running item writes in a few seconds fits one).
FOLLOW_MAX_PAGES = 3
#: Share of the read's deadline it may spend waiting for limiter slots, leaving time for the calls.
WAIT_SHARE = 0.5


def build_filter(settings: Settings, source: LogSource, *, after: LogCursor | None = None) -> str:
    """The Cloud Logging filter that selects ``source``'s entries (from ``after``'s instant on)."""
    if source.table == "runner":
        clauses = [
            'resource.type="cloud_run_job"',
            f"resource.labels.job_name={filter_quote(settings.runner_job)}",
        ]
        if source.region:
            clauses.append(f"resource.labels.location={filter_quote(source.region)}")
        clauses.append(f'labels."{EXECUTION_LABEL}"={filter_quote(source.ident)}')
    elif source.table == "vertex":
        clauses = ['resource.type="ml_job"', f"resource.labels.job_id={filter_quote(source.ident)}"]
    elif source.table == "builds":
        clauses = ['resource.type="build"', f"resource.labels.build_id={filter_quote(source.ident)}"]
    else:  # LogSource refuses other tables; this guards a caller that built one by hand
        raise SourceError(f"{source.name}: the {source.table} table has no log to read")
    if after is not None:
        clauses.append(f"timestamp>={filter_quote(after.timestamp)}")
    elif source.since is not None:
        clauses.append(f"timestamp>={filter_quote(filter_time(source.since - LOOKBACK_S))}")
    if after is None and source.until is not None:
        clauses.append(f"timestamp<={filter_quote(filter_time(source.until + SETTLE_S, round_up=True))}")
    return " AND ".join(clauses)


def _stamp(entry: Any) -> str:
    """The entry's timestamp as RFC 3339 with all its digits (the next read's bound must be exact)."""
    stamp = getattr(entry, "timestamp", None)
    if stamp is None:
        return ""
    rfc3339 = getattr(stamp, "rfc3339", None)
    if callable(rfc3339):
        return str(rfc3339())
    return str(stamp.isoformat()).replace("+00:00", "Z")


#: For logs the runner diagnostics do not know (a job's, a build's): the last line that looks like an error.
_ERROR_RE = re.compile(r"^(ERROR\b|FATAL\b)|\b(Error|Exception|ERROR)\b[:]|^\w+(Error|Exception): ")


def error_line(lines: Sequence[str], source: LogSource) -> str:
    """The line of ``lines`` that says why ``source`` failed ("" when it did not, or none does)."""
    if not source.failed or not lines:
        return ""
    from arr_actors.diagnostics.extract import diagnose

    found = diagnose(lines, status="FAILED").line
    if found:
        return found
    for line in reversed(lines):
        if _ERROR_RE.search(line):
            return line
    return ""


#: The longest line kept whole; longer ones are cut with a note (a log line of megabytes says nothing more).
LINE_LIMIT = 16_384


def _lines(entry: Any) -> list[str]:
    # A multi-line payload (a traceback) is one entry: its lines in their own order.
    lines = entry_text(entry).rstrip("\n").split("\n")
    return [line if len(line) <= LINE_LIMIT else f"{line[:LINE_LIMIT]} [{len(line) - LINE_LIMIT:,} more characters cut]" for line in lines]


@dataclass(slots=True)
class _Cursor:
    """The newest instant read (as the service wrote it, and as a number to compare) and the insert ids read at it."""

    timestamp: str = ""
    ids: tuple[str, ...] = ()
    at: tuple[float, int] = (float("-inf"), 0)

    def see(self, entry: Any) -> None:
        stamp = _stamp(entry)
        if not stamp:
            return
        insert_id = str(getattr(entry, "insert_id", "") or "")
        at = _instant(entry)
        if at > self.at:
            self.timestamp, self.ids, self.at = stamp, (insert_id,), at
        elif at == self.at and insert_id not in self.ids:
            self.ids = (*self.ids, insert_id)

    def value(self) -> LogCursor | None:
        return LogCursor(self.timestamp, self.ids) if self.timestamp else None


def parse_instant(text: str) -> tuple[float, int]:
    """An RFC 3339 UTC timestamp (``2025-01-01T00:00:00.5Z``) as whole seconds and nanoseconds."""
    body = text.rstrip("Zz")
    whole, _, fraction = body.partition(".")
    seconds = datetime.strptime(whole, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp()
    return (float(int(seconds)), int((fraction + "000000000")[:9]) if fraction else 0)


def _instant(entry: Any) -> tuple[float, int]:
    """An entry's timestamp to compare: whole seconds and nanoseconds (text forms differ in their digits)."""
    stamp = entry.timestamp
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    nanos = getattr(stamp, "nanosecond", 0) or stamp.microsecond * 1000
    return (float(int(stamp.timestamp())), nanos)


Send = Callable[[LogPage], None]


def read(
    settings: Settings,
    request: LogRequest,
    *,
    send: Send,
    clients: Clients,
    limiter: LoggingLimiter | None = None,
    deadline_s: float | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> LogPage:
    """Read the log ``request`` names; every page but the last goes to ``send``
    as it arrives, and the last one is returned (``done``).

    Raises SourceError (e.g. the limiter had no slot for the first page, or
    the service refused the read) with the lines read so far already sent.
    """
    if not settings.project:
        raise project_missing()
    limiter = limiter if limiter is not None else limiter_mod.for_settings(settings)
    deadline_s = settings.api.log_read_deadline_s if deadline_s is None else deadline_s
    if request.after is not None:
        return _follow(settings, request, clients=clients, limiter=limiter, wait_s=deadline_s * WAIT_SHARE)
    return _newest_first(settings, request, send=send, clients=clients, limiter=limiter, wait_s=deadline_s * WAIT_SHARE, clock=clock)


def _call(settings: Settings, clients: Clients, limiter: LoggingLimiter, request: dict[str, Any], *, wait_s: float) -> Any:
    if not take_slot(limiter, wait_s=wait_s):
        used, free_at = limiter.status()
        raise ThrottledRead(
            f"Cloud Logging read limit reached ({used} of {settings.api.logging_reads_per_minute} reads in the last "
            "minute for this project); the log is read when the budget frees",
            free_at=free_at,
        )
    try:
        # One call, one page: the pager would fetch more pages unasked.
        return clients.logging().list_log_entries(request=request, timeout=settings.api.call_timeout_s, retry=None)
    except Exception as exc:
        raise translate(exc, service="logging", timeout_s=settings.api.call_timeout_s) from exc


class ThrottledRead(SourceError):
    """No limiter slot came in time; ``free_at`` (epoch) is when one frees."""

    def __init__(self, text: str, *, free_at: float | None) -> None:
        super().__init__(text)
        self.free_at = free_at


def _newest_first(
    settings: Settings,
    request: LogRequest,
    *,
    send: Send,
    clients: Clients,
    limiter: LoggingLimiter,
    wait_s: float,
    clock: Callable[[], float],
) -> LogPage:
    max_lines = settings.api.log_max_lines
    query = {
        "resource_names": [f"projects/{settings.project}"],
        "filter": build_filter(settings, request.source),
        "order_by": "timestamp desc",
        "page_size": MAX_PAGE_SIZE,
        "page_token": "",
    }
    cursor = _Cursor()
    began = clock()
    total = calls = 0
    sent_any = False
    while True:
        page = _call(settings, clients, limiter, query, wait_s=max(0.0, wait_s - (clock() - began)) if calls else wait_s)
        calls += 1
        newest_first: list[str] = []
        for entry in page.entries:
            cursor.see(entry)
            newest_first.extend(reversed(_lines(entry)))
        room = max_lines - total
        cut = len(newest_first) > room
        chunk = tuple(reversed(newest_first[:room]))
        total += min(len(newest_first), room)
        token = page.next_page_token
        last = cut or not token or total >= max_lines
        # The newest lines hold the failure: only the first page with lines is searched for it.
        mark = error_line(chunk, request.source) if chunk and not sent_any else ""
        if last:
            return LogPage(
                request=request.request, lines=chunk, older=sent_any, done=True, cut=cut or (bool(token) and total >= max_lines),
                cursor=cursor.value(), calls=calls, error_line=mark,
            )
        if chunk:
            send(LogPage(request=request.request, lines=chunk, older=sent_any, done=False, cursor=cursor.value(), calls=calls, error_line=mark))
            sent_any = True
        query = {**query, "page_token": token}


def _follow(settings: Settings, request: LogRequest, *, clients: Clients, limiter: LoggingLimiter, wait_s: float) -> LogPage:
    after = request.after
    assert after is not None
    query = {
        "resource_names": [f"projects/{settings.project}"],
        "filter": build_filter(settings, request.source, after=after),
        "order_by": "timestamp asc",
        "page_size": MAX_PAGE_SIZE,
        "page_token": "",
    }
    start = parse_instant(after.timestamp)
    cursor = _Cursor(after.timestamp, after.insert_ids, start)
    known = set(after.insert_ids)

    lines: list[str] = []
    calls = 0
    while calls < FOLLOW_MAX_PAGES:
        page = _call(settings, clients, limiter, query, wait_s=wait_s if not calls else 0.0)
        calls += 1
        for entry in page.entries:
            if str(getattr(entry, "insert_id", "") or "") in known and _instant(entry) == start:
                continue  # read by the previous read
            cursor.see(entry)
            lines.extend(_lines(entry))
        if not page.next_page_token:
            break
        query = {**query, "page_token": page.next_page_token}
    return LogPage(request=request.request, lines=tuple(lines), cursor=cursor.value() or after, calls=calls)


__all__ = ["ThrottledRead", "build_filter", "read"]
