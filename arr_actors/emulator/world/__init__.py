"""The emulated world: runner executions, Vertex AI jobs, W&B runs and builds over time.

Everything is a pure function of the seed, the start time and the clock:
each region has its own random stream of runner executions, planned in
*world time* and stored in real epoch seconds. The world already has six
hours of history at start; after the start, world time runs ``speed`` times
faster than real time, so with ``speed=10`` an execution that idles out after
30 world minutes is over after 3 real minutes. Timestamps handed to clients
are always real epoch seconds, consistent with the caller's clock.

An entity's state is derived from its timestamps and ``now``: an execution is
PENDING before it starts, RUNNING until it ends, then FINISHED, FAILED or
CANCELLED; Vertex AI jobs and W&B runs follow the submissions a runner made;
builds go QUEUED -> WORKING -> SUCCESS/FAILURE/... Future entities are
planned lazily, region by region, so what a region looks like never depends
on when or how often it was queried.

The parts: ``clock`` (world time), ``entities`` (what exists), ``plans``
(what a random stream decides), ``maker`` (plans to entities), ``history``
(the streams, past and future), ``launches`` (RunJob's scenarios) and
``core`` (the World and its queries).
"""

from __future__ import annotations

from arr_actors.emulator.world.clock import ALIVE_EVERY_S, HISTORY_S, IDLE_LIMIT_S, Clock
from arr_actors.emulator.world.core import World
from arr_actors.emulator.world.entities import (
    DEFAULT_QUEUE,
    QUEUES,
    RUNNER_JOB,
    WANDB_ENTITY,
    WANDB_PROJECT,
    WANDB_USER,
    Build,
    Execution,
    VertexJob,
    WandbRun,
    project_number,
)
from arr_actors.emulator.world.launches import SCENARIOS, ScenarioError, check_scenario

__all__ = [
    "ALIVE_EVERY_S",
    "DEFAULT_QUEUE",
    "HISTORY_S",
    "IDLE_LIMIT_S",
    "QUEUES",
    "RUNNER_JOB",
    "SCENARIOS",
    "WANDB_ENTITY",
    "WANDB_PROJECT",
    "WANDB_USER",
    "Build",
    "Clock",
    "Execution",
    "ScenarioError",
    "VertexJob",
    "WandbRun",
    "World",
    "check_scenario",
    "project_number",
]
