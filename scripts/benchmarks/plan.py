"""How big and how long each measurement is (``--quick`` shrinks it), and what every part shares."""

from __future__ import annotations

import os
from dataclasses import dataclass

from arr_actors import config

#: Every process the benchmark starts inherits this variable, so the final check
#: finds stragglers even after they were re-parented. (Not ``ARR_...``: the
#: settings loader rejects ARR_* variables it does not know.)
RUN_MARKER_VAR = "BENCH_ARR_ACTORS_RUN"

#: A W&B key the emulator accepts (the client insists on 40+ characters); never a real one.
DUMMY_WANDB_KEY = "bench-key-" + "0" * 32

TERMINAL_ROWS, TERMINAL_COLS = 50, 200
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@dataclass(frozen=True, slots=True)
class Plan:
    """How big and how long each measurement is; ``--quick`` shrinks it."""

    quick: bool
    latency_scale: float  # 1.0 = the emulator's realistic profile as it is
    refresh_repeats: int  # runner refresh: product and sequential, each this many times
    steady_refreshes: int  # refreshes with nothing new, for logging reads
    new_terminal: int
    idle_s: float
    key_presses: int
    loop_lag_s: float
    kill_deadline_s: float
    restart_deadline_s: float
    frame_repeats: int
    scaling_regions: tuple[int, ...]
    executions_factor: int
    seed: int = 7

    @classmethod
    def make(cls, *, quick: bool) -> Plan:
        if quick:
            return cls(
                quick=True,
                latency_scale=0.2,
                refresh_repeats=1,
                steady_refreshes=3,
                new_terminal=5,
                idle_s=10.0,
                key_presses=20,
                loop_lag_s=3.0,
                kill_deadline_s=2.0,
                restart_deadline_s=4.0,
                frame_repeats=1,
                scaling_regions=(100,),
                executions_factor=10,
            )
        return cls(
            quick=False,
            latency_scale=1.0,
            refresh_repeats=3,
            steady_refreshes=10,
            new_terminal=5,
            idle_s=30.0,
            key_presses=200,  # a p99 of fewer samples is only their maximum
            loop_lag_s=10.0,
            kill_deadline_s=3.0,
            restart_deadline_s=10.0,
            frame_repeats=5,
            scaling_regions=(18, 50, 100),
            executions_factor=10,
        )


def region_names(count: int) -> tuple[str, ...]:
    """The 18 real runner regions, then made-up ones for scaling runs."""
    regions = list(config.DEFAULT_REGIONS[:count])
    n = 1
    while len(regions) < count:
        regions.append(f"bench-region{n}")
        n += 1
    return tuple(regions)
