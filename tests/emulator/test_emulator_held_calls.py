"""Calls the emulator holds (latency, ``slow``, ``hang``) end when their client gives up or the emulator stops.

A gRPC call waits on an event its server sets when the call ends, not by polling;
these tests check that every way a call can end still releases it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from emulator_helpers import job_parent, make_clients

from arr_actors.emulator.control import Control, Stopping
from arr_actors.emulator.options import Options
from arr_actors.emulator.server import Emulator

pytestmark = pytest.mark.timeout(60)


def wait_until(condition: Callable[[], bool], *, timeout: float = 10.0, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def control() -> Control:
    return Control(scenario="default", faults=None, latency_profile="none", seed=1)


class Waiter:
    """``control.wait(seconds)`` in a thread of its own; ``outcome`` is "done", "stopping" or None (still waiting)."""

    def __init__(self, ctl: Control, seconds: float, *, gone: Callable[[], bool], wake: threading.Event | None) -> None:
        self.outcome: str | None = None
        self._thread = threading.Thread(target=self._run, args=(ctl, seconds, gone, wake), daemon=True)
        self._thread.start()

    def _run(self, ctl: Control, seconds: float, gone: Callable[[], bool], wake: threading.Event | None) -> None:
        try:
            ctl.wait(seconds, gone=gone, wake=wake)
            self.outcome = "done"
        except Stopping:
            self.outcome = "stopping"

    def join(self, timeout: float = 10.0) -> str | None:
        self._thread.join(timeout)
        return self.outcome


@pytest.mark.parametrize("with_wake", [True, False])
def test_a_wait_ends_after_its_time(with_wake: bool) -> None:
    ctl = control()
    started = time.monotonic()
    waiter = Waiter(ctl, 0.2, gone=lambda: False, wake=threading.Event() if with_wake else None)
    assert waiter.join() == "done"
    assert time.monotonic() - started >= 0.2
    assert ctl.waiting == 0


@pytest.mark.parametrize("with_wake", [True, False])
def test_a_held_call_ends_when_its_client_has_gone(with_wake: bool) -> None:
    ctl = control()
    gone = threading.Event()
    wake = threading.Event() if with_wake else None
    waiter = Waiter(ctl, float("inf"), gone=gone.is_set, wake=wake)
    wait_until(lambda: ctl.waiting == 1, what="the call to wait")
    gone.set()
    if wake is not None:
        wake.set()
    assert waiter.join() == "stopping"
    assert ctl.waiting == 0


def test_a_wake_without_the_client_gone_keeps_waiting() -> None:
    ctl = control()
    wake = threading.Event()
    started = time.monotonic()
    waiter = Waiter(ctl, 0.3, gone=lambda: False, wake=wake)
    wait_until(lambda: ctl.waiting == 1, what="the call to wait")
    wake.set()
    assert waiter.join() == "done"
    assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize("with_wake", [True, False])
def test_stop_releases_every_held_call(with_wake: bool) -> None:
    ctl = control()
    waiters = [
        Waiter(ctl, float("inf"), gone=lambda: False, wake=threading.Event() if with_wake else None) for _ in range(5)
    ]
    wait_until(lambda: ctl.waiting == 5, what="five calls to wait")
    ctl.stop()
    assert [w.join() for w in waiters] == ["stopping"] * 5
    assert ctl.waiting == 0
    # A call arriving after the stop is not held at all.
    assert Waiter(ctl, float("inf"), gone=lambda: False, wake=threading.Event()).join() == "stopping"


# ------------------------------------------------------- through the wire


@pytest.fixture(scope="module")
def emu() -> Iterator[Emulator]:
    server = Emulator(Options(regions=("us-west2",)))
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def clients(emu: Emulator) -> Iterator[Any]:
    made = make_clients(emu.grpc_address)
    yield made
    made.channel.close()


@pytest.fixture(autouse=True)
def hang_run(emu: Emulator) -> Iterator[None]:
    emu.control.set_faults({"run": "hang"})
    yield
    emu.control.set_faults({})


def hold_one(clients: Any, *, timeout: float) -> Any:
    from google.cloud import run_v2

    request = run_v2.ListExecutionsRequest(parent=job_parent("us-west2", project=Options().project))
    return clients.executions.transport.list_executions.future(request, timeout=timeout)


def test_a_held_call_ends_when_the_client_cancels_it(emu: Emulator, clients: Any) -> None:
    call = hold_one(clients, timeout=30)
    wait_until(lambda: emu.control.waiting == 1, what="the call to be held")
    call.cancel()
    wait_until(lambda: emu.control.waiting == 0, what="the cancelled call to be released")


def test_a_held_call_ends_at_its_deadline(emu: Emulator, clients: Any) -> None:
    call = hold_one(clients, timeout=0.5)
    wait_until(lambda: emu.control.waiting == 1, what="the call to be held")
    with pytest.raises(grpc.FutureTimeoutError):
        call.result(timeout=0.1)
    wait_until(lambda: emu.control.waiting == 0, what="the call past its deadline to be released")
    assert call.code() == grpc.StatusCode.DEADLINE_EXCEEDED


def test_stopping_the_emulator_releases_held_calls() -> None:
    server = Emulator(Options(regions=("us-west2",)))
    server.start()
    made = make_clients(server.grpc_address)
    try:
        server.control.set_faults({"run": "hang"})
        calls = [hold_one(made, timeout=30) for _ in range(3)]
        wait_until(lambda: server.control.waiting == 3, what="three calls to be held")
        started = time.monotonic()
        server.stop()
        wait_until(lambda: server.control.waiting == 0, timeout=5, what="the held calls to be released")
        wait_until(lambda: all(call.done() for call in calls), timeout=5, what="the clients to hear of it")
        assert time.monotonic() - started < 5
    finally:
        made.channel.close()
