"""The event log: one JSON line per supervision event, in ``{state_dir}/events.jsonl``.

Lines look like::

    {"ts": 1731900000.123, "table": "builds", "generation": 2, "event": "failed",
     "duration": 5.01, "budget_pct": 100.2, "detail": "timeout: timed out after 5 s ..."}

``event`` is one of EVENTS. The file is size-rotated (``events.jsonl.1`` ...),
created with mode 0600 in a directory of mode 0700, never through a symbolic
link (see :mod:`arr_actors.safefile`), and written by a single thread fed through a bounded
queue, so the actor that logs never waits on the disk; if the disk falls far
behind, lines are dropped and the number dropped is logged once it catches up.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import threading
from typing import Any

from arr_actors import safefile
from arr_actors.runtime.policy import LogEvent

log = logging.getLogger(__name__)

EVENTS = (
    "launched",
    "ready",
    "started",
    "completed",
    "failed",
    "killed",
    "restarted",
    "skipped",
    "circuit_open",
    "circuit_closed",
    "template_ready",
    "template_failed",
)
FILE_NAME = "events.jsonl"
MAX_BYTES = 5 * 1024 * 1024
BACKUPS = 3
QUEUE_SIZE = 10_000

_STOP = object()


def event_line(event: LogEvent) -> str:
    doc: dict[str, Any] = {
        "ts": round(event.at, 3),
        "table": event.table,
        "generation": event.generation,
        "event": event.event,
        "duration": event.duration_s,
        "budget_pct": event.budget_pct,
    }
    if event.detail:
        doc["detail"] = event.detail
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n"


class EventLog:
    def __init__(self, state_dir: str, *, max_bytes: int = MAX_BYTES, backups: int = BACKUPS) -> None:
        self.path = os.path.join(state_dir, FILE_NAME)
        self._state_dir = state_dir
        self._max_bytes = max_bytes
        self._backups = backups
        self._queue: queue.Queue[Any] = queue.Queue(QUEUE_SIZE)
        self._dropped = 0
        self._fd: int | None = None
        self._thread = threading.Thread(target=self._run, name="event-log", daemon=True)
        self._thread.start()

    def write(self, event: LogEvent) -> None:
        """Queue one event; never blocks."""
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self._dropped += 1

    def close(self, *, timeout: float = 1.0) -> None:
        """Write what is queued (within ``timeout``) and close the file."""
        with contextlib.suppress(queue.Full):
            self._queue.put(_STOP, timeout=timeout)
        self._thread.join(timeout)

    def _run(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    return
                self._append(event_line(item).encode())
        finally:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def _append(self, line: bytes) -> None:
        try:
            fd = self._open()
            if os.fstat(fd).st_size + len(line) > self._max_bytes:
                self._rotate()
                fd = self._open()
            if self._dropped:
                dropped, self._dropped = self._dropped, 0
                log.warning("event log fell behind: %d events dropped", dropped)
            os.write(fd, line)
        except OSError as exc:
            log.warning("cannot write the event log %s: %s", self.path, exc)

    def _open(self) -> int:
        if self._fd is None:
            # A private directory, no symbolic link followed, 0600 even if the file predates us.
            self._fd = safefile.open_append(self.path)
        return self._fd

    def _rotate(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        for i in range(self._backups - 1, 0, -1):
            with contextlib.suppress(FileNotFoundError):
                os.replace(f"{self.path}.{i}", f"{self.path}.{i + 1}")
        with contextlib.suppress(FileNotFoundError):
            os.replace(self.path, f"{self.path}.1")
