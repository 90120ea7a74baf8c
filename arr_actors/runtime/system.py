"""Build the runtime tree, and take it down again.

::

    System
     ├── process-starter thread ── launcher process ──┬── child[runner]  (+ its group)
     │                                                 ├── child[builds]
     │                                                 └── ...
     ├── Watchdog actor ── Fetcher actor per table (+ a reader thread per child)
     ├── Ticker thread (Tick when something is due, at least every ``tick_s``)
     └── event log thread

``start`` returns at once; the launcher comes up in the background and the
first fetches start as soon as it is there. ``stop`` takes everything down in
order — ticker, watchdog, fetchers (each kills its children), launcher (kills
and reaps whatever is left, grandchildren included), event log — within the
time given, and is safe to call twice. It also runs at interpreter exit.
If the UI process dies without stopping (SIGKILL), the launcher notices the
closed control socket and kills every process group itself.

Whatever happens to the launcher, nothing it started survives the System:
every process of its tree carries a mark (:mod:`arr_actors.runtime.proctree`)
by which the process starter ends what a killed launcher left, and ends
everything once more on ``stop``; a stopped launcher is continued first so it
shuts down in order. A tree whose program and launcher both could not act
(the program SIGKILLed while its launcher was stopped) is ended by the next
start.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

import pykka

from arr_actors.messages import (
    ActionRequest,
    LogRequest,
    LogStop,
    Notice,
    RefreshRequest,
    SetPaused,
    Subscriber,
    TableSnapshot,
    TemplateFailed,
    TemplateReady,
    Tick,
)
from arr_actors.runtime.eventlog import EventLog
from arr_actors.runtime.fetcher import Fetcher
from arr_actors.runtime.policy import LogEvent
from arr_actors.runtime.starter import ProcessStarter
from arr_actors.runtime.watchdog import Ticker, Watchdog
from arr_actors.tables import TABLE_KEYS

if TYPE_CHECKING:
    from arr_actors.config import Settings

log = logging.getLogger(__name__)

DEFAULT_SOURCE_FACTORY = "arr_actors.sources:open_source"
#: Longest time between watchdog ticks. Deadlines and schedules do not wait
#: for it (the watchdog asks for a tick when one falls due); it bounds how long
#: a fetcher actor that died unexpectedly goes unnoticed.
DEFAULT_TICK_S = 1.0

COMMANDS = (RefreshRequest, SetPaused, ActionRequest, Tick, LogRequest, LogStop)


class System:
    """A running runtime tree. Build it with :func:`start`."""

    def __init__(
        self,
        *,
        starter: ProcessStarter,
        watchdog: pykka.ActorRef[Watchdog],
        ticker: Ticker | None,
        eventlog: EventLog,
    ) -> None:
        self._starter = starter
        self._watchdog = watchdog
        self._ticker = ticker
        self._eventlog = eventlog
        self._stop_lock = threading.Lock()
        self._stopped = False

    def tell(self, command: RefreshRequest | SetPaused | ActionRequest | Tick | LogRequest | LogStop) -> None:
        """Send a command to the watchdog. Never blocks; ignored once stopped."""
        if not isinstance(command, COMMANDS):
            raise TypeError(
                f"System.tell: {type(command).__name__} is not a command "
                "(expected RefreshRequest, SetPaused, ActionRequest, LogRequest or LogStop)"
            )
        with contextlib.suppress(pykka.ActorDeadError):
            self._watchdog.tell(command)

    @property
    def launcher_pid(self) -> int | None:
        """Pid of the launcher process (None until it is up)."""
        return self._starter.launcher_pid

    def child_pids(self) -> dict[str, list[int]]:
        """Pids of the fetch processes alive now, by table."""
        return self._starter.child_pids()

    def wait_ready(self, timeout: float = 20.0) -> bool:
        """Wait until the launcher is up (for tools and tests; the tree works without waiting)."""
        return self._starter.wait_ready(timeout)

    @property
    def stopped(self) -> bool:
        return self._stopped

    def stop(self, timeout: float = 2.0) -> None:
        """Stop everything and leave no process behind. Idempotent."""
        with self._stop_lock:
            if self._stopped:
                return
            self._stopped = True
        end = time.monotonic() + timeout

        def left(share: float = 1.0) -> float:
            return max((end - time.monotonic()) * share, 0.05)

        if self._ticker is not None:
            self._ticker.stop(timeout=left(0.2))
        # The watchdog stops its fetchers on the way out; each kills its children.
        try:
            self._watchdog.stop(block=True, timeout=left(0.4))
        except (pykka.Timeout, pykka.ActorDeadError):
            pass
        self._starter.close(timeout=left(0.8))
        self._eventlog.close(timeout=left())
        with contextlib.suppress(Exception):
            atexit.unregister(self.stop)


def template_event(report: TemplateReady | TemplateFailed, *, at: float) -> LogEvent:
    """The event-log line of a fork template that became ready (with its load time) or was given up."""
    if isinstance(report, TemplateReady):
        return LogEvent(table=f"template:{report.name}", generation=0, event="template_ready", at=at, duration_s=report.load_s)
    return LogEvent(table=f"template:{report.name}", generation=0, event="template_failed", at=at, detail=report.error)


def start(
    settings: Settings,
    subscribers: Sequence[Subscriber],
    *,
    source_factory: str = DEFAULT_SOURCE_FACTORY,
    clock: Callable[[], float] = time.time,
    tick_s: float | None = DEFAULT_TICK_S,
    warm: Iterable[TableSnapshot] = (),
) -> System:
    """Start the runtime: every table fetched now, then on its own interval.

    ``subscribers`` each get ``tell(message)`` for every TableSnapshot,
    FetchStarted, Notice and PauseChanged. ``source_factory`` is the
    "module:function" each child calls as ``factory(settings, table)`` to get
    its fetch function. ``tick_s=None`` starts no ticker: the caller sends
    ``Tick(now)`` itself (tests, with ``clock`` as their own clock). ``warm``
    are the previous run's snapshots (a warm start): until a table has rows of
    its own, its snapshots show theirs.
    """
    return _start(settings, subscribers, source_factory=source_factory, clock=clock, tick_s=tick_s, warm=warm)


def _start(
    settings: Settings,
    subscribers: Sequence[Subscriber],
    *,
    source_factory: str = DEFAULT_SOURCE_FACTORY,
    clock: Callable[[], float] = time.time,
    tick_s: float | None = DEFAULT_TICK_S,
    single_round: bool = False,
    tables: Sequence[str] = TABLE_KEYS,
    rand: Callable[[], float] | None = None,
    warm: Iterable[TableSnapshot] = (),
) -> System:
    eventlog = EventLog(settings.paths.state_dir)

    def on_template(report: TemplateReady | TemplateFailed) -> None:
        # On the process-starter thread: only queue (the event log, the subscribers' mailboxes).
        eventlog.write(template_event(report, at=clock()))
        if isinstance(report, TemplateFailed):
            notice = Notice(
                text=f"fork template {report.name!r} {report.error}; its tables load their libraries themselves",
                level="warning",
                at=clock(),
            )
            for subscriber in subscribers:
                with contextlib.suppress(Exception):
                    subscriber.tell(notice)

    starter = ProcessStarter(settings, source_factory=source_factory, on_template=on_template)
    starter.start()

    def make_fetcher(table: str, watchdog_ref: pykka.ActorRef[Watchdog]) -> pykka.ActorRef[Fetcher]:
        return Fetcher.start(
            table,
            starter=starter,
            watchdog=watchdog_ref,
            kill_grace=settings.supervision.kill_grace_s,
            max_result_bytes=settings.supervision.max_result_bytes,
        )

    # The first tick waits for the launcher, so its start-up (a fresh
    # interpreter) does not eat into the first fetches' deadlines.
    ticker = Ticker(interval=tick_s, clock=clock, first=starter.wait_ready) if tick_s is not None else None
    watchdog = Watchdog.start(
        settings,
        tables=tables,
        subscribers=subscribers,
        make_fetcher=make_fetcher,
        kill_table=starter.kill_table,
        clock=clock,
        eventlog=eventlog,
        single_round=single_round,
        rand=rand,
        wakeup=ticker.wake_at if ticker is not None else None,
        warm={snapshot.table: snapshot for snapshot in warm},
    )
    if ticker is not None:
        ticker.start(watchdog)
    system = System(starter=starter, watchdog=watchdog, ticker=ticker, eventlog=eventlog)
    atexit.register(system.stop)
    return system


__all__ = ["DEFAULT_SOURCE_FACTORY", "DEFAULT_TICK_S", "System", "start"]
