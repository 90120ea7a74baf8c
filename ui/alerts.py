"""Which rows newly failed while the monitor runs, and what the alert says.

Pure functions of a table's rows and the failures already known. A table's
first snapshot fetched while the monitor runs is its baseline: failures
already in it (and in a warm start, fetched before) are known, not news.
Later, a failed row alerts once, when its failure is not known yet, unless it
ended before the monitor started (an old row that slid into a table's window).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from arr_actors.rows import BuildRow, Row, RunnerRow, VertexRow, WandbRunRow
from ui.query import is_failed

#: How an alert names a row of each table.
NOUNS = {"runner": "runner execution", "builds": "build", "vertex": "Vertex AI job", "completed": "W&B run"}


@dataclass(frozen=True, slots=True)
class Alert:
    """A row that newly failed: ``text`` names it and its diagnosed cause."""

    table: str
    key: str
    text: str


def ended_at(row: Row) -> float | None:
    """When a row's work ended, when the row says."""
    if isinstance(row, RunnerRow):
        return row.completed_at
    if isinstance(row, BuildRow):
        return row.finished_at
    if isinstance(row, VertexRow):
        return row.ended_at
    if isinstance(row, WandbRunRow) and row.runtime_s is not None:
        return row.created_at + row.runtime_s
    return None


def failure_id(table: str, row: Row) -> str:
    return f"{table}/{row.key}"


def known_failures(table: str, rows: Iterable[Row]) -> frozenset[str]:
    """The failures among ``rows`` (as ``failure_id``): a baseline."""
    return frozenset(failure_id(table, row) for row in rows if is_failed(row))


def new_failures(table: str, rows: Iterable[Row], *, started_at: float, known: frozenset[str]) -> tuple[Row, ...]:
    """Rows failed and not ``known`` (``failure_id``), that did not end before ``started_at``."""
    out = []
    for row in rows:
        if not is_failed(row) or failure_id(table, row) in known:
            continue
        end = ended_at(row)
        if end is not None and end < started_at:
            continue
        out.append(row)
    return tuple(out)


def cause(row: Row) -> str:
    """The diagnosed cause of a failed row: its note and category when it has
    them (the runner's diagnosis), else its note classified by the diagnostics
    registry, else its status."""
    note = getattr(row, "note", "") or ""
    category = getattr(row, "category", "") or ""
    if note and not category:
        category = _classify(note)
    if category:
        from arr_actors.diagnostics.registry import group_of

        group = group_of(category)
        label = category if group in (category, "other") else f"{group}: {category}"
        return f"{note} [{label}]" if note else f"{row.status} [{label}]"
    return note or row.status


def _classify(text: str) -> str:
    # Imported here: the registry (and its regexes) loads on the first alert
    # that needs it, never on the way to the first frame.
    from arr_actors.diagnostics.registry import default

    found = default().classify(text)
    if found is None:
        return ""
    pattern = found.error or found.bailout
    return pattern.category if pattern is not None else ""


def describe(table: str, row: Row) -> str:
    """``<noun> <name> (<region>) failed: <cause>``."""
    name = row.ident
    if isinstance(row, VertexRow) and row.display_name:
        name = row.display_name
    elif isinstance(row, WandbRunRow) and row.name:
        name = row.name
    region = getattr(row, "region", "")
    where = f" ({region})" if region else ""
    return f"{NOUNS.get(table, table)} {name}{where} failed: {cause(row)}"


__all__ = ["NOUNS", "Alert", "cause", "describe", "ended_at", "failure_id", "known_failures", "new_failures"]
