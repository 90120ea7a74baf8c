"""The monitor without a screen: the system streams a recording to a file or stdout (``--record -``)."""

from __future__ import annotations

import contextlib
import errno
import os
import select
import signal
import stat
import sys
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from arr_actors.recording.lines import stream_fd
from arr_actors.recording.recorder import Recorder

if TYPE_CHECKING:
    from arr_actors.config import Settings

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def record_headless(
    settings: Settings,
    *,
    out: IO[bytes] | None = None,
    start_system: Callable[[Any], Any],
) -> int:
    """Run the system with only a recorder subscribed, streaming to ``out`` until stopped.

    Stops on SIGINT, SIGTERM, SIGHUP or when the reader of ``out`` goes away
    (a closed pipe is how a remote viewer quits: it is a clean exit, status 0).
    Returns 1 when the output failed for another reason (e.g. a full disk).
    Must be called from the main thread (it installs signal handlers).
    """
    out = sys.stdout.buffer if out is None else out
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    failure_byte = b"F"

    def on_failure(exc: OSError) -> None:
        with contextlib.suppress(OSError):
            os.write(wake_w, failure_byte)

    previous = {sig: signal.getsignal(sig) for sig in _STOP_SIGNALS}
    previous_wakeup = -1
    out_fd: int | None = None
    recorder: Recorder | None = None
    system: Any = None
    try:
        # The handlers do nothing themselves: the wakeup fd carries the signal number
        # to the poll below, which is the only place that decides to stop.
        for sig in _STOP_SIGNALS:
            signal.signal(sig, lambda *_: None)
        previous_wakeup = signal.set_wakeup_fd(wake_w, warn_on_full_buffer=False)
        recorder = Recorder(out, settings, on_failure=on_failure)
        system = start_system(recorder)
        poller = select.poll()
        poller.register(wake_r, select.POLLIN)
        out_fd = _pipe_fd(out)
        if out_fd is not None:
            # No events requested: poll still reports POLLERR/POLLHUP when the reader closes.
            poller.register(out_fd, 0)
        stopping = False
        while not stopping:
            for fd, _events in poller.poll():
                if fd == wake_r:
                    data = os.read(wake_r, 64)
                    stopping = stopping or failure_byte in data or any(sig in data for sig in _STOP_SIGNALS)
                else:
                    stopping = True
    finally:
        if system is not None:
            system.stop()
        if recorder is not None:
            recorder.stop()
        signal.set_wakeup_fd(previous_wakeup)
        for sig, handler in previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        os.close(wake_r)
        os.close(wake_w)
    failure = recorder.failure if recorder is not None else None
    if failure is None and out_fd is not None and _reader_gone(out_fd):
        failure = BrokenPipeError(errno.EPIPE, "reader closed the pipe")
    if failure is None:
        return 0
    if failure.errno in (errno.EPIPE, errno.ECONNRESET) or isinstance(failure, BrokenPipeError):
        silence(out)
        return 0
    print(f"arr_actors: recording stopped: {failure.strerror or failure}", file=sys.stderr)
    return 1


def _pipe_fd(out: IO[bytes]) -> int | None:
    """The fd of ``out`` if it is a pipe or socket (where a vanished reader can be seen)."""
    fd = stream_fd(out)
    if fd is None:
        return None
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return None
    return fd if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) else None


def _reader_gone(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, 0)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


def silence(out: IO[Any]) -> None:
    """Point a dead output at /dev/null so flushing it at exit cannot raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass
