"""What a Vertex AI job and a build write to Cloud Logging, and the filler a long log is made of.

A custom job's container writes under ``resource.type="ml_job"`` (labels
``job_id``, ``task_name``, ``project_id``), its stdout and stderr in the log of
its task (``workerpool0-0``). A build writes under ``resource.type="build"``
(label ``build_id``) in the ``cloudbuild`` log, one line per output line of
its steps as Cloud Build prints them (``Step #0 - "build": ...``, ``PUSH``,
``DONE`` or ``ERROR``).

``log_volume`` (an emulator control) adds that many lines to every
execution's and job's log, spread over its running time, so a test or a
benchmark can read a log of ten thousand lines.
"""

from __future__ import annotations

import hashlib

from arr_actors.emulator.runnerlogs import STDERR_LOG, STDOUT_LOG, LogLine
from arr_actors.emulator.world.entities import Build, Execution, VertexJob

JOB_LOG = "workerpool0-0"
BUILD_LOG = "cloudbuild"


def _float(seed: str) -> float:
    return int(hashlib.blake2b(seed.encode(), digest_size=4).hexdigest(), 16) / 2**32


def filler(uid: str, start: float, end: float, count: int, *, now: float, kind: str) -> list[LogLine]:
    """``count`` lines spread evenly over ``start``..``end``, the ones written by ``now``."""
    if count <= 0 or end <= start:
        return []
    step = (end - start) / (count + 1)
    out: list[LogLine] = []
    for i in range(count):
        at = start + step * (i + 1)
        if at > now:
            break
        if kind == "job":
            loss = 2.5 * (0.97 ** (i / max(1, count / 200))) + _float(f"{uid}{i}") * 0.05
            text = f"epoch {i // 500 + 1} step {i + 1}: loss={loss:.4f} lr=3.0e-04 throughput=812.4 samples/s"
        else:
            text = f"wandb: launch agent polling queue (heartbeat {i + 1})"
        out.append(LogLine(at, text, STDOUT_LOG if kind == "job" else STDERR_LOG, "INFO"))
    return out


def execution_lines(execution: Execution, *, now: float, volume: int) -> list[LogLine]:
    """The execution's own lines, plus ``volume`` filler lines while it ran (before its last lines)."""
    own = list(execution.visible_lines(now))
    if volume <= 0 or not execution.lines:
        return own
    # The filler goes between the agent's start and its last quarter minute, so a
    # failure's bailout stays at the end of the log where the diagnosis finds it.
    end = max(execution.started + 1.0, execution.lines[-1].at - 15.0)
    lines = own + filler(execution.uid, execution.started, end, volume, now=now, kind="execution")
    return sorted(lines, key=lambda line: line.at)


def job_lines(job: VertexJob, *, now: float, volume: int, run_url: str = "") -> list[LogLine]:
    """What the job's training container writes: start-up, progress, and how it ended."""
    if now < job.started:
        return []
    start = job.started
    end = max(job.ended, start + 5.0)  # a job that failed at once still wrote its start-up lines first
    lines = [
        LogLine(start + 0.5, f"Starting training: {job.display_name} on {job.machine_type}", STDOUT_LOG, "INFO"),
        LogLine(start + 1.0, f"Image {job.image}", STDOUT_LOG, "INFO"),
    ]
    if job.run is not None:
        lines.append(LogLine(start + 2.0, f"wandb: Syncing run {job.run.display_name}", STDERR_LOG, "INFO"))
        if run_url:
            lines.append(LogLine(start + 2.1, f"wandb: View run at {run_url}", STDERR_LOG, "INFO"))
    # One progress line a minute of its own, plus the control's filler.
    own = int(max(0.0, end - start - 10.0) // 60.0)
    lines += filler(job.job_id, start + 5.0, max(start + 6.0, end - 5.0), own + volume, now=now, kind="job")
    if job.outcome == "FAILED":
        lines += [
            LogLine(end - 1.0, "Traceback (most recent call last):", STDERR_LOG, "ERROR"),
            LogLine(end - 1.0, '  File "/app/train.py", line 88, in <module>', STDERR_LOG, "ERROR"),
            LogLine(end - 0.9, f"RuntimeError: {job.error or 'training failed'}", STDERR_LOG, "ERROR"),
        ]
    elif job.outcome == "SUCCEEDED":
        lines.append(LogLine(end - 1.0, "Training finished; model saved", STDOUT_LOG, "INFO"))
    else:
        lines.append(LogLine(end - 0.5, "Received SIGTERM: the job was cancelled", STDERR_LOG, "WARNING"))
    return [line for line in sorted(lines, key=lambda line: line.at) if line.at <= now]


def build_lines(build: Build, *, now: float) -> list[LogLine]:
    """Cloud Build's output of a docker build and push."""
    if now < build.started:
        return []
    start, end = build.started, build.finished
    ref = f"{build.image}:{build.tag}"
    texts = [
        f'starting build "{build.build_id}"',
        "FETCHSOURCE",
        'Fetching storage object: gs://arr-builds_cloudbuild/source/context.tgz',
        "BUILD",
        'Starting Step #0 - "build"',
        'Step #0 - "build": Sending build context to Docker daemon  48.1MB',
        'Step #0 - "build": Step 1/9 : FROM nvidia/cuda:12.2.0-runtime-ubuntu22.04',
        'Step #0 - "build": Step 5/9 : RUN pip install -r requirements.txt',
    ]
    if build.outcome == "SUCCESS":
        texts += [
            'Step #0 - "build": Successfully built 3f2a9c1d7e55',
            f'Step #0 - "build": Successfully tagged {ref}',
            'Finished Step #0 - "build"',
            "PUSH",
            f"Pushing {ref}",
            f"{build.tag}: digest: {build.digest} size: 4321",
            "DONE",
        ]
    elif build.outcome == "CANCELLED":
        texts += ["BUILD CANCELLED"]
    else:
        detail = build.failure_detail or "build step 0 \"gcr.io/cloud-builders/docker\" failed: step exited with non-zero status: 1"
        texts += [
            'Step #0 - "build": ERROR: failed to solve: process "/bin/sh -c pip install -r requirements.txt" did not complete successfully: exit code: 1',
            'Finished Step #0 - "build"',
            f"ERROR: {detail}",
        ]
    step = (end - start) / len(texts)  # the last line is written as the build ends
    lines = [LogLine(start + (i + 1) * step, text, BUILD_LOG, "ERROR" if text.startswith("ERROR") else "INFO") for i, text in enumerate(texts)]
    return [line for line in lines if line.at <= min(now, end)]
