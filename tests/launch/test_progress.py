"""Progress output: a redrawn status line on a terminal, plain lines anywhere else."""

from __future__ import annotations

import io

from arr_actors.launch import progress, watch
from arr_actors.launch.report import Target
from arr_actors.launch.watch import ExecutionStatus, Job

SINCE = 1_700_000_000.0
TARGET = Target(project="p", region="us-west2", queue="q", runner_job="j", execution="j-abc12")


def state(execution: str | None = None) -> watch.Watch:
    w = watch.begin_round(watch.start(now=0, since=SINCE, timeout_s=60, poll_s=1), 0.1)
    return w if execution is None else watch.saw_execution(w, ExecutionStatus(execution))


def test_status_line_shows_time_what_is_awaited_and_trouble_within_the_width():
    w = watch.call_failed(state("RUNNING"), service=watch.VERTEX, code="UNAVAILABLE", message="", at=SINCE)
    w = watch.call_failed(w, service=watch.VERTEX, code="UNAVAILABLE", message="", at=SINCE + 1)
    line = progress.status_line(w, target=TARGET, elapsed_s=12.4, frame="|", width=200)
    assert line.startswith("|   12 s")
    assert "agent to submit a training job" in line
    assert "execution j-abc12: RUNNING" in line
    assert "Vertex AI: UNAVAILABLE x2, retrying" in line
    narrow = progress.status_line(w, target=TARGET, elapsed_s=12.4, frame="|", width=40)
    assert len(narrow) <= 39 and narrow.endswith("…")


def test_changes_report_state_changes_new_jobs_new_trouble_and_recovery_once():
    a = state()
    b = watch.saw_execution(a, ExecutionStatus("PENDING"))
    assert progress.changes(a, b, target=TARGET) == ["execution j-abc12 is PENDING: waiting for the runner to start"]
    assert progress.changes(b, b, target=TARGET) == []
    c = watch.call_failed(b, service=watch.VERTEX, code="UNAVAILABLE", message="down", at=SINCE)
    lines = progress.changes(b, c, target=TARGET)
    assert len(lines) == 1 and lines[0].startswith("Vertex AI: UNAVAILABLE (1 time)") and "retrying" in lines[0]
    d = watch.call_failed(c, service=watch.VERTEX, code="UNAVAILABLE", message="down", at=SINCE + 1)
    assert progress.changes(c, d, target=TARGET) == []  # still the same trouble: no new line
    e = watch.saw_jobs(d, (Job("9", "train", "JOB_STATE_FAILED", SINCE + 2, error="boom"),))
    assert progress.changes(d, e, target=TARGET) == [
        "Vertex AI job 9 (train) is FAILED: boom",
        "Vertex AI answers again",
    ]


def test_plain_output_has_no_carriage_returns_or_escapes():
    out = io.StringIO()
    p = progress.Progress(out, target=TARGET, terminal=False)
    p.say("Starting", elapsed_s=0)
    w = state("PENDING")
    p.update(w, elapsed_s=1)
    p.draw(elapsed_s=1.5)  # ignored off a terminal
    p.update(w, elapsed_s=40)  # nothing changed for a while: a reminder
    p.finish()
    text = out.getvalue()
    assert "\r" not in text and "\x1b" not in text
    assert text.splitlines() == [
        "[   0 s] Starting",
        "[   1 s] execution j-abc12 is PENDING: waiting for the runner to start",
        "[  40 s] still waiting for the runner to start (40 s)",
    ]


def test_terminal_output_redraws_one_line_and_clears_it_before_lasting_lines():
    out = io.StringIO()
    p = progress.Progress(out, target=TARGET, terminal=True)
    p.update(state("RUNNING"), elapsed_s=1)
    p.draw(elapsed_s=1.2)
    p.say("Reading the runner's log", elapsed_s=2)
    p.finish()
    text = out.getvalue()
    assert text.count("\r\x1b[K") >= 3
    assert "Reading the runner's log\n" in text
    assert text.endswith("Reading the runner's log\n")  # nothing left drawn after finish
