"""Sources for runtime tests: quick, offline, one small row per fetch.

The runtime tests exercise supervision, not the cloud: misbehaviour comes from
the runtime's own fault injection (``settings.faults``), which runs in the
child before these functions are called.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable

from arr_actors.messages import BuildRow, RunnerRow, TableData, VertexRow, WandbRunRow

FACTORY = "runtime_fake_sources:open_source"
BROKEN_FACTORY = "runtime_fake_sources:open_broken_source"


def open_source(settings: object, table: str) -> Callable[[], TableData]:
    counter = itertools.count(1)
    pid = os.getpid()

    def fetch() -> TableData:
        n = next(counter)
        now = time.time()
        key = f"{pid}-{n}"
        if table == "runner":
            row: object = RunnerRow(
                execution=f"exec-{key}", region="us-central1", queue="q", status="RUNNING", runs=n, created_at=now
            )
        elif table == "builds":
            row = BuildRow(build_id=f"build-{key}", status="WORKING", image="img", region="global", created_at=now)
        elif table == "vertex":
            row = VertexRow(
                job_id=f"job-{key}", display_name="train", region="us-central1", state="RUNNING", created_at=now
            )
        else:
            row = WandbRunRow(run_id=f"run-{key}", name="run", state="running", created_at=now)
        return TableData(rows=(row,))  # type: ignore[arg-type]

    return fetch


#: How long ``open_slow_loading_source`` takes to load: longer than the tests' deadlines.
SLOW_LOAD_S = 1.5


def open_slow_loading_source(settings: object, table: str) -> Callable[[], TableData]:
    """Loads as slowly as a real source importing its cloud libraries on a busy machine, then fetches quickly."""
    time.sleep(SLOW_LOAD_S)
    return open_source(settings, table)


def open_hanging_source(settings: object, table: str) -> Callable[[], TableData]:
    """Never finishes loading (a C call holding the GIL, like an import stuck in an extension module)."""
    from arr_actors.runtime import injected

    injected.hang_holding_the_gil()
    return open_source(settings, table)  # pragma: no cover - never reached


def open_broken_source(settings: object, table: str) -> Callable[[], TableData]:
    def fetch() -> TableData:
        return "not table data"  # type: ignore[return-value]

    return fetch


#: Packages a fetch process must not have loaded before its source asks for them.
FORBIDDEN_PACKAGES = ("pykka", "urwid", "grpc", "wandb", "ui", "google")


def open_import_report_source(settings: object, table: str) -> Callable[[], TableData]:
    """Reports, in the row's note, which forbidden packages the process had loaded code of.

    Empty namespace packages do not count: a .pth file of the Google packages
    creates ``google`` and ``google.cloud`` at interpreter start-up, loading nothing.
    """
    import sys

    loaded = sorted(
        {
            name.split(".")[0]
            for name, module in list(sys.modules.items())
            if name.split(".")[0] in FORBIDDEN_PACKAGES and getattr(module, "__file__", None)
        }
    )

    def fetch() -> TableData:
        report = WandbRunRow(run_id="report", name="imports", state="finished", created_at=0.0, note=",".join(loaded))
        return TableData(rows=(report,))

    return fetch


#: ``open_progress_source``'s fetch finishes once this file exists in the state directory.
GO_FILE = "go"


def open_progress_source(settings: object, table: str) -> Callable[[], TableData]:
    """Reports a partial row, then finishes with the final row once the test says so
    (``GO_FILE`` appears): the test sees the partial rows while the fetch still runs."""
    from arr_actors import partial_rows

    go = os.path.join(settings.paths.state_dir, GO_FILE)  # type: ignore[attr-defined]

    def row(name: str) -> BuildRow:
        return BuildRow(build_id=name, status="WORKING", image="img", region="global", created_at=time.time())

    def fetch() -> TableData:
        partial_rows.report(TableData(rows=(row("partial"),)))
        end = time.monotonic() + 30
        while not os.path.exists(go) and time.monotonic() < end:
            time.sleep(0.01)
        return TableData(rows=(row("final"),))

    return fetch
