"""A W&B fetch stops the wandb-core helper it started, however it ends, and the next fetch starts a new one.

``wandb.Api`` (0.31) sends every request through a ``wandb-core`` helper
process; a W&B table's process keeps none between its fetches. The fetches
here run in the test's own process, so its children are the helpers.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from source_helpers import emulator_settings

from arr_actors.sources import wandb_runs
from arr_actors.sources.common import SourceContext
from arr_actors.sources.errors import SourceError

pytest.importorskip("wandb")


def helpers() -> list[int]:
    """Live ``wandb-core`` processes whose parent is this process."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        state, ppid = rest[0], int(rest[1])
        if ppid == os.getpid() and name == "wandb-core" and state != "Z":
            found.append(int(entry.name))
    return found


@pytest.mark.timeout(90)
def test_no_helper_outlives_a_fetch_that_succeeds_or_fails(emulated, tmp_path):
    emu, _ = emulated
    settings = emulator_settings(emu, tmp_path)
    ctx = SourceContext(settings)
    try:
        assert helpers() == []
        for fetch in (wandb_runs.fetch_active, wandb_runs.fetch_completed, wandb_runs.fetch_active):
            assert fetch(settings, ctx).rows
            assert helpers() == []
        emu.control.set_faults({"wandb": "error:403"})
        try:
            with pytest.raises(SourceError, match="W&B denied access"):
                wandb_runs.fetch_completed(settings, ctx)
        finally:
            emu.control.set_faults({})
        assert helpers() == []
        assert wandb_runs.fetch_completed(settings, ctx).rows
    finally:
        ctx.close()


@pytest.mark.timeout(90)
def test_a_helper_killed_during_a_fetch_fails_that_fetch_only(emulated, tmp_path):
    emu, _ = emulated
    settings = emulator_settings(emu, tmp_path, values={"api.call_timeout_s": 20.0})
    ctx = SourceContext(settings)
    killed: list[int] = []

    def kill_the_helper_once_the_server_hangs() -> None:
        deadline = time.monotonic() + 30
        while not killed and time.monotonic() < deadline:
            found = helpers()
            if found and emu.control.stats().get("GraphQL", 0):
                for pid in found:
                    os.kill(pid, signal.SIGKILL)
                killed.extend(found)
            time.sleep(0.02)

    try:
        emu.control.stats(reset=True)
        emu.control.set_faults({"wandb": "hang"})
        killer = threading.Thread(target=kill_the_helper_once_the_server_hangs)
        killer.start()
        try:
            started = time.monotonic()
            with pytest.raises(SourceError, match=r"helper process \(wandb-core\) stopped"):
                wandb_runs.fetch_active(settings, ctx)
            # Told at once, not at the end of the call's 20 s timeout.
            assert time.monotonic() - started < 10
        finally:
            killer.join()
            emu.control.set_faults({})
        assert killed
        assert wandb_runs.fetch_active(settings, ctx).rows
        assert helpers() == []
    finally:
        ctx.close()
