"""The chain of the selected row, as the screen shows it: marks in the other
tables, a list in the detail view, and ``]``/``[`` to step through it.

``arr_actors.lineage`` decides what is linked; this module only picks the row
the user is on and remembers the answer between frames (the screen redraws
every second, the rows change only with a snapshot).
"""

from __future__ import annotations

import functools

from arr_actors import lineage
from arr_actors.messages import Row
from arr_actors.tables import TABLE_KEYS
from arr_actors_ui import visible
from arr_actors_ui.model import UiState


def _tables(state: UiState) -> tuple[tuple[str, tuple[Row, ...]], ...]:
    """Every table's rows in table order (a row filtered out of view still links)."""
    return tuple((key, snapshot.rows) for key in TABLE_KEYS if (snapshot := state.snapshots.get(key)) is not None)


@functools.lru_cache(maxsize=64)
def _chain(tables: tuple[tuple[str, tuple[Row, ...]], ...], table: str, key: str) -> lineage.Chain:
    return lineage.chain_of(dict(tables), table, key)


def anchor(state: UiState) -> tuple[str, str] | None:
    """``(table, row key)`` of the row the chain is of: the open detail's row, else the focused table's selection."""
    if state.detail is not None:
        return (state.detail.table, state.detail.key) if state.detail.key else None
    rows = visible.visible_rows(state, state.focus)
    index = visible.selected_index(state, state.focus, rows)
    return None if index is None else (state.focus, rows[index].key)


def chain_of(state: UiState, table: str, key: str) -> lineage.Chain:
    return _chain(_tables(state), table, key)


def current(state: UiState) -> lineage.Chain:
    """The chain of the row the user is on (empty when there is none)."""
    at = anchor(state)
    return lineage.Chain() if at is None else chain_of(state, *at)


def related_keys(state: UiState, table: str) -> frozenset[str]:
    """Keys of the rows of ``table`` in the current chain, the anchor itself left out."""
    at = anchor(state)
    keys = current(state).keys_in(table)
    return keys - {at[1]} if at is not None and at[0] == table else keys


def jump(state: UiState, *, forward: bool) -> UiState | None:
    """Focus the next (or previous) row of the chain that is in view; None when there is none."""
    at = anchor(state)
    if at is None or state.detail is not None:
        return None
    chain = current(state)
    here = at
    for _ in range(len(chain.members)):
        target = lineage.step(chain, here, forward=forward)
        if target is None or target == at:
            return None
        table, key = target
        rows = visible.visible_rows(state, table)
        index = next((i for i, row in enumerate(rows) if row.key == key), None)
        if index is not None:
            return state.replace(focus=table, selection={**state.selection, table: (key, index)})
        here = target
    return None


__all__ = ["anchor", "chain_of", "current", "jump", "related_keys"]
