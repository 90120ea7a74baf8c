"""The project-wide Cloud Logging limiter, shared by every process of the product.

Cloud Logging allows 60 ``entries.list`` calls per minute per project and the
limit cannot be raised. The runner table's child, the detail view, ``diagnose
--execution`` and ``launch`` are separate processes, so the budget lives in a
small file under ``settings.paths.state_dir`` (one per project), guarded by
``fcntl.flock``: it holds the times of the calls made in the last 60 seconds.
A process that dies while holding the lock releases it with its file
descriptor, so a crash cannot wedge the others.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from arr_actors.config import Settings

WINDOW_S = 60.0
# Waiting callers re-check at least this often (another process may have given up its slot
# only in the sense that time moved on; nothing is ever handed back early).
_MAX_POLL_S = 1.0


def limiter_path(state_dir: str, project: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", project or "default")
    return Path(state_dir) / f"logging-reads-{safe}.json"


class LoggingLimiter:
    """At most ``per_minute`` acquisitions in any 60 s window, across processes."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        per_minute: int,
        *,
        clock: Callable[[], float] = time.time,
        window_s: float = WINDOW_S,
    ) -> None:
        if per_minute < 1:
            raise ValueError(f"per_minute must be at least 1, got {per_minute}")
        self.path = Path(path)
        self.per_minute = per_minute
        self.window_s = window_s
        self._clock = clock

    def try_acquire(self) -> bool:
        """Take one call from the budget now, or return False without waiting."""
        return self._attempt()[0]

    def acquire(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for a slot; False if none came free in time."""
        deadline = time.monotonic() + max(0.0, timeout)
        while True:
            granted, wait_s = self._attempt()
            if granted:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(max(0.01, min(wait_s, remaining, _MAX_POLL_S)))

    def used(self) -> int:
        """Calls made in the current window (for status lines and tests)."""
        with self._locked() as file:
            return len(self._recent(file, self._clock()))

    def status(self) -> tuple[int, float | None]:
        """Calls made in the current window, and when a call may be made again
        (None: now) — what the fetch process reports with its results."""
        with self._locked() as file:
            now = self._clock()
            recent = self._recent(file, now)
        if len(recent) < self.per_minute:
            return len(recent), None
        return len(recent), recent[len(recent) - self.per_minute] + self.window_s

    def _attempt(self) -> tuple[bool, float]:
        """(granted, seconds until the oldest call leaves the window)."""
        with self._locked() as file:
            now = self._clock()
            recent = self._recent(file, now)
            if len(recent) < self.per_minute:
                recent.append(now)
                self._write(file, recent)
                return True, 0.0
            return False, max(0.0, recent[0] + self.window_s - now)

    def _locked(self) -> contextlib.AbstractContextManager[TextIO]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return _locked_file(self.path)

    def _recent(self, file: TextIO, now: float) -> list[float]:
        file.seek(0)
        raw = file.read()
        try:
            stamps = json.loads(raw) if raw.strip() else []
        except ValueError:
            # A torn or foreign file must not stop log reads for good; start counting afresh.
            stamps = []
        if not isinstance(stamps, list):
            stamps = []
        # A stamp in the future (clock stepped back) still counts, so a clock change cannot
        # be used to burst past the limit; it ages out once the clock catches up.
        return sorted(float(s) for s in stamps if isinstance(s, (int, float)) and s > now - self.window_s)

    def _write(self, file: TextIO, stamps: list[float]) -> None:
        file.seek(0)
        file.truncate()
        file.write(json.dumps([round(s, 3) for s in stamps]))
        file.flush()


@contextlib.contextmanager
def _locked_file(path: Path) -> Iterator[TextIO]:
    """The limiter file opened and exclusively locked for one read-modify-write."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    with os.fdopen(fd, "r+", encoding="utf-8") as file:
        fcntl.flock(file.fileno(), fcntl.LOCK_EX)
        try:
            yield file
        finally:
            fcntl.flock(file.fileno(), fcntl.LOCK_UN)


def for_settings(settings: Settings) -> LoggingLimiter:
    """The limiter every Cloud Logging reader of ``settings.project`` shares.

    The file lives in the project's state directory, keyed by project and
    endpoint: the quota is per project of the real service, and a demo or an
    emulator never spends (or sees) a real project's budget.
    """
    from arr_actors.config import project_state_dir

    return LoggingLimiter(
        limiter_path(project_state_dir(settings), settings.project), settings.api.logging_reads_per_minute
    )
