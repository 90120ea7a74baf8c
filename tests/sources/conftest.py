"""Fixtures for the source tests: the emulator in this process with a clock the test moves.

The world is a pure function of its seed and clock, so a test reads the truth
straight from ``Emulator.world`` and compares it with what the sources fetched
over the real wire protocols.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from source_helpers import FakeClock, start_emulator


@pytest.fixture
def emulated() -> Iterator[tuple[object, FakeClock]]:
    """A started in-process emulator and its clock, stopped after the test."""
    emu, clock = start_emulator(time.time())
    try:
        yield emu, clock
    finally:
        emu.stop()  # type: ignore[attr-defined]
