"""Run the monitor screen: build the screen and the UI actor, start the system, loop, stop.

``run`` owns the terminal for its whole life and gives it back in every case:
``q``, Ctrl-C, SIGTERM, SIGHUP (an SSH connection dropping) and a lost terminal
all leave the loop the same way, restore the terminal first and then stop the
system, which must take no more than two seconds.

Only light modules are imported here (urwid, pykka and our own message types):
the cloud and W&B libraries live in the system's child processes, so the first
frame shows before any of them loads.
"""

from __future__ import annotations

import contextlib
import importlib
import locale
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import urwid
from pykka import ActorDeadError, ActorRegistry

from arr_actors.inert import inert
from arr_actors.messages import Notice
from arr_actors_ui import model, palette
from arr_actors_ui.actor import QuitRequested, UiActor
from arr_actors_ui.context import RenderContext
from arr_actors_ui.effects import Effects
from arr_actors_ui.stderr import divert_stderr

if TYPE_CHECKING:
    from arr_actors.config import Settings

#: How long quitting waits for the system to stop before giving up on it.
STOP_TIMEOUT_S = 2.5
#: Where output written to descriptor 2 while the screen runs is kept (in state_dir).
STDERR_LOG = "monitor-stderr.log"

_QUIT_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGHUP", "SIGINT") if hasattr(signal, name))


def terminal_is_utf8(
    environ: Mapping[str, str] | None = None,
    *,
    utf8_mode: bool | None = None,
    encoding: str | None = None,
) -> bool:
    """Whether the locale says the terminal takes UTF-8 (else spinners, rules
    and ellipses go ASCII).

    Python switches its own UTF-8 mode on by itself under the C/POSIX locale;
    that says nothing about the terminal, so a UTF-8 mode nobody asked for
    (no PYTHONUTF8, no ``-X utf8``) counts as "not UTF-8".
    """
    env = os.environ if environ is None else environ
    if utf8_mode is None:
        utf8_mode = bool(sys.flags.utf8_mode)
    asked = bool(env.get("PYTHONUTF8")) or "utf8" in getattr(sys, "_xoptions", {})
    if utf8_mode and not asked:
        return False
    if encoding is None:
        encoding = urwid.util.detected_encoding or locale.getpreferredencoding(False) or ""
    return encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8mb4")


class MonoScreen(urwid.display.raw.Screen):
    """A raw screen for a terminal without colours: bold, underline and
    reverse only, and not one colour parameter in what it sends.

    urwid on a one-colour screen still writes "default colour" parameters
    (39, 49) into every attribute change; a monochrome terminal has no use for
    them (a real VT100 does not know them), and ``0`` resets colours anyway.
    """

    def _attrspec_to_escape(self, a: urwid.AttrSpec) -> str:
        return _without_colour(super()._attrspec_to_escape(a))


def _without_colour(sequence: str) -> str:
    """An SGR sequence without its default-colour parameters (39, 49)."""
    if not (sequence.startswith("\x1b[") and sequence.endswith("m")):
        return sequence
    params = [p for p in sequence[2:-1].split(";") if p not in ("39", "49")]
    return "\x1b[" + ";".join(params or ["0"]) + "m"


def make_screen(mode: str = "color", *, force: bool = False) -> urwid.display.raw.Screen:
    """A raw screen that asks the terminal nothing whose answer it would wait for.

    Bracketed paste and focus reporting are switched off outright, so the
    screen does not probe for them (one round trip fewer over slow SSH).
    ``mode`` is ``mono`` (one colour, see ``MonoScreen``) or ``color`` (as many
    colours as urwid finds; with ``force`` at least 16, for ``--color=always``
    on a terminal urwid takes for monochrome).
    """
    kind = MonoScreen if mode == "mono" else urwid.display.raw.Screen
    screen = kind(bracketed_paste_mode=False, focus_reporting=False)
    if mode == "mono":
        screen.set_terminal_properties(colors=1)
    elif force and screen.colors == 1:
        screen.set_terminal_properties(colors=16)
    return screen


def color_mode(choice: str) -> str:
    """``color`` or ``mono`` for this terminal and ``--color=choice``."""
    if choice == "auto" and palette.color_enabled():
        return palette.color_mode(choice, colors=palette.terminfo_colors())
    return palette.color_mode(choice)


def run(
    settings: Settings,
    *,
    start_system: Callable[[Any], Any],
    replay_label: str = "",
    initial_messages: Iterable[object] = (),
    screen: urwid.display.BaseScreen | None = None,
    divert: bool = False,
    clock: Callable[[], float] = time.time,
    color: str = "auto",
    notify: bool = False,
    read_only: bool = False,
) -> int:
    """Show the live tables until the user quits; returns the exit code.

    ``start_system(subscriber)`` is called once the first frame is on the
    terminal (commands from keys pressed before then are handed to it when it
    is); it must return an object with ``tell(command)`` and ``stop()``. The
    subscriber is the UI actor's ref: the system tells it snapshots and notices
    from any thread. ``initial_messages`` (e.g. a warm start) are in the first frame.
    ``screen`` replaces the terminal (tests); ``divert`` sends descriptor 2 to
    the notices and the log even when it is not a terminal (tests). ``clock``
    is the screen's "now" (a replay shows the recording at its own time).
    ``color`` is ``--color``: ``auto`` (what the terminal and ``NO_COLOR``
    say), ``always`` or ``never``.
    ``notify`` also sends alerts to the desktop with ``notify-send`` (where it
    exists); a replay never alerts. ``read_only`` (and a replay) disable every
    action, visibly.
    """
    utf8 = terminal_is_utf8()
    if not utf8:
        urwid.set_encoding("ascii")
    ctx = RenderContext(regions=len(settings.regions), ascii=not utf8, replay_label=replay_label)
    now = clock()
    state = model.UiState(
        started_at=now,
        alert_tables=frozenset(() if replay_label else settings.alerts.tables),
        logging_budget=settings.api.logging_reads_per_minute,
        log_max_lines=settings.api.log_max_lines,
        log_follow_s=settings.api.log_follow_s,
        actions_disabled="replay" if replay_label else ("read-only" if read_only else ""),
        replay=bool(replay_label),
        # Each table shows its `limit` rows and keeps its `history` for zoom to show.
        shown={key: policy.limit for key, policy in settings.tables},
    )
    actor = UiActor.open(ctx, clock=clock, state=state, effects=Effects(notify=notify))
    for message in initial_messages:
        actor.state = model.receive(actor.state, message, now=now)
    mode = color_mode(color)
    screen = screen or make_screen(mode, force=color == "always")
    loop = urwid.MainLoop(actor.widget, palette.entries(mode), screen=screen, handle_mouse=False)
    system: Any = None
    code = 0
    problems: list[str] = []  # reported once the terminal is ours again
    log_path = os.path.join(settings.paths.state_dir, STDERR_LOG)

    def stray_output(text: str) -> None:
        actor.actor_ref.tell(Notice(text=f"stderr: {text}", level="warning"))

    with (
        _quit_on_signals(actor),
        _log_to_notices(actor),
        divert_stderr(log_path, on_line=stray_output, force=divert) as diversion,
    ):
        early = _EarlyCommands()

        def start() -> None:
            nonlocal system, code
            try:
                system = start_system(actor.actor_ref)
            except Exception as exc:
                problems.append(f"could not start the refresh system: {type(exc).__name__}: {exc}")
                code = 1
                raise urwid.ExitMainLoop from None
            early.forward_to(system)
            actor.system = system
            # What the screen needs only later, loaded off the loop so that no key,
            # view or alert waits for it: key handling, the views the first frame
            # does not show, and the diagnostics registry the first alert and the
            # region health view classify notes with (0.2 s of regexes).
            threading.Thread(target=_preload, name="preload", daemon=True).start()

        try:
            actor.attach(loop)
            # The system starts once the first frame is on the terminal: its start-up
            # (imports on a thread of its own) would take turns with the first frame
            # for the interpreter lock. Keys pressed before then wait for it.
            actor.system = early
            actor.after_first_frame(start)
            try:
                loop.run()
            except OSError as exc:
                # The terminal went away (hangup) while drawing: nothing to show it on.
                if not actor.quit_reason:
                    problems.append(f"terminal lost: {exc}")
                    code = 1
        finally:
            actor.detach()
            # Unregister before stopping the system: a system that stops its
            # actors through the registry must not wait for this one, whose
            # loop has ended.
            ActorRegistry.unregister(actor.actor_ref)
            problems.extend(_stop_system(system))
            actor.finish()
    if diversion is not None and diversion.lines:
        where = diversion.log_error or diversion.log_path
        problems.append(f"{diversion.lines} line(s) of diagnostic output were written to {where}")
    for text in problems:
        _report(text)
    return code


class _EarlyCommands:
    """Stands in for the system until it is started: keeps the commands sent to it, in order."""

    def __init__(self) -> None:
        self._commands: list[Any] = []

    def tell(self, command: Any) -> None:
        self._commands.append(command)

    def forward_to(self, system: Any) -> None:
        commands, self._commands = self._commands, []
        for command in commands:
            system.tell(command)


def _stop_system(system: Any) -> list[str]:
    """Stop the system, but never hang the exit on it; what went wrong, if anything."""
    if system is None:
        return []
    done = threading.Event()
    failure: list[BaseException] = []

    def stop() -> None:
        try:
            system.stop()
        except BaseException as exc:  # reported by the caller, on the main thread
            failure.append(exc)
        finally:
            done.set()

    worker = threading.Thread(target=stop, name="stop-system", daemon=True)
    worker.start()
    if not done.wait(STOP_TIMEOUT_S):
        return [f"the refresh system did not stop within {STOP_TIMEOUT_S:.1f} s; exiting anyway"]
    if failure:
        return [f"stopping the refresh system failed: {type(failure[0]).__name__}: {failure[0]}"]
    return []


def _report(text: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(f"arr_actors: {inert(text)}", file=sys.stderr)


@contextlib.contextmanager
def _quit_on_signals(actor: UiActor) -> Iterator[None]:
    """SIGTERM, SIGHUP and SIGINT leave the loop cleanly (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    ref = actor.actor_ref

    def handler(signum: int, _frame: Any) -> None:
        # Runs on the loop thread between bytecodes: only enqueue and wake.
        with contextlib.suppress(ActorDeadError):
            ref.tell(QuitRequested(signal.Signals(signum).name))

    previous = {}
    for sig in _QUIT_SIGNALS:
        with contextlib.suppress(ValueError, OSError):
            previous[sig] = signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            with contextlib.suppress(ValueError, OSError, TypeError):
                signal.signal(sig, old)


class _NoticeHandler(logging.Handler):
    """Log records of WARNING and above become notices on screen, instead of
    being printed over the screen by logging's last-resort handler."""

    def __init__(self, actor: UiActor) -> None:
        super().__init__(logging.WARNING)
        self._ref = actor.actor_ref

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage().splitlines()[0] if record.getMessage() else record.name
            level = "error" if record.levelno >= logging.ERROR else "warning"
            self._ref.tell(Notice(text=f"{record.name}: {text}", level=level))
        except Exception:  # never let logging break the caller
            pass


@contextlib.contextmanager
def _log_to_notices(actor: UiActor) -> Iterator[None]:
    root = logging.getLogger()
    handler = _NoticeHandler(actor)
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)


#: Modules the first frame does not need (they are imported where first used, and
#: loaded by ``_preload`` once that frame is drawn).
LATER_MODULES = (
    "arr_actors_ui.keypress",
    "arr_actors_ui.views.detail",
    "arr_actors_ui.views.help",
    "arr_actors_ui.views.health",
)


def _preload() -> None:
    for name in LATER_MODULES:
        importlib.import_module(name)
    from arr_actors.diagnostics import registry

    with contextlib.suppress(Exception):  # a broken registry is reported where it is used
        registry.default()


__all__ = ["MonoScreen", "QuitRequested", "color_mode", "make_screen", "run", "terminal_is_utf8"]
