"""Rows a fetch already has before it is done.

A source that learns its rows in steps (the runner: executions first, their
logs seconds later) calls :func:`report` with what it has so far; the fetch
process sends that on at once as a partial result, and the screen shows the
rows while the fetch goes on (its spinner and deadline unchanged). Outside a
fetch process nothing listens, and ``report`` does nothing.

One fetch runs at a time in a fetch process, so one module-level sink is all
the state there is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from arr_actors.messages import TableData

_sink: Callable[[TableData], None] | None = None


def report(data: TableData) -> None:
    """Rows so far of the running fetch (sent on if a fetch process is listening)."""
    if _sink is not None:
        _sink(data)


def listen(sink: Callable[[TableData], None] | None) -> None:
    """Set (or with None, clear) where partial rows go; the fetch process's business."""
    global _sink
    _sink = sink
