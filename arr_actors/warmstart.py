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

import contextlib
import dataclasses
import json
import os
import tempfile
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from arr_actors.messages import CodecError, Notice, TableSnapshot, TableStatus, decode, encode
from arr_actors.tables import TABLE_KEYS

if TYPE_CHECKING:
    from arr_actors.config import Settings

WARM_START_KIND = "arr_actors-warm-start"
WARM_START_SCHEMA = 1
FILE_NAME = "last-snapshots.json"
DEBOUNCE_S = 1.0

#: A warm-start file holds five tables of at most a few hundred rows; anything
#: far larger is not ours and is not read into memory.
MAX_FILE_BYTES = 32 * 1024 * 1024

STALE_WARNING = "from the previous run; refreshing"


class WarmStartError(ValueError):
    """A warm-start file that cannot be used; the text says why."""


# ------------------------------------------------------------------ pure parts


def warm_start_path(settings: Settings) -> str:
    # Keyed by project and endpoint: a demo's or another project's tables never show in this one.
    from arr_actors.config import project_state_dir

    return os.path.join(project_state_dir(settings), FILE_NAME)


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


def document(snapshots: Mapping[str, TableSnapshot], *, saved_at: float) -> dict[str, Any]:
    return {
        "kind": WARM_START_KIND,
        "schema": WARM_START_SCHEMA,
        "saved_at": saved_at,
        "snapshots": [encode(snapshots[key]) for key in TABLE_KEYS if key in snapshots],
    }


def parse_document(data: bytes) -> dict[str, TableSnapshot]:
    """The snapshots a warm-start file holds, by table. WarmStartError saying what is wrong."""
    try:
        doc = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise WarmStartError(f"not valid JSON ({exc})") from None
    if not isinstance(doc, dict) or doc.get("kind") != WARM_START_KIND:
        raise WarmStartError("not a warm-start file")
    schema = doc.get("schema")
    if schema != WARM_START_SCHEMA:
        raise WarmStartError(f"written by another version (schema {schema!r}, this version reads {WARM_START_SCHEMA})")
    items = doc.get("snapshots")
    if not isinstance(items, list):
        raise WarmStartError("'snapshots' is not a list")
    snapshots: dict[str, TableSnapshot] = {}
    for index, item in enumerate(items):
        try:
            snapshot = decode(item, expect=(TableSnapshot,))
        except CodecError as exc:
            raise WarmStartError(f"snapshot {index + 1}: {exc}") from None
        if snapshot.table in TABLE_KEYS:  # a table that no longer exists is simply not shown
            snapshots[snapshot.table] = snapshot
    return snapshots


# ------------------------------------------------------------------ file I/O


def read_file(path: str) -> dict[str, TableSnapshot]:
    """Snapshots stored at ``path``: {} if there is no file, WarmStartError if it is unusable."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise WarmStartError(f"cannot read it ({exc.strerror})") from None
    if len(data) > MAX_FILE_BYTES:
        raise WarmStartError(f"larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB")
    return parse_document(data)


def write_file(path: str, snapshots: Mapping[str, TableSnapshot], *, saved_at: float) -> None:
    """Replace ``path`` atomically: a reader sees the old file or the new one, never a part."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, exist_ok=True)
    data = json.dumps(document(snapshots, saved_at=saved_at), separators=(",", ":"), ensure_ascii=False).encode()
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".last-snapshots.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def load_warm_start(settings: Settings) -> tuple[tuple[TableSnapshot, ...], Notice | None]:
    """The previous run's snapshots, marked stale, for the first frame; and a notice if the file was ignored."""
    path = warm_start_path(settings)
    try:
        stored = read_file(path)
    except WarmStartError as exc:
        notice = Notice(text=f"warm start file {path} ignored: {exc}", level="warning", at=time.time())
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
            stored = read_file(self.path)
        except WarmStartError:
            stored = {}  # the monitor already told the user; the first write replaces it
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
                    write_file(self.path, stored, saved_at=self._clock())
                    self.writes += 1
                except OSError as exc:
                    self.failure = exc
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
