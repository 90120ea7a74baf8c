"""Every fault kind on every emulated service yields a clear table error or warning.

Keeping the last known good rows on screen is the runtime's job; here each
source must turn the fault into a SourceError (or, for partial trouble, a
warning next to the rows) whose text says what is wrong and what to do.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from source_helpers import emulator_settings, start_emulator

from arr_actors.sources import open_source
from arr_actors.sources.errors import NO_CREDENTIALS, SourceError

SERVICE = {"runner": "run", "builds": "build", "vertex": "vertex", "active": "wandb", "completed": "wandb"}
GRPC_TIMEOUT_S = 0.5

# (table, fault kind, text the SourceError must contain)
GRPC_CASES = [
    ("runner", "hang", "Cloud Run did not answer within 0.5 s"),
    ("runner", "slow:2", "Cloud Run did not answer within 0.5 s"),
    ("runner", "error:PERMISSION_DENIED", "Cloud Run Viewer role (roles/run.viewer)"),
    ("runner", "error:UNAUTHENTICATED", NO_CREDENTIALS),
    ("runner", "error:UNAVAILABLE", "Cloud Run is unavailable"),
    ("runner", "error:NOT_FOUND", "runner job 'vertex-ai-launcher' not found in any of the 18 configured regions"),
    ("runner", "garbage", "Cloud Run sent an answer that could not be decoded"),
    ("builds", "hang", "Cloud Build did not answer within 0.5 s"),
    ("builds", "error:PERMISSION_DENIED", "Cloud Build Viewer role (roles/cloudbuild.builds.viewer)"),
    ("builds", "error:UNAUTHENTICATED", NO_CREDENTIALS),
    ("builds", "error:RESOURCE_EXHAUSTED", "Cloud Build quota exceeded"),
    ("builds", "garbage", "Cloud Build sent an answer that could not be decoded"),
    ("vertex", "hang", "Vertex AI did not answer within 0.5 s"),
    ("vertex", "error:PERMISSION_DENIED", "Vertex AI Viewer role (roles/aiplatform.viewer)"),
    ("vertex", "error:UNAUTHENTICATED", NO_CREDENTIALS),
    ("vertex", "error:INTERNAL", "Vertex AI error (us-central1 and 17 more): InternalServerError"),
    ("vertex", "garbage", "Vertex AI sent an answer that could not be decoded"),
]
WANDB_CASES = [
    ("active", "hang", "W&B gave no usable answer within 1 s"),
    ("active", "error:401", "W&B rejected the credentials: run `wandb login` or set WANDB_API_KEY"),
    ("active", "error:403", "W&B denied access"),
    ("completed", "error:503", "W&B gave no usable answer within 1 s"),
    ("completed", "garbage", "W&B sent an answer that could not be read"),
]


@pytest.fixture(scope="module")
def shared_emulator() -> Iterator[object]:
    emu, _clock = start_emulator(time.time())
    try:
        yield emu
    finally:
        emu.stop()


@pytest.mark.timeout(30)
@pytest.mark.parametrize(("table", "kind", "expected"), GRPC_CASES + WANDB_CASES)
def test_fault_gives_clear_error(shared_emulator, tmp_path, table, kind, expected):
    emu = shared_emulator
    settings = emulator_settings(emu, tmp_path, values={"api.call_timeout_s": GRPC_TIMEOUT_S if SERVICE[table] != "wandb" else 1.0})
    fetch = open_source(settings, table)
    assert fetch().rows  # healthy first: the client is built and working
    emu.control.set_faults({SERVICE[table]: kind})
    try:
        started = time.monotonic()
        with pytest.raises(SourceError) as caught:
            fetch()
        # Every call has a timeout: even a hung service costs one call timeout, not more.
        assert time.monotonic() - started < settings.api.call_timeout_s + 5
    finally:
        emu.control.set_faults({})
    assert expected in str(caught.value)
    # The fault gone, the same source recovers on its next fetch.
    assert fetch().rows


@pytest.mark.timeout(30)
@pytest.mark.parametrize("table", ["runner", "builds", "vertex", "active"])
def test_slow_but_in_time_is_fine(shared_emulator, tmp_path, table):
    emu = shared_emulator
    settings = emulator_settings(emu, tmp_path, values={"api.call_timeout_s": 3.0})
    fetch = open_source(settings, table)
    emu.control.set_faults({SERVICE[table]: "slow:0.3"})
    try:
        data = fetch()
    finally:
        emu.control.set_faults({})
    assert data.rows and data.warning == ""


@pytest.mark.timeout(30)
@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("hang", "logs not read: Cloud Logging did not answer within 0.5 s"),
        ("error:PERMISSION_DENIED", "Logs Viewer role (roles/logging.viewer)"),
        ("garbage", "logs not read: Cloud Logging sent an answer that could not be decoded"),
    ],
)
def test_logging_fault_is_a_warning_next_to_the_rows(shared_emulator, tmp_path, kind, expected):
    emu = shared_emulator
    settings = emulator_settings(emu, tmp_path, values={"api.call_timeout_s": GRPC_TIMEOUT_S})
    emu.control.set_faults({"logging": kind})
    try:
        data = open_source(settings, "runner")()
    finally:
        emu.control.set_faults({})
    assert len(data.rows) == 10 and expected in data.warning


@pytest.mark.timeout(30)
def test_some_regions_failing_is_a_warning(shared_emulator, tmp_path):
    emu = shared_emulator
    regions = (*emu.world.regions, "me-central9", "af-south7")
    data = open_source(emulator_settings(emu, tmp_path, regions=regions), "runner")()
    assert len(data.rows) == 10
    assert data.warning.startswith("2 of 20 regions failed: me-central9 (NotFound: ")
    assert "af-south7 (NotFound: " in data.warning


def test_missing_project_says_where_to_set_it(tmp_path):
    from arr_actors import config

    for table in ("runner", "builds", "vertex"):
        with pytest.raises(SourceError, match="set `project` in the config file or ARR_PROJECT"):
            open_source(config.defaults(project="", values={"paths.cache_dir": str(tmp_path)}), table)()
    for table in ("active", "completed"):
        with pytest.raises(SourceError, match="ARR_WANDB_PROJECT"):
            open_source(config.defaults(project="p", values={"wandb.project": ""}), table)()


PROBE = """
import sys
from arr_actors import config
from arr_actors.sources import open_source
from arr_actors.sources.errors import SourceError
settings = config.defaults({"project": "p", "wandb.project": "q", "wandb.entity": "e", "paths.cache_dir": sys.argv[2],
                            "paths.state_dir": sys.argv[2], "api.call_timeout_s": 2.0})
try:
    open_source(settings, sys.argv[1])()
except SourceError as exc:
    print("SourceError:", exc)
"""


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ("runner", NO_CREDENTIALS),
        ("vertex", NO_CREDENTIALS),
        ("builds", NO_CREDENTIALS),
        ("active", "no W&B API key: run `wandb login` or set WANDB_API_KEY"),
    ],
)
def test_no_credentials_against_the_real_endpoints(tmp_path, table, expected):
    """Real endpoints (no emulator) without any credentials: a clear message, no network needed."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOOGLE_", "CLOUDSDK_", "WANDB_", "GCE_"))}
    env.update(
        HOME=str(home),
        GOOGLE_APPLICATION_CREDENTIALS=str(home / "missing.json"),
        CLOUDSDK_CONFIG=str(home / "gcloud"),
        WANDB_CONFIG_DIR=str(home / "wandb"),
        NETRC=str(home / ".netrc"),
        PYTHONPATH=str(Path(__file__).resolve().parents[2]),
    )
    out = subprocess.run(
        [sys.executable, "-c", PROBE, table, str(tmp_path)], env=env, capture_output=True, text=True, timeout=50
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == f"SourceError: {expected}"
