"""Playing a recording back: each message when its time comes, at a chosen speed, with pause.

The player is the replay's "system": the screen subscribes to it as it would to
the runtime, and it answers the pause command the screen sends.
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable
from typing import Any, NamedTuple

from arr_actors.messages import MAX_EPOCH, Notice, PauseChanged, PlaybackEnded, SetPaused
from arr_actors.recording.format import Skipped
from arr_actors.recording.reader import Recording

#: The longest single wait of the player thread (it waits again if need be).
MAX_WAIT_S = 3600.0


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
            # Still a moment the screen can show (the codec's range), however far the shift.
            changes[f.name] = min(max(value + delta, 0.0), MAX_EPOCH)
        elif isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
            changes[f.name] = tuple(shift_times(v, delta) for v in value)
    return dataclasses.replace(message, **changes) if changes else message


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
                # Waits longer than a timer can hold overflow; waking once an hour costs nothing.
                self._cond.wait(min(remaining, MAX_WAIT_S))
        return False

    def _play(self) -> None:
        recording = self._recording
        origin = self._origin
        last_t = 0.0
        try:
            for item in recording:
                if isinstance(item, Skipped):
                    self._notify(item.text, level="warning")
                    continue
                if not self._wait_until(item.t):
                    return
                message = item.message
                if self._shift and origin is not None:
                    message = shift_times(message, self._wall_clock() - (origin + item.t))
                self._subscriber.tell(message)
                self.delivered += 1
                last_t = item.t
            if not self._stop_event.is_set():
                skipped = f", {recording.skipped} lines skipped" if recording.skipped else ""
                self._notify(f"end of recording ({recording.entries} messages{skipped})")
                # The moment of the last message, on the clock the screen shows:
                # its ages stop there (the notices' clock goes on).
                last = origin + last_t if origin is not None else self._wall_clock()
                if self._shift and origin is not None:
                    last += self._wall_clock() - (origin + self.position())
                self._subscriber.tell(PlaybackEnded(at=last))
        except OSError as exc:
            self._notify(f"reading stopped: {exc.strerror or exc}", level="error")
        except Exception as exc:  # noqa: BLE001 - the screen must learn why no more lines come
            self._notify(f"replay stopped: {type(exc).__name__}: {exc}", level="error")
        finally:
            self.finished.set()

    def _notify(self, text: str, *, level: str = "info") -> None:
        """Tell the screen about the replay itself, at the time the screen shows."""
        at = self._wall_clock() if self._shift else self.clock()
        self._subscriber.tell(Notice(text=f"{self._label}: {text}", level=level, at=at))
