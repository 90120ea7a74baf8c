"""Keep stray output off the screen while the UI owns the terminal.

Anything written to file descriptor 2 (a library warning in this process, a
gRPC or absl message from a fetch process, which inherits the descriptor)
would land in the middle of the drawn screen and stay there until the next
full redraw. While the screen runs, descriptor 2 is a pipe instead: a reader
thread appends every line to a log file and hands it, made inert, to a
callback (the UI shows it as a notice). The terminal's descriptor is put back
when the screen stops.
"""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from arr_actors import safefile
from arr_actors.inert import inert

MAX_LINE = 4096


@dataclass(slots=True)
class Diversion:
    """What was diverted: the log file and how many lines went to it."""

    log_path: str
    lines: int = 0
    log_error: str = ""
    _done: threading.Event = field(default_factory=threading.Event)


@contextlib.contextmanager
def divert_stderr(log_path: str, *, on_line: Callable[[str], None], force: bool = False) -> Iterator[Diversion | None]:
    """Send descriptor 2 to ``log_path`` and ``on_line`` for the duration.

    Only when descriptor 2 is a terminal (or ``force``): output the user
    redirected to a file is left alone, and ``None`` is yielded.
    """
    try:
        is_tty = os.isatty(2)
    except OSError:
        is_tty = False
    if not (is_tty or force):
        yield None
        return
    with contextlib.suppress(Exception):
        sys.stderr.flush()
    saved = os.dup(2)
    read_fd, write_fd = os.pipe()
    os.dup2(write_fd, 2)
    os.close(write_fd)
    diversion = Diversion(log_path=log_path)
    reader = threading.Thread(target=_pump, args=(read_fd, diversion, on_line), name="stderr-diversion", daemon=True)
    reader.start()
    try:
        yield diversion
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        # Fetch processes that still hold the pipe keep the reader going; they
        # are being stopped, and the thread is a daemon, so wait only briefly.
        diversion._done.wait(0.5)


def _pump(read_fd: int, diversion: Diversion, on_line: Callable[[str], None]) -> None:
    log: BinaryIO | None = None
    pending = b""
    try:
        with os.fdopen(read_fd, "rb", buffering=0) as pipe:
            while True:
                chunk = pipe.read(65536)
                if not chunk:
                    break
                pending += chunk
                *complete, pending = pending.split(b"\n")
                if len(pending) > MAX_LINE:
                    complete.append(pending)
                    pending = b""
                for raw in complete:
                    log = _line(diversion, log, raw, on_line)
        if pending:
            log = _line(diversion, log, pending, on_line)
    finally:
        if log is not None:
            log.close()
        diversion._done.set()


def _line(diversion: Diversion, log: BinaryIO | None, raw: bytes, on_line: Callable[[str], None]) -> BinaryIO | None:
    log = _log(diversion, log, raw)
    text = inert(raw.decode("utf-8", "replace"))
    if text:
        diversion.lines += 1
        with contextlib.suppress(Exception):
            on_line(text)
    return log


def _log(diversion: Diversion, log: BinaryIO | None, raw: bytes) -> BinaryIO | None:
    """Append one line to the log file, opening it on first use."""
    if diversion.log_error:
        return log
    try:
        if log is None:
            # In the private state directory, 0600, never through a symbolic link.
            log = os.fdopen(safefile.open_append(diversion.log_path), "ab")  # noqa: SIM115 - kept open for the session
        log.write(raw + b"\n")
        log.flush()
    except OSError as exc:
        diversion.log_error = f"{diversion.log_path}: {exc.strerror}"
    return log


__all__ = ["Diversion", "divert_stderr"]
