"""One benchmark run: every measurement in turn, each one's leftovers reaped, the report completed."""

from __future__ import annotations

import compileall
import importlib.util
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from typing import IO

from benchmarks.key_latency import measure_keys
from benchmarks.log_view import measure_log_view
from benchmarks.plan import DUMMY_WANDB_KEY, RUN_MARKER_VAR, Plan
from benchmarks.process_tree import reap_leftovers
from benchmarks.report import Progress, Report
from benchmarks.runner_refresh import measure_runner_refresh
from benchmarks.scaling import measure_scaling
from benchmarks.startup import measure_startup
from benchmarks.supervision import measure_supervision

Measurement = Callable[[Plan, str, Report, Progress], None]

#: name -> function(plan, workdir, report, say); run in this order.
MEASUREMENTS: tuple[tuple[str, Measurement], ...] = (
    ("runner_refresh", measure_runner_refresh),
    ("startup", measure_startup),
    ("keys", measure_keys),
    ("supervision", measure_supervision),
    ("scaling", measure_scaling),
    ("log_view", measure_log_view),
)


#: The packages the monitor runs from.
PRODUCT_PACKAGES = ("arr_actors", "arr_actors_ui")


def compile_product() -> str:
    """Compile the product's modules to bytecode, as installing it does, and say how that went.

    A monitor started from a source tree without it compiles every module it
    imports on every start when bytecode is not written (PYTHONDONTWRITEBYTECODE,
    a read-only tree): 40 ms of the first frame here, which no installed copy pays.
    """
    done = []
    for name in PRODUCT_PACKAGES:
        spec = importlib.util.find_spec(name)
        for path in (spec.submodule_search_locations or []) if spec is not None else []:
            if not compileall.compile_dir(path, quiet=1):
                return f"could not compile {path}: start-up figures include compiling it"
            done.append(name)
    return "compiled before measuring: " + ", ".join(done)


def run(*, quick: bool, progress: IO[str] | None = None, only: Sequence[str] = ()) -> Report:
    plan = Plan.make(quick=quick)
    report = Report()
    say = Progress(progress)
    marker = uuid.uuid4().hex
    os.environ[RUN_MARKER_VAR] = marker
    # Everything here talks to the emulator: a real key must never leave this process.
    os.environ["WANDB_API_KEY"] = DUMMY_WANDB_KEY
    os.environ.setdefault("WANDB_SILENT", "true")
    workdir = tempfile.mkdtemp(prefix="arr-actors-bench-")
    started = time.monotonic()
    report.put(
        plan={
            "quick": plan.quick,
            "latency_profile": "realistic" if plan.latency_scale == 1 else f"realistic x{plan.latency_scale:g}",
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
            "bytecode": compile_product(),
        }
    )
    try:
        for name, measure in MEASUREMENTS:
            if only and name not in only:
                continue
            say(f"{name} ...")
            try:
                measure(plan, os.path.join(workdir, name), report, say)
            except Exception as exc:  # noqa: BLE001 - one broken measurement must not hide the others
                text = f"{type(exc).__name__}: {exc}"
                report.errors[name] = text.splitlines()[0]
                say(f"{name} failed: {text}")
            left = reap_leftovers(marker)
            if left:
                report.errors[f"{name}.leftovers"] = f"{len(left)} processes left behind: " + "; ".join(left)
    finally:
        left = reap_leftovers(marker)
        if left:
            report.errors["leftovers"] = f"{len(left)} processes left behind: " + "; ".join(left)
        shutil.rmtree(workdir, ignore_errors=True)
    if plan.latency_scale != 1:
        report.notes.append(
            f"cloud latencies scaled by {plan.latency_scale:g}: fixed start-up costs (interpreters, imports) weigh "
            "more against them, so judge all_tables/critical path and the scaling ratio on a full run"
        )
    load = os.getloadavg()
    report.values["plan"]["load_average_at_end"] = [round(x, 2) for x in load]
    busiest = max(load[0], report.values["plan"]["load_average_at_start"][0])
    if busiest > (os.cpu_count() or 1):
        report.notes.append(
            f"the machine was busy (load average up to {busiest:.1f} on {os.cpu_count()} CPUs): "
            "absolute times are inflated, ratios and counts much less"
        )
    report.put(bench_duration_s=round(time.monotonic() - started, 1), processes_left=len(left))
    return report
