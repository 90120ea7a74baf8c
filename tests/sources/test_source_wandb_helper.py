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

import pytest
from source_helpers import emulator_settings

from arr_actors.sources import wandb_helper, wandb_runs
from arr_actors.sources.common import SourceContext
from arr_actors.sources.errors import SourceError

pytest.importorskip("wandb")


@pytest.mark.timeout(90)
def test_no_helper_outlives_a_fetch_that_succeeds_or_fails(emulated, tmp_path):
    emu, _ = emulated
    settings = emulator_settings(emu, tmp_path)
    ctx = SourceContext(settings)
    try:
        assert wandb_helper.running() == []
        for fetch in (wandb_runs.fetch_active, wandb_runs.fetch_completed, wandb_runs.fetch_active):
            assert fetch(settings, ctx).rows
            assert wandb_helper.running() == []
        emu.control.set_faults({"wandb": "error:403"})
        try:
            with pytest.raises(SourceError, match="W&B denied access"):
                wandb_runs.fetch_completed(settings, ctx)
        finally:
            emu.control.set_faults({})
        assert wandb_helper.running() == []
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
            found = wandb_helper.running()
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
        assert wandb_helper.running() == []
    finally:
        ctx.close()


@pytest.mark.timeout(60)
def test_a_helper_that_does_not_exit_when_asked_is_killed(emulated, tmp_path):
    emu, _ = emulated
    settings = emulator_settings(emu, tmp_path)
    ctx = SourceContext(settings)
    try:
        with ctx.clients.wandb_api():
            (helper,) = wandb_helper.running()
            # Stopped, it cannot read the request to exit, and wandb would wait for it for ever.
            os.kill(helper, signal.SIGSTOP)
            started = time.monotonic()
        assert time.monotonic() - started < 2 * wandb_helper.STOP_WAIT_S + 1
        assert wandb_helper.running() == []
        assert wandb_runs.fetch_active(settings, ctx).rows
    finally:
        ctx.close()
