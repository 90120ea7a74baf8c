"""``python -m arr_actors launch`` end to end: real processes against the emulator.

The --demo runs start their own emulator, as a user's would. The fault tests
start one here and point the command at it through ARR_* settings, so the test
can change faults while the launch is polling.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest

from arr_actors import config
from arr_actors.emulator import spawn
from arr_actors.sources.logs import read_execution_logs

LAUNCH = [sys.executable, "-m", "arr_actors", "launch"]
QUOTA_SUMMARY = re.compile(r"^Quota exceeded: \S+")


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> tuple[subprocess.CompletedProcess[str], float]:
    started = time.monotonic()
    proc = subprocess.run([*LAUNCH, *args], capture_output=True, text=True, timeout=timeout, env=env)
    return proc, time.monotonic() - started


def one_document(stdout: str) -> dict:
    doc = json.loads(stdout)  # raises if there is anything but one JSON document
    assert isinstance(doc, dict)
    return doc


def no_traceback(*texts: str) -> None:
    for text in texts:
        assert "Traceback" not in text, text


@pytest.fixture
def emulator() -> Iterator:
    with spawn(scenario="launch-ok", speed=10) as emu:
        yield emu


def env_for(emu, **extra: str) -> dict[str, str]:
    return dict(os.environ, ARR_EMULATOR_ADDRESS=emu.grpc_address, ARR_PROJECT=emu.project, **extra)


class Lines:
    """A child's output read line by line, waiting for a line that matches."""

    def __init__(self, stream) -> None:
        self.stream = stream
        self.seen: list[str] = []

    def wait_for(self, *needles: str) -> str:
        """Read until every needle has appeared in some line (in any order); the last line read."""
        missing = [n for n in needles if not any(n in line for line in self.seen)]
        if not missing:
            return self.seen[-1]
        for line in self.stream:
            self.seen.append(line)
            missing = [n for n in missing if n not in line]
            if not missing:
                return line
        raise AssertionError(f"{missing!r} never appeared in:\n{''.join(self.seen)}")


# ------------------------------------------------------------- the three answers


@pytest.mark.timeout(60)
def test_launch_ok_reports_the_job_well_under_the_timeout():
    proc, took = run("--demo", "--scenario", "launch-ok", "--json", "--poll", "1")
    no_traceback(proc.stderr)
    assert proc.returncode == 0, proc.stderr
    doc = one_document(proc.stdout)
    assert doc["outcome"] == "job_submitted"
    assert re.fullmatch(r"\d+", doc["job"]["id"])
    assert doc["job"]["state"] in ("JOB_STATE_QUEUED", "JOB_STATE_PENDING", "JOB_STATE_RUNNING")
    assert doc["job"]["display_name"] and doc["job"]["age_s"] >= 0
    assert doc["execution"].startswith("vertex-ai-launcher-") and doc["region"] == "us-central1"
    assert doc["queue"] == "vertex-ai-queue"
    assert any("python -m arr_actors" in hint for hint in doc["hints"])
    assert doc["elapsed_s"] < 30 and took < 45  # default timeout is 120 s


@pytest.mark.timeout(60)
def test_runner_failure_exits_1_with_the_quota_error_without_waiting_for_the_timeout():
    proc, took = run("--demo", "--scenario", "launch-runner-fails", "--json", "--poll", "1")
    no_traceback(proc.stderr)
    assert proc.returncode == 1, proc.stderr
    doc = one_document(proc.stdout)
    assert doc["outcome"] == "runner_failed"
    assert QUOTA_SUMMARY.match(doc["diagnosis"]["summary"]), doc["diagnosis"]
    assert doc["diagnosis"]["category"] == "quota"
    command = f"python -m arr_actors diagnose --execution {doc['execution']} --region us-central1"
    assert any(command in hint for hint in doc["hints"])
    assert took < 30


@pytest.mark.timeout(60)
def test_no_job_exits_3_after_the_timeout_with_hints():
    proc, took = run("--demo", "--scenario", "launch-no-job", "--timeout", "10", "--json", "--poll", "1")
    no_traceback(proc.stderr)
    assert proc.returncode == 3, proc.stderr
    doc = one_document(proc.stdout)
    assert doc["outcome"] == "timeout" and doc["job"] is None
    assert 9.5 <= doc["elapsed_s"] <= 15, doc["elapsed_s"]
    assert took < 30
    hints = " | ".join(doc["hints"])
    assert "has not picked up" in hints and "may be empty" in hints
    assert f"gcloud run jobs executions cancel {doc['execution']} --region us-central1" in hints


# --------------------------------------------------------------------- output


@pytest.mark.timeout(60)
def test_ctrl_c_stops_promptly_even_inside_a_hung_call_and_says_how_to_cancel(emulator):
    emulator.set_faults({"vertex": "hang"})  # every Vertex AI call hangs (the call timeout is 20 s)
    child = subprocess.Popen(
        [*LAUNCH, "--poll", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_for(emulator),
    )
    try:
        lines = Lines(child.stdout)
        execution = lines.wait_for("Started execution").split()[-1]
        deadline = time.monotonic() + 30
        while emulator.stats().get("ListCustomJobs", 0) < 1:  # the call is now hanging in the server
            assert time.monotonic() < deadline, "Vertex AI was never asked"
            time.sleep(0.05)
        child.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
        rest, err = child.communicate(timeout=20)
        took = time.monotonic() - interrupted
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    no_traceback(err)
    assert child.returncode == 130
    assert took < 5, f"Ctrl-C took {took:.1f} s"
    out = "".join(lines.seen) + rest
    assert f"Execution {execution} keeps running" in out
    assert f"gcloud run jobs executions cancel {execution} --region us-central1" in out
    # Not a terminal: plain lines, no carriage returns or escape sequences.
    assert "\r" not in out and "\x1b" not in out
    assert all(line.startswith("[") for line in lines.seen), lines.seen


@pytest.mark.timeout(60)
def test_terminal_progress_redraws_one_status_line():
    pexpect = pytest.importorskip("pexpect")
    child = pexpect.spawn(
        LAUNCH[0],
        # launch-ok: the job shows up after about 5 s, time enough for many redraws even on a busy machine.
        [*LAUNCH[1:], "--demo", "--scenario", "launch-ok", "--poll", "1"],
        dimensions=(24, 100),
        encoding="utf-8",
        timeout=45,
    )
    try:
        child.expect("Started execution")
        # The status line: cleared and redrawn in place, with elapsed seconds and what is awaited.
        child.expect(r"\r\x1b\[K\S \s+\d+ s  waiting for ")
        child.expect(r"\r\x1b\[K\S \s+\d+ s  waiting for ")
        child.expect("Training job submitted: ")
        child.expect(pexpect.EOF)
        tail = child.before
    finally:
        child.close(force=True)
    assert child.exitstatus == 0
    assert "\x1b" not in tail  # the status line is gone before the report


# --------------------------------------------------------------------- faults


@pytest.mark.timeout(60)
def test_vertex_ai_failing_throughout_is_retried_until_the_timeout_and_reported(emulator):
    emulator.set_faults({"vertex": "error:UNAVAILABLE"})
    proc, _ = run("--timeout", "6", "--json", "--poll", "1", env=env_for(emulator))
    no_traceback(proc.stderr)
    assert proc.returncode == 3, proc.stderr
    doc = one_document(proc.stdout)
    vertex = [e for e in doc["errors"] if e["service"] == "Vertex AI"]
    assert len(vertex) == 1 and vertex[0]["code"] == "UNAVAILABLE" and vertex[0]["count"] >= 2
    assert doc["hints"][0].startswith(f"Vertex AI: UNAVAILABLE ({vertex[0]['count']} times), last at ")
    assert emulator.stats()["ListCustomJobs"] >= vertex[0]["count"]


@pytest.mark.timeout(60)
def test_faults_during_polling_are_retried_and_the_launch_still_succeeds(emulator):
    # Vertex AI hangs from the start, so the job cannot be seen before the faults clear;
    # a short call timeout makes each hung look cost 1.5 s, not 20.
    emulator.set_faults({"vertex": "hang"})
    child = subprocess.Popen(
        [*LAUNCH, "--json", "--poll", "1", "--timeout", "40"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env_for(emulator, ARR_API_CALL_TIMEOUT_S="1.5"),
    )
    try:
        progress = Lines(child.stderr)
        progress.wait_for("Started execution")  # RunJob answered; now Cloud Run fails too
        emulator.set_faults({"run": "error:UNAVAILABLE", "vertex": "hang"})
        progress.wait_for("Cloud Run: UNAVAILABLE", "Vertex AI: DEADLINE_EXCEEDED")
        emulator.set_faults({})
        out, err = child.communicate(timeout=40)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    no_traceback(err, "".join(progress.seen))
    assert child.returncode == 0, err
    doc = one_document(out)
    assert doc["outcome"] == "job_submitted"
    codes = {(e["service"], e["code"]) for e in doc["errors"]}
    assert {("Cloud Run", "UNAVAILABLE"), ("Vertex AI", "DEADLINE_EXCEEDED")} <= codes
    hung = next(e for e in doc["errors"] if e["code"] == "DEADLINE_EXCEEDED")
    assert "did not answer within 1.5 s" in hung["message"]


@pytest.mark.timeout(60)
def test_cloud_run_refusing_the_launch_exits_1_with_its_reason(emulator):
    emulator.set_faults({"run": "error:PERMISSION_DENIED"})
    proc, _ = run("--json", env=env_for(emulator))
    no_traceback(proc.stderr)
    assert proc.returncode == 1
    doc = one_document(proc.stdout)
    assert doc["outcome"] == "launch_failed" and doc["execution"] is None
    assert "permission denied by Cloud Run" in doc["message"]
    assert emulator.stats().get("GetExecution", 0) == 0


@pytest.mark.timeout(60)
def test_unreadable_log_falls_back_to_cloud_runs_own_message(emulator):
    emulator.set_scenario("launch-runner-fails")
    emulator.set_faults({"logging": "error:PERMISSION_DENIED"})
    proc, took = run("--json", "--poll", "1", env=env_for(emulator))
    no_traceback(proc.stderr)
    assert proc.returncode == 1
    doc = one_document(proc.stdout)
    assert doc["outcome"] == "runner_failed"
    assert "failed" in doc["message"] and doc["execution"] in doc["message"]  # Cloud Run's task message
    assert any("the log could not be read" in hint and "Logs Viewer" in hint for hint in doc["hints"])
    assert took < 30


# ------------------------------------------------------- whose job is it?


@pytest.mark.timeout(90)
def test_two_launches_at_once_in_one_region_each_report_their_own_job(emulator, tmp_path):
    """The second launch's window opens before the first launch's job is created:
    only the runner's log tells the two jobs apart."""
    env = env_for(emulator)
    first = subprocess.Popen([*LAUNCH, "--json", "--poll", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env=env)  # fmt: skip
    try:
        Lines(first.stderr).wait_for("Started execution")
        second = subprocess.Popen([*LAUNCH, "--json", "--poll", "1"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True, env=env)  # fmt: skip
        try:
            out2, err2 = second.communicate(timeout=60)
        finally:
            second.kill()
        out1, err1 = first.communicate(timeout=60)
    finally:
        first.kill()
    no_traceback(err1, err2)
    docs = [one_document(out1), one_document(out2)]
    assert [d["outcome"] for d in docs] == ["job_submitted", "job_submitted"], docs
    assert docs[0]["job"]["id"] != docs[1]["job"]["id"], "both launches claimed the same job"
    assert all(d["job"]["confirmed"] for d in docs)
    # Each job is the one its own runner's log names.
    settings = config.defaults(project=emulator.project, values={"emulator.address": emulator.grpc_address, "paths.state_dir": str(tmp_path)})
    for doc in docs:
        found = read_execution_logs(settings, region=doc["region"], executions=[doc["execution"]])
        assert any(f"customJobs/{doc['job']['id']}" in line for line in found[doc["execution"]])


@pytest.mark.timeout(60)
def test_a_job_whose_log_cannot_be_read_is_reported_unconfirmed_without_waiting(emulator):
    emulator.set_faults({"logging": "error:PERMISSION_DENIED"})
    proc, took = run("--json", "--poll", "1", env=env_for(emulator))
    no_traceback(proc.stderr)
    assert proc.returncode == 0, proc.stderr
    doc = one_document(proc.stdout)
    assert doc["outcome"] == "job_submitted" and doc["job"]["confirmed"] is False
    assert "not confirmed" in doc["hints"][0] and "could not be read" in doc["hints"][0]
    assert took < 30
