"""The UI actor: a pykka actor whose mailbox is drained inside the urwid loop.

Design. urwid is single-threaded: widgets, alarms and the screen may only be
touched from the thread running ``MainLoop``. pykka's ``ThreadingActor`` would
run our handlers on a thread of its own, which would then have to hand every
change over to the loop (``call_from_thread`` or a lock), so instead
``UiActor`` is a pykka ``Actor`` with no thread at all:

* its inbox (``LoopInbox``) is a plain queue whose ``put`` also writes one wake
  byte into a pipe made by ``MainLoop.watch_pipe``. A flag keeps a burst of
  messages to one byte: the first ``put`` after a drain writes, the rest see
  the flag and only enqueue;
* the loop calls ``drain`` when the byte arrives. ``drain`` clears the flag
  *before* emptying the queue (so a message enqueued during the drain writes a
  fresh byte and is never stranded), handles every pending message through
  pykka's own dispatch (``tell``, ``ask``, proxies and stop all work), folds
  them into the immutable ``UiState`` and invalidates the screen once: urwid
  redraws once on its way back to idle.

So the only things other threads ever do are ``queue.put`` and ``os.write`` on
a non-blocking pipe; every handler, every widget change and every alarm runs on
the loop thread. Senders hold an ordinary ``ActorRef`` and call ``tell``.

The actor also owns the key handling (``keypress``), turning keys into
commands for the system, and the one alarm that animates spinners and ticks
clocks: ~8 per second only while a fetch is in flight, once a second while
something on screen counts, and none when nothing moves. An alarm redraws
only when the screen would read differently (one redraw of a 200x50 screen
costs about a millisecond of CPU; ``scripts/bench.py`` measures it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pykka
import urwid
from pykka import ActorRegistry

from arr_actors_ui import model, screen
from arr_actors_ui.context import RenderContext
from arr_actors_ui.effects import Effects
from arr_actors_ui.model import UiState
from arr_actors_ui.widget import MonitorWidget

if TYPE_CHECKING:
    from pykka._envelope import Envelope

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class QuitRequested:
    """Leave the loop (sent by signal handlers and by anyone holding the ref)."""

    reason: str = ""


class LoopInbox:
    """A pykka inbox that wakes the urwid loop when a message arrives.

    ``get`` never blocks: only ``UiActor.drain`` calls it, on the loop thread,
    after a wake byte said there is something to read.
    """

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Envelope[Any]] = queue.SimpleQueue()
        # Reentrant: a signal handler runs on the loop thread and may put()
        # while that thread is inside connect()/disconnect().
        self._fd_lock = threading.RLock()
        self._fd: int | None = None
        self._armed = False
        self.wakes = 0  # wake bytes written, for tests and diagnostics

    def put(self, envelope: Envelope[Any], /) -> None:
        self._queue.put(envelope)
        self._wake()

    def get(self) -> Envelope[Any]:
        return self._queue.get_nowait()

    def empty(self) -> bool:
        return self._queue.empty()

    def connect(self, fd: int) -> None:
        """Start waking the loop through ``fd`` (the write end of a watched pipe)."""
        os.set_blocking(fd, False)
        with self._fd_lock:
            self._fd = fd
            self._armed = False
        if not self.empty():
            self._wake()

    def disconnect(self) -> None:
        """Stop writing wake bytes (the loop is gone); messages still queue up."""
        with self._fd_lock:
            self._fd = None

    def begin_drain(self) -> None:
        """Called by the drainer before it empties the queue."""
        self._armed = False

    def _wake(self) -> None:
        # A racy check is fine: under the GIL two senders can at worst both
        # write, and an extra byte only costs an empty drain.
        if self._armed:
            return
        self._armed = True
        with self._fd_lock:
            if self._fd is None:
                return
            try:
                os.write(self._fd, b"\x00")
                self.wakes += 1
            except BlockingIOError:
                pass  # the pipe is full of wake bytes: the loop will wake anyway
            except OSError:
                self._fd = None


class UiActor(pykka.Actor):
    """Holds the UI state; receives TableSnapshot, FetchStarted, Notice and
    PauseChanged; sends RefreshRequest and SetPaused to the system."""

    @staticmethod
    def _create_actor_inbox() -> LoopInbox:
        return LoopInbox()

    @staticmethod
    def _create_future() -> pykka.Future[Any]:
        return pykka.ThreadingFuture()

    def _start_actor_loop(self) -> None:
        """Nothing to start: the urwid loop runs this actor through ``drain``."""

    actor_inbox: LoopInbox

    def __init__(
        self,
        ctx: RenderContext,
        *,
        clock: Callable[[], float] = time.time,
        state: UiState | None = None,
        effects: Effects | None = None,
    ) -> None:
        super().__init__()
        self.ctx = ctx
        self.clock = clock
        self.state = state or UiState()
        self.effects = effects or Effects()
        self.system: Any = None
        self.quit_reason: str | None = None
        self.drains = 0  # drains that handled at least one message
        self.skipped_redraws = 0  # alarms after which the screen would have read the same
        self.widget = MonitorWidget(self)
        self._loop: urwid.MainLoop | None = None
        self._wake_fd: int | None = None
        self._alarm: Any = None
        self._alarm_due = 0.0
        # Run once the first frame is on the terminal (None: it is already).
        self._after_first_frame: list[Callable[[], None]] | None = []
        self._soon: list[Callable[[], None]] = []
        self._soon_alarm: Any = None

    @classmethod
    def open(cls, ctx: RenderContext, **kwargs: Any) -> UiActor:
        """Create and register the actor (``start`` without a thread).

        Returns the actor itself, for the loop; senders use ``.actor_ref``.
        """
        actor = cls(ctx, **kwargs)
        ActorRegistry.register(actor.actor_ref)
        return actor

    # ------------------------------------------------------------ the loop

    def attach(self, loop: urwid.MainLoop) -> None:
        """Wake ``loop`` for every burst of messages (called on the loop thread)."""
        self._loop = loop
        self.effects.attach(_screen_writer(loop.screen))
        self._wake_fd = loop.watch_pipe(self._on_wake)
        self.actor_inbox.connect(self._wake_fd)
        self._schedule()

    def detach(self) -> None:
        """Forget the loop: no more wake bytes or alarms. Messages still queue."""
        self.actor_inbox.disconnect()
        self.effects.attach(None)
        if self._loop is not None:
            if self._alarm is not None:
                self._loop.remove_alarm(self._alarm)
                self._alarm = None
            if self._soon_alarm is not None:
                self._loop.remove_alarm(self._soon_alarm)
                self._soon_alarm = None
            if self._wake_fd is not None:
                self._loop.remove_watch_pipe(self._wake_fd)
                with contextlib.suppress(OSError):
                    os.close(self._wake_fd)
        self._wake_fd = None
        self._loop = None

    def after_first_frame(self, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the loop thread once the first frame is on the terminal.

        For work the screen starts behind itself (the system, preloads): a thread
        started before the first frame takes turns with the loop thread for the
        interpreter lock and delays that frame. Runs it soon if the frame is drawn already.
        """
        if self._after_first_frame is not None:
            self._after_first_frame.append(callback)
        else:
            self._run_soon([callback])

    def first_frame_drawn(self) -> None:
        """The first frame was rendered: its callbacks run once it is written (next loop pass)."""
        callbacks, self._after_first_frame = self._after_first_frame, None
        if callbacks:
            self._run_soon(callbacks)

    def _run_soon(self, callbacks: list[Callable[[], None]]) -> None:
        if self._loop is None:  # drawn without a loop (tests): nothing to wait for
            for callback in callbacks:
                callback()
            return
        self._soon.extend(callbacks)
        if self._soon_alarm is None:
            # An alarm set while drawing runs on the loop's next pass, after the frame was written.
            self._soon_alarm = self._loop.set_alarm_in(0, self._on_soon)

    def _on_soon(self, _loop: Any, _data: Any) -> None:
        self._soon_alarm = None
        callbacks, self._soon = self._soon, []
        for callback in callbacks:
            callback()

    def _on_wake(self, data: bytes) -> bool:
        self.drain()
        if self.quit_reason is not None:
            raise urwid.ExitMainLoop
        return True

    def drain(self) -> int:
        """Handle every pending message, then ask for one redraw. Returns how many."""
        self.actor_inbox.begin_drain()
        handled = 0
        while not self.actor_stopped.is_set():
            try:
                envelope = self.actor_inbox.get()
            except queue.Empty:
                break
            handled += 1
            self._deliver(envelope)
        if handled:
            self.drains += 1
            self._changed()
        return handled

    def _deliver(self, envelope: Envelope[Any]) -> None:
        try:
            response = self._handle_receive(envelope.message)
        except Exception as exc:
            # One bad message must not take the screen down: show it, go on.
            logger.debug("message %r failed", envelope.message, exc_info=True)
            if envelope.reply_to is not None:
                envelope.reply_to.set_exception()
            else:
                self.state = model.add_toast(
                    self.state, f"display error: {type(exc).__name__}: {exc}", level="error", now=self.clock()
                )
            return
        if envelope.reply_to is not None:
            envelope.reply_to.set(response)

    def on_receive(self, message: Any) -> Any:
        if isinstance(message, QuitRequested):
            self.quit_reason = message.reason or "quit"
            return None
        self.state, rung = model.take_alerts(model.receive(self.state, message, now=self.clock()))
        if rung:
            self.effects.bell()  # once for a burst
        for alert in rung:
            self.effects.notify(f"arr_actors: {alert.table} failed", alert.text)
        return None

    def on_stop(self) -> None:
        # Asked to stop by pykka (ActorRegistry.stop_all, ref.stop): without
        # this actor there is no screen, so leave the loop.
        if self.quit_reason is None:
            self.quit_reason = "stopped"

    def _changed(self) -> None:
        self.widget.changed()
        self._schedule()

    def _schedule(self) -> None:
        """Keep exactly one alarm, due when the screen next changes by itself."""
        if self._loop is None:
            return
        now = self.clock()
        interval = screen.wakeup_interval(self.state, now=now)
        if interval is None:
            if self._alarm is not None:
                self._loop.remove_alarm(self._alarm)
                self._alarm = None
            return
        # Align to the tick so frames and second counters change on time.
        due = (int(now / interval) + 1) * interval
        if self._alarm is not None:
            if self._alarm_due <= due + 1e-3:
                return
            self._loop.remove_alarm(self._alarm)
        self._alarm_due = due
        self._alarm = self._loop.set_alarm_in(max(0.0, due - now), self._on_alarm)

    def _on_alarm(self, _loop: Any, _data: Any) -> None:
        self._alarm = None
        now = self.clock()
        live = model.live_toasts(self.state, now)
        if live != self.state.toasts:
            self.state = self.state.replace(toasts=live)
        # The alarm says something *may* have moved (a second passed); redraw
        # only if the screen now reads differently: a runtime that ticked or an
        # age whose text changed does, an age still saying "3 min ago" does not.
        if self.widget.looks_different(now):
            self.widget.changed()
        else:
            self.skipped_redraws += 1
        self._schedule()

    @property
    def next_wakeup(self) -> float | None:
        """When the alarm is due (epoch seconds), or None when nothing is scheduled."""
        return self._alarm_due if self._alarm is not None else None

    # ----------------------------------------------------------- keys out

    def keypress(self, size: tuple[int, int], key: str) -> str | None:
        # Not needed to draw: imported after the first frame (the screen loads it then, see ui.app).
        from arr_actors_ui import keypress

        now = self.clock()
        measured = screen.measure(self.state, now=now, size=size, ctx=self.ctx)
        state, commands, handled = keypress.press(
            self.state,
            key,
            now=now,
            page=measured.page,
            detail_max_scroll=measured.detail_max_scroll,
            help_max_scroll=measured.help_max_scroll,
            log_rows=measured.log_rows,
        )
        self.state = state
        for command in commands:
            if isinstance(command, model.Quit):
                self.quit_reason = "quit"
                raise urwid.ExitMainLoop
            self._send(command)
        if handled:
            self._changed()
            return None
        return key

    def _send(self, command: object) -> None:
        if isinstance(command, model.Copy):
            self.effects.copy(command.text)
            return
        if isinstance(command, model.SaveLog):
            self._save_log(command)
            return
        if self.system is None:
            return
        try:
            self.system.tell(command)
        except Exception as exc:
            self.state = model.add_toast(
                self.state, f"could not send {type(command).__name__}: {exc}", level="error", now=self.clock()
            )

    def _save_log(self, command: model.SaveLog) -> None:
        """Write the log view's lines to a new file in the working directory (never over one)."""
        now = self.clock()
        try:
            with open(command.path, "x", encoding="utf-8") as out:
                out.write(command.text)
        except OSError as exc:
            text = f"could not save the log to {command.path}: {exc.strerror or exc}"
            self.state = model.add_toast(self.state, text, level="error", now=now)
            return
        lines = command.text.count("\n")
        where = os.path.abspath(command.path)
        self.state = model.add_toast(self.state, f"saved {lines} lines to {where}", now=now, whole=True)

    # ------------------------------------------------------------ the end

    def finish(self) -> None:
        """Stop as a pykka actor: later ``tell``s raise ActorDeadError and
        pending ``ask``s are answered with it (loop thread, after the loop)."""
        if not self.actor_stopped.is_set():
            self._stop()
        self._actor_loop_teardown()


def _screen_writer(display: Any) -> Callable[[str], None] | None:
    """Write and flush through the screen's own output (None: a screen without one, in tests)."""
    write = getattr(display, "write", None)
    flush = getattr(display, "flush", None)
    if write is None or flush is None:
        return None

    def out(data: str) -> None:
        write(data)
        flush()

    return out


__all__ = ["LoopInbox", "QuitRequested", "UiActor"]
