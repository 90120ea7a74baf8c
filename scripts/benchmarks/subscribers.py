"""A runtime subscriber that keeps every message, and what those messages say about fetches."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from arr_actors.tables import TABLE_KEYS

#: ``(wall-clock arrival, message)`` pairs as a Collector keeps them.
Items = Sequence[tuple[float, Any]]


class Collector:
    """A runtime subscriber keeping every message with the wall-clock time it arrived."""

    def __init__(self) -> None:
        self.items: list[tuple[float, Any]] = []
        self._cond = threading.Condition()

    def tell(self, message: Any) -> None:
        with self._cond:
            self.items.append((time.time(), message))
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[list[tuple[float, Any]]], Any], *, timeout: float, what: str) -> Any:
        """Wait until ``predicate(items)`` is truthy; its value. TimeoutError names ``what``."""
        with self._cond:
            result = self._cond.wait_for(lambda: predicate(self.items), timeout=timeout)
            if not result:
                raise TimeoutError(f"{what}: not within {timeout:g} s")
            return result


def snapshots(items: Items, table: str, *, state: str | None = None, after: float = 0.0) -> list[tuple[float, Any]]:
    from arr_actors.messages import TableSnapshot

    return [
        (t, m)
        for t, m in items
        if isinstance(m, TableSnapshot) and m.table == table and t >= after and (state is None or m.state == state)
    ]


def kill_events(items: Items) -> dict[str, list[tuple[float, float]]]:
    """Per table: (deadline, arrival of the snapshot saying ``timeout``) for every killed fetch.

    The deadline is the one the latest ``FetchStarted`` announced (a fresh
    fetch process announces it again once its libraries are loaded)."""
    from arr_actors.messages import FetchStarted, TableSnapshot

    out: dict[str, list[tuple[float, float]]] = {}
    pending: dict[str, float] = {}
    for t, message in items:
        if isinstance(message, FetchStarted):
            pending[message.table] = message.deadline_at
        elif isinstance(message, TableSnapshot) and message.state == "timeout" and message.table in pending:
            out.setdefault(message.table, []).append((pending.pop(message.table), t))
    return out


def kill_latencies(items: Items) -> dict[str, list[float]]:
    """Per table: seconds from each killed fetch's deadline to the snapshot saying ``timeout``."""
    return {table: [t - deadline for deadline, t in events] for table, events in kill_events(items).items()}


def wait_child_pids(system: Any, *, timeout: float) -> dict[str, list[int]]:
    """The fetch processes of every table, once each table has one."""
    deadline = time.monotonic() + timeout
    while True:
        pids: dict[str, list[int]] = system.child_pids()
        if all(pids.get(key) for key in TABLE_KEYS):
            return pids
        if time.monotonic() > deadline:
            raise TimeoutError(f"fetch processes of {sorted(set(TABLE_KEYS) - set(pids))} never appeared")
        time.sleep(0.01)  # polling the runtime's own bookkeeping, with a deadline
