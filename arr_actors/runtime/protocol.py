"""Messages that stay inside the runtime's own process (between its threads and actors).

What crosses a process boundary — StartFetch, FetchResult and FetchReady to and
from a fetch process, the launcher's protocol — and what the rest of the
program sees lives in :mod:`arr_actors.messages` with the JSON codec. These
values never leave the UI process, so they are not part of the codec. Like
every message they are frozen.
"""

from __future__ import annotations

from dataclasses import dataclass


# Watchdog to fetcher (the policy decides it).
@dataclass(frozen=True, slots=True)
class KillFetch:
    """Kill the child of ``generation`` (it is running fetch ``seq``)."""

    table: str
    generation: int
    seq: int
    reason: str  # "deadline", "startup", "oversize", "stop"


# Fetcher to watchdog.
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


# Reader thread to fetcher. ``token`` names one child incarnation inside the
# System (a pid can be reused, a token is not); the launcher's reports about it
# (ChildSpawned, ChildSpawnFailed, ChildExited) come from arr_actors.messages.


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
