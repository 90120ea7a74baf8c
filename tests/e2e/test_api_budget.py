"""The status line's API figures against the emulator's own count of the calls it answered."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from arr_actors import emulator
from arr_actors.tables import TABLE_KEYS, TABLES
from e2e.conftest import program_env
from e2e.pty import Terminal

pytestmark = pytest.mark.e2e

REGIONS = ("us-central1", "europe-west4", "asia-northeast1")
#: The emulator counts by method; the status line by service.
SERVICE_OF = {
    "ListExecutions": "run",
    "GetExecution": "run",
    "RunJob": "run",
    "ListCustomJobs": "aiplatform",
    "GetCustomJob": "aiplatform",
    "ListBuilds": "cloudbuild",
    "ListLogEntries": "logging",
    "GraphQL": "wandb",  # both W&B tables, counted where wandb.Api hands each request to wandb-core
}


@pytest.fixture
def emu() -> Iterator[emulator.EmulatorProcess]:
    with emulator.spawn(project="budget-project", regions=REGIONS, seed=5) as process:
        yield process


def monitor_env(emu: emulator.EmulatorProcess, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = program_env(
        ARR_PROJECT="budget-project",
        ARR_REGIONS=",".join(REGIONS),
        ARR_EMULATOR_ADDRESS=emu.grpc_address,
        ARR_EMULATOR_WANDB_URL=emu.wandb_url,
        ARR_WANDB_ENTITY=emulator.WANDB_ENTITY,
        ARR_WANDB_PROJECT=emulator.WANDB_PROJECT,
        ARR_PATHS_STATE_DIR=str(tmp_path / "state"),
        ARR_PATHS_CACHE_DIR=str(tmp_path / "cache"),
        **extra,
    )
    # One refresh per table within the test: the emulator's count is then the whole story.
    for key in TABLE_KEYS:
        env[f"ARR_TABLES_{key.upper()}_INTERVAL"] = "600"
    return env


def every_table_fetched(term: Terminal) -> bool:
    text = term.text()
    return all(re.search(rf"{re.escape(spec.title)}  \d+(?:/\d+)? rows?", text) for spec in TABLES) and "calls/min" in text


def status_figures(line: str) -> tuple[dict[str, int], int | None]:
    calls = re.search(r"calls/min ((?:[a-z]+ \d+ ?)+)", line)
    assert calls, line
    pairs = re.findall(r"([a-z]+) (\d+)", calls.group(1))
    left = re.search(r"logging budget (\d+)/60 left", line)
    return {k: int(v) for k, v in pairs}, int(left.group(1)) if left else None


@pytest.mark.timeout(120)
def test_calls_per_minute_and_logging_budget_match_the_emulators_count(emu, spawn, tmp_path: Path) -> None:
    emu.stats(reset=True)
    term = spawn(
        [sys.executable, "-m", "arr_actors", "--no-warm-start"], env=monitor_env(emu, tmp_path), cols=220, rows=50
    )
    term.wait_for(every_table_fetched, timeout=60, what="every table fetched once")
    # the runner table reads its logs after listing: wait until the counts settle
    expected: dict[str, int] = {}

    def settled(t: Terminal) -> bool:
        expected.clear()
        for method, n in emu.stats().items():
            service = SERVICE_OF.get(method)
            if service and n:
                expected[service] = expected.get(service, 0) + n
        return status_figures(t.lines()[-1])[0] == expected

    term.wait_for(settled, timeout=20, what="status line equals the emulator's count")
    print(term.lines()[-1])
    calls, left = status_figures(term.lines()[-1])
    assert set(calls) >= {"run", "aiplatform", "cloudbuild", "wandb"}
    assert left == 60 - expected.get("logging", 0)
    term.press("q")
    assert term.wait_exit(timeout=5) == 0
