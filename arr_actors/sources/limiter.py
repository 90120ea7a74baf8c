"""The project-wide Cloud Logging limiter, shared by every process of the product.

Cloud Logging allows 60 ``entries.list`` calls per minute per project and the
limit cannot be raised. The runner table's child, the detail view, ``diagnose
--execution`` and ``launch`` are separate processes, so the budget lives in a
small file under ``settings.paths.state_dir`` (one per project): it holds the times
of the calls made in the last 60 seconds. Each read-modify-write holds
``fcntl.flock`` on a lock file beside it; a process that dies while holding the
lock releases it with its file descriptor, so a crash cannot wedge the others.
The file itself is replaced atomically (a full disk leaves the previous
history whole, never an empty file), never through a symbolic link, and what
it holds is checked: a damaged or planted file is taken as no history.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from arr_actors import safefile

if TYPE_CHECKING:
    from arr_actors.config import Settings

WINDOW_S = 60.0
# Waiting callers re-check at least this often (another process may have given up its slot
# only in the sense that time moved on; nothing is ever handed back early).
_MAX_POLL_S = 1.0
#: A limiter file holds one short number per call in the window; far more is not ours.
MAX_FILE_BYTES = 1024 * 1024


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
        with self._locked():
            return len(self._recent(self._clock()))

    def status(self) -> tuple[int, float | None]:
        """Calls made in the current window, and when a call may be made again
        (None: now) — what the fetch process reports with its results."""
        with self._locked():
            now = self._clock()
            recent = self._recent(now)
        if len(recent) < self.per_minute:
            return len(recent), None
        return len(recent), recent[len(recent) - self.per_minute] + self.window_s

    def _attempt(self) -> tuple[bool, float]:
        """(granted, seconds until the oldest call leaves the window)."""
        with self._locked():
            now = self._clock()
            recent = self._recent(now)
            if len(recent) < self.per_minute:
                recent.append(now)
                self._write(recent)
                return True, 0.0
            return False, max(0.0, recent[0] + self.window_s - now)

    def _locked(self) -> contextlib.AbstractContextManager[None]:
        return _locked_file(self.path.with_name(self.path.name + ".lock"))

    def _recent(self, now: float) -> list[float]:
        """The calls of the current window the file records (none if it records nothing usable)."""
        try:
            raw = safefile.read_regular(self.path, max_bytes=MAX_FILE_BYTES)
            stamps = json.loads(raw) if raw.strip() else []
        except FileNotFoundError:
            stamps = []
        except (OSError, ValueError, RecursionError):
            # A torn, foreign or planted file must not stop log reads for good; start counting afresh.
            stamps = []
        if not isinstance(stamps, list):
            stamps = []
        # A stamp in the future (clock stepped back) still counts, so a clock change cannot
        # be used to burst past the limit; it ages out once the clock catches up. One more
        # than a window ahead is no clock step but damage: it counts as now, so it cannot
        # hold the budget for longer than one window.
        recent = []
        for s in stamps:
            if isinstance(s, bool) or not isinstance(s, (int, float)) or not -1e12 < s < 1e12:
                continue  # not a time (this also keeps huge integers out of float())
            stamp = float(s)
            if math.isfinite(stamp) and stamp > now - self.window_s:
                recent.append(min(stamp, now + self.window_s))
        return sorted(recent)

    def _write(self, stamps: list[float]) -> None:
        safefile.write_atomic(self.path, json.dumps([round(s, 3) for s in stamps]).encode())


@contextlib.contextmanager
def _locked_file(path: Path) -> Iterator[None]:
    """An exclusive lock for one read-modify-write of the limiter file (its own lock file, so
    that the limiter file can be replaced by rename while the lock holds)."""
    fd = safefile.open_private(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


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
