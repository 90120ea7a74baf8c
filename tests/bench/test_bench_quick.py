"""The quick benchmark: gross regressions of speed and API budgets, as ratios and counts.

The runner refresh runs the product's way and the old way (every region, then
every log read, in turn) against the same emulated world with its realistic
latencies scaled down five times. Timing on a shared machine is noisy, so only
a ratio with a wide margin is checked (the goal is 8, the test wants 4), and
counts of Cloud Logging calls, which do not depend on timing at all.
"""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "scripts" / "bench.py"
sys.path.insert(0, str(ROOT / "scripts"))

from benchmarks.plan import Plan  # noqa: E402
from benchmarks.report import Progress, Report, format_table  # noqa: E402
from benchmarks.runner_refresh import measure_runner_refresh  # noqa: E402
from benchmarks.screen import TitleView, frame_lateness, title_view  # noqa: E402
from benchmarks.stats import percentile  # noqa: E402


@pytest.mark.bench
@pytest.mark.timeout(120)
def test_runner_refresh_beats_the_sequential_design_and_reads_each_log_once(tmp_path):
    plan = dataclasses.replace(Plan.make(quick=True), steady_refreshes=5)
    report = Report()
    before = {p.pid for p in psutil.Process().children(recursive=True)}

    measure_runner_refresh(plan, str(tmp_path), report, Progress(None))

    values = report.values
    refresh = values["runner_refresh"]
    reads = values["logging_reads_per_refresh"]
    assert refresh["newly_terminal_product"][0] >= plan.new_terminal
    assert refresh["log_reads_sequential"] == refresh["newly_terminal_sequential"], "the old way: one read each"
    assert refresh["log_reads_product"] == [1], "the product reads every newly terminal log in one batch"
    assert not refresh["note_disagreements"], "both ways read the same logs, so they must say the same"
    assert reads["steady_refreshes"] >= 1 and reads["steady"] == 0, reads
    assert values["speedup"] >= 4, values
    left = {p.pid for p in psutil.Process().children(recursive=True)} - before
    assert not left, f"processes left behind: {left}"


def test_percentile_never_interpolates_below_the_worst_of_few_samples():
    assert percentile([5.0, 1.0, 3.0], 99) == 5.0
    assert percentile(list(range(1, 101)), 99) == 99
    assert percentile([2.0], 50) == 2.0
    with pytest.raises(ValueError):
        percentile([], 99)


def test_title_line_says_rows_state_and_spinner():
    lines = [
        "▶ W&B Launch agent  10 rows  ⠹ 3 s  updated 2 s ago",
        "  Cloud Builds  3/8 rows  STALE  updated 5 min ago",
        "  Vertex AI jobs  0 rows  TIMED OUT  next try in 2 s",
    ]
    runner = title_view(lines, "W&B Launch agent")
    assert runner == TitleView(rows=10, labels=(), spinner=2) and runner.filled
    builds = title_view(lines, "Cloud Builds")
    assert builds is not None and builds.rows == 8 and builds.labels == ("STALE",) and not builds.filled
    vertex = title_view(lines, "Vertex AI jobs")
    assert vertex is not None and vertex.labels == ("TIMED OUT",) and not vertex.filled
    assert title_view(lines, "Active W&B runs") is None


def test_frame_lateness_finds_the_tick_that_drew_the_frame():
    fps, frames = 8.0, 10
    tick = 1_700_000_000 * 8 + 3  # frame 3 of a tick on the 1/8 s grid
    seen = tick / fps + 0.012
    assert math.isclose(frame_lateness(seen, tick % frames, fps=fps, frames=frames), 0.012, abs_tol=1e-6)
    # Seen late, after the next tick already passed: still measured from the tick that drew it.
    late = tick / fps + 0.3
    assert math.isclose(frame_lateness(late, tick % frames, fps=fps, frames=frames), 0.3, abs_tol=1e-6)


def test_goals_mark_pass_and_miss():
    doc = Report(values={"speedup": 9.0, "kill_latency_s": 1.5}).document()
    assert doc["goals"]["speedup"]["met"] is True
    assert doc["goals"]["kill_latency_s"]["met"] is False
    assert doc["goals"]["first_frame_s"]["met"] is None
    table = format_table(doc)
    assert "pass" in table and "MISS" in table


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--only", "nothing"], "unknown measurement 'nothing' (measurements: runner_refresh, startup, keys,"),
        (["--frobnicate"], "unrecognized arguments: --frobnicate (see bench.py --help)"),
    ],
)
def test_script_refuses_a_wrong_flag_in_one_line(argv, says):
    proc = subprocess.run([sys.executable, str(BENCH), *argv], capture_output=True, text=True, timeout=50, check=False)
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.startswith("bench.py: error: ") and says in proc.stderr, proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_screen_reads_the_labels_and_glyphs_the_ui_draws():
    """The words the benchmark looks for are the UI's own: a title line drawn by the UI reads back."""
    from benchmarks.screen import HELP_TITLE

    from arr_actors.messages import FetchStarted, TableSnapshot
    from arr_actors.tables import TABLES
    from ui.context import SPINNER_FPS, RenderContext
    from ui.views.title import title_line

    spec = TABLES[0]
    snapshot = TableSnapshot(table=spec.key, seq=1, state="timeout", fetched_at=100.0)
    started = FetchStarted(table=spec.key, generation=1, started_at=99.0, deadline_at=200.0)
    markup = title_line(
        spec, snapshot, started, now=100.3, focused=True, shown=0, cols=200, ctx=RenderContext()
    )
    view = title_view(["".join(text for _style, text in markup)], spec.title)
    assert view == TitleView(rows=0, labels=("TIMED OUT",), spinner=int(100.3 * SPINNER_FPS) % 10)
    assert HELP_TITLE == "Keys (esc or ? closes)"


def test_pss_splits_pages_a_fork_shares_so_the_tree_adds_up():
    """A forked child shares its parent's pages: each one's PSS is below its RSS,
    and the tree's PSS is well below the sum of RSS."""
    import os
    import signal

    from benchmarks.process_tree import TreeSampler, pss_of

    ballast = bytearray(os.urandom(32 * 2**20))  # pages the child shares until it writes them
    pid = os.fork()
    if pid == 0:
        signal.pause()
        os._exit(0)
    try:
        own = pss_of(os.getpid())
        assert own is not None and own > 0
        with TreeSampler({"me": os.getpid()}, interval_s=10) as sampler:
            sampler.sample()
        tree_rss, tree_pss = sampler.peak_tree_rss["me"], sampler.peak_tree_pss["me"]
        assert tree_pss < tree_rss - 24 * 2**20, (tree_pss, tree_rss)
        assert set(sampler.pss_now_mb("me")) == {"me", "me-child"}
    finally:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
    del ballast


def test_goals_hold_the_issue_targets():
    doc = Report(values={"pss_mb": {"tree_idle": 221.0}, "idle_cpu_pct": 0.5, "first_frame_s": 0.3}).document()
    assert doc["goals"]["pss_mb.tree_idle"]["met"] is False
    assert doc["goals"]["idle_cpu_pct"]["met"] is True
    assert doc["goals"]["first_frame_s"]["met"] is False
