"""Messages between the watchdog and the fetchers (inside the runtime only).

What the rest of the program sees (snapshots, notices, commands) lives in
:mod:`arr_actors.messages`; these values never leave the runtime, so they are
not part of the JSON codec. Like every message they are frozen.
"""

from __future__ import annotations

from dataclasses import dataclass

from arr_actors.messages import TableData


# Watchdog to fetcher.
@dataclass(frozen=True, slots=True)
class StartFetch:
    """Run fetch ``seq`` in a child of incarnation ``generation`` (started if needed)."""

    generation: int
    seq: int


@dataclass(frozen=True, slots=True)
class KillFetch:
    """Kill the child of ``generation`` (it is running fetch ``seq``)."""

    generation: int
    seq: int
    reason: str  # "deadline", "startup", "oversize", "stop"


# Fetcher to watchdog.
@dataclass(frozen=True, slots=True)
class FetchOutcome:
    """A child answered fetch ``seq``: rows or an error text."""

    table: str
    generation: int
    seq: int
    data: TableData | None
    error: str = ""


@dataclass(frozen=True, slots=True)
class FetchProgress:
    """Fetch ``seq`` is still running and already has these rows."""

    table: str
    generation: int
    seq: int
    data: TableData


@dataclass(frozen=True, slots=True)
class ChildReady:
    """The child of ``generation`` has loaded its source (in ``startup_s``); its fetch starts now.

    ``error`` is set when the source could not be built; the fetch then reports it.
    """

    table: str
    generation: int
    startup_s: float
    error: str = ""


@dataclass(frozen=True, slots=True)
class ChildLaunched:
    table: str
    generation: int
    pid: int


@dataclass(frozen=True, slots=True)
class ChildGone:
    """A child process is gone and reaped, whoever ended it.

    ``seq`` is the fetch it was running when it went (None if it was idle), so
    the watchdog can tell a crash during a fetch from the end of a child it
    already gave up on. ``killed`` says the runtime killed it on purpose;
    ``kill_s`` is then how long the kill took, from the order to the reaping.
    """

    table: str
    generation: int
    seq: int | None
    cause: str
    killed: bool
    kill_s: float | None = None


# Launcher and reader thread to fetcher.
# ``token`` names one child incarnation inside the System (a pid can be reused,
# a token is not).


@dataclass(frozen=True, slots=True)
class ChildSpawned:
    token: int
    pid: int


@dataclass(frozen=True, slots=True)
class ChildSpawnFailed:
    token: int
    error: str


@dataclass(frozen=True, slots=True)
class ChildExited:
    """The launcher reaped the child (``returncode`` < 0: killed by that signal).

    ``returncode`` is None when the launcher itself went away and took its
    children with it.
    """

    token: int
    pid: int | None
    returncode: int | None


@dataclass(frozen=True, slots=True)
class ChildMessage:
    token: int
    payload: bytes


@dataclass(frozen=True, slots=True)
class ChildOversize:
    """The child sent a message larger than the parent accepts."""

    token: int
    limit: int


@dataclass(frozen=True, slots=True)
class ChildClosed:
    """The child's connection reached end-of-file: nothing more will come from it."""

    token: int
