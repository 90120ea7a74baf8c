"""Run-time state shared by both servers: faults, scenario, latency profile and call statistics.

Every call, gRPC or GraphQL, passes ``Control.admit`` first: it is counted,
delayed by the latency profile, then by a ``slow`` fault, or held by a
``hang`` fault until the client gives up or the emulator stops. ``error``
and ``garbage`` faults are returned to the protocol layer, which knows how
to express them on its wire.

A gRPC call waits on an event its server sets when the call ends (the client
cancelled or its deadline passed): a few hundred calls held at once then cost
no CPU while they wait, where polling each one twenty times a second cost a
third of a second of CPU per 300 calls of 1.5 s. An HTTP call has no such
signal and polls its connection.
"""

from __future__ import annotations

import math
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Mapping
from typing import Any

from arr_actors.emulator import latency
from arr_actors.emulator.faults import Fault, FaultSpec, build_table, table_to_plain
from arr_actors.emulator.world import check_scenario

#: The most extra lines an item's log may be given (``log_volume``).
MAX_LOG_VOLUME = 100_000
#: How often a waiting call checks whether its client is still there.
_POLL_S = 0.05


class Stopping(Exception):
    """The emulator is shutting down while a call waits."""


class Control:
    def __init__(
        self, *, scenario: str, faults: FaultSpec | None, latency_profile: str, seed: int, log_gaps: float = 0.0
    ) -> None:
        self._lock = threading.Lock()
        self._log_gaps = log_gaps
        self._log_volume = 0
        self._denied: frozenset[str] = frozenset()
        self._scenario = check_scenario(scenario)
        self._faults: dict[str, Fault] = build_table(faults)
        self._latency = latency.check_profile(latency_profile)
        self._seed = seed
        self._counts: dict[str, int] = defaultdict(int)
        self._recent: dict[str, deque[float]] = defaultdict(deque)
        self._peak_per_minute: dict[str, int] = defaultdict(int)
        self.stopping = threading.Event()
        self._wakes: set[threading.Event] = set()  # of the gRPC calls waiting now (see wait)
        self._waiting = 0

    @property
    def waiting(self) -> int:
        """Calls waiting out a latency or a fault now."""
        with self._lock:
            return self._waiting

    def stop(self) -> None:
        """Release every waiting call: each raises ``Stopping``."""
        self.stopping.set()
        with self._lock:
            for wake in self._wakes:
                wake.set()

    # -- settings

    @property
    def scenario(self) -> str:
        with self._lock:
            return self._scenario

    def set_scenario(self, name: str) -> None:
        check_scenario(name)
        with self._lock:
            self._scenario = name

    def set_faults(self, spec: FaultSpec | None) -> None:
        """Replace every fault (``{}`` clears them all)."""
        table = build_table(spec)
        with self._lock:
            self._faults = table

    def set_latency(self, profile: str) -> None:
        latency.check_profile(profile)
        with self._lock:
            self._latency = profile

    @property
    def log_gaps(self) -> float:
        with self._lock:
            return self._log_gaps

    @property
    def log_volume(self) -> int:
        with self._lock:
            return self._log_volume

    def set_log_volume(self, lines: int) -> None:
        """Extra lines every execution and Vertex AI job writes while it runs (0: only its own)."""
        check_log_volume(lines)
        with self._lock:
            self._log_volume = lines

    def set_log_gaps(self, share: float) -> None:
        check_log_gaps(share)
        with self._lock:
            self._log_gaps = float(share)

    @property
    def denied_permissions(self) -> frozenset[str]:
        """IAM permissions the emulated account lacks: calls needing them fail, TestIamPermissions leaves them out."""
        with self._lock:
            return self._denied

    def set_denied_permissions(self, permissions: Any) -> None:
        if isinstance(permissions, str) or not all(isinstance(p, str) for p in permissions):
            raise ValueError("denied_permissions must be a list of permission names such as run.jobs.run")
        with self._lock:
            self._denied = frozenset(permissions)

    def fault(self, service: str) -> Fault | None:
        with self._lock:
            return self._faults.get(service)

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "scenario": self._scenario,
                "faults": table_to_plain(self._faults),
                "latency": self._latency,
                "log_gaps": self._log_gaps,
                "denied_permissions": sorted(self._denied),
            }

    # -- statistics

    def count(self, method: str) -> int:
        """Record one call; returns its index (0-based) among the calls of that method."""
        now = time.monotonic()
        with self._lock:
            index = self._counts[method]
            self._counts[method] = index + 1
            recent = self._recent[method]
            recent.append(now)
            while recent and recent[0] <= now - 60.0:
                recent.popleft()
            self._peak_per_minute[method] = max(self._peak_per_minute[method], len(recent))
            return index

    def stats(self, *, reset: bool = False) -> dict[str, int]:
        with self._lock:
            counts = dict(self._counts)
            if reset:
                self._counts.clear()
                self._recent.clear()
                self._peak_per_minute.clear()
            return counts

    def peak_per_minute(self) -> dict[str, int]:
        """The most calls of each method seen in any 60 s window since the last reset."""
        with self._lock:
            return dict(self._peak_per_minute)

    # -- the gate every call passes

    def admit(
        self, method: str, service: str, *, gone: Callable[[], bool], wake: threading.Event | None = None
    ) -> Fault | None:
        """Count, delay and possibly hold a call; returns an ``error``/``garbage`` fault to apply.

        ``gone()`` tells whether the client has given up (cancelled, timed
        out, disconnected): a held call then ends at once, so hung calls never
        pile up. ``wake``, when the protocol has one, is set as soon as the
        client may have gone, and the call waits on it instead of polling
        ``gone``. Raises ``Stopping`` when the emulator shuts down meanwhile.
        """
        index = self.count(method)
        with self._lock:
            profile = self._latency
        self.wait(latency.delay(profile, method, seed=self._seed, call_index=index), gone=gone, wake=wake)
        fault = self.fault(service)
        if fault is None:
            return None
        if fault.kind == "slow":
            self.wait(fault.seconds, gone=gone, wake=wake)
            return None
        if fault.kind == "hang":
            self.wait(math.inf, gone=gone, wake=wake)  # ends only by raising Stopping
        return fault

    def wait(self, seconds: float, *, gone: Callable[[], bool], wake: threading.Event | None = None) -> None:
        if seconds <= 0:
            return
        deadline = time.monotonic() + seconds
        with self._lock:
            self._waiting += 1
            if wake is not None:
                self._wakes.add(wake)
        try:
            if wake is None:
                self._poll(deadline, gone=gone)
            else:
                self._wait_on(wake, deadline, gone=gone)
        finally:
            with self._lock:
                self._waiting -= 1
                if wake is not None:
                    self._wakes.discard(wake)

    def _wait_on(self, wake: threading.Event, deadline: float, *, gone: Callable[[], bool]) -> None:
        # ``wake`` is registered before this first check, so a stop() from here on sets it.
        if self.stopping.is_set():
            raise Stopping()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if wake.wait(None if math.isinf(left) else left):
                if self.stopping.is_set() or gone():
                    raise Stopping()
                wake.clear()  # set for no reason of ours: wait on

    def _poll(self, deadline: float, *, gone: Callable[[], bool]) -> None:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if self.stopping.wait(min(_POLL_S, left)):
                raise Stopping()
            if gone():
                raise Stopping()


def check_log_gaps(share: object) -> None:
    """ValueError unless ``share`` is a share of page positions from 0 to below 1."""
    if not (isinstance(share, (int, float)) and not isinstance(share, bool) and 0 <= share < 1):
        raise ValueError(f"log_gaps must be a share from 0 to below 1, got {share!r}")


def check_log_volume(lines: object) -> None:
    """ValueError unless ``lines`` is a whole number of extra log lines from 0 to MAX_LOG_VOLUME."""
    if not (isinstance(lines, int) and not isinstance(lines, bool) and 0 <= lines <= MAX_LOG_VOLUME):
        raise ValueError(f"log_volume must be a whole number of lines from 0 to {MAX_LOG_VOLUME}, got {lines!r}")


def parse_control(doc: Mapping[str, Any], control: Control) -> None:
    """Apply a ``/_control`` request: ``{"faults": ..., "scenario": ..., "latency": ...}`` (all optional).

    Everything is validated before anything changes, so a bad request
    leaves the emulator as it was.
    """
    known = ("faults", "scenario", "latency", "log_gaps", "log_volume", "denied_permissions")
    unknown = set(doc) - set(known)
    if unknown:
        raise ValueError(f"unknown control keys: {', '.join(sorted(unknown))} (known: {', '.join(known)})")
    denied = doc.get("denied_permissions", [])
    if not isinstance(denied, list) or not all(isinstance(p, str) for p in denied):
        raise ValueError("denied_permissions must be a list of permission names such as run.jobs.run")
    if "log_gaps" in doc:
        check_log_gaps(doc["log_gaps"])
    if "log_volume" in doc:
        check_log_volume(doc["log_volume"])
    if "faults" in doc:
        build_table(doc["faults"])
    if "scenario" in doc:
        if not isinstance(doc["scenario"], str):
            raise ValueError("scenario must be a string")
        check_scenario(doc["scenario"])
    if "latency" in doc:
        if not isinstance(doc["latency"], str):
            raise ValueError("latency must be a string")
        latency.check_profile(doc["latency"])
    if "faults" in doc:
        control.set_faults(doc["faults"])
    if "scenario" in doc:
        control.set_scenario(doc["scenario"])
    if "latency" in doc:
        control.set_latency(doc["latency"])
    if "log_gaps" in doc:
        control.set_log_gaps(doc["log_gaps"])
    if "log_volume" in doc:
        control.set_log_volume(doc["log_volume"])
    if "denied_permissions" in doc:
        control.set_denied_permissions(doc["denied_permissions"])
