"""Which rows a table shows and in what order: pure functions of plain values.

The text filter is a regular expression, matched case-insensitively against a
row's text fields (never its log context); a leading ``!`` keeps the rows that
do *not* match. An expression that does not compile filters nothing and says
why (``RowFilter.error``), so a typo is a message in the footer, never a crash.
A quick filter keeps rows by state (``failed``, ``active``). A sort order
names a column of the table and a direction; rows without a value for it go
last either way, and a table with a divider keeps its active rows first.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from arr_actors.inert import inert, is_inert
from arr_actors.rows import Row
from arr_actors.tables import Column, TableSpec
from ui import palette

#: Quick filters by state, in the order ``f`` steps through them ("" keeps every row).
STATE_FILTERS: tuple[str, ...] = ("", "failed", "active")


def is_failed(row: Row) -> bool:
    return palette.status_style(row.status) == "status_failed"


_STATE_TESTS: dict[str, Callable[[Row], bool]] = {
    "failed": is_failed,
    "active": lambda row: row.active,
}


@dataclass(frozen=True, slots=True)
class RowFilter:
    """A compiled text filter: ``pattern`` None keeps every row."""

    pattern: re.Pattern[str] | None = None
    invert: bool = False
    error: str = ""


@functools.lru_cache(maxsize=64)
def compile_filter(text: str) -> RowFilter:
    """The filter ``text`` describes (cached: the same text is compiled once)."""
    body = text.strip()
    invert = body.startswith("!")
    if invert:
        body = body[1:]
    if not body:
        return RowFilter(invert=invert)
    try:
        return RowFilter(pattern=re.compile(body, re.IGNORECASE), invert=invert)
    except re.error as exc:
        where = f" at position {exc.pos + int(invert)}" if exc.pos is not None else ""
        return RowFilter(invert=invert, error=f"invalid regular expression: {exc.msg}{where}")
    except (RecursionError, OverflowError) as exc:  # pathological nesting or repeat counts
        return RowFilter(invert=invert, error=f"invalid regular expression: {type(exc).__name__}")


_TEXT_FIELDS: dict[type, tuple[str, ...]] = {}


def _text_fields(row_type: type) -> tuple[str, ...]:
    """The fields a filter looks at (not the log context), per row type."""
    names = _TEXT_FIELDS.get(row_type)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(row_type) if f.name != "context")
        _TEXT_FIELDS[row_type] = names
    return names


def text_matches(row: Row, pattern: re.Pattern[str]) -> bool:
    """Whether any text field of ``row`` (its log context aside) matches ``pattern``."""
    for name in _text_fields(type(row)):
        value = getattr(row, name)
        # Matched as shown: "ev\u200bil" is on screen as "evil", so "evil" finds it.
        if isinstance(value, str) and pattern.search(value if is_inert(value) else inert(value)):
            return True
    return False


def filter_rows(rows: Sequence[Row], *, text: str, state: str) -> tuple[Row, ...]:
    """The rows the text filter and the state quick filter keep, in their order."""
    compiled = compile_filter(text)
    keep_state = _STATE_TESTS.get(state)
    pattern = compiled.pattern
    if pattern is None and keep_state is None:
        return tuple(rows)
    out = []
    for row in rows:
        if keep_state is not None and not keep_state(row):
            continue
        if pattern is not None and text_matches(row, pattern) == compiled.invert:
            continue
        out.append(row)
    return tuple(out)


@dataclass(frozen=True, slots=True)
class SortOrder:
    """Sort by the table's column number ``column``; ``descending`` flips it."""

    column: int
    descending: bool = False


def sort_value(row: Row, column: Column, *, now: float) -> float | str | None:
    """What a cell is sorted by: numbers as numbers, text case-insensitively."""
    if column.kind == "runtime":
        return row.runtime(now)
    value = getattr(row, column.field, None)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value)
    if column.kind == "basename":
        text = text.rsplit("/", 1)[-1]
    return text.casefold()


def sort_rows(rows: Sequence[Row], spec: TableSpec, order: SortOrder, *, now: float) -> tuple[Row, ...]:
    """``rows`` sorted by one column (stable); rows without a value go last."""
    if not 0 <= order.column < len(spec.columns):
        return tuple(rows)
    column = spec.columns[order.column]
    keyed = [(sort_value(row, column, now=now), row) for row in rows]
    present = [pair for pair in keyed if pair[0] is not None]
    missing = [row for value, row in keyed if value is None]
    # Mixed kinds cannot happen within one column of one row type; str() is a guard.
    try:
        present.sort(key=lambda pair: pair[0], reverse=order.descending)  # type: ignore[arg-type,return-value]
    except TypeError:
        present.sort(key=lambda pair: str(pair[0]), reverse=order.descending)
    return tuple(row for _, row in present) + tuple(missing)


__all__ = [
    "STATE_FILTERS",
    "RowFilter",
    "SortOrder",
    "compile_filter",
    "filter_rows",
    "is_failed",
    "sort_rows",
    "sort_value",
    "text_matches",
]
