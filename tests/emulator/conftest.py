"""Emulators for the tests: started a few times per session, never per test.

``emu`` is shared by every test that only reads the world; tests that change
faults or scenarios start their own module-scoped emulator.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from emulator_helpers import PROJECT, REGIONS, Clients, make_clients

from arr_actors import emulator


@pytest.fixture(scope="session")
def emu() -> Iterator[emulator.EmulatorProcess]:
    """The shared, read-only world (speed 1: nothing changes much during the session)."""
    with emulator.spawn(project=PROJECT, regions=REGIONS, seed=3) as process:
        yield process


@pytest.fixture(scope="session")
def clients(emu: emulator.EmulatorProcess) -> Iterator[Clients]:
    made = make_clients(emu.grpc_address)
    yield made
    made.channel.close()


@pytest.fixture(scope="session")
def wandb_api(emu: emulator.EmulatorProcess) -> Any:
    import wandb

    return wandb.Api(overrides={"base_url": emu.wandb_url}, api_key="k" * 40, timeout=20)
