"""Messages to the UI and the other subscribers, and the commands the actors take."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from arr_actors.messages.base import NOTICE_LEVELS, CodecError, TableStatus, table_status
from arr_actors.messages.fetch import Action
from arr_actors.rows import Row

# -------------------------------------------------------------- to the UI etc.


@dataclass(frozen=True, slots=True)
class TableSnapshot:
    """The whole visible state of one table at one moment.

    ``rows`` are always the last known good rows: a failed refresh keeps them and
    says so through ``state``, ``error`` and ``fetched_at`` (when those rows were
    fetched). ``next_refresh_at`` is when the next attempt is due (None when
    paused or not scheduled).
    """

    table: str
    seq: int
    state: TableStatus
    rows: tuple[Row, ...] = ()
    error: str = ""
    warning: str = ""
    fetched_at: float | None = None
    updated_at: float = 0.0
    duration_s: float | None = None
    budget_pct: float | None = None
    attempts: int = 0
    restarts: int = 0
    next_refresh_at: float | None = None
    # The deadline of the fetch in flight when this snapshot was taken, None
    # when no fetch is running: a snapshot sent mid-fetch (a restart, a pause)
    # must not stop the spinner that FetchStarted began.
    fetch_deadline_at: float | None = None
    # This table's cloud calls in the minute before ``updated_at``, per service
    # (counted in its fetch process); the Cloud Logging calls of the whole
    # program in that minute as the shared limiter counts them (None: this
    # table does not read logs); and until when the limiter holds its log
    # reads back (None: it does not).
    calls: tuple[tuple[str, int], ...] = ()
    logging_used: int | None = None
    throttled_until: float | None = None

    def __post_init__(self) -> None:
        # Built from a plain string too (the string of a state is its value).
        if not isinstance(self.state, TableStatus):
            object.__setattr__(self, "state", table_status(self.state, path="TableSnapshot.state"))


@dataclass(frozen=True, slots=True)
class FetchStarted:
    """A fetch of ``table`` began; drives the spinner until the next snapshot."""

    table: str
    generation: int
    started_at: float
    deadline_at: float


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the user should read (a toast in the UI, a line on stderr elsewhere)."""

    text: str
    level: str = "info"
    table: str = ""
    at: float = 0.0

    def __post_init__(self) -> None:
        if self.level not in NOTICE_LEVELS:
            raise CodecError(f"Notice.level: {self.level!r} is not one of {', '.join(NOTICE_LEVELS)}")


@dataclass(frozen=True, slots=True)
class ActionDone:
    """The fetch that carried ``action`` is over: ``error`` empty when the service
    accepted it (its rows then show the effect), else why not."""

    action: Action
    error: str = ""


@dataclass(frozen=True, slots=True)
class PlaybackEnded:
    """A replay reached the end of its recording, whose last message was at ``at``."""

    at: float


@dataclass(frozen=True, slots=True)
class PauseChanged:
    """Auto-refresh was paused or resumed."""

    paused: bool


# ------------------------------------------------------------ actor commands


@dataclass(frozen=True, slots=True)
class RefreshRequest:
    """Ask for a refresh now: one table, or every table when ``table`` is empty."""

    table: str = ""
    manual: bool = True


@dataclass(frozen=True, slots=True)
class SetPaused:
    paused: bool


@dataclass(frozen=True, slots=True)
class ActionRequest:
    """Carry out ``action`` (confirmed by the user) in its table's fetch process."""

    action: Action


@dataclass(frozen=True, slots=True)
class Tick:
    """Clock tick for the watchdog (sent by a ticker thread, or by tests by hand)."""

    now: float


class Subscriber(Protocol):
    """Anything messages are told to: the UI actor, a recorder, the warm-start
    writer, the runtime system (commands), an actor ref. ``tell`` never blocks."""

    def tell(self, message: Any, /) -> None: ...
