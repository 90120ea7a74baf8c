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
from collections.abc import Callable, Iterator

import pytest
from source_helpers import emulator_settings

from arr_actors.config import Settings
from arr_actors.sources import wandb_helper, wandb_runs
from arr_actors.sources.common import SourceContext
from arr_actors.sources.errors import SourceError

pytest.importorskip("wandb")

OpenContext = Callable[..., tuple[Settings, SourceContext]]


@pytest.fixture
def open_context(emulated, tmp_path) -> Iterator[OpenContext]:
    """Settings pointed at the emulator (``values`` changed) and a source context, closed after the test."""
    opened: list[SourceContext] = []

    def open_(**values: object) -> tuple[Settings, SourceContext]:
        settings = emulator_settings(emulated[0], tmp_path, values=values)
        opened.append(SourceContext(settings))
        return settings, opened[-1]

    yield open_
    for ctx in opened:
        ctx.close()


@pytest.mark.timeout(90)
def test_no_helper_outlives_a_fetch_that_succeeds_or_fails(emulated, open_context):
    emu, _ = emulated
    settings, ctx = open_context()
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


@pytest.mark.timeout(90)
def test_a_helper_killed_during_a_fetch_fails_that_fetch_only(emulated, open_context):
    emu, _ = emulated
    settings, ctx = open_context(**{"api.call_timeout_s": 20.0})
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


@pytest.mark.timeout(60)
def test_a_helper_that_does_not_exit_when_asked_is_killed(open_context):
    settings, ctx = open_context()
    with ctx.clients.wandb_api():
        (helper,) = wandb_helper.running()
        # Stopped, it cannot read the request to exit, and wandb would wait for it for ever.
        os.kill(helper, signal.SIGSTOP)
        started = time.monotonic()
    assert time.monotonic() - started < 2 * wandb_helper.STOP_WAIT_S + 1
    assert wandb_helper.running() == []
    assert wandb_runs.fetch_active(settings, ctx).rows
