"""The ``--once --json`` document: one definition shared by the monitor and the replay tool.

Both ``python -m arr_actors --once --json`` and ``scripts/replay.py --once --json``
print the state of every table in this shape, so a recording can be checked with
the same tools as a live run. The function is pure: it needs only the latest
snapshot per table.
"""

from __future__ import annotations

import datetime
import time
from collections.abc import Mapping
from typing import Any

from arr_actors.messages import TableSnapshot, row_to_plain
from arr_actors.tables import TABLE_KEYS

ONCE_SCHEMA = 1

#: What a table that never produced a snapshot reports.
NO_SNAPSHOT_ERROR = "no data: the table produced no snapshot"


def iso8601(epoch: float) -> str:
    """Epoch seconds as an ISO 8601 timestamp in UTC (second precision)."""
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc).isoformat(timespec="seconds")


def table_entry(snapshot: TableSnapshot | None) -> dict[str, Any]:
    """One table's entry of the document."""
    if snapshot is None:
        return {
            "state": "error",
            "rows": [],
            "error": NO_SNAPSHOT_ERROR,
            "fetched_at": None,
            "duration_s": None,
            "attempts": 0,
            "restarts": 0,
        }
    return {
        "state": snapshot.state,
        "rows": [row_to_plain(row) for row in snapshot.rows],
        "error": snapshot.error,
        "fetched_at": snapshot.fetched_at,
        "duration_s": snapshot.duration_s,
        "attempts": snapshot.attempts,
        "restarts": snapshot.restarts,
    }


def once_document(
    snapshots_by_table: Mapping[str, TableSnapshot], *, generated_at: float | str | None = None
) -> dict[str, Any]:
    """``{"schema": 1, "generated_at": ISO8601, "tables": {KEY: entry}}`` for every table.

    Tables appear in registry order; a table without a snapshot is reported as an
    error rather than left out, so consumers can rely on every key being present.
    ``generated_at`` is epoch seconds, an ISO 8601 string, or None for now.
    """
    if generated_at is None:
        generated_at = time.time()
    stamp = generated_at if isinstance(generated_at, str) else iso8601(generated_at)
    return {
        "schema": ONCE_SCHEMA,
        "generated_at": stamp,
        "tables": {key: table_entry(snapshots_by_table.get(key)) for key in TABLE_KEYS},
    }


__all__ = ["ONCE_SCHEMA", "NO_SNAPSHOT_ERROR", "iso8601", "table_entry", "once_document"]
