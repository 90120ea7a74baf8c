"""What every source shares: its long-lived context, region fan-out, time conversion."""

from __future__ import annotations

import concurrent.futures
import datetime
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from arr_actors.sources.clients import Clients
from arr_actors.sources.errors import describe, shorten, translate

if TYPE_CHECKING:
    from arr_actors.config import Settings

T = TypeVar("T")

# How long a region may run past its own call timeout before it counts as failed
# (gRPC enforces the deadline itself; this only guards against a stuck thread).
_FANOUT_GRACE_S = 5.0
_MAX_WORKERS = 128  # one thread per region up to here: list calls wait on the network, not the CPU
_WARNING_DETAIL = 90


class SourceContext:
    """Resources one table's child keeps between fetches: clients, a thread pool, memory.

    Built once per child incarnation by ``open_source``; everything is created on
    first use so a table that never needs a resource never pays for it.
    """

    def __init__(self, settings: Settings, *, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clients = Clients(settings)
        self.clock = clock
        self._pool: concurrent.futures.ThreadPoolExecutor | None = None
        self._memory: Any = None

    def pool(self) -> concurrent.futures.ThreadPoolExecutor:
        if self._pool is None:
            workers = max(1, min(_MAX_WORKERS, len(self.settings.regions) + 1))
            self._pool = concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="region")
        return self._pool

    def memory(self) -> Any:
        """The on-disk terminal-state memory of this project (runner table)."""
        if self._memory is None:
            from arr_actors.sources.runner_memory import open_memory

            self._memory = open_memory(self.settings)
        return self._memory

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None
        if self._memory is not None and hasattr(self._memory, "close"):
            self._memory.close()
            self._memory = None
        self.clients.close()


@dataclass(frozen=True, slots=True)
class FanOut(Generic[T]):
    """Per-region outcome of a parallel call: results, and failures in region order."""

    results: dict[str, T]
    failures: tuple[tuple[str, BaseException], ...]

    def warning(self, total: int, *, noun: str = "regions") -> str:
        """``"2 of 18 regions failed: us-west2 (PermissionDenied: ...), ..."`` or ``""``."""
        if not self.failures:
            return ""
        parts = [f"{region} ({shorten(describe(exc), _WARNING_DETAIL)})" for region, exc in self.failures]
        return f"{len(self.failures)} of {total} {noun} failed: " + ", ".join(parts)

    def raise_if_all_failed(self, *, service: str, timeout_s: float) -> None:
        """When no region answered, raise the first failure as a SourceError naming where it happened."""
        if self.failures and not self.results:
            raise translate(
                self.failures[0][1], service=service, timeout_s=timeout_s, where=where_failed(self.failures)
            )


class RegionTimeout(TimeoutError):
    """A region's call did not come back even after its own deadline plus a grace period."""


def fan_out(
    pool: concurrent.futures.ThreadPoolExecutor,
    regions: Sequence[str],
    call: Callable[[str], T],
    *,
    timeout_s: float,
) -> FanOut[T]:
    """Run ``call(region)`` for every region at once; never raises for a region's failure."""
    futures = {region: pool.submit(call, region) for region in regions}
    done, _ = concurrent.futures.wait(futures.values(), timeout=timeout_s + _FANOUT_GRACE_S)
    results: dict[str, T] = {}
    failures: list[tuple[str, BaseException]] = []
    for region in regions:
        future = futures[region]
        if future not in done:
            future.cancel()
            failures.append((region, RegionTimeout(f"no answer within {timeout_s:g} s")))
            continue
        exc = future.exception()
        if exc is not None:
            failures.append((region, exc))
        else:
            results[region] = future.result()
    return FanOut(results, tuple(failures))


def where_failed(failures: Sequence[tuple[str, BaseException]]) -> str:
    """``"us-west2, europe-west1"`` or ``"us-west2 and 17 other regions"`` for an all-failed message."""
    names = [name for name, _ in failures]
    if len(names) <= 3:
        return ", ".join(names)
    return f"{names[0]} and {len(names) - 1} more"


def epoch(value: Any) -> float | None:
    """A proto-plus timestamp (datetime or None) as epoch seconds."""
    if value is None:
        return None
    stamp = value.timestamp()
    # An unset Timestamp message can come back as the epoch itself.
    return float(stamp) if stamp > 0 else None


def rfc3339(epoch: float) -> str:
    """Epoch seconds as the UTC timestamp Google Cloud filters take, rounded down to the second."""
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def last_segment(name: str) -> str:
    """``projects/p/locations/r/jobs/j/executions/e`` -> ``e``."""
    return name.rsplit("/", 1)[-1]


def location_of(name: str, default: str = "") -> str:
    """The ``locations/<x>`` part of a resource name, or ``default``."""
    parts = name.split("/")
    for i, part in enumerate(parts[:-1]):
        if part == "locations":
            return parts[i + 1]
    return default
