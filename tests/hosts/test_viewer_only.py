"""The light install (``pip install arr_actors``: urwid and pykka only) as a user on a bare host meets it.

These tests need an environment without the cloud libraries: the viewer-only
environments that test_python_versions.py builds run them with
ARRACTORS_VIEWER_ONLY=1. Elsewhere they are skipped.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from arr_actors import extras
from arr_actors import messages as m
from arr_actors import recording as rec
from arr_actors.diagnostics import formats

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests" / "recording"))
sys.path.insert(0, str(ROOT / "tests"))

from e2e.pty import Terminal  # noqa: E402
from recording_samples import NOW, final_snapshots, session_messages  # noqa: E402

#: The installed command of this environment (not whichever is first on PATH).
ARR_ACTORS = str(Path(sys.executable).parent / "arr-actors")

pytestmark = pytest.mark.skipif(
    os.environ.get("ARRACTORS_VIEWER_ONLY") != "1",
    reason="needs the viewer-only environment that test_python_versions.py builds (no cloud libraries)",
)


def program_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    return env


def arr_actors(*args: str, stdin: bytes = b"", cwd: Path | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [ARR_ACTORS, *args], input=stdin, capture_output=True, env=program_env(), cwd=cwd, timeout=60
    )


def write_recording(path: Path) -> None:
    from arr_actors import config

    settings = config.defaults(project="demo-project")
    messages = session_messages()
    path.write_bytes(
        rec.encode_header(settings, started_at=NOW) + b"".join(rec.encode_entry(t, x) for t, x in messages)
    )


def test_this_environment_really_has_no_cloud_library():
    assert extras.missing_cloud_modules() == extras.CLOUD_MODULES
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "list", "--format=json"], capture_output=True, timeout=60, check=True
    )
    names = {p["name"].lower() for p in json.loads(installed.stdout)}
    assert {"urwid", "pykka"} <= names
    assert not names & {"grpcio", "wandb", "google-cloud-run", "google-cloud-aiplatform", "protobuf"}


@pytest.mark.timeout(60)
def test_replay_prints_the_recordings_tables(tmp_path):
    path = tmp_path / "session.jsonl"
    write_recording(path)
    proc = arr_actors("replay", str(path), "--once", "--json")
    assert proc.stderr == b""
    doc = json.loads(proc.stdout)
    expected = final_snapshots(session_messages())
    assert doc["tables"]["runner"]["rows"] == [m.row_to_plain(r) for r in expected["runner"].rows]
    assert proc.returncode == 1  # one table of the sample session timed out, as the monitor would say


@pytest.mark.timeout(60)
def test_replay_draws_the_screen_in_a_terminal(tmp_path):
    path = tmp_path / "session.jsonl"
    write_recording(path)
    with Terminal([ARR_ACTORS, "replay", str(path), "--speed", "20"], cols=120, rows=40, env=program_env()) as term:
        term.wait_text("REPLAY", timeout=20)
        term.wait_text("calm-sea-10", timeout=20)
        term.press("q")
        assert term.wait_exit(timeout=10) == 0


@pytest.mark.timeout(60)
def test_diagnose_reads_a_runner_log(tmp_path):
    quota = "google.api_core.exceptions.ResourceExhausted: 429 Quota exceeded for aiplatform.googleapis.com/gpus"
    log = tmp_path / "runner.log"
    log.write_text("\n".join([formats.STARTUP_RUNS.format(runs=0), formats.JOB_SUBMITTED.format(runs=1), quota,
                              formats.FATAL_DETECTED.format(line=quota), formats.KILLING_AGENT]) + "\n")
    proc = arr_actors("diagnose", str(log), "--json")
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["outcome"] == "failed" and doc["category"] == "quota"


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("args", "what"),
    [
        (["--demo"], "error: the monitor needs"),
        ([], "error: the monitor needs"),
        (["--record", "-", "--demo"], "error: the monitor needs"),
        (["launch", "--demo"], "error: launch needs"),
        (["diagnose", "--execution", "vertex-ai-launcher-x7k2p", "--region", "us-west2"],
         "error: diagnose --execution needs"),
    ],
)
def test_the_cloud_side_says_how_to_install_it(tmp_path, args, what):
    proc = arr_actors(*args, cwd=tmp_path)
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    assert "needs the cloud libraries" in err and "pip install 'arr_actors[gcp]'" in err, err
    assert what in err
    assert proc.stdout == b""
