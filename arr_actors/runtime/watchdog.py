"""The watchdog actor: the one owner of every table's schedule and deadline.

It is a thin shell around :mod:`arr_actors.runtime.policy`: it forwards every
event — ticks, commands, fetch results, child reports — to the pure state
machine as it is, and carries out what comes back: hand StartFetch and
KillFetch to the table's fetcher, send snapshots to the subscribers, write the
event log. It also restarts a fetcher actor that died.

pykka has no timers, so a :class:`Ticker` thread sends ``Tick(now)``: after
every message the watchdog tells it when the next deadline, refresh or retry
falls due, so an idle system ticks once in a long while rather than ten times
a second, and a deadline is acted on when it passes rather than at the next
multiple of a fixed period. Tests send ticks by hand with a clock of their own.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pykka

from arr_actors.messages import Subscriber, TableSnapshot, Tick
from arr_actors.runtime import policy
from arr_actors.runtime.eventlog import EventLog
from arr_actors.runtime.policy import Limits, LogEvent, Publish, TableState, logreads
from arr_actors.runtime.protocol import ChildGone
from arr_actors.tables import LOG_READER

if TYPE_CHECKING:
    from arr_actors.config import Settings
    from arr_actors.runtime.fetcher import Fetcher

    FetcherRef = pykka.ActorRef[Fetcher]
    FetcherFactory = Callable[[str, pykka.ActorRef["Watchdog"]], FetcherRef]  # (table, watchdog ref) -> fetcher

log = logging.getLogger(__name__)

#: How long stopping waits for each fetcher.
FETCHER_STOP_S = 0.5


class Watchdog(pykka.ThreadingActor):
    use_daemon_thread = True

    def __init__(
        self,
        settings: Settings,
        *,
        tables: Sequence[str],
        subscribers: Sequence[Subscriber],
        make_fetcher: FetcherFactory,
        kill_table: Callable[[str], None],
        clock: Callable[[], float],
        eventlog: EventLog | None,
        single_round: bool = False,
        rand: Callable[[], float] | None = None,
        wakeup: Callable[[float | None], None] | None = None,
        warm: Mapping[str, TableSnapshot] | None = None,
    ) -> None:
        super().__init__()
        self._wakeup = wakeup
        self._settings = settings
        self._tables = tuple(tables)
        self._subscribers = tuple(subscribers)
        self._make_fetcher = make_fetcher
        self._kill_table = kill_table
        self._clock = clock
        self._eventlog = eventlog
        self._rand = rand or random.Random().random
        self._warm = dict(warm or {})
        self._limits = {t: Limits.from_settings(settings, t, single_round=single_round) for t in self._tables}
        self._states: dict[str, TableState] = {}
        self._fetchers: dict[str, FetcherRef] = {}
        # The log reader: supervised here too, its fetcher made on the first log asked for.
        self._reader = logreads.ReaderState()

    def on_start(self) -> None:
        now = self._clock()
        due = policy.start_times(
            self._tables,
            now,
            batch_size=self._settings.supervision.start_batch_size,
            batch_delay=self._settings.supervision.start_batch_delay_s,
        )
        self._states = policy.initial_states(self._tables, due, warm=self._warm)
        for table in self._tables:
            self._fetchers[table] = self._make_fetcher(table, self.actor_ref)

    def on_receive(self, message: Any) -> None:
        # One bad message must never stop the watchdog.
        try:
            self._handle(message)
        except Exception:
            log.exception("watchdog: error handling %r", type(message).__name__)
        if self._wakeup is not None:
            self._wakeup(self.next_tick_at())

    def next_tick_at(self) -> float | None:
        """When a tick next has something to do (the earliest of every table's)."""
        times = [policy.next_tick_at(state) for state in self._states.values()]
        times.append(logreads.next_tick_at(self._reader))
        return min((t for t in times if t is not None), default=None)

    def on_stop(self) -> None:
        refs = list(self._fetchers.values())
        for ref in refs:
            try:
                ref.stop(block=False)
            except pykka.ActorDeadError:
                pass
        for ref in refs:
            ref.actor_stopped.wait(FETCHER_STOP_S)
        self._fetchers.clear()

    def _handle(self, message: Any) -> None:
        if logreads.concerns(message) or isinstance(message, Tick):
            now = message.now if isinstance(message, Tick) else self._clock()
            self._reader, commands = logreads.handle(self._reader, message, now, self._settings)
            self._carry_out(commands)
            if not isinstance(message, Tick):
                return
        if not isinstance(message, policy.EVENTS):
            log.warning("watchdog: unexpected message %r", type(message).__name__)
            return
        if not policy.addressed(message, self._tables):
            log.warning("watchdog: %s for unknown table %r", type(message).__name__, getattr(message, "table", ""))
            return
        if isinstance(message, Tick):
            self._check_fetchers(message.now)
        # A tick carries the time it stands for (tests tick a clock of their own).
        now = message.now if isinstance(message, Tick) else self._clock()
        self._step(message, now)

    def _step(self, event: policy.Event, now: float) -> None:
        self._states, commands = policy.handle_all(self._states, event, now, self._limits, rand=self._rand)
        self._carry_out(commands)

    def _carry_out(self, commands: Sequence[policy.Command]) -> None:
        for command in commands:
            if isinstance(command, Publish):
                self._publish(command.message)
            elif isinstance(command, LogEvent):
                self._record(command)
            else:  # StartFetch, KillFetch: the table's fetcher carries them out
                self._tell_fetcher(command.table, command)

    def _publish(self, message: Any) -> None:
        for subscriber in self._subscribers:
            try:
                subscriber.tell(message)
            except Exception:  # a subscriber that went away must not stop the others
                log.debug("subscriber %r refused %r", subscriber, type(message).__name__, exc_info=True)

    def _record(self, event: LogEvent) -> None:
        if self._eventlog is not None:
            self._eventlog.write(event)

    def _tell_fetcher(self, table: str, message: Any) -> None:
        ref = self._fetchers.get(table)
        if ref is None and table == LOG_READER:
            ref = self._fetchers[table] = self._make_fetcher(table, self.actor_ref)
        if ref is None:
            return
        try:
            ref.tell(message)
        except pykka.ActorDeadError:
            self._replace_fetcher(table, self._clock())
            self._fetchers[table].tell(message)

    def _check_fetchers(self, now: float) -> None:
        for table, ref in list(self._fetchers.items()):
            if not ref.is_alive():
                self._replace_fetcher(table, now)

    def _replace_fetcher(self, table: str, now: float) -> None:
        """A fetcher actor died: its children go with it, a new actor takes over."""
        log.warning("watchdog: the %s fetcher stopped; starting a new one", table)
        self._kill_table(table)
        self._fetchers[table] = self._make_fetcher(table, self.actor_ref)
        if table == LOG_READER:
            reader = self._reader
            self._record(LogEvent(table, reader.generation, "restarted", now, detail="fetcher actor restarted"))
            seq = reader.seq if reader.phase == policy.FETCHING else None
            gone = ChildGone(table, reader.generation, seq, cause="its fetcher stopped unexpectedly", killed=True)
            self._reader, commands = logreads.handle(reader, gone, now, self._settings)
            self._carry_out(commands)
            return
        state = self._states[table]
        seq = state.seq if state.phase == policy.FETCHING else None
        self._record(LogEvent(table, state.generation, "restarted", now, detail="fetcher actor restarted"))
        gone = ChildGone(
            table, state.generation, seq, cause="its fetcher stopped unexpectedly", killed=True
        )
        self._step(gone, now)


class Ticker:
    """Sends ``Tick(clock())`` to an actor when it said something falls due
    (``wake_at``), and at least every ``interval`` seconds (which also bounds
    how long a dead fetcher actor goes unnoticed) until stopped.

    The target answers every message, ticks included, with ``wake_at``. The
    ticker forgets the last answer *before* sending a tick, so the answer to
    that tick is never lost; an older answer arriving in between can at worst
    cause one early tick. A due time that is not after the last tick waits
    ``MIN_GAP_S`` (see ``next_due``).
    ``first`` runs on the ticker's thread before the first tick.
    """

    MIN_GAP_S = 0.01

    def __init__(
        self,
        target: Subscriber | None = None,
        *,
        interval: float,
        clock: Callable[[], float],
        first: Callable[[], object] | None = None,
    ) -> None:
        self._target = target
        self._first = first
        self._interval = interval
        self._clock = clock
        self._stopped = False
        self._next: float | None = None
        self._changed = threading.Condition()
        self._thread = threading.Thread(target=self._run, name="ticker", daemon=True)
        self.ticks = 0  # ticks sent, for tests and diagnostics

    def start(self, target: Subscriber | None = None) -> Ticker:
        if target is not None:
            self._target = target
        self._thread.start()
        return self

    def wake_at(self, when: float | None) -> None:
        """The target's next due time (on its clock), or None for none."""
        with self._changed:
            self._next = when
            self._changed.notify()

    def stop(self, *, timeout: float = 1.0) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify()
        if self._thread.is_alive():
            self._thread.join(timeout)

    @classmethod
    def next_due(cls, sent: float, asked: float | None, interval: float) -> float:
        """When the tick after the one sent at ``sent`` is due, the target having asked for ``asked``.

        A due time after ``sent`` is kept to the moment: two deadlines a few
        milliseconds apart are each acted on when they pass. One at or before
        ``sent`` was due at that tick already (or is an older answer): it waits
        ``MIN_GAP_S``, so a due time the target does not clear cannot make the
        ticks spin. Never later than ``interval`` after ``sent``.
        """
        due = sent + interval
        if asked is None:
            return due
        return min(due, asked if asked > sent else sent + cls.MIN_GAP_S)

    def _run(self) -> None:
        if self._first is not None:
            self._first()  # e.g. wait until there is something to tick for
        while True:
            with self._changed:
                if self._stopped:
                    return
                self._next = None
            sent = self._clock()
            if self._target is None:
                return  # started without anything to tick
            try:
                self._target.tell(Tick(now=sent))
            except pykka.ActorDeadError:
                return
            self.ticks += 1
            with self._changed:
                while not self._stopped:
                    due = self.next_due(sent, self._next, self._interval)
                    wait = due - self._clock()
                    if wait <= 0:
                        break
                    self._changed.wait(wait)
