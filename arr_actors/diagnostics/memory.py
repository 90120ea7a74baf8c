"""Terminal-state memory: a FAILED or FINISHED execution's diagnosis, computed once, kept on disk.

A terminal execution's log never changes, so its diagnosis is stored in a small
sqlite database (``$XDG_CACHE_HOME/arr_actors/terminal.sqlite3``) keyed by
project and execution, and its log is read once, ever. Running executions are
never stored.

One process owns the memory at a time (the runner table's fetch process).
It is a cache: when the file is corrupt or unreadable (or larger than any
memory of ours grows) it is moved aside and rebuilt, ``notice`` says so, and
nothing raises. If even a new file cannot be created, or the place is not safe
(a directory of another user or writable by others, a symbolic link or FIFO
where the database or its journal should be), the memory lives in RAM for this
process and ``notice`` says that. What it holds is checked like any outside
data: an entry out of bounds is dropped and its log read again.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
import threading
import time
from collections.abc import Iterable
from pathlib import Path

from arr_actors import safefile
from arr_actors.diagnostics.extract import SUMMARY_LIMIT, Diagnosis, outcome_of_status
from arr_actors.diagnostics.text import LINE_LIMIT

FILENAME = "terminal.sqlite3"
SCHEMA_VERSION = 1
TERMINAL_OUTCOMES = frozenset({"failed", "finished"})
# sqlite limits the number of bound parameters; stay well below every build's limit.
_BATCH = 500
#: Far more than years of diagnoses take; a larger file is not ours (and checking
#: its integrity at every start would take long).
MAX_FILE_BYTES = 256 * 1024 * 1024
#: Bounds of one stored diagnosis, a little above what a diagnosis can hold.
MAX_DIAGNOSIS_CHARS = 256 * 1024
MAX_CONTEXT_LINES = 200
MAX_RUNS = 10**9

_SCHEMA = """
CREATE TABLE IF NOT EXISTS terminal (
    project   TEXT NOT NULL,
    execution TEXT NOT NULL,
    status    TEXT NOT NULL,
    diagnosis TEXT NOT NULL,
    stored_at REAL NOT NULL,
    PRIMARY KEY (project, execution)
) WITHOUT ROWID
"""


class TerminalMemory:
    """get/put of terminal diagnoses for one project. Not shared between processes."""

    def __init__(self, path_or_cache_dir: str | os.PathLike[str], project: str) -> None:
        path = Path(path_or_cache_dir)
        self.path = path if path.suffix in (".sqlite3", ".sqlite", ".db") else path / FILENAME
        self.project = project
        #: set when the memory had to recover (file moved aside, or kept in RAM); shown to the user
        self.notice = ""
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = self._open()

    def get(self, execution: str) -> Diagnosis | None:
        return self.get_many([execution]).get(execution)

    def get_many(self, executions: Iterable[str]) -> dict[str, Diagnosis]:
        """The remembered diagnoses among ``executions`` (missing ones are left out)."""
        names = list(dict.fromkeys(executions))
        found: dict[str, Diagnosis] = {}
        with self._lock:
            for start in range(0, len(names), _BATCH):
                batch = names[start : start + _BATCH]
                marks = ",".join("?" * len(batch))
                rows = self._query(
                    f"SELECT execution, diagnosis FROM terminal WHERE project = ? AND execution IN ({marks})",
                    (self.project, *batch),
                )
                for execution, raw in rows:
                    diagnosis = _decode(raw)
                    if not isinstance(execution, str):
                        continue
                    if diagnosis is None:
                        self._execute("DELETE FROM terminal WHERE project = ? AND execution = ?", (self.project, execution))
                    else:
                        found[execution] = diagnosis
        return found

    def put(self, execution: str, status: str, diagnosis: Diagnosis) -> bool:
        """Remember a terminal execution's diagnosis; returns False (and stores nothing) otherwise."""
        if outcome_of_status(status) not in TERMINAL_OUTCOMES or diagnosis.outcome not in TERMINAL_OUTCOMES:
            return False
        raw = json.dumps(diagnosis.to_plain(), ensure_ascii=False, separators=(",", ":"))
        with self._lock:
            return self._execute(
                "INSERT OR REPLACE INTO terminal (project, execution, status, diagnosis, stored_at) VALUES (?, ?, ?, ?, ?)",
                (self.project, execution, status, raw, time.time()),
            )

    def __len__(self) -> int:
        with self._lock:
            rows = self._query("SELECT COUNT(*) FROM terminal WHERE project = ?", (self.project,))
        count = rows[0][0] if rows else 0
        return count if isinstance(count, int) else 0

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                try:
                    self._db.close()
                except sqlite3.Error:
                    pass
                self._db = None

    def __enter__(self) -> TerminalMemory:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _open(self) -> sqlite3.Connection:
        try:
            return _connect(self.path)
        except sqlite3.DatabaseError as exc:
            if not _is_corruption(exc):
                return self._in_ram(exc)
            first = exc
        except (sqlite3.Error, OSError) as exc:
            return self._in_ram(exc)
        aside = self._set_aside()
        try:
            db = _connect(self.path)
        except (sqlite3.Error, OSError) as exc:
            return self._in_ram(exc)
        where = f"moved it to {aside.name}" if aside else "could not move it aside"
        self.notice = f"terminal-state memory {self.path} was unreadable ({_reason(first)}); {where} and started a new one"
        return db

    def _in_ram(self, exc: BaseException) -> sqlite3.Connection:
        self.notice = (
            f"terminal-state memory {self.path} is unusable ({_reason(exc)}); "
            "remembering results in memory only until restart"
        )
        return _connect(":memory:")

    def _set_aside(self) -> Path | None:
        """Move the database (and its WAL files) out of the way; None if there was nothing to move."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        number = 1
        while aside.exists():
            number += 1
            aside = self.path.with_name(f"{self.path.name}.corrupt-{stamp}-{number}")
        moved = None
        for suffix in ("", "-wal", "-shm", "-journal"):
            source = Path(f"{self.path}{suffix}")
            target = Path(f"{aside}{suffix}")
            try:
                if source.exists():
                    os.replace(source, target)
                    if not suffix:
                        moved = target
            except OSError:
                continue
        return moved

    def _query(self, sql: str, params: tuple[object, ...]) -> list[tuple[object, ...]]:
        for attempt in (1, 2):
            db = self._db
            if db is None:
                return []
            try:
                return db.execute(sql, params).fetchall()
            except sqlite3.DatabaseError as exc:
                if attempt == 2 or not _is_corruption(exc):
                    return []
                self._recover_with_aside(exc)
            except sqlite3.Error:
                return []
        return []

    def _execute(self, sql: str, params: tuple[object, ...]) -> bool:
        for attempt in (1, 2):
            db = self._db
            if db is None:
                return False
            try:
                with db:
                    db.execute(sql, params)
                return True
            except sqlite3.DatabaseError as exc:
                if attempt == 2 or not _is_corruption(exc):
                    return False
                self._recover_with_aside(exc)
            except sqlite3.Error:
                return False
        return False

    def _recover_with_aside(self, exc: sqlite3.Error) -> None:
        """The database broke while in use: set it aside and start a new one."""
        if self._db is not None:
            try:
                self._db.close()
            except sqlite3.Error:
                pass
            self._db = None
        aside = self._set_aside()
        try:
            self._db = _connect(self.path)
        except (sqlite3.Error, OSError) as second:
            self._db = self._in_ram(second)
            return
        where = f"moved it to {aside.name}" if aside else "could not move it aside"
        self.notice = f"terminal-state memory {self.path} became unreadable ({_reason(exc)}); {where} and started a new one"


def _connect(path: Path | str) -> sqlite3.Connection:
    """Open, check and (if new) create the database; raises on any problem."""
    if str(path) != ":memory:":
        _check_place(Path(path))
    # isolation_level=None: autocommit; writes use explicit transactions via `with db`.
    db = sqlite3.connect(str(path), timeout=2.0, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA busy_timeout = 2000")
        version = db.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_VERSION):
            raise sqlite3.DatabaseError(f"unknown schema version {version}")
        check = db.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise sqlite3.DatabaseError(f"integrity check failed: {check}")
        if str(path) != ":memory:":
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
        db.execute(_SCHEMA)
        db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        columns = [row[1] for row in db.execute("PRAGMA table_info(terminal)")]
        if columns != ["project", "execution", "status", "diagnosis", "stored_at"]:
            raise sqlite3.DatabaseError(f"unexpected table layout {columns}")
    except BaseException:
        db.close()
        raise
    return db


def _check_place(path: Path) -> None:
    """Refuse an unsafe place (UnsafeFile, the memory then lives in RAM) or a file too
    large to be ours (DatabaseError: it is set aside like a corrupt one).

    sqlite follows symbolic links and would block on a FIFO, so whatever sits at
    the database's and its journals' paths must be a regular file or nothing.
    """
    safefile.private_dir(path.parent)
    # Created (or found) 0600 by us, without following a link; sqlite gives its
    # journal files the database's mode.
    os.close(safefile.open_private(path, os.O_RDWR))
    for suffix in ("", "-wal", "-shm", "-journal"):
        entry = Path(f"{path}{suffix}")
        try:
            info = os.lstat(entry)
        except FileNotFoundError:
            continue
        if not stat.S_ISREG(info.st_mode):
            raise safefile.UnsafeFile(entry, "not a regular file")
        if not suffix and info.st_size > MAX_FILE_BYTES:
            raise sqlite3.DatabaseError(f"larger than {safefile.describe_size(MAX_FILE_BYTES)}")


def _decode(raw: object) -> Diagnosis | None:
    """A stored diagnosis, or None when it is not one this program could have stored."""
    if not isinstance(raw, str) or len(raw) > MAX_DIAGNOSIS_CHARS:
        return None
    try:
        diagnosis = Diagnosis.from_plain(json.loads(raw))
    except (ValueError, TypeError, RecursionError):
        return None
    if (
        (diagnosis.runs is not None and diagnosis.runs > MAX_RUNS)
        or len(diagnosis.summary) > SUMMARY_LIMIT
        or len(diagnosis.context) > MAX_CONTEXT_LINES
        or any(len(line) > LINE_LIMIT for line in diagnosis.context)
    ):
        return None
    return diagnosis


def _is_corruption(exc: sqlite3.Error) -> bool:
    # Operational errors (locked, busy, cannot open, disk full) say nothing about the
    # file's content: keep it. Anything else (not a database, malformed) is corruption.
    if isinstance(exc, sqlite3.OperationalError):
        return "malformed" in str(exc) or "not a database" in str(exc)
    return isinstance(exc, sqlite3.DatabaseError)


def _reason(exc: BaseException) -> str:
    return str(exc) or type(exc).__name__
