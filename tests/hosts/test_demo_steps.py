"""After the demo, the next steps stay in the demo; the program says its own name."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys

import pytest

from arr_actors.launch import report

PYTHON = sys.executable
DEMO = report.Target("demo-project", "us-central1", "vertex-ai-queue", "vertex-ai-launcher", "vertex-ai-launcher-abc12",
                     demo=True)


def program_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    return env


def test_version_names_the_program():
    proc = subprocess.run([PYTHON, "-m", "arr_actors", "--version"], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0
    assert proc.stdout.strip() == "arr-actors 0.1.0"


@pytest.mark.parametrize(
    "result",
    [
        report.interrupted(watch=None, target=DEMO, elapsed_s=3),
        report.interrupted(watch=None, target=dataclasses.replace(DEMO, execution=""), elapsed_s=3),
        report.launch_failed(target=DEMO, message="deadline", code="DEADLINE_EXCEEDED", elapsed_s=1),
    ],
    ids=["interrupted", "interrupted-before-the-execution", "launch-failed"],
)
def test_demo_hints_never_lead_to_the_real_cloud(result):
    text = report.to_text(result)
    assert "gcloud" not in text
    for hint in result.hints:
        if "python -m arr_actors" in hint:
            assert "--demo" in hint, hint
    if result.outcome == "interrupted" and DEMO.execution in text:
        assert "keeps running" not in text  # the demo's execution ends with its emulator


def test_real_hints_keep_their_cloud_commands():
    real = dataclasses.replace(DEMO, demo=False)
    text = report.to_text(report.interrupted(watch=None, target=real, elapsed_s=3))
    assert "gcloud run jobs executions cancel vertex-ai-launcher-abc12 --region us-central1" in text
    assert "to follow it: python -m arr_actors\n" in text + "\n"
    assert real.diagnose_command() == (
        "python -m arr_actors diagnose --execution vertex-ai-launcher-abc12 --region us-central1"
    )


@pytest.mark.gcp
@pytest.mark.timeout(120)
def test_diagnose_demo_reads_an_execution_of_the_demo(tmp_path):
    """The runner table of the demo names a failed execution; diagnose --demo --execution reads its log."""
    env = program_env(tmp_path)
    once = subprocess.run([PYTHON, "-m", "arr_actors", "--demo", "--once", "--json"], capture_output=True, text=True,
                          timeout=100, env=env, cwd=tmp_path)
    rows = json.loads(once.stdout)["tables"]["runner"]["rows"]
    failed = next(row for row in rows if row["status"] == "FAILED" and row["note"])
    proc = subprocess.run(
        [PYTHON, "-m", "arr_actors", "diagnose", "--demo", "--execution", failed["execution"],
         "--region", failed["region"], "--json"],
        capture_output=True, text=True, timeout=100, env=env, cwd=tmp_path,
    )
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["outcome"] == "failed"
    # The same log through the same registry: what the runner table said about it.
    assert (doc["summary"], doc["category"], doc["pattern"]) == (failed["note"], failed["category"], failed["pattern"])


@pytest.mark.timeout(30)
def test_diagnose_demo_only_applies_with_execution(tmp_path):
    log = tmp_path / "runner.log"
    log.write_text("hello\n")
    proc = subprocess.run([PYTHON, "-m", "arr_actors", "diagnose", str(log), "--demo"], capture_output=True,
                          text=True, timeout=30, env=program_env(tmp_path))
    assert proc.returncode == 2
    assert "--demo only apply with --execution" in proc.stderr


@pytest.mark.timeout(30)
def test_checking_for_the_cloud_libraries_loads_none_of_their_code():
    # The monitor's process checks before its first frame and must stay light (DESIGN: no cloud
    # library in the UI process); finding a module must not import it.
    code = (
        "import sys\n"
        "before = set(sys.modules)\n"
        "from arr_actors import extras\n"
        "extras.missing_cloud_modules()\n"
        "added = set(sys.modules) - before\n"
        "print(sorted(m for m in added if m.split('.')[0] in ('google', 'grpc', 'wandb', 'proto')"
        " and getattr(sys.modules[m], '__file__', None)))\n"
    )
    proc = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=25, check=True)
    assert proc.stdout.strip() == "[]"
