"""``--once``: one round of every table, then stop.

Each table is fetched once; its first outcome — rows, an error, a timeout, a
crash — is its answer. Nothing is retried: a table that times out reports
``timeout`` and is killed when the round ends. The whole tree is stopped before
returning, leaving no process behind.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from arr_actors.messages import TableSnapshot
from arr_actors.once_document import once_document
from arr_actors.runtime import system
from arr_actors.tables import TABLE_KEYS

if TYPE_CHECKING:
    from arr_actors.config import Settings

#: Time allowed beyond the longest deadline (launcher start-up, kill grace, slack).
ROUND_SLACK_S = 10.0


class FirstOutcomes:
    """A Subscriber keeping each table's first outcome snapshot; thread-safe."""

    def __init__(self, tables: Sequence[str]) -> None:
        self._tables = tuple(tables)
        self._snapshots: dict[str, TableSnapshot] = {}
        self._done = threading.Event()
        self._lock = threading.Lock()

    def tell(self, message: Any) -> None:
        if not isinstance(message, TableSnapshot) or message.state == "restarting":
            return
        if message.fetch_deadline_at is not None:
            return  # taken mid-fetch (rows the fetch had so far): the outcome is still to come
        with self._lock:
            self._snapshots.setdefault(message.table, message)
            if all(t in self._snapshots for t in self._tables):
                self._done.set()

    def wait(self, timeout: float) -> bool:
        return self._done.wait(timeout)

    def snapshots(self) -> dict[str, TableSnapshot]:
        with self._lock:
            return dict(self._snapshots)


def round_timeout(settings: Settings, tables: Sequence[str] = TABLE_KEYS) -> float:
    """The longest a round can take: a child's start-up allowance, then the longest deadline, then the kill."""
    longest = max(settings.policy(t).deadline for t in tables)
    return settings.supervision.startup_deadline_s + longest + settings.supervision.kill_grace_s + ROUND_SLACK_S


def run_once(
    settings: Settings,
    *,
    source_factory: str = system.DEFAULT_SOURCE_FACTORY,
    timeout: float | None = None,
) -> dict[str, Any]:
    """Fetch every table once and return the ``--once --json`` document.

    A table with no outcome within ``timeout`` (default: start-up allowance,
    longest deadline and slack; it cannot normally happen, deadlines are enforced) is reported
    as an error by :func:`arr_actors.once_document.once_document`.
    """
    collector = FirstOutcomes(TABLE_KEYS)
    tree = system._start(settings, [collector], source_factory=source_factory, single_round=True)
    try:
        collector.wait(round_timeout(settings) if timeout is None else timeout)
    finally:
        tree.stop()
    return once_document(collector.snapshots(), generated_at=time.time())


__all__ = ["FirstOutcomes", "round_timeout", "run_once"]
