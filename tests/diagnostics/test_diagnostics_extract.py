"""Extraction on realistic whole runner logs: bailouts, priorities, finished and running runners."""

from __future__ import annotations

import pytest

from arr_actors.diagnostics import formats
from arr_actors.diagnostics.extract import AFTER, BEFORE, Diagnosis, diagnose, outcome_of_status

MACHINE = (
    "wandb: ERROR launch: Error running job: google.api_core.exceptions.InvalidArgument: "
    '400 Machine type "a3-highgpu-1g" is not supported.'
)
QUOTA = (
    "wandb: ERROR launch: Error running job: google.api_core.exceptions.ResourceExhausted: 429 The following quota "
    "metrics exceed quota limits: aiplatform.googleapis.com/custom_model_training_nvidia_l4_gpus in region us-west2"
)
PERMISSION = (
    "google.api_core.exceptions.PermissionDenied: 403 Permission 'aiplatform.customJobs.create' denied on resource "
    "'//aiplatform.googleapis.com/projects/demo-project/locations/us-central1' (or it may not exist)."
)


def start(queue: str = "vertex-ai-queue") -> list[str]:
    return [
        formats.STARTUP_RUNS.format(runs=0),
        formats.MONITORING,
        formats.AGENT_STARTING.format(queue=queue, entity="demo-team"),
        formats.AGENT_POLLING.format(queue=queue, running=0, max_jobs=1),
    ]


def submission(number: int, job: int) -> list[str]:
    return [
        formats.AGENT_LAUNCHING.format(entity="demo-team", project="arr-coc"),
        "Creating CustomJob",
        formats.AGENT_JOB_CREATED.format(resource=f"projects/123/locations/us-central1/customJobs/{job}"),
        formats.JOB_SUBMITTED.format(runs=number),
    ]


def bailout(line: str, *, context: list[str]) -> list[str]:
    return [
        formats.FATAL_DETECTED.format(line=line),
        formats.CONTEXT_BEGIN,
        *(formats.CONTEXT_LINE.format(line=c) for c in context),
        formats.CONTEXT_END,
        formats.KILLING_AGENT,
        "wandb: launch: Shutting down, active jobs:",
        *formats.final_stats(runs=0, lifetime_s=95, idle_s=95),
    ]


def noise(count: int) -> list[str]:
    return [formats.AGENT_POLLING.format(queue="vertex-ai-queue", running=0, max_jobs=1)] * count


def test_bailout_with_the_cause_just_before_it():
    log = [*start(), *submission(1, 77), MACHINE, *bailout(MACHINE, context=[MACHINE])]
    d = diagnose(log, status="FAILED")
    assert d.outcome == "failed"
    assert d.summary == 'InvalidArgument: 400 Machine type "a3-highgpu-1g" is not supported.'
    assert (d.category, d.pattern, d.runs) == ("machine_type", "gcp.machine_type_not_supported", 0)
    # The context is centred on the agent's own line, not on the wrapper's echo of it.
    assert d.context[log.index(MACHINE)] == MACHINE
    assert formats.KILLING_AGENT in d.context


def test_bailout_with_the_cause_after_it():
    generic = "wandb: ERROR launch: Error running job: see the traceback below"
    log = [
        *start(),
        generic,
        formats.FATAL_DETECTED.format(line=generic),
        "Traceback (most recent call last):",
        '  File "/usr/local/lib/python3.11/site-packages/wandb/sdk/launch/runner/vertex_runner.py", line 199',
        "    job.submit()",
        PERMISSION,
        formats.KILLING_AGENT,
    ]
    d = diagnose(log)
    assert d.outcome == "failed"
    assert d.category == "permission_denied"
    assert d.summary.startswith("PermissionDenied: 403 Permission 'aiplatform.customJobs.create' denied")


def test_cause_only_in_a_wandb_error_line():
    line = "wandb: ERROR Launch agent could not reach queue vertex-ai-queue in entity demo-team"
    log = [*start(), line, *bailout(line, context=[line])]
    d = diagnose(log, status="FAILED")
    assert (d.summary, d.category, d.pattern) == (
        "Launch agent could not reach queue vertex-ai-queue in entity demo-team",
        "wandb_error",
        "wandb.error",
    )


def test_bailout_without_any_known_cause_falls_back_to_the_wrapper_message():
    log = [*start(), formats.FATAL_DETECTED.format(line="the agent said something odd"), formats.KILLING_AGENT]
    d = diagnose(log)
    assert (d.outcome, d.summary, d.category, d.pattern) == (
        "failed",
        "the agent said something odd",
        "wrapper_bailout",
        "wrapper.fatal_detected",
    )
    only_kill = diagnose([*start(), formats.KILLING_AGENT])
    assert only_kill.summary == "The wrapper bailed out and killed the agent"


def test_bailout_window_is_20_lines_before_and_80_after():
    far_before = [QUOTA, *noise(BEFORE + 1)]
    far_after = [*noise(AFTER), PERMISSION]
    fatal = formats.FATAL_DETECTED.format(line="unrecognised trouble")
    d = diagnose([*far_before, fatal, *far_after])
    assert d.summary == "unrecognised trouble" and d.category == "wrapper_bailout"
    near = diagnose([QUOTA, *noise(BEFORE - 1), fatal, *noise(AFTER - 1), PERMISSION])
    assert near.category == "quota"  # both in the window: the higher priority wins
    just_after = diagnose([*noise(5), fatal, *noise(AFTER - 1), PERMISSION])
    assert just_after.category == "permission_denied"


def test_several_errors_priority_decides():
    log = [
        *start(),
        "ValueError: learning rate must be positive",
        "google.api_core.exceptions.ServiceUnavailable: 503 The service is currently unavailable.",
        QUOTA,
        "wandb: ERROR Unable to find queue vertex-ai-queue",
        "Agent exited with code 1",
        *formats.final_stats(runs=0, lifetime_s=60, idle_s=60),
    ]
    d = diagnose(log)
    assert d.outcome == "failed"
    assert d.summary == "Quota exceeded: custom_model_training_nvidia_l4_gpus in us-west2"
    assert (d.category, d.pattern) == ("quota", "gcp.quota_exceeded")


def test_equal_priority_the_earliest_wins():
    log = ["KeyError: 'runQueueItemId'", "During handling of the above exception, another exception occurred:",
           "RuntimeError: agent loop failed"]  # fmt: skip
    assert diagnose(log).summary == "KeyError: 'runQueueItemId'"


def test_python_traceback_gives_the_exception_line_not_traceback():
    log = [
        *start(),
        "Traceback (most recent call last):",
        '  File "/app/train.py", line 12, in <module>',
        "    except KeyError:",
        '  File "/app/train.py", line 40, in main',
        "    raise ValueError(f'bad lr {lr}')",
        "ValueError: bad lr -0.1",
    ]
    d = diagnose(log, status="FAILED")
    assert (d.summary, d.category) == ("ValueError: bad lr -0.1", "python_exception")


def test_finished_runner_with_three_runs():
    log = [
        *start(),
        *submission(1, 11),
        "[08:02:36] Runner alive: 304s lifetime, 200s idle, Runs: 1",
        *submission(2, 12),
        *submission(3, 13),
        "[08:22:36] Runner alive: 2404s lifetime, 860s idle, Runs: 3",
        formats.IDLE_TIMEOUT.format(idle=1800, limit=1800),
        *formats.final_stats(runs=3, lifetime_s=3357, idle_s=1800),
    ]
    expected = "[08:22:36] Runner completed: 2404s lifetime, 860s idle, Runs: 3"
    for status in ("SUCCEEDED", "FINISHED", None):
        d = diagnose(log, status=status)
        assert (d.outcome, d.summary, d.runs, d.category, d.pattern) == ("finished", expected, 3, "completed", None)


def test_finished_note_uses_the_final_run_count_and_works_without_status_lines():
    log = [*start(), "[08:02:36] Runner alive: 304s lifetime, 200s idle, Runs: 1", *submission(2, 5)]
    d = diagnose([*log, *formats.final_stats(runs=2, lifetime_s=400, idle_s=10)], status="SUCCEEDED")
    assert d.summary == "[08:02:36] Runner completed: 304s lifetime, 200s idle, Runs: 2"
    bare = diagnose([*start(), *submission(1, 1), *submission(2, 2), *submission(3, 3)], status="FINISHED")
    assert (bare.summary, bare.runs) == ("Runner completed with 3 runs", 3)
    assert diagnose([], status="FINISHED").summary == "Runner completed"


def test_running_runner_shows_its_newest_status_line():
    log = [*start(), *submission(1, 1), "[08:10:00] Runner alive: 600s lifetime, 300s idle, Runs: 1",
           *submission(2, 2), "[08:15:00] Runner alive: 900s lifetime, 10s idle, Runs: 2"]  # fmt: skip
    for status in ("RUNNING", None):
        d = diagnose(log, status=status)
        assert (d.outcome, d.summary, d.runs, d.category) == (
            "running",
            "[08:15:00] Runner alive: 900s lifetime, 10s idle, Runs: 2",
            2,
            "running",
        )


def test_running_runner_in_the_middle_of_a_bailout_shows_the_error():
    d = diagnose([*start(), QUOTA, formats.FATAL_DETECTED.format(line=QUOTA)], status="RUNNING")
    assert (d.outcome, d.category) == ("running", "quota")


def test_runs_come_from_the_newest_line():
    log = [*start(), *submission(1, 1), *submission(2, 2), "[08:15:00] Runner alive: 900s lifetime, 10s idle, Runs: 2"]
    assert diagnose(log).runs == 2
    assert diagnose(["nothing here"]).runs is None
    assert diagnose(["Runs: 99999999999999999999"]).runs is None  # absurd counts are ignored


def test_informational_lines_never_count_as_errors():
    log = [
        formats.MONITORING,
        "Checking for new jobs in queue vertex-ai-queue",
        "[08:00:01] watching for errors and timeouts",
        "looking for fatal errors",
        formats.IDLE_TIMEOUT.format(idle=1800, limit=1800),
        "[08:17:45] Runner alive: 1204s lifetime, 360s idle, Runs: 2",
        formats.CONTEXT_BEGIN,
    ]
    d = diagnose(log, status="FAILED")
    assert (d.category, d.pattern) == ("unknown", None)
    assert d.summary.startswith("Failed; no known error")
    assert d.context == tuple(log)


def test_status_decides_the_outcome_and_maps_many_spellings():
    assert outcome_of_status("FAILED") == "failed"
    assert outcome_of_status("EXECUTION_CANCELLED") == "failed"
    assert outcome_of_status("JOB_STATE_SUCCEEDED") == "finished"
    assert outcome_of_status("Running") == "running"
    assert outcome_of_status("weird") is None and outcome_of_status(None) is None
    log = [*start(), "[08:15:00] Runner alive: 900s lifetime, 10s idle, Runs: 2"]
    assert diagnose(log, status="FAILED").outcome == "failed"


def test_unknown_when_the_log_says_nothing():
    assert diagnose([]).outcome == "unknown"
    assert diagnose([]).summary == "No log lines"
    d = diagnose(["hello", "world"])
    assert (d.outcome, d.category) == ("unknown", "unknown")


def test_crash_of_the_agent_reports_its_exception_not_the_exit_code():
    log = [*start(), "Traceback (most recent call last):", "KeyError: 'runQueueItemId'",
           formats.AGENT_EXITED.format(code=1), *formats.final_stats(runs=0, lifetime_s=5, idle_s=5)]  # fmt: skip
    d = diagnose(log)
    assert (d.outcome, d.summary) == ("failed", "KeyError: 'runQueueItemId'")
    exit_only = diagnose([*start(), formats.AGENT_EXITED.format(code=3), *formats.final_stats(runs=0, lifetime_s=5, idle_s=5)])
    assert (exit_only.outcome, exit_only.summary, exit_only.category) == ("failed", "Agent exited with code 3", "agent_exit")
    clean = diagnose([*start(), formats.AGENT_EXITED.format(code=0), *formats.final_stats(runs=0, lifetime_s=5, idle_s=5)])
    assert clean.outcome == "finished"


def test_sigterm_is_a_failure_with_its_own_note():
    log = [*start(), *submission(1, 1), formats.SIGNAL_RECEIVED.format(signal="SIGTERM"),
           *formats.final_stats(runs=1, lifetime_s=50, idle_s=20)]  # fmt: skip
    d = diagnose(log)
    assert (d.outcome, d.summary, d.category, d.runs) == ("failed", "Received SIGTERM, stopping agent", "signal", 1)


def test_context_window_is_20_before_and_80_after_the_match():
    log = [f"line {i}" for i in range(1000)] + [QUOTA] + [f"after {i}" for i in range(1000)]
    d = diagnose(log)
    assert len(d.context) == BEFORE + 1 + AFTER
    assert d.context[BEFORE] == QUOTA
    assert d.context[0] == "line 980" and d.context[-1] == "after 79"


def test_summary_is_one_line_of_at_most_200_characters():
    long_error = "ValueError: " + "x" * 10_000
    d = diagnose([long_error])
    assert len(d.summary) == 200 and d.summary.endswith("\u2026")
    assert all(len(line) <= 2000 for line in d.context)


def test_escape_sequences_and_control_characters_are_removed():
    log = ["\x1b[31mValueError: \x1b]0;pwned\x07boom\x1b[0m\r", "\x00\x07\u202eRuns: 4"]
    d = diagnose(log)
    assert d.summary == "ValueError: boom"
    assert d.runs == 4
    assert all("\x1b" not in line and "\u202e" not in line for line in d.context)


def test_any_item_type_and_multi_line_entries():
    entry = "Traceback (most recent call last):\n  File \"x.py\", line 1\nKeyError: 'a'\n"
    d = diagnose([b"Runs: 1\n", None, 42, entry.encode(), bytearray(b"\xff\xfe bad bytes")])
    assert (d.summary, d.runs) == ("KeyError: 'a'", 1)
    assert diagnose("ValueError: one string").summary == "ValueError: one string"


def test_a_failing_input_iterator_still_gives_a_diagnosis():
    def lines():
        yield "Runs: 2"
        yield QUOTA
        raise OSError("connection reset")

    d = diagnose(lines())
    assert (d.category, d.runs) == ("quota", 2)


def test_diagnosis_round_trips_through_plain_data():
    d = diagnose([*start(), QUOTA], status="FAILED")
    assert Diagnosis.from_plain(d.to_plain()) == d
    for bad in ({}, {**d.to_plain(), "outcome": "maybe"}, {**d.to_plain(), "runs": -1},
                {**d.to_plain(), "context": [1]}, {**d.to_plain(), "summary": None}):  # fmt: skip
        with pytest.raises(ValueError):
            Diagnosis.from_plain(bad)


def test_trailing_newlines_do_not_add_empty_lines():
    d = diagnose([b"first\n", "second\r\n", "", "third\nfourth\n"], status="FAILED")
    assert d.context == ("first", "second", "", "third", "fourth")
