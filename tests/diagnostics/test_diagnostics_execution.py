"""``diagnose --execution NAME --region R`` against the emulator: one log read, the same diagnosis."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from arr_actors import config
from arr_actors.diagnostics.registry import default

pytest.importorskip("arr_actors.sources.logs")
pytest.importorskip("google.cloud.run_v2")

REGIONS = ("us-west2", "europe-west2")


@pytest.fixture(scope="module")
def emulated():
    from arr_actors import emulator
    from arr_actors.sources.clients import Clients

    with emulator.spawn(regions=REGIONS) as emu:
        settings = config.defaults(project=emu.project, regions=REGIONS, values={"emulator.address": emu.grpc_address})
        executions = Clients(settings).executions()
        found: dict[str, tuple[str, str]] = {}
        for region in REGIONS:
            parent = f"projects/{emu.project}/locations/{region}/jobs/{settings.runner_job}"
            for item in executions.list_executions(request={"parent": parent}, timeout=10):
                state = "failed" if item.failed_count else "finished" if item.succeeded_count else "running"
                found.setdefault(state, (item.name.rsplit("/", 1)[-1], region))
        env = {
            **os.environ,
            "ARR_PROJECT": emu.project,
            "ARR_EMULATOR_ADDRESS": emu.grpc_address,
            "ARR_REGIONS": ",".join(REGIONS),
        }
        yield found, env


def diagnose_execution(env, name, region):
    return subprocess.run(
        [sys.executable, "-m", "arr_actors", "diagnose", "--execution", name, "--region", region, "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=90,
    )


@pytest.mark.timeout(120)
def test_a_failed_execution_is_fetched_and_diagnosed(emulated):
    found, env = emulated
    name, region = found["failed"]
    proc = diagnose_execution(env, name, region)
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["outcome"] == "failed"
    assert doc["category"] in {p.category for p in default().patterns}
    assert doc["pattern"] and doc["summary"] and doc["context"]
    assert isinstance(doc["runs"], int)


@pytest.mark.timeout(120)
def test_a_finished_execution_reads_as_completed(emulated):
    found, env = emulated
    name, region = found["finished"]
    proc = diagnose_execution(env, name, region)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["outcome"] == "finished" and "completed" in doc["summary"]


@pytest.mark.timeout(120)
def test_an_unknown_execution_is_a_clear_error(emulated):
    _, env = emulated
    proc = diagnose_execution(env, "vertex-ai-launcher-nosuch", "us-west2")
    assert proc.returncode == 2
    assert proc.stderr.startswith("python -m arr_actors diagnose: error: no log lines for execution")
    assert "Traceback" not in proc.stderr
