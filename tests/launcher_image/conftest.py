"""Every wrapper scenario runs once per session, all at the same time (they mostly wait)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from wrapper_harness import SCENARIOS, WrapperRun, run_scenario


@pytest.fixture(scope="session")
def wrapper_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, WrapperRun]:
    base = tmp_path_factory.mktemp("wrapper")
    with ThreadPoolExecutor(max_workers=len(SCENARIOS)) as pool:
        futures = {name: pool.submit(run_scenario, name, base / name) for name in SCENARIOS}
        return {name: future.result() for name, future in futures.items()}
