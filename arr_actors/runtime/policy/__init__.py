"""Supervision policy of the tables as a pure state machine.

Every decision the watchdog makes — when a table refreshes, when a fetch is past
its deadline, how long a restart waits, when the circuit opens and closes, what
the snapshot says — is a function here from (state, event, now) to (new state,
commands). Nothing in this package reads a clock, sleeps, draws random numbers
or talks to another thread: the watchdog actor forwards every event it gets to
:func:`handle_all` (which calls :func:`handle` for each table concerned) and
carries out the commands, and tests drive it by hand.

``limits``       the numbers from settings, backoff and start batches
``state``        one table's state, the commands, the snapshot a state shows
``transitions``  what each event does; ``handle`` and ``handle_all``
``logreads``     the log reader's own machine (one read at a time, following)

Vocabulary:
  *generation*  the incarnation of a table's child process; it goes up whenever
                the child was killed or died, so the next fetch starts a new one.
  *seq*         the number of a fetch of one table; a late answer to an older
                fetch is ignored.
  *failure*     a fetch that ended in an error, a timeout or a crash. Failures
                drive the restart backoff and the circuit breaker.
  *ready*       a new child first loads its source's libraries (seconds), then
                says so. A fetch sent to a child that is not ready yet gets the
                start-up allowance (``startup``) on top of its deadline; once the
                child is ready, the deadline counts from that moment.
  *warm*        a table may start with the previous run's rows (a warm start):
                a failure before this run's first rows keeps showing them.
"""

from __future__ import annotations

from arr_actors.runtime.policy.limits import Limits, backoff_delay, start_times
from arr_actors.runtime.policy.state import (
    CIRCUIT_OPEN,
    DONE,
    FETCHING,
    IDLE,
    Command,
    LogEvent,
    Publish,
    Step,
    TableState,
    initial_state,
    initial_states,
    next_refresh_at,
    next_tick_at,
    snapshot,
)
from arr_actors.runtime.policy.transitions import EVENTS, Event, addressed, handle, handle_all

__all__ = [
    "CIRCUIT_OPEN",
    "DONE",
    "EVENTS",
    "FETCHING",
    "IDLE",
    "Command",
    "Event",
    "Limits",
    "LogEvent",
    "Publish",
    "Step",
    "TableState",
    "addressed",
    "backoff_delay",
    "handle",
    "handle_all",
    "initial_state",
    "initial_states",
    "next_refresh_at",
    "next_tick_at",
    "snapshot",
    "start_times",
]
