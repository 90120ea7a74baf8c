"""Per-call latency profiles: how long each emulated API takes to answer.

``realistic`` follows what the real APIs take from a workstation: a regional
list call 1-2 s, a Cloud Logging read 2-3 s, a Cloud Build list about 1 s, a
W&B GraphQL query 0.5-1 s. Delays are drawn deterministically from the seed
and the call's index, so a benchmark can compute the critical path of a
refresh from ``PROFILES`` and compare it with what it measured.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

#: Every method the emulator serves, as the stats and the profiles name them.
METHODS: tuple[str, ...] = (
    "RunJob",
    "ListExecutions",
    "GetExecution",
    "ListCustomJobs",
    "GetCustomJob",
    "ListBuilds",
    "ListLogEntries",
    "GraphQL",
)

#: profile -> method -> (shortest, longest) delay in seconds; absent = no delay.
PROFILES: Mapping[str, Mapping[str, tuple[float, float]]] = {
    "none": {},
    "realistic": {
        "RunJob": (1.0, 2.0),
        "ListExecutions": (1.0, 2.0),
        "GetExecution": (0.3, 0.6),
        "ListCustomJobs": (1.0, 2.0),
        "GetCustomJob": (0.3, 0.6),
        "ListBuilds": (0.8, 1.2),
        "ListLogEntries": (2.0, 3.0),
        "GraphQL": (0.5, 1.0),
    },
}


class LatencyError(ValueError):
    """An unknown latency profile."""


def check_profile(name: str) -> str:
    if name not in PROFILES:
        raise LatencyError(f"unknown latency profile {name!r} (profiles: {', '.join(PROFILES)})")
    return name


def delay(profile: str, method: str, *, seed: int, call_index: int) -> float:
    """Seconds the ``call_index``-th call of ``method`` waits before it is answered."""
    bounds = PROFILES[profile].get(method)
    if bounds is None:
        return 0.0
    low, high = bounds
    digest = hashlib.blake2b(f"{seed}:{method}:{call_index}".encode(), digest_size=8).digest()
    fraction = int.from_bytes(digest, "big") / 2**64
    return low + (high - low) * fraction


def worst_case(profile: str, method: str) -> float:
    """The longest delay ``method`` can have under ``profile`` (for critical-path bounds)."""
    return PROFILES[profile].get(method, (0.0, 0.0))[1]
