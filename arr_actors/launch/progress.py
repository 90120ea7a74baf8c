"""Progress while ``launch`` waits: one redrawn line on a terminal, plain lines otherwise.

The texts are pure functions of the watch state; :class:`Progress` only decides
where they go. On a terminal one status line (spinner, elapsed time, what is
awaited, trouble) is redrawn in place; anywhere else a line is printed when
something changes, plus a reminder now and then, so logs and pipes get no
carriage returns or escape sequences.
"""

from __future__ import annotations

import os
import shutil
import unicodedata
from typing import TextIO

from arr_actors.inert import inert
from arr_actors.launch.report import Target, describe_fault, job_note
from arr_actors.launch.watch import EXECUTION_FAILED, Fault, Watch, awaiting

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
ASCII_SPINNER = "|/-\\"
#: Seconds between "still waiting" lines when nothing changes (plain output).
REMINDER_S = 30.0
#: Seconds between redraws of the status line (terminal output).
FRAME_S = 0.125


def status_line(watch: Watch, *, target: Target, elapsed_s: float, frame: str, width: int) -> str:
    """The one-line status for a terminal, cut to ``width`` columns."""
    parts = [f"{frame} {elapsed_s:4.0f} s", awaiting(watch, region=target.region)]
    # Trouble before the execution's name: on a narrow terminal the end of the line is cut.
    for service in watch.failing:
        newest = newest_fault(watch, service)
        parts.append(f"{service}: {newest.code} x{newest.count}, retrying")
    if watch.execution is not None:
        parts.append(f"execution {target.execution}: {watch.execution.state}")
    # Made inert before measuring: the execution's name and the service's codes come from the cloud.
    return fit_columns("  ".join([parts[0], *(inert(part) for part in parts[1:])]), width - 1)


def columns_of(char: str) -> int:
    """Terminal columns of one (inert) character: wide ones count two, combining marks none."""
    if char.isascii():
        return 1
    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def fit_columns(line: str, width: int) -> str:
    """``line`` cut to ``width`` terminal columns with an ellipsis, so a redrawn line never wraps."""
    if line.isascii() and len(line) <= width:
        return line
    used = 0
    for index, char in enumerate(line):
        used += columns_of(char)
        if used > width:
            room, cut = max(0, width - 1), index
            while cut > 0 and sum(columns_of(c) for c in line[:cut]) > room:
                cut -= 1
            return line[:cut] + "…"
    return line


def newest_fault(watch: Watch, service: str) -> Fault:
    return max((f for f in watch.faults if f.service == service), key=lambda f: f.last_at)


def changes(before: Watch | None, after: Watch, *, target: Target) -> list[str]:
    """Plain lines saying what changed between two states (no line when nothing did)."""
    lines: list[str] = []
    old_state = before.execution.state if before is not None and before.execution else ""
    execution = after.execution
    if execution is not None and execution.state != old_state:
        said = f"execution {target.execution} is {execution.state}"
        if execution.state in EXECUTION_FAILED:
            lines.append(said + (f": {execution.message}" if execution.message else ""))
        else:
            lines.append(f"{said}: {awaiting(after, region=target.region)}")
    old_jobs = {(j.id, j.state) for j in before.jobs} if before is not None else set()
    for job in after.jobs:
        if (job.id, job.state) not in old_jobs:
            lines.append(job_note(job))
    old_failing = before.failing if before is not None else ()
    for service in after.failing:
        if service not in old_failing:
            lines.append(f"{describe_fault(newest_fault(after, service))}; retrying until the timeout")
    for service in old_failing:
        if service not in after.failing:
            lines.append(f"{service} answers again")
    return lines


def reminder(watch: Watch, *, target: Target, elapsed_s: float) -> str:
    text = awaiting(watch, region=target.region)
    return f"{'still ' if text.startswith('waiting') else ''}{text} ({elapsed_s:.0f} s)"


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty() and os.environ.get("TERM", "") != "dumb"
    except (AttributeError, ValueError):
        return False


def terminal_width(stream: TextIO) -> int:
    """Columns of the terminal ``stream`` writes to (which may be stderr while stdout is a pipe)."""
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return shutil.get_terminal_size((80, 24)).columns


class Progress:
    """Writes progress to one stream, as a redrawn line (terminal) or plain lines."""

    def __init__(self, stream: TextIO, *, target: Target, terminal: bool | None = None) -> None:
        self.stream = stream
        self.target = target
        self.terminal = is_terminal(stream) if terminal is None else terminal
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        self.frames = SPINNER if encoding == "utf8" else ASCII_SPINNER
        self._frame = 0
        self._drawn = False
        self._last: Watch | None = None
        self._last_line_at = 0.0

    def say(self, text: str, *, elapsed_s: float | None = None) -> None:
        """A line that stays (the status line is cleared first and redrawn later)."""
        self._clear()
        prefix = f"[{elapsed_s:4.0f} s] " if elapsed_s is not None and not self.terminal else ""
        self.stream.write(prefix + inert(text) + "\n")
        self.stream.flush()
        if elapsed_s is not None:
            self._last_line_at = elapsed_s

    def update(self, watch: Watch, *, elapsed_s: float) -> None:
        """After a round: report what changed."""
        for line in changes(self._last, watch, target=self.target):
            self.say(line, elapsed_s=elapsed_s)
        self._last = watch
        if self.terminal:
            self.draw(elapsed_s=elapsed_s)
        elif elapsed_s - self._last_line_at >= REMINDER_S:
            self.say(reminder(watch, target=self.target, elapsed_s=elapsed_s), elapsed_s=elapsed_s)

    def draw(self, *, elapsed_s: float) -> None:
        """Redraw the status line (terminal only); called several times a second while waiting."""
        if not self.terminal or self._last is None:
            return
        self._frame = (self._frame + 1) % len(self.frames)
        width = terminal_width(self.stream)
        line = status_line(
            self._last, target=self.target, elapsed_s=elapsed_s, frame=self.frames[self._frame], width=width
        )
        self.stream.write("\r\x1b[K" + line)
        self.stream.flush()
        self._drawn = True

    def finish(self) -> None:
        self._clear()

    def _clear(self) -> None:
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False
