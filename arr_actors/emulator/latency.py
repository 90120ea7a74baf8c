"""Per-call latency profiles: how long each emulated API takes to answer.

``realistic`` follows what the real APIs take from a workstation: a regional
list call 1-2 s, a Cloud Logging read 2-3 s, a Cloud Build list about 1 s, a
W&B GraphQL query 0.5-1 s. Delays are drawn deterministically from the seed
and the call's index, so a benchmark can compute the critical path of a
refresh from ``PROFILES`` and compare it with what it measured.

A profile is named alone (``realistic``) or with a factor every delay is
multiplied by (``realistic:0.2``, for quicker runs of the same shape).
"""

from __future__ import annotations

import hashlib
import math
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


def parse(spec: str) -> tuple[str, float]:
    """``"realistic"`` -> ("realistic", 1.0); ``"realistic:0.2"`` -> ("realistic", 0.2)."""
    name, sep, factor = spec.partition(":")
    known = ", ".join(PROFILES)
    if name not in PROFILES:
        raise LatencyError(f"unknown latency profile {name!r} (profiles: {known}, each optionally :FACTOR)")
    if not sep:
        return name, 1.0
    try:
        scale = float(factor)
    except ValueError:
        scale = math.nan
    if not (math.isfinite(scale) and scale > 0):
        raise LatencyError(f"latency {spec!r}: the factor after ':' must be a number above 0, e.g. {name}:0.2")
    return name, scale


def check_profile(spec: str) -> str:
    parse(spec)
    return spec


def delay(profile: str, method: str, *, seed: int, call_index: int) -> float:
    """Seconds the ``call_index``-th call of ``method`` waits before it is answered."""
    name, scale = parse(profile)
    bounds = PROFILES[name].get(method)
    if bounds is None:
        return 0.0
    low, high = bounds
    digest = hashlib.blake2b(f"{seed}:{method}:{call_index}".encode(), digest_size=8).digest()
    fraction = int.from_bytes(digest, "big") / 2**64
    return (low + (high - low) * fraction) * scale


def worst_case(profile: str, method: str) -> float:
    """The longest delay ``method`` can have under ``profile`` (for critical-path bounds)."""
    name, scale = parse(profile)
    return PROFILES[name].get(method, (0.0, 0.0))[1] * scale
