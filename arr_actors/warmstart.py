"""Warm start: the previous run's tables in the first frame, marked stale.

While the monitor runs, :class:`WarmStartWriter` keeps the latest snapshot of
every table in ``{state_dir}/last-snapshots.json`` (written atomically from its
own thread, at most once per ``debounce_s`` and once more on stop). At the next
start :func:`load_warm_start` turns that file into messages for the first
frame: the same rows, state ``stale``, with their original ``fetched_at`` so the
age shows, until fresh data replaces them. The runtime starts from the same
snapshots (``system.start(..., warm=...)``): until a table has rows of its own,
a failed refresh keeps showing the previous run's rows under its error, as a
failed refresh later in the run keeps the last good ones.

A table that has not fetched successfully in this run keeps the previous run's
snapshot in the file, so one bad start does not erase yesterday's failures.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from arr_actors import safefile
from arr_actors.messages import CodecError, Notice, TableSnapshot, TableStatus
from arr_actors.tables import TABLE_KEYS

if TYPE_CHECKING:
    from arr_actors.config import Settings

WARM_START_KIND = "arr_actors-warm-start"
WARM_START_SCHEMA = 1
FILE_NAME = "last-snapshots.json"
DEBOUNCE_S = 1.0

#: A warm-start file holds five tables of at most their ``limit`` rows (1000
#: at most), written that way; anything larger is not ours and is not read:
#: parsing alone would delay the first frame past half a second.
MAX_FILE_BYTES = 8 * 1024 * 1024

STALE_WARNING = "from the previous run; refreshing"


class WarmStartError(ValueError):
    """A warm-start file that cannot be used; the text says why."""


# ------------------------------------------------------------------ pure parts


def warm_start_path(settings: Settings) -> str:
    # Keyed by project and endpoint: a demo's or another project's tables never show in this one.
    from arr_actors.config import project_state_dir

    return os.path.join(project_state_dir(settings), FILE_NAME)


def row_limits(settings: Settings) -> dict[str, int]:
    """How many rows of each table the screen shows, so the most a warm start keeps."""
    return {key: settings.policy(key).limit for key in TABLE_KEYS}


def has_data(snapshot: TableSnapshot) -> bool:
    """Whether a snapshot carries rows that were fetched (not just an error or a spinner)."""
    return snapshot.fetched_at is not None or bool(snapshot.rows)


def keep(stored: TableSnapshot | None, incoming: TableSnapshot) -> TableSnapshot | None:
    """Which snapshot of a table to keep on disk: the newest one that has data."""
    return incoming if has_data(incoming) else stored


def as_stale(snapshot: TableSnapshot) -> TableSnapshot:
    """A stored snapshot as the first frame shows it: the old rows and their age, nothing pending."""
    return dataclasses.replace(
        snapshot,
        seq=0,
        state=TableStatus.STALE,
        error="",
        warning=STALE_WARNING,
        attempts=0,
        restarts=0,
        next_refresh_at=None,
        budget_pct=None,
    )


def shows_previous_run(snapshot: TableSnapshot, stored: TableSnapshot) -> bool:
    """Whether ``snapshot`` still shows the previous run's rows (those of ``stored``):
    its table has no rows of this run yet, so it is nothing new to keep."""
    return snapshot.state != "ok" and snapshot.fetched_at == stored.fetched_at


def trimmed(snapshot: TableSnapshot, limit: int | None) -> TableSnapshot:
    """``snapshot`` with at most ``limit`` rows (the first ones: sources send them in screen order)."""
    if limit is None or len(snapshot.rows) <= limit:
        return snapshot
    return dataclasses.replace(snapshot, rows=snapshot.rows[: max(0, limit)])


def document(
    snapshots: Mapping[str, TableSnapshot], *, saved_at: float, limits: Mapping[str, int] | None = None
) -> dict[str, Any]:
    from arr_actors.messages import encode  # the codec loads on first use (a start without a file needs none)

    limits = limits or {}
    return {
        "kind": WARM_START_KIND,
        "schema": WARM_START_SCHEMA,
        "saved_at": saved_at,
        "snapshots": [encode(trimmed(snapshots[key], limits.get(key))) for key in TABLE_KEYS if key in snapshots],
    }


def _trim_raw_rows(item: Any, limit: int | None) -> Any:
    """A stored snapshot document with at most ``limit`` rows, cut before decoding:
    rows the screen cannot show are never decoded."""
    if limit is None or not isinstance(item, dict):
        return item
    rows = item.get("rows")
    if isinstance(rows, list) and len(rows) > limit:
        return {**item, "rows": rows[: max(0, limit)]}
    return item


def parse_document(data: bytes, *, limits: Mapping[str, int] | None = None) -> dict[str, TableSnapshot]:
    """The snapshots a warm-start file holds, by table, each with at most its
    ``limits`` rows. WarmStartError saying what is wrong."""
    from arr_actors.messages import decode, parse_json  # the codec loads on first use (see document)

    try:
        doc = parse_json(data)
    except CodecError as exc:
        raise WarmStartError(str(exc)) from None
    if not isinstance(doc, dict) or doc.get("kind") != WARM_START_KIND:
        raise WarmStartError("not a warm-start file")
    schema = doc.get("schema")
    if schema != WARM_START_SCHEMA:
        raise WarmStartError(f"written by another version (schema {schema!r}, this version reads {WARM_START_SCHEMA})")
    items = doc.get("snapshots")
    if not isinstance(items, list):
        raise WarmStartError("'snapshots' is not a list")
    snapshots: dict[str, TableSnapshot] = {}
    limits = limits or {}
    for index, item in enumerate(items):
        table = item.get("table") if isinstance(item, dict) else None
        try:
            snapshot = decode(_trim_raw_rows(item, limits.get(table) if isinstance(table, str) else None), expect=(TableSnapshot,))
        except CodecError as exc:
            raise WarmStartError(f"snapshot {index + 1}: {exc}") from None
        if snapshot.table in TABLE_KEYS:  # a table that no longer exists is simply not shown
            snapshots[snapshot.table] = snapshot
    return snapshots


# ------------------------------------------------------------------ file I/O


def read_file(path: str, *, limits: Mapping[str, int] | None = None) -> dict[str, TableSnapshot]:
    """Snapshots stored at ``path`` (at most ``limits`` rows each): {} if there is
    no file, WarmStartError if it is unusable (not a regular file, a symbolic
    link, too large, in a directory others may write to, damaged)."""
    try:
        data = safefile.read_regular(path, max_bytes=MAX_FILE_BYTES, private=True)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise WarmStartError(f"cannot read it ({exc.strerror or exc})") from None
    return parse_document(data, limits=limits)


def _encoded(snapshots: Mapping[str, TableSnapshot], *, saved_at: float, limits: Mapping[str, int] | None) -> bytes:
    """The file's content, at most MAX_FILE_BYTES: rows beyond that are left out,
    the last ones first, so that the next start can read what was written."""
    limits = dict(limits or {})
    while True:
        doc = document(snapshots, saved_at=saved_at, limits=limits)
        data = json.dumps(doc, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
        if len(data) <= MAX_FILE_BYTES:
            return data
        counts = {key: min(len(s.rows), limits.get(key, len(s.rows))) for key, s in snapshots.items()}
        if not any(counts.values()):
            return data  # too large without a single row: the reader reports it
        limits = {key: count // 2 for key, count in counts.items()}


def write_file(
    path: str, snapshots: Mapping[str, TableSnapshot], *, saved_at: float, limits: Mapping[str, int] | None = None
) -> None:
    """Replace ``path`` atomically: a reader sees the old file or the new one, never a part
    (a full disk leaves the old one whole)."""
    safefile.write_atomic(path, _encoded(snapshots, saved_at=saved_at, limits=limits))


def load_warm_start(settings: Settings) -> tuple[tuple[TableSnapshot, ...], Notice | None]:
    """The previous run's snapshots, marked stale, for the first frame; and a notice if the file was ignored."""
    path = warm_start_path(settings)
    try:
        stored = read_file(path, limits=row_limits(settings))
    except WarmStartError as exc:
        notice = Notice(text=f"warm start file {path} ignored: {exc}", level="warning", at=time.time())
        return (), notice
    except Exception as exc:  # noqa: BLE001 - whatever the file holds, the monitor starts without it
        notice = Notice(text=f"warm start file {path} ignored: {type(exc).__name__}", level="warning", at=time.time())
        return (), notice
    return tuple(as_stale(stored[key]) for key in TABLE_KEYS if key in stored), None


# ------------------------------------------------------------------ subscribers


class WarmStartWriter:
    """A subscriber that keeps ``last-snapshots.json`` up to date.

    ``tell`` only records the snapshot under a lock held for a dict update; the
    writer thread does all file I/O, at most once per ``debounce_s``. ``stop``
    writes the final state (if anything changed) and joins the thread.
    ``failure`` holds the last write error, if any (the monitor keeps running).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        debounce_s: float = DEBOUNCE_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = warm_start_path(settings)
        self._limits = row_limits(settings)
        self._debounce_s = debounce_s
        self._clock = clock
        self._cond = threading.Condition()
        self._incoming: dict[str, TableSnapshot] = {}
        self._stopping = False
        self.failure: OSError | None = None
        self.writes = 0
        self._thread = threading.Thread(target=self._run, name="warm-start-writer", daemon=True)
        self._thread.start()

    def tell(self, message: Any) -> None:
        if not isinstance(message, TableSnapshot) or message.table not in TABLE_KEYS:
            return
        with self._cond:
            self._incoming[message.table] = message
            self._cond.notify()

    def stop(self, *, timeout: float = 2.0) -> None:
        with self._cond:
            self._stopping = True
            self._cond.notify()
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            stored = read_file(self.path, limits=self._limits)
        except Exception:  # noqa: BLE001 - the monitor already told the user
            stored = {}  # the first write replaces it
        # The runtime started from these (the warm start): tables that show them still.
        previous = dict(stored)
        while True:
            with self._cond:
                while not self._incoming and not self._stopping:
                    self._cond.wait()
                incoming, self._incoming = self._incoming, {}
                stopping = self._stopping
            changed = False
            for table, snapshot in incoming.items():
                if table in previous:
                    if shows_previous_run(snapshot, previous[table]):
                        continue
                    del previous[table]  # rows of this run from now on
                kept = keep(stored.get(table), snapshot)
                if kept is not None and kept is not stored.get(table):
                    stored[table] = kept
                    changed = True
            if changed:
                try:
                    write_file(self.path, stored, saved_at=self._clock(), limits=self._limits)
                    self.writes += 1
                except (OSError, ValueError) as exc:  # a full disk; a refused directory; a value the codec refuses
                    self.failure = exc if isinstance(exc, OSError) else OSError(str(exc))
            if stopping:
                return
            # Debounce: gather what arrives during the pause into the next write.
            with self._cond:
                self._cond.wait_for(lambda: self._stopping, timeout=self._debounce_s)


__all__ = [
    "WARM_START_KIND",
    "WARM_START_SCHEMA",
    "FILE_NAME",
    "WarmStartError",
    "warm_start_path",
    "row_limits",
    "trimmed",
    "has_data",
    "keep",
    "as_stale",
    "shows_previous_run",
    "document",
    "parse_document",
    "read_file",
    "write_file",
    "load_warm_start",
    "WarmStartWriter",
]
