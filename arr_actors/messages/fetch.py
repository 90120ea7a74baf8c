"""The fetch round trip: what the watchdog asks of a fetch process and what comes back."""

from __future__ import annotations

from dataclasses import dataclass

from arr_actors.messages.base import CodecError
from arr_actors.messages.logs import LogPage, LogRequest
from arr_actors.rows import Row

# ---------------------------------------------------------------- fetch results


@dataclass(frozen=True, slots=True)
class TableData:
    """What one successful fetch of a source returns (built in the child process).

    ``warning`` reports partial trouble that still produced rows, e.g.
    "2 of 18 regions failed: ...". ``log_reads`` counts Cloud Logging
    ``entries.list`` calls made by this fetch; ``deferred`` says work was put off
    to a later refresh (e.g. log reads held back by the rate limiter).
    """

    rows: tuple[Row, ...]
    warning: str = ""
    log_reads: int = 0
    deferred: str = ""


# ------------------------------------------------------- the fetch round trip

#: What an action does to the row it names.
ACTION_KINDS = ("cancel",)


@dataclass(frozen=True, slots=True)
class Action:
    """Something that changes the cloud, on one row: ``kind`` (``cancel``) of
    the row ``key`` of ``table``; ``name`` says what it is to a person."""

    kind: str
    table: str
    key: str
    name: str
    region: str = ""
    ident: str = ""

    def __post_init__(self) -> None:
        if self.kind not in ACTION_KINDS:
            raise CodecError(f"Action.kind: {self.kind!r} is not one of {', '.join(ACTION_KINDS)}")


@dataclass(frozen=True, slots=True)
class StartFetch:
    """Run fetch ``seq`` of ``table`` in its child of incarnation ``generation``.

    Decided by the policy, carried out by the table's fetcher (which starts the
    child if needed) and sent on, as it is, to the fetch process. With an
    ``action``, the fetch process carries it out first, under the fetch's
    deadline, and the rows that follow show its effect. The log reader's
    fetches carry a ``log`` to read instead (see ``arr_actors.messages.logs``).
    """

    table: str
    generation: int
    seq: int
    action: Action | None = None
    log: LogRequest | None = None


@dataclass(frozen=True, slots=True)
class FetchResult:
    """The answer to one StartFetch: rows or an error text (``data`` None).

    The fetch process sends it; the fetcher passes it on to the watchdog as it
    is, or makes one itself when the process could not answer (it could not be
    started, sent something invalid or too large). ``partial`` results carry
    the rows a fetch has so far; the final result of the same ``seq`` follows
    (see :mod:`arr_actors.partial_rows`).

    The fetch process counts its cloud calls and sends them along: ``calls``
    (service, calls made by this fetch), and for a process that reads Cloud
    Logging the project-wide limiter's view: ``logging_used`` (calls in the
    last minute, every process together) and ``throttled_until`` (when the
    limiter allows a call again, when it is full).
    """

    table: str
    generation: int
    seq: int
    data: TableData | None = None
    error: str = ""
    partial: bool = False
    calls: tuple[tuple[str, int], ...] = ()
    logging_used: int | None = None
    throttled_until: float | None = None
    #: The fetch carried an action: "" when the service accepted it, else why not.
    action_error: str = ""
    #: The log reader's answer (``data`` stays None).
    log: LogPage | None = None


@dataclass(frozen=True, slots=True)
class FetchReady:
    """Fetch process -> watchdog, once, before any result: the source is loaded, fetches can start.

    ``startup_s`` is how long loading the source's libraries and clients took;
    ``error`` says why building the source failed (the first fetch reports it too).
    """

    table: str
    generation: int
    startup_s: float
    error: str = ""
