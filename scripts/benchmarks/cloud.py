"""The emulated cloud, and the product pointed at it: through the runtime API or as a user configures it."""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from arr_actors import config
from arr_actors.tables import TABLES
from benchmarks.plan import DUMMY_WANDB_KEY, REPO_ROOT, Plan

if TYPE_CHECKING:
    from arr_actors.messages import TableData

#: How fast the emulated world moves on after its start. Slowed down so that what
#: a measurement compares (two ways of one refresh, refreshes with nothing new)
#: does not change under it; no timing depends on it.
WORLD_SPEED = 0.01


def profile_name(scale: float) -> str:
    """The emulator's latency profile: the realistic one, its delays multiplied by ``scale``."""
    return "realistic" if scale == 1 else f"realistic:{scale:g}"


def start_emulator(plan: Plan, *, regions: Sequence[str]) -> Any:
    """The emulator with the plan's latency profile; a context manager that stops it."""
    from arr_actors import emulator

    # No empty Cloud Logging pages: the benchmark compares the calls two designs make, and the
    # emulator's stand-in share of empty pages would add calls to both at random.
    return emulator.spawn(
        latency=profile_name(plan.latency_scale), regions=regions, seed=plan.seed, speed=WORLD_SPEED, log_gaps=0.0
    )


def emulated_settings(
    emu: Any,
    *,
    home: str,
    regions: Sequence[str],
    faults: tuple[tuple[str, str], ...] = (),
    policies: Mapping[str, Mapping[str, Any]] | None = None,
) -> config.Settings:
    """Settings pointing the product at ``emu``, with its own cache and state under ``home``.

    ``policies`` changes fields of tables' policies: ``{"runner": {"deadline": 3.0}}``.
    """
    settings = config.defaults(
        {
            "project": emu.project,
            "regions": tuple(regions),
            "wandb.entity": emu.wandb_entity,
            "wandb.project": emu.wandb_project,
            "emulator.address": emu.grpc_address,
            "emulator.wandb_url": emu.wandb_url,
            "paths.cache_dir": os.path.join(home, "cache"),
            "paths.state_dir": os.path.join(home, "state"),
        },
        faults=faults,
    )
    if policies:
        tables = tuple((key, dataclasses.replace(policy, **policies.get(key, {}))) for key, policy in settings.tables)
        settings = settings.replace(tables=tables)
    return settings


def close_source(fetch: Callable[[], TableData]) -> None:
    """Close the clients of a fetch function from ``open_source``: a partial of
    the source function over ``(settings, context)``."""
    if not isinstance(fetch, functools.partial):
        raise TypeError(f"not a fetch function from open_source: {fetch!r}")
    fetch.args[1].close()


def monitor_env(
    emu: Any, *, home: str, regions: Sequence[str], settings: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """The environment of ``python -m arr_actors`` pointed at ``emu``, as a user would configure it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARR_")}
    for sub in ("cache", "state", "config", "wandb"):
        os.makedirs(os.path.join(home, sub), exist_ok=True)
    env.update(
        {
            "ARR_PROJECT": emu.project,
            "ARR_REGIONS": ",".join(regions),
            "ARR_WANDB_ENTITY": emu.wandb_entity,
            "ARR_WANDB_PROJECT": emu.wandb_project,
            "ARR_EMULATOR_ADDRESS": emu.grpc_address,
            "ARR_EMULATOR_WANDB_URL": emu.wandb_url,
            "ARR_PATHS_CACHE_DIR": os.path.join(home, "cache"),
            "ARR_PATHS_STATE_DIR": os.path.join(home, "state"),
            "XDG_CONFIG_HOME": os.path.join(home, "config"),
            "XDG_CACHE_HOME": os.path.join(home, "cache"),
            "XDG_STATE_HOME": os.path.join(home, "state"),
            "WANDB_CONFIG_DIR": os.path.join(home, "wandb"),
            "WANDB_DIR": os.path.join(home, "wandb"),
            "WANDB_API_KEY": DUMMY_WANDB_KEY,
            "WANDB_SILENT": "true",
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONPATH": REPO_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
        }
    )
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    for name, value in (settings or {}).items():
        env["ARR_" + name.upper().replace(".", "_")] = str(value)
    return env


def every_table(**values: Any) -> dict[str, Any]:
    """``tables.KEY.name = value`` for every table, as monitor_env settings."""
    return {f"tables.{spec.key}.{name}": value for spec in TABLES for name, value in values.items()}
