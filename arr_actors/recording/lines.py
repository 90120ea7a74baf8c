"""Lines of a recording stream, each of bounded length, from a file, a pipe or a file being written.

The reader keeps at most one line (and one chunk) in memory, so a recording of
any size is read in bounded memory; a line that is too long or cut off at the
end is reported as a problem instead of data, and reading goes on.
"""

from __future__ import annotations

import contextlib
import os
import select
import stat
import threading
from collections.abc import Iterator
from typing import IO, NamedTuple

TRUNCATED = "truncated (the recording ends in the middle of this line)"


class Line(NamedTuple):
    """One line of a stream, or the reason it could not be read."""

    number: int
    data: bytes  # without the newline
    problem: str  # non-empty: the line is unusable for this reason


class LineReader:
    """Lines of a binary stream, each at most ``max_line`` bytes, in constant memory.

    Without ``follow`` the stream ends at end of file (a pipe ends when its
    writer closes it). With ``follow`` a regular file is watched for new lines
    until stopped: there is nothing to wait on for a file that another process
    appends to, so it is checked every ``poll_s`` seconds.

    A pipe, socket or terminal is read through its descriptor with ``select``
    on it and on a wake-up pipe, so :meth:`interrupt` ends a read that is
    waiting for a writer that may never write again (a buffered ``readline``
    cannot be interrupted, and closing its file would wait for it).
    """

    CHUNK = 64 * 1024

    def __init__(
        self,
        stream: IO[bytes],
        *,
        follow: bool,
        poll_s: float,
        stop: threading.Event | None,
        max_line: int,
    ) -> None:
        self._stream = stream
        self._fd = stream_fd(stream)
        mode = os.fstat(self._fd).st_mode if self._fd is not None else 0
        self._regular = stat.S_ISREG(mode)
        self._follow = follow and self._regular
        self._poll_s = poll_s
        self._stop = stop or threading.Event()
        self._max_line = max_line
        self._wake_lock = threading.Lock()
        self._wake: tuple[int, int] | None = None
        if self._fd is not None and not self._regular:
            self._wake = os.pipe()
            os.set_blocking(self._wake[1], False)
        self.number = 0

    def interrupt(self) -> None:
        """Stop reading: the iteration ends at once, even in the middle of a wait."""
        self._stop.set()
        with self._wake_lock:
            if self._wake is not None:
                with contextlib.suppress(BlockingIOError):  # already full: the reader wakes anyway
                    os.write(self._wake[1], b"x")

    def __iter__(self) -> Iterator[Line]:
        if self._fd is None or self._wake is None:
            yield from self._buffered_lines()
            return
        try:
            yield from self._fd_lines(self._fd, self._wake[0])
        finally:
            with self._wake_lock:
                if self._wake is not None:
                    for fd in self._wake:
                        os.close(fd)
                    self._wake = None

    def _line(self, data: bytes, problem: str = "") -> Line:
        self.number += 1
        return Line(self.number, data.rstrip(b"\r") if not problem else b"", problem)

    def _too_long(self) -> Line:
        return self._line(b"", f"longer than {self._max_line} bytes")

    def _at_end(self, *, too_long: bool, partial: bool) -> Iterator[Line]:
        """What is left when the stream ends: a line cut short is reported, never taken as data."""
        if too_long:
            yield self._too_long()
        elif partial:
            yield self._line(b"", TRUNCATED)

    def _buffered_lines(self) -> Iterator[Line]:
        """A regular file (or an in-memory stream): readline never waits on anyone."""
        partial = b""
        too_long = False
        while not self._stop.is_set():
            chunk = self._stream.readline(self._max_line + 1 - len(partial))
            if not chunk:
                if self._follow:
                    if self._truncated():
                        # The writer started over (e.g. a new --record run to the same file).
                        self._stream.seek(0)
                        partial, too_long = b"", False
                        self.number = 0
                        continue
                    self._stop.wait(self._poll_s)
                    continue
                yield from self._at_end(too_long=too_long, partial=bool(partial))
                return
            if too_long:
                if chunk.endswith(b"\n"):
                    too_long = False
                    yield self._too_long()
                continue
            if not chunk.endswith(b"\n"):
                partial += chunk
                if len(partial) > self._max_line:
                    partial, too_long = b"", True
                continue
            data = (partial + chunk)[:-1]
            partial = b""
            yield self._line(data)

    def _fd_lines(self, fd: int, wake: int) -> Iterator[Line]:
        """A pipe, socket or terminal: wait for data or an interrupt, whichever comes first."""
        buffer = bytearray()
        too_long = False
        while not self._stop.is_set():
            ready, _, _ = select.select([fd, wake], [], [])
            if wake in ready or self._stop.is_set():
                return
            chunk = os.read(fd, self.CHUNK)
            if not chunk:
                yield from self._at_end(too_long=too_long, partial=bool(buffer))
                return
            start = len(buffer)
            buffer += chunk
            while True:
                newline = buffer.find(b"\n", start)
                if newline < 0:
                    break
                if too_long:
                    too_long = False
                    yield self._too_long()
                elif newline > self._max_line:
                    yield self._too_long()
                else:
                    yield self._line(bytes(buffer[:newline]))
                del buffer[: newline + 1]
                start = 0
            if len(buffer) > self._max_line:
                buffer.clear()
                too_long = True

    def _truncated(self) -> bool:
        try:
            return os.fstat(self._stream.fileno()).st_size < self._stream.tell()
        except (OSError, ValueError):
            return False


def stream_fd(stream: IO[bytes]) -> int | None:
    """The stream's descriptor, or None for an in-memory stream."""
    try:
        return stream.fileno()
    except (OSError, ValueError, AttributeError):
        return None
