"""Run the doctor's checks in a child process the parent can always stop.

A cloud call can hang past its own timeout (a credentials refresh has none of
ours, a C call can hold the GIL). The checks therefore run in a spawned child
that reports each check as it starts and ends; a check that overruns its
deadline has its child killed, is reported as failed, and a new child goes on
with the checks after it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING

from arr_actors.doctor.checks import NAMES, Probe, Result, run_checks

if TYPE_CHECKING:
    from arr_actors.config import Settings

_DONE = "__done__"
_PR_SET_PDEATHSIG = 1


def check_deadline(settings: Settings) -> float:
    """How long one check may take: two calls and the libraries' import."""
    return 2 * settings.api.call_timeout_s + 15.0


def _child(settings: Settings, skip: frozenset[str], failed: frozenset[str], conn: Connection, parent: int) -> None:
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)  # die with the doctor
    if os.getppid() != parent:
        os._exit(1)
    from arr_actors.sources.clients import Clients

    probe = Probe(settings, Clients(settings), failed=set(failed))
    run_checks(probe, skip=set(skip), emit=lambda name, result: conn.send((name, result)))
    conn.send((_DONE, None))
    conn.close()


def run(settings: Settings, *, show: Callable[[Result], None], deadline_s: float | None = None) -> list[Result]:
    """Every check's result, in order, each shown as soon as it is known."""
    limit = check_deadline(settings) if deadline_s is None else deadline_s
    context = multiprocessing.get_context("spawn")
    results: dict[str, Result] = {}
    failed: set[str] = set()

    def record(result: Result) -> None:
        results[result.check] = result
        if result.ok is not True:
            failed.add(result.check)
        show(result)

    while len(results) < len(NAMES):
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(
            target=_child,
            args=(settings, frozenset(results), frozenset(failed), sender, os.getpid()),
            name="doctor-checks",
            daemon=True,
        )
        child.start()
        sender.close()
        current = next(name for name in NAMES if name not in results)
        since = time.monotonic()
        try:
            while len(results) < len(NAMES):
                ready = wait([receiver, child.sentinel], timeout=max(0.0, since + limit - time.monotonic()))
                if receiver in ready:
                    try:
                        name, result = receiver.recv()
                    except EOFError:
                        ready = [child.sentinel]
                    else:
                        if name == _DONE:
                            break
                        if result is None:
                            current, since = name, time.monotonic()
                        else:
                            record(result)
                        continue
                if child.sentinel in ready:
                    record(Result(current, False, f"the check stopped its process (exit code {child.exitcode})"))
                else:
                    record(
                        Result(
                            current, False, f"no answer within {limit:g} s; stopped",
                            "check the network (a proxy or firewall?), or raise api.call_timeout_s",
                        )
                    )
                break
        finally:
            if child.is_alive():
                child.kill()
            child.join(5)
            receiver.close()
    return [results[name] for name in NAMES]
