"""Reading one item's whole log: what the UI asks for and what comes back.

The log of a runner execution, a Vertex AI job or a build is read from Cloud
Logging in the log reader's fetch process, under the watchdog like every other
cloud call (see :mod:`arr_actors.runtime.policy.logreads`). The UI names the
log with a :class:`LogSource` and a request number of its own; every
:class:`LogPage` that answers carries that number, so pages of a log the user
has since closed are recognised and dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

from arr_actors.messages.base import CodecError

#: The tables whose rows have a log in Cloud Logging.
LOG_TABLES = ("runner", "vertex", "builds")


@dataclass(frozen=True, slots=True)
class LogSource:
    """Which log: that of row ``key`` of ``table``, ``name`` as a person reads it.

    ``ident`` is the item's id as its log entries are labelled (the execution's
    name, the job's numeric id, the build's id); ``since`` and ``until`` (epoch
    seconds) bound when its log can have been written (``until`` None: it is
    still running).
    """

    table: str
    key: str
    name: str
    ident: str
    region: str = ""
    since: float | None = None
    until: float | None = None
    #: The item failed: the read looks for the line that says why (``LogPage.error_line``).
    failed: bool = False

    def __post_init__(self) -> None:
        if self.table not in LOG_TABLES:
            raise CodecError(f"LogSource.table: {self.table!r} has no log to read (tables with logs: {', '.join(LOG_TABLES)})")
        if not self.ident:
            raise CodecError("LogSource.ident: empty (the item's id is needed to find its log)")


@dataclass(frozen=True, slots=True)
class LogCursor:
    """Where a read ended: the newest entry's timestamp exactly as the service
    wrote it (RFC 3339) and the insert ids of the entries at that instant, so
    the next read starts there and skips only what it already has."""

    timestamp: str
    insert_ids: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LogRequest:
    """UI -> runtime: read the log of ``source`` as request ``request``; with
    ``follow``, keep reading what is added; ``after`` starts a read after a cursor
    (the runtime sets it for the follow-up reads)."""

    request: int
    source: LogSource
    follow: bool = False
    after: LogCursor | None = None


@dataclass(frozen=True, slots=True)
class LogStop:
    """UI -> runtime: the log view of ``request`` closed; stop following it."""

    request: int


@dataclass(frozen=True, slots=True)
class LogPage:
    """Runtime -> UI: lines of the log of ``request``, oldest first.

    The first read goes from the newest entry back, one service page at a
    time, and each page is sent as it comes: ``older`` pages go before what
    was sent already. ``done`` marks the read's last page; ``cut`` says older
    lines exist that were not read (the view's bound); follow-up reads send
    what was added (neither ``older`` nor ``cut``). ``error`` says why a read
    failed (the lines sent before it stand); ``error_line`` is the line the
    diagnostics found the failure in; ``next_read_at`` (epoch) is when
    following reads again, ``throttled_until`` when the project's Cloud
    Logging budget frees a read, if it is what holds the read back. ``calls``
    counts the read's calls so far; the last page also carries the project's
    limiter count (``logging_used``), for the status line.
    """

    request: int
    lines: tuple[str, ...] = ()
    older: bool = False
    done: bool = True
    cut: bool = False
    error: str = ""
    cursor: LogCursor | None = None
    calls: int = 0
    next_read_at: float | None = None
    throttled_until: float | None = None
    #: The line that says why the item failed, as found in this page (the view opens on it).
    error_line: str = ""
    #: The read's last page: Cloud Logging calls in the last minute, every process of the project together.
    logging_used: int | None = None
