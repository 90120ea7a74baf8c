"""Recordings: every message the screen receives, as JSON lines.

A recording is a header line followed by one line per UI message::

    {"kind": "arr_actors-recording", "schema": 1, "started_at": "2024-05-01T09:30:00+00:00", "settings": {...}}
    {"t": 0.412, "message": {"type": "FetchStarted", "table": "builds", ...}}
    {"t": 1.873, "message": {"type": "TableSnapshot", "table": "builds", ...}}

``t`` is seconds since the recording started; messages use the codec in
:mod:`arr_actors.messages` (data only, never pickle). The reader streams line by
line with a cap on the line length, so a recording of any size is read in
bounded memory, and it reports bad lines instead of giving up: a damaged line is
skipped with a warning naming its number. Only a stream that is not a recording
at all, or one written by a newer version, is refused.

This module needs only the standard library and the message types, so
``scripts/replay.py`` can run on a host without any cloud library.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import errno
import json
import math
import os
import queue
import select
import signal
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, TYPE_CHECKING, Any, NamedTuple

from arr_actors.messages import (
    UI_MESSAGE_TYPES,
    CodecError,
    Notice,
    PauseChanged,
    SetPaused,
    TableSnapshot,
    decode,
    encode,
)

if TYPE_CHECKING:
    from arr_actors.config import Settings

RECORDING_KIND = "arr_actors-recording"
RECORDING_SCHEMA = 1

#: Longest line the reader accepts. A snapshot is capped by max_result_bytes
#: (8 MiB by default) in the runtime; its JSON is a few times that at most.
MAX_LINE_BYTES = 64 * 1024 * 1024

#: Messages a recorder holds while its output is slower than the runtime.
#: Past this, messages are dropped (and the drop is written as a notice):
#: a stalled SSH pipe must not grow the monitor's memory without bound.
QUEUE_LIMIT = 10_000

#: How often a followed file is checked for new lines.
FOLLOW_POLL_S = 0.2

HOW_TO_RECORD = "record one with: python -m arr_actors --record FILE"


class RecordingError(Exception):
    """The stream is not a recording this program can read; the text says why and what to do."""


# ------------------------------------------------------------------ values


@dataclass(frozen=True, slots=True)
class Header:
    """The first line of a recording."""

    schema: int
    started_at: str  # ISO 8601, as written
    started_epoch: float | None  # the same moment as epoch seconds, None if unparsable
    settings: Mapping[str, Any] = field(default_factory=dict)


class Entry(NamedTuple):
    """One recorded message, ``t`` seconds after the recording started."""

    t: float
    message: Any
    line: int


class Skipped(NamedTuple):
    """A line that could not be used; replay goes on without it."""

    line: int
    reason: str

    @property
    def text(self) -> str:
        return f"line {self.line} skipped: {self.reason}"


# ------------------------------------------------------------------ format


def iso8601(epoch: float) -> str:
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.UTC).isoformat(timespec="milliseconds")


def header_document(settings: Settings, *, started_at: float) -> dict[str, Any]:
    return {
        "kind": RECORDING_KIND,
        "schema": RECORDING_SCHEMA,
        "started_at": iso8601(started_at),
        "settings": settings.summary(),
    }


def _dump(doc: Any) -> bytes:
    return (json.dumps(doc, separators=(",", ":"), ensure_ascii=False, allow_nan=False) + "\n").encode()


def encode_header(settings: Settings, *, started_at: float) -> bytes:
    """The header line, newline included."""
    return _dump(header_document(settings, started_at=started_at))


def encode_entry(t: float, message: Any) -> bytes:
    """One message line, newline included. CodecError if the message cannot be encoded."""
    return _dump({"t": round(max(t, 0.0), 3), "message": encode(message)})


def parse_header(line: bytes) -> Header:
    """The header a first line holds; RecordingError if it is not a readable recording header."""
    not_recording = f"not an arr_actors recording (its first line is not a recording header); {HOW_TO_RECORD}"
    try:
        doc = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        raise RecordingError(not_recording) from None
    if not isinstance(doc, dict) or doc.get("kind") != RECORDING_KIND:
        raise RecordingError(not_recording)
    schema = doc.get("schema")
    if isinstance(schema, bool) or not isinstance(schema, int) or schema < 1:
        raise RecordingError(f"recording header: 'schema' must be a positive integer, got {schema!r}")
    if schema > RECORDING_SCHEMA:
        raise RecordingError(
            f"recording schema {schema} is newer than this program understands ({RECORDING_SCHEMA}); "
            "upgrade arr_actors to replay it"
        )
    started_at = doc.get("started_at")
    if not isinstance(started_at, str):
        started_at = ""
    try:
        started_epoch: float | None = datetime.datetime.fromisoformat(started_at).timestamp()
    except ValueError:
        started_epoch = None
    settings = doc.get("settings")
    return Header(
        schema=schema,
        started_at=started_at,
        started_epoch=started_epoch,
        settings=settings if isinstance(settings, dict) else {},
    )


def parse_entry(line: bytes, *, number: int) -> Entry:
    """One message line; CodecError saying what is wrong with it."""
    try:
        doc = json.loads(line)
    except UnicodeDecodeError:
        raise CodecError("not UTF-8 text") from None
    except ValueError as exc:
        raise CodecError(f"not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise CodecError(f"expected a JSON object, got {type(doc).__name__}")
    unknown = set(doc) - {"t", "message"}
    if unknown:
        raise CodecError(f"unknown field(s) {', '.join(sorted(unknown))}")
    t = doc.get("t")
    if isinstance(t, bool) or not isinstance(t, (int, float)) or not math.isfinite(t) or t < 0:
        raise CodecError(f"'t' must be a number of seconds of 0 or more, got {t!r}")
    if "message" not in doc:
        raise CodecError("missing 'message'")
    message = decode(doc["message"], expect=UI_MESSAGE_TYPES)
    return Entry(t=float(t), message=message, line=number)


def shift_times(message: Any, delta: float) -> Any:
    """``message`` with every moment in it (fields ``at`` and ``*_at``) moved by ``delta`` seconds.

    A replay shows a recording as if it were happening now: ages, runtimes and
    spinners then read exactly as they did live. Durations are not moments and
    stay as they are; unset moments (None, 0) stay unset.
    """
    if delta == 0 or not dataclasses.is_dataclass(message) or isinstance(message, type):
        return message
    changes: dict[str, Any] = {}
    for f in dataclasses.fields(message):
        value = getattr(message, f.name)
        if (f.name == "at" or f.name.endswith("_at")) and isinstance(value, float) and value > 0:
            changes[f.name] = value + delta
        elif isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
            changes[f.name] = tuple(shift_times(v, delta) for v in value)
    return dataclasses.replace(message, **changes) if changes else message


def _is_header(line: bytes) -> bool:
    try:
        doc = json.loads(line)
    except (ValueError, UnicodeDecodeError):
        return False
    return isinstance(doc, dict) and doc.get("kind") == RECORDING_KIND


# ------------------------------------------------------------------ reading


class _Line(NamedTuple):
    number: int
    data: bytes  # without the newline
    problem: str  # non-empty: the line is unusable for this reason


class _LineReader:
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
        self._fd = _stream_fd(stream)
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

    def __iter__(self) -> Iterator[_Line]:
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

    def _line(self, data: bytes, problem: str = "") -> _Line:
        self.number += 1
        return _Line(self.number, data.rstrip(b"\r") if not problem else b"", problem)

    def _too_long(self) -> _Line:
        return self._line(b"", f"longer than {self._max_line} bytes")

    def _buffered_lines(self) -> Iterator[_Line]:
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
                if too_long:
                    yield self._too_long()
                elif partial:
                    yield self._line(b"", TRUNCATED)
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

    def _fd_lines(self, fd: int, wake: int) -> Iterator[_Line]:
        """A pipe, socket or terminal: wait for data or an interrupt, whichever comes first."""
        buffer = bytearray()
        too_long = False
        while not self._stop.is_set():
            ready, _, _ = select.select([fd, wake], [], [])
            if wake in ready or self._stop.is_set():
                return
            chunk = os.read(fd, self.CHUNK)
            if not chunk:
                if too_long:
                    yield self._too_long()
                elif buffer:
                    yield self._line(b"", TRUNCATED)
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


TRUNCATED = "truncated (the recording ends in the middle of this line)"


def _stream_fd(stream: IO[bytes]) -> int | None:
    """The stream's descriptor, or None for an in-memory stream."""
    try:
        return stream.fileno()
    except (OSError, ValueError, AttributeError):
        return None


class Recording:
    """A recording being read: ``header``, then iterate for Entry and Skipped items.

    Counters (``entries``, ``skipped``) are updated as the iteration goes, so a
    caller can report them at the end.
    """

    def __init__(self, header: Header, reader: _LineReader, lines: Iterator[_Line]) -> None:
        self.header = header
        self._reader = reader
        self._lines = lines
        self.entries = 0
        self.skipped = 0

    def interrupt(self) -> None:
        """End the iteration (from another thread), even while it waits for a writer."""
        self._reader.interrupt()

    def __iter__(self) -> Iterator[Entry | Skipped]:
        for line in self._lines:
            if line.problem:
                self.skipped += 1
                yield Skipped(line.number, line.problem)
                continue
            if not line.data.strip():
                continue
            try:
                entry = parse_entry(line.data, number=line.number)
            except CodecError as exc:
                if line.number == 1 or _is_header(line.data):
                    continue  # a recording restarted in a followed file begins with a new header
                self.skipped += 1
                yield Skipped(line.number, str(exc))
                continue
            self.entries += 1
            yield entry


def read_recording(
    stream: IO[bytes],
    *,
    follow: bool = False,
    poll_s: float = FOLLOW_POLL_S,
    stop: threading.Event | None = None,
    max_line: int = MAX_LINE_BYTES,
) -> Recording:
    """Open a recording: read and check its header now, its messages while iterating.

    Raises RecordingError when the stream is empty, is not a recording, or uses
    a newer schema. Everything after the header is reported, never raised:
    iterating yields :class:`Entry` for each message and :class:`Skipped` for
    each line that could not be used (truncated, unknown type, bad field, ...).
    """
    reader = _LineReader(stream, follow=follow, poll_s=poll_s, stop=stop, max_line=max_line)
    lines = iter(reader)
    first = next(lines, None)
    if first is None:
        if stop is not None and stop.is_set():
            raise RecordingError("stopped before the recording's header arrived")
        raise RecordingError(f"empty input: a recording starts with a header line; {HOW_TO_RECORD}")
    if first.problem:
        raise RecordingError(f"not an arr_actors recording (first line {first.problem}); {HOW_TO_RECORD}")
    return Recording(parse_header(first.data), reader, lines)


def last_snapshots(items: Iterator[Entry | Skipped] | Recording) -> dict[str, TableSnapshot]:
    """The latest snapshot of each table in a recording (consumes the iterator)."""
    latest: dict[str, TableSnapshot] = {}
    for item in items:
        if isinstance(item, Entry) and isinstance(item.message, TableSnapshot):
            latest[item.message.table] = item.message
    return latest


# ------------------------------------------------------------------ replaying


class _Timing(NamedTuple):
    """Where playback stands: replay-clock moment of recording time 0, and of the pause (if paused)."""

    anchor: float
    paused_at: float | None


class Player:
    """Feeds a recording to a subscriber at its recorded pace: the replay's "system".

    Use it as ``start_system`` for the UI: calling it with the UI's subscriber
    starts a thread that tells each recorded message when its time comes (``t``
    divided by ``speed``). Lines that were skipped are shown as warning notices.
    ``SetPaused`` from the UI pauses playback; refresh requests have nothing to
    refresh and are ignored.

    Recorded messages carry the moments of the recording (fetched_at,
    created_at, ...). Give the screen :meth:`clock` as its "now" and it shows
    them exactly as they looked live: ages, runtimes, spinners and clock times.
    A screen that reads the real time instead gets messages with their moments
    moved to the replay's time (``shift``): ages and spinners are right, clock
    times are those of the replay.

    ``live`` is for a recording still being written (a pipe from ``--record -``,
    a followed file): after a pause it catches up with the writer instead of
    staying behind by the length of the pause.
    """

    def __init__(
        self,
        recording: Recording,
        *,
        speed: float = 1.0,
        shift: bool = True,
        live: bool = False,
        label: str = "replay",
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        stop: threading.Event | None = None,
    ) -> None:
        if not speed > 0 or not math.isfinite(speed):
            raise ValueError(f"speed must be a number greater than 0, got {speed!r}")
        self._recording = recording
        self._speed = speed
        self._shift = shift
        self._live = live
        self._label = label
        self._monotonic = clock
        self._wall_clock = wall_clock
        self._origin = recording.header.started_epoch
        self._stop_event = stop or threading.Event()
        self._cond = threading.Condition()
        # Replaced as a whole (never mutated), so clock() reads it without a lock:
        # the screen calls clock() on its loop thread, which must never wait.
        self._timing = _Timing(anchor=clock(), paused_at=None)
        self._subscriber: Any = None
        self._thread: threading.Thread | None = None
        self.finished = threading.Event()
        self.delivered = 0

    def __call__(self, subscriber: Any) -> Player:
        self._subscriber = subscriber
        self._timing = _Timing(anchor=self._monotonic(), paused_at=None)
        self._thread = threading.Thread(target=self._play, name="replay", daemon=True)
        self._thread.start()
        return self

    def position(self) -> float:
        """Seconds of the recording played so far (it stands still while paused)."""
        timing = self._timing
        now = timing.paused_at if timing.paused_at is not None else self._monotonic()
        return max(0.0, (now - timing.anchor) * self._speed)

    def clock(self) -> float:
        """The recording's own time at the current playback position (epoch seconds)."""
        if self._origin is None:
            return self._wall_clock()
        return self._origin + self.position()

    def tell(self, command: Any) -> None:
        if not isinstance(command, SetPaused):
            return
        with self._cond:
            timing = self._timing
            if command.paused == (timing.paused_at is not None):
                return
            now = self._monotonic()
            paused_at = timing.paused_at
            if command.paused:
                self._timing = timing._replace(paused_at=now)
            elif self._live or paused_at is None:
                self._timing = timing._replace(paused_at=None)
            else:
                # The pause does not count as recording time.
                self._timing = _Timing(anchor=timing.anchor + now - paused_at, paused_at=None)
            self._cond.notify_all()
        if self._subscriber is not None:
            self._subscriber.tell(PauseChanged(paused=command.paused))

    def stop(self, *, timeout: float = 1.0) -> None:
        self._stop_event.set()
        self._recording.interrupt()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)

    def _wait_until(self, t: float) -> bool:
        """Wait until recording time ``t`` is due on the replay clock; False when stopping."""
        with self._cond:
            while not self._stop_event.is_set():
                timing = self._timing
                if timing.paused_at is not None:
                    self._cond.wait()  # tell() on resume and stop() both notify
                    continue
                remaining = timing.anchor + t / self._speed - self._monotonic()
                if remaining <= 0:
                    return True
                self._cond.wait(remaining)
        return False

    def _play(self) -> None:
        recording = self._recording
        origin = self._origin
        try:
            for item in recording:
                if isinstance(item, Skipped):
                    self._subscriber.tell(Notice(text=f"{self._label}: {item.text}", level="warning", at=self._now()))
                    continue
                if not self._wait_until(item.t):
                    return
                message = item.message
                if self._shift and origin is not None:
                    message = shift_times(message, self._wall_clock() - (origin + item.t))
                self._subscriber.tell(message)
                self.delivered += 1
            if not self._stop_event.is_set():
                skipped = f", {recording.skipped} lines skipped" if recording.skipped else ""
                text = f"{self._label}: end of recording ({recording.entries} messages{skipped})"
                self._subscriber.tell(Notice(text=text, at=self._now()))
        except OSError as exc:
            text = f"{self._label}: reading stopped: {exc.strerror or exc}"
            self._subscriber.tell(Notice(text=text, level="error", at=self._now()))
        finally:
            self.finished.set()

    def _now(self) -> float:
        return self._wall_clock() if self._shift else self.clock()


# ------------------------------------------------------------------ writing


_STOP = object()


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
        t = self._clock() - self._origin
        with self._lock:
            if self._stopping or self.failure is not None:
                return
            if self._queue.qsize() >= self._queue_limit:
                self._dropped += 1
                return
            self._queue.put((t, message))

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

    def _write(self, line: bytes) -> None:
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
        self.written += 1


# ------------------------------------------------------------------ headless


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
        _silence(out)
        return 0
    print(f"arr_actors: recording stopped: {failure.strerror or failure}", file=sys.stderr)
    return 1


def _pipe_fd(out: IO[bytes]) -> int | None:
    """The fd of ``out`` if it is a pipe or socket (where a vanished reader can be seen)."""
    try:
        fd = out.fileno()
        mode = os.fstat(fd).st_mode
    except (OSError, ValueError, AttributeError):
        return None
    return fd if stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode) else None


def _reader_gone(fd: int) -> bool:
    poller = select.poll()
    poller.register(fd, 0)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


def _silence(out: IO[bytes]) -> None:
    """Point a dead output at /dev/null so flushing it at exit cannot raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


__all__ = [
    "RECORDING_KIND",
    "RECORDING_SCHEMA",
    "MAX_LINE_BYTES",
    "RecordingError",
    "Header",
    "Entry",
    "Skipped",
    "Recording",
    "Recorder",
    "header_document",
    "encode_header",
    "encode_entry",
    "parse_header",
    "parse_entry",
    "read_recording",
    "last_snapshots",
    "shift_times",
    "Player",
    "record_headless",
]
