"""Recording: a subscriber that appends every message it is told to a recording, never blocking the sender."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from typing import IO, TYPE_CHECKING, Any

from arr_actors.messages import CodecError, LogPage, Notice
from arr_actors.recording.format import encode_entry, encode_header

if TYPE_CHECKING:
    from arr_actors.config import Settings

#: Messages a recorder holds while its output is slower than the runtime.
#: Past this, messages are dropped (and the drop is written as a notice):
#: a stalled SSH pipe must not grow the monitor's memory without bound.
QUEUE_LIMIT = 10_000

_STOP = object()

#: The line a heartbeat writes: blank, so every reader (old ones too) skips it.
HEARTBEAT = b"\n"


class Recorder:
    """A subscriber that appends every message it is told to a recording.

    ``tell`` only timestamps the message and queues it, so the runtime never
    waits for the disk or a slow pipe; a writer thread encodes and writes one
    line at a time, flushing each. ``stop`` writes what is queued and closes.
    If the output goes away (closed pipe, full disk), writing stops, ``failure``
    says why and ``on_failure`` is called once from the writer thread.
    """

    def __init__(
        self,
        out: IO[bytes],
        settings: Settings,
        *,
        close: bool = False,
        on_failure: Callable[[OSError], None] | None = None,
        queue_limit: int = QUEUE_LIMIT,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._out = out
        self._close = close
        self._on_failure = on_failure
        self._queue_limit = queue_limit
        self._clock = clock
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._dropped = 0
        self._stopping = False
        self.failure: OSError | None = None
        self.written = 0
        self._origin = clock()
        self._queue.put(encode_header(settings, started_at=wall_clock()))
        self._thread = threading.Thread(target=self._write_loop, name="recorder", daemon=True)
        self._thread.start()

    @classmethod
    def open(cls, path: str, settings: Settings, **kwargs: Any) -> Recorder:
        """Record to a file (replaced if it exists). OSError if it cannot be created."""
        fh = open(path, "wb")  # noqa: SIM115 - closed by stop()
        return cls(fh, settings, close=True, **kwargs)

    def tell(self, message: Any) -> None:
        if isinstance(message, LogPage):
            return  # a log view's pages are the live monitor's: a replay shows no log view
        t = self._clock() - self._origin
        with self._lock:
            if self._stopping or self.failure is not None:
                return
            if self._queue.qsize() >= self._queue_limit:
                self._dropped += 1
                return
            self._queue.put((t, message))

    def heartbeat(self) -> None:
        """Write an empty line (readers skip it) unless messages are waiting: it only proves the reader is there."""
        with self._lock:
            if self._stopping or self.failure is not None or not self._queue.empty():
                return
            self._queue.put(HEARTBEAT)

    def stop(self, *, timeout: float = 2.0) -> None:
        """Write what is queued, then close; returns within ``timeout`` even if the output is stuck."""
        with self._lock:
            if self._stopping:
                return
            self._stopping = True
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _take_dropped(self) -> int:
        with self._lock:
            dropped, self._dropped = self._dropped, 0
            return dropped

    def _write_loop(self) -> None:
        try:
            while True:
                item = self._queue.get()
                if item is _STOP:
                    break
                if self.failure is not None:
                    continue
                if item is HEARTBEAT:
                    self._write(item, count=False)
                    continue
                if isinstance(item, bytes):
                    self._write(item)
                    continue
                t, message = item
                try:
                    line = encode_entry(t, message)
                except CodecError:
                    continue  # not a message (or not encodable): nothing a replay could show
                self._write(line)
                dropped = self._take_dropped()
                if dropped:
                    notice = Notice(
                        text=f"recording: {dropped} messages dropped (the output was too slow)",
                        level="warning",
                        at=time.time(),
                    )
                    self._write(encode_entry(t, notice))
        finally:
            if self._close:
                with contextlib.suppress(OSError):
                    self._out.close()

    def _write(self, line: bytes, *, count: bool = True) -> None:
        if self.failure is not None:
            return
        try:
            self._out.write(line)
            self._out.flush()
        except OSError as exc:
            self.failure = exc
            if self._on_failure is not None:
                self._on_failure(exc)
            return
        if count:
            self.written += 1
