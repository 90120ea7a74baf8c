"""The API budget on screen: the status line's figures against the emulator's own count
of the calls it answered, and a table the Cloud Logging limiter holds back."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from arr_actors import config, emulator
from arr_actors.sources import limiter
from arr_actors.tables import TABLE_KEYS, TABLES
from arr_actors.timefmt import format_clock
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

TITLES = {spec.key: spec.title for spec in TABLES}
#: The note a finished execution shows while its log read waits for the limiter.
DEFERRED_NOTE = "log read deferred"


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


def fill_logging_budget(settings: config.Settings, *, free_at: int) -> None:
    """Write the project's limiter file as if every call of the window was made at once,
    ``WINDOW_S`` seconds before ``free_at``: the limiter is full until then."""
    shared = limiter.for_settings(settings)
    stamps = [free_at - limiter.WINDOW_S] * settings.api.logging_reads_per_minute
    shared.path.parent.mkdir(parents=True, exist_ok=True)
    shared.path.write_text(json.dumps(stamps))


def runner_title(term: Terminal) -> str:
    return term.line_with(TITLES["runner"]) or ""


@pytest.mark.timeout(120)
def test_a_table_the_limiter_holds_back_says_so_until_when_and_stops_once_it_frees(emu, spawn, tmp_path: Path) -> None:
    env = monitor_env(emu, tmp_path)
    settings = config.defaults(
        {
            "project": env["ARR_PROJECT"],
            "emulator.address": env["ARR_EMULATOR_ADDRESS"],
            "emulator.wandb_url": env["ARR_EMULATOR_WANDB_URL"],
            "paths.state_dir": env["ARR_PATHS_STATE_DIR"],
        }
    )
    # Full for a minute: the first refresh of the runner table finds no slot for its log read.
    first_free = int(time.time()) + 60
    fill_logging_budget(settings, free_at=first_free)
    emu.stats(reset=True)
    term = spawn([sys.executable, "-m", "arr_actors", "--no-warm-start"], env=env, cols=220, rows=50)
    throttled = f"THROTTLED by the Cloud Logging limit until {format_clock(first_free, time.time())}"
    term.wait_for(lambda t: throttled in runner_title(t), timeout=60, what="the runner title says it is throttled")
    assert DEFERRED_NOTE in term.text()  # its finished executions wait for the read
    assert "logging budget 0/60 left" in term.lines()[-1]
    assert emu.stats().get("ListLogEntries", 0) == 0  # the limiter really held the read back

    # The limiter frees in 20 s: a refresh now is held back until then, and its title says the new time.
    second_free = int(time.time()) + 20
    fill_logging_budget(settings, free_at=second_free)
    term.press("r")
    throttled = f"THROTTLED by the Cloud Logging limit until {format_clock(second_free, time.time())}"
    term.wait_for(lambda t: throttled in runner_title(t), timeout=15, what="the title says the new time")
    assert emu.stats().get("ListLogEntries", 0) == 0
    term.wait_for(lambda t: "THROTTLED" not in runner_title(t), timeout=30, what="the title stops saying so")
    assert time.time() >= second_free  # it stopped because the time came, not before

    # Once free, the next refresh reads the logs it held back.
    term.press("r")
    term.wait_for(lambda t: DEFERRED_NOTE not in t.text(), timeout=30, what="the held-back logs read")
    assert "THROTTLED" not in runner_title(term)
    assert emu.stats().get("ListLogEntries", 0) >= 1
    term.press("q")
    assert term.wait_exit(timeout=5) == 0
