"""W&B calls counted in the fetching process against the emulator's count of the GraphQL requests it served.

wandb 0.31 sends every request from its ``wandb-core`` helper process; the
count is taken in ours, so these tests check that what we count is what
reached the server.
"""

from __future__ import annotations

import pytest
from source_helpers import emulator_settings

from arr_actors.sources import counting, wandb_runs
from arr_actors.sources.common import SourceContext
from arr_actors.sources.errors import SourceError


def _served(emu) -> int:
    return emu.control.stats(reset=True).get("GraphQL", 0)


@pytest.mark.timeout(90)
def test_every_request_of_both_wandb_tables_is_counted_once(emulated, tmp_path):
    emu, _ = emulated
    settings = emulator_settings(emu, tmp_path)
    ctx = SourceContext(settings)
    try:
        counting.take()
        _served(emu)
        # The first fetch also builds the Api, which asks the server who the key belongs to.
        first = wandb_runs.fetch_active(settings, ctx)
        counted, served = counting.take(), _served(emu)
        assert first.rows and served >= 2
        assert counted == (("wandb", served),)
        for fetch in (wandb_runs.fetch_completed, wandb_runs.fetch_active):
            fetch(settings, ctx)
            assert counting.take() == (("wandb", _served(emu)),)
    finally:
        ctx.close()


@pytest.mark.timeout(90)
def test_a_request_the_server_refuses_still_counts(emulated, tmp_path):
    emu, _ = emulated
    settings = emulator_settings(emu, tmp_path)
    ctx = SourceContext(settings)
    try:
        wandb_runs.fetch_active(settings, ctx)
        counting.take()
        _served(emu)
        emu.control.set_faults({"wandb": "error:403"})
        with pytest.raises(SourceError):
            wandb_runs.fetch_completed(settings, ctx)
        served = _served(emu)
        assert served >= 1
        assert counting.take() == (("wandb", served),)
    finally:
        ctx.close()
