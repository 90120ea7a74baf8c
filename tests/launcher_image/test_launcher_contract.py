"""Contract: what the wrapper prints is what the monitor's diagnostics understand.

Each scenario's real output (stdout and stderr, as Cloud Logging records them) is
fed to ``diagnose`` with no status, as ``diagnose FILE`` would, and with the
status Cloud Run would report, as the runner table does.
"""

from __future__ import annotations

import pytest

from arr_actors.diagnostics import formats
from arr_actors.diagnostics.extract import diagnose

pytestmark = pytest.mark.timeout(120)

# scenario -> (Cloud Run status, outcome, summary, category, runs)
EXPECTED = {
    "quota": ("FAILED", "failed", "Quota exceeded: custom_model_training_nvidia_l4_gpus in us-west2", "quota", 0),
    "machine_type": (
        "FAILED",
        "failed",
        'InvalidArgument: 400 Machine type "a3-highgpu-1g" is not supported.',
        "machine_type",
        1,
    ),
    "stubborn_agent": (
        "FAILED",
        "failed",
        'InvalidArgument: 400 Machine type "a3-highgpu-1g" is not supported.',
        "machine_type",
        0,
    ),
    "crash": ("FAILED", "failed", "KeyError: 'runQueueItemId'", "python_exception", 0),
    "sigterm": ("FAILED", "failed", formats.SIGNAL_RECEIVED.format(signal="SIGTERM"), "signal", 1),
    "missing_env": (
        "FAILED",
        "failed",
        formats.MISSING_ENV.format(names="WANDB_API_KEY LAUNCH_QUEUE"),
        "wrapper_config",
        None,
    ),
    "no_agent": ("FAILED", "failed", formats.AGENT_EXITED.format(code=127), "agent_exit", 0),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_failures_diagnose_to_the_real_cause(wrapper_runs, name):
    status, outcome, summary, category, runs = EXPECTED[name]
    run = wrapper_runs[name]
    for given in (None, status):
        d = diagnose(run.lines, status=given)
        assert (d.outcome, d.summary, d.category, d.runs) == (outcome, summary, category, runs), (given, run.lines)
        assert d.context, "the detail view needs the lines around the cause"


def test_the_bailout_context_is_centred_on_the_agents_line(wrapper_runs):
    run = wrapper_runs["quota"]
    d = diagnose(run.lines)
    cause = d.context.index(next(line for line in run.stdout if line.startswith("wandb: ERROR launch: Error running")))
    assert d.context[:cause] == tuple(run.stdout[:cause])
    assert formats.KILLING_AGENT in d.context[cause:]


@pytest.mark.parametrize(("name", "runs"), [("clean", 3), ("idle", 0)])
def test_finished_runners_show_completed_with_their_run_count(wrapper_runs, name, runs):
    run = wrapper_runs[name]
    alive = [line for line in run.stdout if formats.RUNNER_ALIVE_RE.search(line)]
    if alive:
        expected = formats.RUNS_RE.sub(f"Runs: {runs}", alive[-1].replace("Runner alive:", "Runner completed:"))
    else:
        expected = f"Runner completed with {runs} run{'' if runs == 1 else 's'}"
    for given in (None, "SUCCEEDED"):
        d = diagnose(run.lines, status=given)
        assert (d.outcome, d.summary, d.category, d.runs) == ("finished", expected, "completed", runs)


def test_a_running_runner_shows_its_newest_status_line(wrapper_runs):
    run = wrapper_runs["idle"]
    still_running = run.stdout[: run.stdout.index(next(line for line in run.stdout if line.startswith("Idle timeout")))]
    d = diagnose(still_running)
    newest = [line for line in still_running if formats.RUNNER_ALIVE_RE.search(line)][-1]
    assert (d.outcome, d.summary, d.runs) == ("running", newest, 0)
    assert diagnose(still_running, status="RUNNING").summary == newest
