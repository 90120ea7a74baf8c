"""Helpers for the source tests: a clock the test moves, settings that point at an emulator, a fresh interpreter."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

from arr_actors import config


class FakeClock:
    """The emulator's clock: starts where it is told, moves only when a test says so."""

    def __init__(self, now: float) -> None:
        self._now = now
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self._now

    def set(self, now: float) -> None:
        with self._lock:
            self._now = now


def start_emulator(now: float) -> tuple[object, FakeClock]:
    """An in-process emulator (default world, no latency, no faults) on a fake clock, started."""
    from arr_actors.emulator.options import Options
    from arr_actors.emulator.server import Emulator

    clock = FakeClock(now)
    emu = Emulator(Options(), clock=clock)
    emu.start()
    return emu, clock


def emulator_settings(
    emu: object, tmp_path: Path, *, values: dict[str, object] | None = None, **changes: object
) -> config.Settings:
    """Settings that point every client at ``emu``, with private cache and state directories;
    ``values`` changes settings by their dotted names, ``changes`` whole fields (``regions=``)."""
    base = {
        "project": emu.options.project,  # type: ignore[attr-defined]
        "regions": tuple(emu.world.regions),  # type: ignore[attr-defined]
        "emulator.address": emu.grpc_address,  # type: ignore[attr-defined]
        "emulator.wandb_url": emu.wandb_url,  # type: ignore[attr-defined]
        "wandb.entity": "demo-team",
        "wandb.project": "arr-training",
        "paths.cache_dir": str(tmp_path / "cache"),
        "paths.state_dir": str(tmp_path / "state"),
        "api.call_timeout_s": 5.0,
    }
    return config.defaults({**base, **(values or {})}, **changes)


def with_limit(settings: config.Settings, table: str, limit: int) -> config.Settings:
    tables = tuple(
        (key, config.TablePolicy(p.interval, p.budget, p.deadline, limit) if key == table else p)
        for key, p in settings.tables
    )
    return settings.replace(tables=tables)


def run_fresh(code: str) -> Any:
    """Run ``code`` in a fresh interpreter (nothing imported yet); its last line of output, as JSON."""
    out = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=100, check=False
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def modules_loaded_by(*modules: str) -> set[str]:
    """Every module a fresh interpreter holds after importing ``modules``."""
    code = "import importlib, json, sys\n" + "".join(f"importlib.import_module({m!r})\n" for m in modules)
    return set(run_fresh(code + "print(json.dumps(sorted(sys.modules)))"))


def children_loaded(loaded: set[str], package: str) -> set[str]:
    """The names of ``package``'s submodules (one level down) among ``loaded``."""
    prefix = package + "."
    return {m[len(prefix) :].split(".", 1)[0] for m in loaded if m.startswith(prefix)}
