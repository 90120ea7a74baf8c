"""The simulated runner failures against the diagnostics' own pattern registry.

Every failure class must be recognised as the category it claims, by the
registry the product uses (read here straight from patterns.toml, and through
``diagnose`` when that exists), so the emulator exercises every error class.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from arr_actors.compat import tomllib
from arr_actors.diagnostics import formats
from arr_actors.emulator.runnerlogs import FAILURES, LogContext, RunnerTimeline, Submission, runner_lines

PATTERNS = Path(__file__).resolve().parents[2] / "arr_actors" / "diagnostics" / "patterns.toml"
CTX = LogContext(
    project="demo-project",
    project_number="123456789012",
    region="us-west2",
    queue="vertex-ai-queue",
    entity="demo-team",
    wandb_project="arr-training",
    image="us-docker.pkg.dev/demo-project/arr/arr-trainer:latest",
)


def registry() -> list[tuple[int, str, str, re.Pattern[str]]]:
    doc = tomllib.loads(PATTERNS.read_text())
    out = []
    for p in doc["pattern"]:
        if p.get("kind", "error") != "error" or p["source"] == "wrapper":
            continue
        source = p["regex"] if "regex" in p else re.escape(p["substring"])
        out.append((p.get("priority", 0), p["id"], p["category"], re.compile(source, re.I if p.get("ignore_case") else 0)))
    return out


def failed_log(failure_key: str, *, cause_after: bool) -> list[str]:
    failure = next(f for f in FAILURES if f.key == failure_key)
    timeline = RunnerTimeline(
        started=1000.0, ended=1300.0, outcome="FAILED", failure=failure, cause_after=cause_after, alive_every=60.0
    )
    return [line.text for line in runner_lines(timeline, CTX)]


@pytest.mark.parametrize("failure", FAILURES, ids=lambda f: f.key)
def test_each_failure_class_is_recognised_as_its_category(failure) -> None:
    lines = [CTX.fill(failure.headline), *(CTX.fill(t) for t in failure.detail)]
    hits = [(priority, category) for line in lines for priority, _, category, rx in registry() if rx.search(line)]
    assert hits, f"no diagnostics pattern matches {failure.key}"
    assert max(hits)[1] == failure.category


def test_failure_classes_cover_every_error_category_of_the_registry() -> None:
    external = {category for _, _, category, _ in registry()}
    assert external <= {f.category for f in FAILURES}


def test_the_phrasings_the_product_must_handle_are_all_there() -> None:
    text = "\n".join(CTX.fill(t) for f in FAILURES for t in (f.headline, *f.detail))
    for phrase in (
        "ResourceExhausted: 429 Quota exceeded for quota metric 'custom_model_training_nvidia_l4_gpus'",
        'Machine type "a3-highgpu-1g" is not supported.',
        "GPU 'NVIDIA_L4' is not supported for machine type 'n1-standard-4'",
        "InvalidArgument: 400",
        "PermissionDenied: 403",
        "NotFound: 404",
        "ImagePullBackOff",
        "ErrImagePull",
        "InternalServerError: 500",
        "ServiceUnavailable: 503",
        "HttpError 429",
        "Traceback (most recent call last):",
        "wandb: ERROR",
    ):
        assert phrase in text, phrase
    traceback = next(f for f in FAILURES if f.key == "python_exception").detail
    assert traceback[0].startswith("Traceback") and re.match(r"^[A-Za-z]+Error: ", traceback[-1])


@pytest.mark.parametrize("cause_after", [False, True])
def test_a_failure_log_ends_in_the_wrapper_bailout_with_the_cause_around_it(cause_after: bool) -> None:
    lines = failed_log("quota", cause_after=cause_after)
    fatal = next(i for i, t in enumerate(lines) if t.startswith("FATAL ERROR DETECTED: "))
    assert "ResourceExhausted" in lines[fatal]
    assert lines[fatal + 1] == formats.CONTEXT_BEGIN
    killing = lines.index(formats.KILLING_AGENT)
    stats = lines.index(formats.FINAL_STATS)
    assert fatal < killing < stats
    exception = next(i for i, t in enumerate(lines) if t.startswith("google.api_core.exceptions.ResourceExhausted"))
    assert (exception > killing) if cause_after else (exception < fatal)


def test_a_finished_runner_counts_its_submissions() -> None:
    subs = tuple(Submission(at, f"projects/1/locations/us-west2/customJobs/{at:.0f}") for at in (1100.0, 1500.0))
    timeline = RunnerTimeline(started=1000.0, ended=3400.0, outcome="FINISHED", submissions=subs, alive_every=300.0)
    lines = [line.text for line in runner_lines(timeline, CTX)]
    assert formats.JOB_SUBMITTED.format(runs=2) in lines
    alive = [t for t in lines if formats.RUNNER_ALIVE_RE.search(t)]
    assert alive and formats.RUNNER_ALIVE_RE.search(alive[-1]).group(3) == "2"  # type: ignore[union-attr]
    assert any(t.startswith("Idle timeout: no jobs for 1900s") for t in lines)
    assert lines[-4:] == list(formats.final_stats(runs=2, lifetime_s=2400, idle_s=1900))


@pytest.mark.parametrize("failure", FAILURES, ids=lambda f: f.key)
def test_diagnose_finds_the_cause_of_each_simulated_failure(failure) -> None:
    extract = pytest.importorskip("arr_actors.diagnostics.extract")
    for cause_after in (False, True):
        diagnosis = extract.diagnose(failed_log(failure.key, cause_after=cause_after), status="FAILED")
        assert diagnosis.category == failure.category, (failure.key, cause_after, diagnosis)
