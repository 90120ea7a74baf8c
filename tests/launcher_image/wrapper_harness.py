"""Run the real entrypoint wrapper against a fake ``wandb`` that replays scripted agent output."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from arr_actors.diagnostics import formats

ROOT = Path(__file__).resolve().parents[2]
WRAPPER = ROOT / "launcher-image" / "entrypoint-wrapper.sh"
QUEUE, ENTITY = "vertex-ai-queue", "demo-team"

# The fake agent: prints its script's lines (stdout or stderr), sleeps, exits, or
# hangs; records its argv, its pid and every SIGTERM it gets in a file the test reads.
FAKE_AGENT = """
import json, os, signal, sys, time

record = os.environ["FAKE_AGENT_RECORD"]


def note(text):
    with open(record, "a") as f:
        f.write(text + "\\n")


note("argv " + json.dumps(sys.argv[1:]))
note("pid " + str(os.getpid()))
with open(os.environ["FAKE_AGENT_SCRIPT"]) as f:
    script = json.load(f)


def on_term(signum, frame):
    note("TERM")
    if script.get("ignore_term"):
        return
    print("wandb: launch: Shutting down, active jobs:", flush=True)
    sys.exit(0)


signal.signal(signal.SIGTERM, on_term)
for step in script["steps"]:
    if "out" in step:
        print(step["out"], flush=True)
    elif "err" in step:
        print(step["err"], file=sys.stderr, flush=True)
    elif "sleep" in step:
        time.sleep(step["sleep"])
    elif "exit" in step:
        sys.exit(step["exit"])
    elif "hang" in step:
        while True:
            time.sleep(0.5)
"""


def created(job: int) -> str:
    return formats.AGENT_JOB_CREATED.format(resource=f"projects/123456/locations/us-central1/customJobs/{job}")


POLLING = formats.AGENT_POLLING.format(queue=QUEUE, running=0, max_jobs=1)
LAUNCHING = formats.AGENT_LAUNCHING.format(entity=ENTITY, project="arr-coc")
QUOTA = (
    "wandb: ERROR launch: Error running job: google.api_core.exceptions.ResourceExhausted: 429 The following quota "
    "metrics exceed quota limits: aiplatform.googleapis.com/custom_model_training_nvidia_l4_gpus in region us-west2"
)
MACHINE = (
    "wandb: ERROR launch: Error running job: google.api_core.exceptions.InvalidArgument: "
    '400 Machine type "a3-highgpu-1g" is not supported.'
)


@dataclass(frozen=True, slots=True)
class Scenario:
    steps: tuple[dict[str, object], ...]
    env: tuple[tuple[str, str | None], ...] = ()  # None removes the variable
    ignore_term: bool = False
    fake_on_path: bool = True
    #: send SIGTERM to the wrapper once this line was printed
    terminate_after: str | None = None


SCENARIOS: dict[str, Scenario] = {
    "clean": Scenario(
        steps=(
            {"out": POLLING},
            {"out": LAUNCHING},
            {"out": created(101)},
            {"sleep": 0.2},
            {"out": LAUNCHING},
            {"err": "Creating CustomJob"},
            {"out": created(102)},
            {"sleep": 0.2},
            {"out": LAUNCHING},
            {"out": created(103)},
            {"sleep": 1.5},
            {"exit": 0},
        ),
        env=(("IDLE_TIMEOUT_S", "60"),),
    ),
    "idle": Scenario(steps=({"out": POLLING}, {"hang": True}), env=(("IDLE_TIMEOUT_S", "3"),)),
    "quota": Scenario(
        steps=(
            {"out": POLLING},
            {"out": LAUNCHING},
            {"err": QUOTA},
            {"err": "wandb: ERROR launch: job failed to start, see the error above"},
            {"hang": True},
        ),
    ),
    "machine_type": Scenario(
        steps=(
            {"out": POLLING},
            {"out": LAUNCHING},
            {"out": created(7)},
            {"sleep": 0.2},
            {"out": LAUNCHING},
            {"err": MACHINE},
            {"hang": True},
        ),
    ),
    "crash": Scenario(
        steps=(
            {"out": POLLING},
            {"err": "Traceback (most recent call last):"},
            {"err": '  File "/usr/local/lib/python3.11/site-packages/wandb/sdk/launch/agent/agent.py", line 612, in loop'},
            {"err": "    job = self.pop_from_queue(queue)"},
            {"err": "KeyError: 'runQueueItemId'"},
            {"exit": 3},
        ),
    ),
    "sigterm": Scenario(
        steps=({"out": POLLING}, {"out": LAUNCHING}, {"out": created(55)}, {"hang": True}),
        terminate_after=formats.JOB_SUBMITTED.format(runs=1),
    ),
    "stubborn_agent": Scenario(
        steps=({"out": POLLING}, {"err": MACHINE}, {"hang": True}),
        env=(("KILL_GRACE_S", "1"),),
        ignore_term=True,
    ),
    "missing_env": Scenario(steps=({"out": POLLING},), env=(("WANDB_API_KEY", None), ("LAUNCH_QUEUE", None))),
    "bad_env": Scenario(steps=({"out": POLLING},), env=(("IDLE_TIMEOUT_S", "soon"),)),
    "no_patterns": Scenario(steps=({"out": POLLING},), env=(("PATTERNS_DIR", "/nonexistent/patterns"),)),
    "no_agent": Scenario(steps=(), fake_on_path=False),
}


@dataclass
class WrapperRun:
    """One finished run: exit status, stdout and stderr lines, what the fake agent recorded."""

    name: str
    returncode: int
    stdout: list[str]
    stderr: list[str]
    record: list[str]
    duration_s: float
    agent_lines: set[str] = field(default_factory=set)

    @property
    def agent_argv(self) -> list[str] | None:
        for line in self.record:
            if line.startswith("argv "):
                return json.loads(line[5:])
        return None

    @property
    def agent_pid(self) -> int | None:
        for line in self.record:
            if line.startswith("pid "):
                return int(line[4:])
        return None

    @property
    def got_term(self) -> bool:
        return "TERM" in self.record

    @property
    def lines(self) -> list[str]:
        """Everything the container would log (Cloud Run records stdout and stderr)."""
        return self.stdout + self.stderr


def run_scenario(name: str, workdir: Path, *, timeout: float = 60.0) -> WrapperRun:
    scenario = SCENARIOS[name]
    workdir.mkdir(parents=True, exist_ok=True)
    bin_dir = workdir / "bin"
    bin_dir.mkdir(exist_ok=True)
    fake = bin_dir / "wandb"
    fake.write_text(f"#!{sys.executable}\n{FAKE_AGENT}")
    fake.chmod(0o755)
    script = workdir / "script.json"
    script.write_text(json.dumps({"steps": list(scenario.steps), "ignore_term": scenario.ignore_term}))
    record = workdir / "record.txt"
    path = f"{bin_dir}:/usr/bin:/bin" if scenario.fake_on_path else "/usr/bin:/bin"
    env: dict[str, str] = {
        "PATH": path,
        "HOME": str(workdir),
        "LANG": "C.UTF-8",
        "WANDB_API_KEY": "test-key-" + "0" * 31,
        "WANDB_ENTITY": ENTITY,
        "LAUNCH_QUEUE": QUEUE,
        "STATUS_INTERVAL_S": "1",
        "IDLE_TIMEOUT_S": "30",
        "KILL_GRACE_S": "3",
        "FAKE_AGENT_SCRIPT": str(script),
        "FAKE_AGENT_RECORD": str(record),
        "TMPDIR": str(workdir),
    }
    for key, value in scenario.env:
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    started = time.monotonic()
    proc = subprocess.Popen(
        ["bash", str(WRAPPER)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        cwd=workdir,
        start_new_session=True,
        text=True,
        errors="replace",
    )
    stdout: list[str] = []
    stderr: list[str] = []
    seen = threading.Event()

    def pump(stream, sink: list[str], watch: str | None) -> None:
        for raw in stream:
            line = raw.rstrip("\n")
            sink.append(line)
            if watch is not None and line == watch:
                seen.set()

    readers = [
        threading.Thread(target=pump, args=(proc.stdout, stdout, scenario.terminate_after), daemon=True),
        threading.Thread(target=pump, args=(proc.stderr, stderr, None), daemon=True),
    ]
    for reader in readers:
        reader.start()
    try:
        if scenario.terminate_after is not None:
            if not seen.wait(timeout):
                raise AssertionError(f"{name}: never printed {scenario.terminate_after!r}; got {stdout}")
            proc.send_signal(signal.SIGTERM)
        returncode = proc.wait(timeout)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        for reader in readers:
            reader.join(10)
    duration = time.monotonic() - started
    recorded = record.read_text().splitlines() if record.exists() else []
    agent_lines = {str(step.get("out", step.get("err"))) for step in scenario.steps if "out" in step or "err" in step}
    agent_lines.add("wandb: launch: Shutting down, active jobs:")
    return WrapperRun(name, returncode, stdout, stderr, recorded, duration, agent_lines)


def format_regex(template: str) -> str:
    """A formats template as a regex matching any line printed from it."""
    parts = re.split(r"\{[a-z_]+\}", template)
    return "(?:.+?)".join(re.escape(part) for part in parts)


def alive(pid: int | None) -> bool:
    if pid is None:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def wait_gone(pids: Sequence[int | None], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(alive(pid) for pid in pids):
            return True
        time.sleep(0.05)
    return False
