"""The chain of the selected row, as the screen shows it: marks in the other
tables, a list in the detail view, and ``]``/``[`` to step through it.

``arr_actors.lineage`` decides what is linked; this module only picks the row
the user is on and remembers the answer between frames (the screen redraws
every second, the rows change only with a snapshot).
"""

from __future__ import annotations

from arr_actors import lineage
from arr_actors.messages import Row
from arr_actors.tables import TABLE_KEYS
from arr_actors_ui import visible
from arr_actors_ui.model import UiState


def _tables(state: UiState) -> dict[str, tuple[Row, ...]]:
    """Every table's rows in table order (a row filtered out of view still links)."""
    return {key: snapshot.rows for key in TABLE_KEYS if (snapshot := state.snapshots.get(key)) is not None}


class _Chains:
    """The chains asked for since the snapshots last changed.

    Snapshots are immutable and replaced, never changed, so they are told
    apart by identity: a frame does not hash every row of every table to
    find the answer it found a second ago.
    """

    LIMIT = 64

    def __init__(self) -> None:
        self.snapshots: tuple[object, ...] = (None,) * len(TABLE_KEYS)  # as a state without snapshots
        self.chains: dict[tuple[str, str], lineage.Chain] = {}

    def get(self, state: UiState, table: str, key: str) -> lineage.Chain:
        snapshots = tuple(state.snapshots.get(k) for k in TABLE_KEYS)
        if any(a is not b for a, b in zip(snapshots, self.snapshots, strict=True)):
            self.snapshots, self.chains = snapshots, {}
        chain = self.chains.get((table, key))
        if chain is None:
            if len(self.chains) >= self.LIMIT:
                self.chains.clear()
            chain = self.chains[(table, key)] = lineage.chain_of(_tables(state), table, key)
        return chain


_CHAINS = _Chains()


def anchor(state: UiState) -> tuple[str, str] | None:
    """``(table, row key)`` of the row the chain is of: the open detail's row, else the focused table's selection."""
    if state.detail is not None:
        return (state.detail.table, state.detail.key) if state.detail.key else None
    rows = visible.visible_rows(state, state.focus)
    index = visible.selected_index(state, state.focus, rows)
    return None if index is None else (state.focus, rows[index].key)


def chain_of(state: UiState, table: str, key: str) -> lineage.Chain:
    return _CHAINS.get(state, table, key)


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
