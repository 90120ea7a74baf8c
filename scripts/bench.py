#!/usr/bin/env python3
"""Benchmarks: what users feel, measured against the old design in one run.

    python scripts/bench.py            # a readable table with goals and pass/fail marks
    python scripts/bench.py --json     # one JSON object
    python scripts/bench.py --quick    # CI-sized: under a minute, scaled-down latencies

Everything runs against a local emulator on 127.0.0.1 with its ``realistic``
latency profile. The program under test is started the way users start it
(``python -m arr_actors`` in a pseudo-terminal) or through the runtime API;
the old design is reproduced with the product's own clients and mapping code,
calling each region and each execution's log read one after another. Every
process started here is stopped before the script exits, and a final check
looks for any left behind.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import re
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn, Self

try:
    import arr_actors  # noqa: F401
except ImportError:  # run from a source checkout without installing
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import psutil

from arr_actors import config
from arr_actors.tables import TABLE_KEYS, TABLES

PROG = "bench.py"
EXIT_OK, EXIT_MISSED, EXIT_USAGE = 0, 1, 2

#: Every process this script starts inherits this variable, so the final check
#: finds stragglers even after they were re-parented. (Not ``ARR_...``: the
#: settings loader rejects ARR_* variables it does not know.)
RUN_MARKER_VAR = "BENCH_ARR_ACTORS_RUN"

#: A W&B key the emulator accepts (the client insists on 40+ characters); never a real one.
DUMMY_WANDB_KEY = "bench-key-" + "0" * 32

TERMINAL_ROWS, TERMINAL_COLS = 50, 200
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


# ------------------------------------------------------------------ goals


@dataclass(frozen=True, slots=True)
class Goal:
    """A target from the benchmark issue. ``path`` is a dotted path into the report."""

    path: str
    label: str
    op: str  # "<", "<=", ">=", "=="
    target: float
    unit: str = ""

    def met(self, value: float) -> bool:
        return {
            "<": value < self.target,
            "<=": value <= self.target,
            ">=": value >= self.target,
            "==": math.isclose(value, self.target, abs_tol=1e-9),
        }[self.op]

    @property
    def text(self) -> str:
        return f"{self.op} {_number(self.target)}{(' ' + self.unit) if self.unit else ''}"


GOALS: tuple[Goal, ...] = (
    Goal("first_frame_s", "start to first full frame", "<", 0.5, "s"),
    Goal("first_data_frame_s", "start to warm-start rows on screen", "<", 0.5, "s"),
    Goal("all_tables_over_critical_path", "all tables filled / critical path", "<=", 1.25),
    Goal("speedup", "runner refresh: sequential / product", ">=", 8),
    Goal("key_latency_p99_ms", "key to redraw, all fetches hung (p99)", "<", 50, "ms"),
    Goal("loop_lag_p99_ms", "UI loop lag (p99)", "<", 20, "ms"),
    Goal("kill_latency_s", "deadline to table showing timeout (max)", "<", 1, "s"),
    Goal("idle_cpu_pct", "idle CPU of the tree, % of one core", "<", 1, "%"),
    Goal("logging_reads_per_refresh.steady", "entries.list per runner refresh, nothing new", "==", 0),
    Goal("logging_reads_per_refresh.new_terminal_5", "entries.list, 5 newly-terminal executions", "==", 1),
    Goal("scaling.time_ratio_max", "all tables time, most regions / 18 regions", "<=", 1.5),
    Goal("scaling.logging_reads_max", "entries.list per refresh at any scale", "<=", 1),
)


def lookup(report: Mapping[str, Any], path: str) -> Any:
    value: Any = report
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _number(value: float) -> str:
    if isinstance(value, int) or float(value).is_integer():
        return str(int(value))
    if abs(value) >= 100:
        return f"{value:.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.3g}"


# ------------------------------------------------------------------ statistics


def percentile(samples: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: with few samples the p99 is the worst one, never an interpolation below it."""
    if not samples:
        raise ValueError("no samples")
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[rank - 1]


def summary(samples: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(samples),
        "p50": percentile(samples, 50),
        "p99": percentile(samples, 99),
        "max": max(samples),
        "mean": statistics.fmean(samples),
    }


# ------------------------------------------------------------------ plan


@dataclass(frozen=True, slots=True)
class Plan:
    """How big and how long each measurement is; ``--quick`` shrinks it."""

    quick: bool
    latency_scale: float  # 1.0 = the emulator's realistic profile as it is
    refresh_repeats: int  # runner refresh: product and sequential, each this many times
    steady_refreshes: int  # refreshes with nothing new, for logging reads
    new_terminal: int
    idle_s: float
    key_presses: int
    loop_lag_s: float
    kill_deadline_s: float
    restart_deadline_s: float
    frame_repeats: int
    scaling_regions: tuple[int, ...]
    executions_factor: int
    seed: int = 7

    @classmethod
    def make(cls, *, quick: bool) -> Plan:
        if quick:
            return cls(
                quick=True,
                latency_scale=0.2,
                refresh_repeats=1,
                steady_refreshes=3,
                new_terminal=5,
                idle_s=10.0,
                key_presses=20,
                loop_lag_s=3.0,
                kill_deadline_s=2.0,
                restart_deadline_s=4.0,
                frame_repeats=1,
                scaling_regions=(100,),
                executions_factor=10,
            )
        return cls(
            quick=False,
            latency_scale=1.0,
            refresh_repeats=3,
            steady_refreshes=10,
            new_terminal=5,
            idle_s=30.0,
            key_presses=60,
            loop_lag_s=10.0,
            kill_deadline_s=3.0,
            restart_deadline_s=10.0,
            frame_repeats=5,
            scaling_regions=(18, 50, 100),
            executions_factor=10,
        )


def region_names(count: int) -> tuple[str, ...]:
    """The 18 real runner regions, then made-up ones for scaling runs."""
    regions = list(config.DEFAULT_REGIONS[:count])
    n = 1
    while len(regions) < count:
        regions.append(f"bench-region{n}")
        n += 1
    return tuple(regions)


# ------------------------------------------------------------------ process trees


def tree(root: psutil.Process) -> list[psutil.Process]:
    """A process and all its descendants that are alive now."""
    try:
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _rss(proc: psutil.Process) -> int | None:
    try:
        return proc.memory_info().rss
    except psutil.Error:
        return None


def _cpu_seconds(proc: psutil.Process) -> float | None:
    try:
        times = proc.cpu_times()
    except psutil.Error:
        return None
    return times.user + times.system


class TreeSampler:
    """Samples resident memory and CPU time of process trees from a thread.

    ``roots`` maps a name to a pid; each root's whole tree is sampled. The peak
    of the sum over a tree and the peak of every single process are kept, each
    process under a label from ``label(proc, root_name)``.
    """

    def __init__(
        self,
        roots: Mapping[str, int],
        *,
        interval_s: float = 0.1,
        label: Callable[[psutil.Process, str, int], str] | None = None,
    ) -> None:
        self._roots = {name: psutil.Process(pid) for name, pid in roots.items()}
        self._interval_s = interval_s
        self._label = label or (lambda proc, root, root_pid: root if proc.pid == root_pid else f"{root}-child")
        self._lock = threading.Lock()
        self.peak_tree_rss: dict[str, int] = {}
        self.peak_process_rss: dict[int, tuple[str, int]] = {}
        self._cpu_last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tree-sampler", daemon=True)

    def __enter__(self) -> Self:
        self.sample()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.wait(self._interval_s):
            self.sample()

    def sample(self) -> None:
        for name, root in self._roots.items():
            total = 0
            for proc in tree(root):
                rss = _rss(proc)
                if rss is None:
                    continue
                total += rss
                cpu = _cpu_seconds(proc)
                with self._lock:
                    if cpu is not None:
                        self._cpu_last[proc.pid] = cpu
                    known = self.peak_process_rss.get(proc.pid)
                    if known is None or known[1] < rss:
                        label = known[0] if known else self._safe_label(proc, name)
                        self.peak_process_rss[proc.pid] = (label, rss)
            with self._lock:
                self.peak_tree_rss[name] = max(self.peak_tree_rss.get(name, 0), total)

    def _safe_label(self, proc: psutil.Process, root: str) -> str:
        try:
            return self._label(proc, root, self._roots[root].pid)
        except psutil.Error:
            return f"{root}-child"

    def cpu_seconds(self) -> dict[int, float]:
        """CPU seconds used so far by every process ever sampled (the last value seen)."""
        with self._lock:
            return dict(self._cpu_last)

    def labels(self) -> dict[int, str]:
        with self._lock:
            return {pid: label for pid, (label, _rss) in self.peak_process_rss.items()}

    def peaks_mb(self) -> dict[str, float]:
        """Peak RSS per process label (MB); repeated labels get a number."""
        out: dict[str, float] = {}
        with self._lock:
            items = sorted(self.peak_process_rss.items())
        for _pid, (label, rss) in items:
            name, n = label, 2
            while name in out:
                name, n = f"{label}#{n}", n + 1
            out[name] = round(rss / 2**20, 1)
        return out


def tree_cpu_during(
    root_pid: int, *, seconds: float, activity: Callable[[float], None], label: Callable[..., str] | None = None
) -> tuple[float, dict[str, float]]:
    """CPU used by a process tree while ``activity(seconds)`` runs, in percent of
    one core: the whole tree, and by process label."""
    with TreeSampler({"ui": root_pid}, interval_s=min(1.0, seconds / 4), label=label) as sampler:
        before = sampler.cpu_seconds()
        started = time.monotonic()
        activity(seconds)
        sampler.sample()
        after = sampler.cpu_seconds()
        wall = time.monotonic() - started
    labels = sampler.labels()
    by_label: dict[str, float] = {}
    for pid, cpu in after.items():
        name = labels.get(pid, "?")
        by_label[name] = by_label.get(name, 0.0) + 100.0 * (cpu - before.get(pid, 0.0)) / wall
    total = sum(by_label.values())
    return total, {k: round(v, 3) for k, v in sorted(by_label.items(), key=lambda kv: -kv[1])}


def label_process(proc: psutil.Process, root: str, root_pid: int) -> str:
    """A readable name for a process of the monitor's tree: the UI, the
    launcher, fetch processes (forked by the launcher) and what they start."""
    if proc.pid == root_pid:
        return root
    parent = proc.ppid()
    if parent == root_pid:
        return (
            "launcher" if "arr_actors.runtime.launcher" in " ".join(proc.cmdline()) else f"{root}-child:{proc.name()}"
        )
    try:
        parent_cmdline = " ".join(psutil.Process(parent).cmdline())
        parent_parent = psutil.Process(parent).ppid()
    except psutil.Error:
        parent_cmdline, parent_parent = "", 0
    if parent_parent == root_pid and "arr_actors.runtime.launcher" in parent_cmdline:
        name = proc.name()
        # Forked fetch processes keep the launcher's command line; the runtime names them by table.
        return name if name.startswith("fetch") else f"fetch:{name}"
    return f"grandchild:{proc.name()}"


def marked_processes(marker: str) -> list[psutil.Process]:
    """Processes (other than this one) whose environment carries the run marker."""
    me = os.getpid()
    found = []
    for proc in psutil.process_iter(["pid"]):
        if proc.pid == me:
            continue
        try:
            if proc.environ().get(RUN_MARKER_VAR) == marker:
                found.append(proc)
        except psutil.Error:
            continue
    return found


def reap_leftovers(marker: str, *, timeout: float = 3.0) -> list[str]:
    """Kill whatever this run left behind; the descriptions of what was found."""
    left = marked_processes(marker)
    described = []
    for proc in left:
        with contextlib.suppress(psutil.Error):
            described.append(f"{proc.pid} {' '.join(proc.cmdline())[:120]}")
    for proc in left:
        with contextlib.suppress(psutil.Error):
            proc.kill()
    psutil.wait_procs(left, timeout=timeout)
    return described


# ------------------------------------------------------------------ pseudo-terminal


class ScreenTimeout(Exception):
    """What we waited for never appeared on screen; the message says what and shows the screen."""


class Terminal:
    """The program in a real pseudo-terminal, its output rendered by pyte.

    ``started`` is the monotonic time just before the process was spawned; every
    wait returns the monotonic time at which the bytes that made the condition
    true had arrived.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        env: Mapping[str, str],
        cwd: str,
        rows: int = TERMINAL_ROWS,
        cols: int = TERMINAL_COLS,
    ) -> None:
        import pexpect
        import pyte

        self._pexpect = pexpect
        self.screen = pyte.Screen(cols, rows)
        self._stream = pyte.ByteStream(self.screen)
        self.started = time.monotonic()
        self.child = pexpect.spawn(argv[0], list(argv[1:]), env=dict(env), cwd=cwd, dimensions=(rows, cols), echo=False)
        # pexpect waits 50 ms before every send by default: keys must leave when we say.
        self.child.delaybeforesend = None
        self.closed = False

    @property
    def pid(self) -> int:
        return int(self.child.pid)

    def pump(self, timeout: float) -> bool:
        """Read what the program wrote within ``timeout``; whether anything arrived."""
        if self.closed:
            return False
        try:
            data = self.child.read_nonblocking(1 << 16, timeout=timeout)
        except self._pexpect.TIMEOUT:
            return False
        except self._pexpect.EOF:
            self.closed = True
            return False
        self._stream.feed(data)
        return True

    def text(self) -> str:
        return "\n".join(self.screen.display)

    def wait_for(self, predicate: Callable[[Terminal], bool], *, timeout: float, what: str) -> float:
        deadline = time.monotonic() + timeout
        if predicate(self):
            return time.monotonic()
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise ScreenTimeout(f"{what}: not on screen after {timeout:.0f} s; screen:\n{self.text()}")
            if self.pump(min(left, 0.2)):
                arrived = time.monotonic()
                # Take everything already buffered before judging the frame.
                while self.pump(0):
                    arrived = time.monotonic()
                if predicate(self):
                    return arrived
            elif self.closed:
                raise ScreenTimeout(f"{what}: the program exited; last screen:\n{self.text()}")

    def drain(self, seconds: float) -> None:
        """Keep reading for a while so the program never blocks on a full pty."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.pump(min(left, 0.1))

    def send(self, data: bytes) -> float:
        sent = time.monotonic()
        self.child.send(data)
        return sent

    def close(self, *, quit_key: bytes = b"q", timeout: float = 5.0) -> int | None:
        """Quit the way a user does; force it if the program does not go."""
        if self.child.isalive():
            with contextlib.suppress(OSError):
                self.child.send(quit_key)
            deadline = time.monotonic() + timeout
            while self.child.isalive() and time.monotonic() < deadline:
                self.pump(0.1)
                if self.closed:
                    break
        with contextlib.suppress(Exception):
            self.child.close(force=True)
        self.closed = True
        return self.child.exitstatus


class Monitor:
    """``python -m arr_actors`` in a pseudo-terminal, its process tree sampled for memory."""

    def __init__(self, argv_extra: Sequence[str], *, env: Mapping[str, str], home: str) -> None:
        self.term = Terminal([sys.executable, "-m", "arr_actors", *argv_extra], env=env, cwd=home)
        self.sampler = TreeSampler({"ui": self.term.pid}, interval_s=0.1, label=label_process)

    def __enter__(self) -> Self:
        self.sampler.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.quit()
        finally:
            self.sampler.__exit__()

    def quit(self) -> None:
        """Quit with ``q`` and check that the whole tree went with it."""
        root = psutil.Process(self.term.pid) if psutil.pid_exists(self.term.pid) else None
        members = tree(root) if root is not None else []
        self.term.close()
        _gone, alive = psutil.wait_procs(members, timeout=5)
        for proc in alive:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        if alive:
            raise RuntimeError(f"{len(alive)} processes of the monitor were still running 5 s after it quit")

    def since_start(self, at: float) -> float:
        return at - self.term.started


# ------------------------------------------------------------------ reading the screen

#: What a table's title line says when its rows are not fresh (ui.render's state labels).
TROUBLE_LABELS = ("STALE", "ERROR", "TIMED OUT", "RESTARTING", "CIRCUIT OPEN")
SPINNER_GLYPHS = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
_ROW_COUNT = re.compile(r"\b(\d+)(?:/(\d+))? rows?\b")
HELP_TITLE = "Keys (esc or ? closes)"


@dataclass(frozen=True, slots=True)
class TitleView:
    """What one table's title line on screen says."""

    rows: int | None
    labels: tuple[str, ...]
    spinner: int | None  # index of the spinner frame shown, if any

    @property
    def filled(self) -> bool:
        """Fresh rows on screen: a row count and no word saying they are old or failed."""
        return bool(self.rows) and not self.labels


def title_view(lines: Sequence[str], title: str) -> TitleView | None:
    """Read a table's title line (``"▶ W&B Launch agent  10 rows  ⠋ 3 s  STALE ..."``)."""
    for line in lines:
        if line[2 : 2 + len(title)] != title:
            continue
        rest = line[2 + len(title) :]
        count = _ROW_COUNT.search(rest)
        rows = int(count.group(2) or count.group(1)) if count else None
        labels = tuple(label for label in TROUBLE_LABELS if f"  {label}" in rest)
        spinner = next((SPINNER_GLYPHS.index(c) for c in rest if c in SPINNER_GLYPHS), None)
        return TitleView(rows=rows, labels=labels, spinner=spinner)
    return None


def titles_visible(term: Terminal) -> bool:
    lines = term.screen.display
    return all(title_view(lines, spec.title) is not None for spec in TABLES)


def help_open(term: Terminal) -> bool:
    return any(HELP_TITLE in line for line in term.screen.display[:2])


def tables_shown(term: Terminal) -> bool:
    return not help_open(term) and titles_visible(term)


def title_views(term: Terminal) -> list[TitleView | None]:
    """Every table's title line as the screen shows it now."""
    lines = term.screen.display
    return [title_view(lines, spec.title) for spec in TABLES]


def spinning_everywhere(term: Terminal) -> bool:
    return all(view is not None and view.spinner is not None for view in title_views(term))


def fetches_done(term: Terminal) -> bool:
    """No table shows a spinner: every fetch has ended."""
    return all(view is not None and view.spinner is None for view in title_views(term))


class FillTimes:
    """A screen predicate that notes when each table first shows rows (fresh, or any rows)."""

    def __init__(self, *, fresh: bool) -> None:
        self.fresh = fresh
        self.at: dict[str, float] = {}

    def __call__(self, term: Terminal) -> bool:
        lines = term.screen.display
        now = time.monotonic()
        for spec in TABLES:
            if spec.key in self.at:
                continue
            view = title_view(lines, spec.title)
            if view is not None and (view.filled if self.fresh else bool(view.rows)):
                self.at[spec.key] = now
        return len(self.at) == len(TABLES)


def spinner_lags(term: Terminal, *, seconds: float, fps: float) -> list[float]:
    """How late each spinner frame reaches the screen, in seconds.

    The UI schedules its spinner alarm on wall-clock multiples of ``1/fps``
    and draws frame ``int(now * fps) % len(glyphs)``. So a frame seen at time
    ``t`` belongs to the latest tick ``k <= t * fps`` with that frame number,
    and ``t - k / fps`` is the lateness of the loop (alarm, render, write, pty)
    for that tick. Nothing else changes the screen while every fetch hangs
    and no key is pressed.
    """
    lags: list[float] = []
    last: int | None = None
    frames = len(SPINNER_GLYPHS)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if not term.pump(0.2):
            continue
        while term.pump(0):
            pass
        seen = time.time()
        view = title_view(term.screen.display, TABLES[0].title)
        if view is None or view.spinner is None or view.spinner == last:
            continue
        last = view.spinner
        lags.append(frame_lateness(seen, view.spinner, fps=fps, frames=frames))
    return lags


def frame_lateness(seen: float, frame: int, *, fps: float, frames: int) -> float:
    """Seconds between the latest tick that draws ``frame`` and ``seen`` (wall clock)."""
    tick = math.floor(seen * fps)
    tick -= (tick - frame) % frames
    return seen - tick / fps


# ------------------------------------------------------------------ the cloud


def profile_name(scale: float) -> str:
    """The emulator's latency profile: the realistic one, its delays multiplied by ``scale``."""
    return "realistic" if scale == 1 else f"realistic:{scale:g}"


#: How fast the emulated world moves on after its start. Slowed down so that what
#: a measurement compares (two ways of one refresh, refreshes with nothing new)
#: does not change under it; no timing depends on it.
WORLD_SPEED = 0.01


def start_emulator(plan: Plan, *, regions: Sequence[str]) -> Any:
    """The emulator with the plan's latency profile; a context manager that stops it."""
    from arr_actors import emulator

    return emulator.spawn(
        latency=profile_name(plan.latency_scale), regions=regions, seed=plan.seed, speed=WORLD_SPEED
    )


def call_delays(plan: Plan, method: str, indexes: range) -> list[float]:
    """The delays the emulator gives the calls of ``method`` with these indexes (deterministic)."""
    from arr_actors.emulator import latency

    return [latency.delay("realistic", method, seed=plan.seed, call_index=i) * plan.latency_scale for i in indexes]


def worst_delay(plan: Plan, method: str) -> float:
    from arr_actors.emulator import latency

    return latency.worst_case("realistic", method) * plan.latency_scale


def first_round_critical_path(plan: Plan, stats: Mapping[str, int]) -> dict[str, float]:
    """The slowest necessary chain of calls of every table's first refresh, by table.

    ``stats`` are the emulator's call counts after exactly one round. Region
    fan-outs run in parallel, so a list method costs its slowest call: runner
    = slowest ``ListExecutions`` (its rows are on screen then; the notes from
    the batched ``ListLogEntries`` follow, see ``runner_notes_path``); vertex =
    slowest ``ListCustomJobs``; builds = slowest ``ListBuilds`` (global and
    every region). The W&B client asks its GraphQL queries one after another
    (entity, then runs); both W&B tables share the counter, so each query is
    taken at its worst case.
    """

    paths = {
        "runner": slowest_call(plan, stats, "ListExecutions"),
        "vertex": slowest_call(plan, stats, "ListCustomJobs"),
        "builds": slowest_call(plan, stats, "ListBuilds"),
    }
    graphql_chain = math.ceil(stats.get("GraphQL", 0) / 2)
    for key in ("active", "completed"):
        paths[key] = graphql_chain * worst_delay(plan, "GraphQL")
    return {k: round(v, 3) for k, v in paths.items()}


def slowest_call(plan: Plan, stats: Mapping[str, int], method: str) -> float:
    """The longest of the ``stats[method]`` calls of ``method`` made (parallel calls cost their slowest)."""
    return max(call_delays(plan, method, range(stats.get(method, 0))), default=0.0)


def runner_notes_path(plan: Plan, stats: Mapping[str, int]) -> float:
    """The runner's chain to its notes: the slowest ``ListExecutions``, then its log read."""
    reads = sum(call_delays(plan, "ListLogEntries", range(stats.get("ListLogEntries", 0))))
    return round(slowest_call(plan, stats, "ListExecutions") + reads, 3)


def emulated_settings(
    emu: Any,
    *,
    home: str,
    regions: Sequence[str],
    faults: tuple[tuple[str, str], ...] = (),
    policies: Mapping[str, Mapping[str, float]] | None = None,
) -> config.Settings:
    """Settings pointing the product at ``emu``, with its own cache and state under ``home``."""
    settings = config.defaults(
        project=emu.project,
        regions=tuple(regions),
        wandb_entity=emu.wandb_entity,
        wandb_project=emu.wandb_project,
        emulator=emu.grpc_address,
        wandb_base_url=emu.wandb_url,
        cache_dir=os.path.join(home, "cache"),
        state_dir=os.path.join(home, "state"),
        faults=faults,
    )
    if policies:
        tables = tuple((key, dataclasses.replace(policy, **policies.get(key, {}))) for key, policy in settings.tables)
        settings = settings.replace(tables=tables)
    return settings


def monitor_env(
    emu: Any, *, home: str, regions: Sequence[str], settings: Mapping[str, Any] | None = None
) -> dict[str, str]:
    """The environment of ``python -m arr_actors`` pointed at ``emu``, as a user would configure it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARR_")}
    for sub in ("cache", "state", "config", "wandb"):
        os.makedirs(os.path.join(home, sub), exist_ok=True)
    env.update(
        {
            "ARR_PROJECT": emu.project,
            "ARR_REGIONS": ",".join(regions),
            "ARR_WANDB_ENTITY": emu.wandb_entity,
            "ARR_WANDB_PROJECT": emu.wandb_project,
            "ARR_EMULATOR_ADDRESS": emu.grpc_address,
            "ARR_EMULATOR_WANDB_URL": emu.wandb_url,
            "ARR_PATHS_CACHE_DIR": os.path.join(home, "cache"),
            "ARR_PATHS_STATE_DIR": os.path.join(home, "state"),
            "XDG_CONFIG_HOME": os.path.join(home, "config"),
            "XDG_CACHE_HOME": os.path.join(home, "cache"),
            "XDG_STATE_HOME": os.path.join(home, "state"),
            "WANDB_CONFIG_DIR": os.path.join(home, "wandb"),
            "WANDB_DIR": os.path.join(home, "wandb"),
            "WANDB_API_KEY": DUMMY_WANDB_KEY,
            "WANDB_SILENT": "true",
            "TERM": "xterm-256color",
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONPATH": REPO_ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""),
        }
    )
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    for name, value in (settings or {}).items():
        env["ARR_" + name.upper().replace(".", "_")] = str(value)
    return env


def every_table(**values: Any) -> dict[str, Any]:
    """``tables.KEY.name = value`` for every table, as monitor_env settings."""
    return {f"tables.{spec.key}.{name}": value for spec in TABLES for name, value in values.items()}


# ------------------------------------------------------------------ runtime subscribers


class Collector:
    """A runtime subscriber keeping every message with the wall-clock time it arrived."""

    def __init__(self) -> None:
        self.items: list[tuple[float, Any]] = []
        self._cond = threading.Condition()

    def tell(self, message: Any) -> None:
        with self._cond:
            self.items.append((time.time(), message))
            self._cond.notify_all()

    def wait_for(self, predicate: Callable[[list[tuple[float, Any]]], Any], *, timeout: float, what: str) -> Any:
        with self._cond:
            result = self._cond.wait_for(lambda: predicate(self.items), timeout=timeout)
            if not result:
                raise TimeoutError(f"{what}: not within {timeout:g} s")
            return result


def snapshots(
    items: Sequence[tuple[float, Any]], table: str, *, state: str | None = None, after: float = 0.0
) -> list[tuple[float, Any]]:
    from arr_actors.messages import TableSnapshot

    return [
        (t, m)
        for t, m in items
        if isinstance(m, TableSnapshot) and m.table == table and t >= after and (state is None or m.state == state)
    ]


def kill_events(items: Sequence[tuple[float, Any]]) -> dict[str, list[tuple[float, float]]]:
    """Per table: (deadline, arrival of the snapshot saying ``timeout``) for every killed fetch.

    The deadline is the one the latest ``FetchStarted`` announced (a fresh
    fetch process announces it again once its libraries are loaded)."""
    from arr_actors.messages import FetchStarted, TableSnapshot

    out: dict[str, list[tuple[float, float]]] = {}
    pending: dict[str, float] = {}
    for t, message in items:
        if isinstance(message, FetchStarted):
            pending[message.table] = message.deadline_at
        elif isinstance(message, TableSnapshot) and message.state == "timeout" and message.table in pending:
            out.setdefault(message.table, []).append((pending.pop(message.table), t))
    return out


def kill_latencies(items: Sequence[tuple[float, Any]]) -> dict[str, list[float]]:
    """Per table: seconds from each killed fetch's deadline to the snapshot saying ``timeout``."""
    return {table: [t - deadline for deadline, t in events] for table, events in kill_events(items).items()}


def _wait_child_pids(system: Any, *, timeout: float) -> dict[str, list[int]]:
    deadline = time.monotonic() + timeout
    while True:
        pids = system.child_pids()
        if all(pids.get(key) for key in TABLE_KEYS):
            return pids
        if time.monotonic() > deadline:
            raise TimeoutError(f"fetch processes of {sorted(set(TABLE_KEYS) - set(pids))} never appeared")
        time.sleep(0.01)  # polling the runtime's own bookkeeping, with a deadline


def watch_exits(pids: Sequence[int], *, timeout: float) -> dict[int, float]:
    """Watch processes from a thread; the dict fills with the wall-clock time each one is gone (reaped or a zombie)."""
    gone: dict[int, float] = {}

    def run() -> None:
        procs = {}
        for pid in pids:
            with contextlib.suppress(psutil.Error):
                procs[pid] = psutil.Process(pid)
        end = time.monotonic() + timeout
        while procs and time.monotonic() < end:
            for pid, proc in list(procs.items()):
                try:
                    dead = proc.status() == psutil.STATUS_ZOMBIE
                except psutil.Error:
                    dead = True
                if dead:
                    gone[pid] = time.time()
                    del procs[pid]
            time.sleep(0.005)

    threading.Thread(target=run, name="exit-watch", daemon=True).start()
    return gone


# ------------------------------------------------------------------ the old design


def sequential_runner_refresh(settings: config.Settings, ctx: Any) -> tuple[tuple[Any, ...], int]:
    """The predecessor's runner refresh: every region listed in turn, then one
    log read per newly-terminal execution, one after another.

    Listing, mapping, memory, log reading and diagnosis are the product's own
    functions; only the order of the calls is the old one. Nothing is written
    to the memory, so every repeat has the same logs to read.
    """
    from arr_actors.sources import logs, runner, runner_memory

    limit = settings.policy("runner").limit
    executions = []
    for region in settings.regions:
        for item in runner._list_region(ctx, region, limit=limit):
            executions.append(runner.parse_execution(item, region=region, default_queue=settings.queue))
    top = runner.newest(executions, limit)
    remembered = ctx.memory().get_many(e.key for e in top if e.terminal)
    rows, reads = [], 0
    for execution in top:
        diagnosis = remembered.get(execution.key)
        if execution.terminal and diagnosis is None:
            lines = logs.read_execution_logs(
                settings,
                region=execution.region,
                executions=[execution.name],
                since=execution.created_at - runner._LOG_LOOKBACK_S,
                wait_s=60.0,
                clients=ctx.clients,
            )
            reads += 1
            diagnosis = runner_memory.diagnose(lines.get(execution.name, []), status=execution.status)
        rows.append(runner.build_row(execution, diagnosis))
    return tuple(rows), reads


# ------------------------------------------------------------------ measurements


def measure_runner_refresh(plan: Plan, workdir: str, report: Report, say: Progress) -> None:
    """The runner refresh, the product's way and the predecessor's way, against the same world.

    Both start from the same terminal-state memory: everything the first
    refresh diagnosed except the ``new_terminal`` newest terminal executions,
    so both have the same logs to read. The product reads them in one batched
    call; the sequential baseline lists each region in turn, then reads one
    execution's log after another.
    """
    from arr_actors.diagnostics.memory import TerminalMemory
    from arr_actors.sources import open_source

    regions = region_names(18)
    with start_emulator(plan, regions=regions) as emu:
        warm = emulated_settings(emu, home=os.path.join(workdir, "warm"), regions=regions)
        fetch = open_source(warm, "runner")
        first = fetch()
        say(f"  first refresh: {len(first.rows)} rows, {first.log_reads} log reads")
        remembered = TerminalMemory(config.project_cache_dir(warm), warm.project)
        terminal = [row for row in first.rows if row.status in TERMINAL_STATUSES]
        known = remembered.get_many(row.execution for row in terminal)
        candidates = [row for row in terminal if row.execution in known]
        if len(candidates) < plan.new_terminal:
            raise RuntimeError(
                f"the world shows {len(candidates)} remembered terminal executions, {plan.new_terminal} needed"
            )
        fresh = {row.execution for row in candidates[: plan.new_terminal]}

        # Steady state: nothing new since the last refresh. Latency does not change
        # what is called, so these refreshes run without it.
        emu.set_latency("none")
        steady_reads, excluded = [], 0
        seen = {row.execution for row in terminal}
        for _ in range(plan.steady_refreshes):
            before = emu.stats().get("ListLogEntries", 0)
            data = fetch()
            reads = emu.stats().get("ListLogEntries", 0) - before
            now_terminal = _terminal(data.rows)
            if now_terminal - seen:
                excluded += 1  # the world moved: an execution ended, its log is read once (rightly)
                seen |= now_terminal
                continue
            steady_reads.append(reads)
        emu.set_latency(profile_name(plan.latency_scale))

        kept = {row.execution for row in terminal if row.execution in known} - fresh

        def memory_without_fresh(name: str) -> config.Settings:
            settings = emulated_settings(emu, home=os.path.join(workdir, name), regions=regions)
            with TerminalMemory(config.project_cache_dir(settings), settings.project) as memory:
                for row in terminal:
                    if row.execution in kept:
                        memory.put(row.execution, row.status, known[row.execution])
            return settings

        seconds: dict[str, list[float]] = {"product": [], "sequential": []}
        reads: dict[str, list[int]] = {"product": [], "sequential": []}
        pending: dict[str, list[int]] = {"product": [], "sequential": []}
        product_paths: list[float] = []
        disagreements: list[str] = []
        for repeat in range(plan.refresh_repeats):
            order = ("product", "sequential") if repeat % 2 == 0 else ("sequential", "product")
            rows: dict[str, tuple[Any, ...]] = {}
            for way in order:
                settings = memory_without_fresh(f"{way}-{repeat}")
                stats_before = emu.stats()
                if way == "product":
                    product_fetch = open_source(settings, "runner")
                    started = time.perf_counter()
                    rows[way] = product_fetch().rows
                    seconds[way].append(time.perf_counter() - started)
                    product_fetch.args[1].close()
                    lists = stats_before.get("ListExecutions", 0)
                    logs_before = stats_before.get("ListLogEntries", 0)
                    product_paths.append(
                        max(call_delays(plan, "ListExecutions", range(lists, lists + len(regions))))
                        + call_delays(plan, "ListLogEntries", range(logs_before, logs_before + 1))[0]
                    )
                else:
                    from arr_actors.sources.common import SourceContext

                    ctx = SourceContext(settings)
                    started = time.perf_counter()
                    rows[way], _ = sequential_runner_refresh(settings, ctx)
                    seconds[way].append(time.perf_counter() - started)
                    ctx.close()
                reads[way].append(emu.stats().get("ListLogEntries", 0) - stats_before.get("ListLogEntries", 0))
                pending[way].append(len(_terminal(rows[way]) - kept))
            disagreements += _disagreements(rows["product"], rows["sequential"])
            say(
                f"  repeat {repeat + 1}: product {seconds['product'][-1]:.2f} s, "
                f"sequential {seconds['sequential'][-1]:.2f} s"
            )
        remembered.close()
        fetch.args[1].close()

    product = statistics.median(seconds["product"])
    sequential = statistics.median(seconds["sequential"])
    report.put(
        sequential_baseline_s=round(sequential, 3),
        product_refresh_s=round(product, 3),
        speedup=round(sequential / product, 2),
        runner_refresh={
            "regions": len(regions),
            "new_terminal": plan.new_terminal,
            "product_s": [round(x, 3) for x in seconds["product"]],
            "sequential_s": [round(x, 3) for x in seconds["sequential"]],
            "product_critical_path_s": round(statistics.median(product_paths), 3),
            "product_over_critical_path": round(product / statistics.median(product_paths), 3),
            # Newly terminal executions each way found (the world may end one meanwhile), and its log reads.
            "newly_terminal_product": pending["product"],
            "newly_terminal_sequential": pending["sequential"],
            "log_reads_product": reads["product"],
            "log_reads_sequential": reads["sequential"],
            "note_disagreements": disagreements,
        },
        logging_reads_per_refresh={
            "steady": statistics.fmean(steady_reads) if steady_reads else None,
            "steady_refreshes": len(steady_reads),
            "steady_refreshes_excluded": excluded,
            f"new_terminal_{plan.new_terminal}": max(reads["product"]),
        },
    )


TERMINAL_STATUSES = ("FINISHED", "FAILED", "CANCELLED")


def _terminal(rows: Sequence[Any]) -> set[str]:
    return {row.execution for row in rows if row.status in TERMINAL_STATUSES}


def _disagreements(product: Sequence[Any], sequential: Sequence[Any]) -> list[str]:
    """Executions terminal in both results whose notes differ: both read the same logs, so none should."""
    notes = {row.execution: (row.status, row.note) for row in sequential}
    return [
        row.execution
        for row in product
        if row.status in TERMINAL_STATUSES and row.execution in notes and notes[row.execution] != (row.status, row.note)
    ]


def measure_startup(plan: Plan, workdir: str, report: Report, say: Progress) -> None:
    """First frame, all tables filled, memory, idle CPU; then the warm start."""
    regions = region_names(18)
    home = workdir
    with start_emulator(plan, regions=regions) as emu:
        env = monitor_env(emu, home=home, regions=regions, settings=every_table(interval=3600))
        with Monitor([], env=env, home=home) as monitor, TreeSampler({"emulator": emu.pid}) as emu_sampler:
            term = monitor.term
            frame_at = term.wait_for(titles_visible, timeout=30, what="the five table titles")
            fills = FillTimes(fresh=True)
            term.wait_for(fills, timeout=30 + 20 * plan.latency_scale, what="fresh rows in all five tables")
            # The runner's rows come before its notes (its log read): wait for every
            # fetch to end, so the idle time below is idle and the call counts complete.
            term.wait_for(fetches_done, timeout=30 + 20 * plan.latency_scale, what="every first fetch to end")
            all_done = time.monotonic()
            stats = emu.stats()
            paths = first_round_critical_path(plan, stats)
            say(f"  all tables in {monitor.since_start(max(fills.at.values())):.2f} s; idle for {plan.idle_s:g} s")
            idle, idle_by_process = tree_cpu_during(
                term.pid, seconds=plan.idle_s, activity=term.drain, label=label_process
            )
        emu_rss = emu_sampler.peak_tree_rss.get("emulator", 0)
        all_tables = monitor.since_start(max(fills.at.values()))
        critical = max(paths.values())
        report.put(
            all_tables_s=round(all_tables, 3),
            critical_path_s=round(critical, 3),
            startup={
                "table_filled_s": {
                    k: round(monitor.since_start(v), 3) for k, v in sorted(fills.at.items(), key=lambda kv: kv[1])
                },
                "critical_path_by_table_s": paths,
                "overhead_s": round(all_tables - critical, 3),
                # Rows of every table and the runner's notes (after its log read) on screen.
                "all_fetches_done_s": round(monitor.since_start(all_done), 3),
                "runner_notes_critical_path_s": runner_notes_path(plan, stats),
                "calls_first_round": stats,
            },
            idle_cpu_pct=round(idle, 3),
            idle_cpu_by_process_pct=idle_by_process,
            rss_mb={
                "tree_peak": round(monitor.sampler.peak_tree_rss.get("ui", 0) / 2**20, 1),
                "per_process": monitor.sampler.peaks_mb(),
                "emulator": round(emu_rss / 2**20, 1),
            },
        )

        # More first frames, without reading the warm-start file the first run left.
        frames = [monitor.since_start(frame_at)]
        for _ in range(plan.frame_repeats - 1):
            with Monitor(["--no-warm-start"], env=env, home=home) as again:
                frames.append(
                    again.since_start(again.term.wait_for(titles_visible, timeout=30, what="the five table titles"))
                )

        # Warm start: the first run left its last snapshots behind.
        from arr_actors import warmstart

        settings = config.load(env={k: v for k, v in env.items() if k.startswith(("ARR_", "XDG_"))})
        if not os.path.exists(warmstart.warm_start_path(settings)):
            raise RuntimeError(f"no warm-start file at {warmstart.warm_start_path(settings)} after the first run")
        report.put(
            frame_render_cpu_ms=render_cost_ms(warmstart.read_file(warmstart.warm_start_path(settings)), repeats=30)
        )
        data_frames, fresh = [], []
        for _ in range(plan.frame_repeats):
            with Monitor([], env=env, home=home) as monitor:
                rows_at = FillTimes(fresh=False)
                monitor.term.wait_for(rows_at, timeout=30, what="warm-start rows in all five tables")
                lines = monitor.term.screen.display
                fresh += [spec.key for spec in TABLES if (view := title_view(lines, spec.title)) and view.filled]
            data_frames.append(monitor.since_start(max(rows_at.at.values())))
    report.put(
        first_frame_s=round(statistics.median(frames), 3),
        first_frame={"samples_s": [round(x, 3) for x in frames]},
        first_data_frame_s=round(statistics.median(data_frames), 3),
        first_data_frame={
            "samples_s": [round(x, 3) for x in data_frames],
            # Must stay empty: warm-start rows are on screen before any cloud call returned.
            "tables_already_fresh": sorted(set(fresh)),
        },
    )


def render_cost_ms(snapshots: Mapping[str, Any], *, repeats: int) -> dict[str, float]:
    """CPU time of drawing one whole frame of these tables (the UI's pure render
    functions and urwid's canvas), as the UI does for every clock tick."""
    from ui import model, render

    ctx = render.RenderContext(regions=18)
    state = model.UiState()
    now = time.time()
    for snapshot in snapshots.values():
        state = model.receive(state, dataclasses.replace(snapshot, state="ok"), now=now)
    size = (TERMINAL_COLS, TERMINAL_ROWS)
    costs = []
    for n in range(repeats):
        started = time.process_time()
        render.screen(state, now=now + n, size=size, ctx=ctx).render(size)
        costs.append(1000 * (time.process_time() - started))
    return {"p50": round(percentile(costs, 50), 2), "max": round(max(costs), 2), "size": f"{size[0]}x{size[1]}"}


def measure_keys(plan: Plan, workdir: str, report: Report, say: Progress) -> None:
    """Key latency and loop lag while every table's fetch hangs in C code holding the GIL."""
    from ui.render import SPINNER_FPS

    regions = region_names(18)
    home = workdir
    with start_emulator(plan, regions=regions) as emu:
        env = monitor_env(emu, home=home, regions=regions)
        faults = [f"--fault={key}=hang" for key in TABLE_KEYS]
        with Monitor(["--deadline", "600", *faults], env=env, home=home) as monitor:
            term = monitor.term
            term.wait_for(spinning_everywhere, timeout=30, what="a spinner in every table")
            lags = spinner_lags(term, seconds=plan.loop_lag_s, fps=SPINNER_FPS)
            samples: list[float] = []
            for n in range(plan.key_presses):
                opening = n % 2 == 0
                sent = term.send(b"?")
                shown = term.wait_for(help_open if opening else tables_shown, timeout=10, what="help toggled by '?'")
                samples.append(shown - sent)
                # Presses at irregular moments, so they do not fall into step with the spinner ticks.
                term.drain(0.02 + 0.05 * ((n * 7919) % 11) / 10)
            still_hung = spinning_everywhere(term) or help_open(term)
    if not lags:
        raise RuntimeError("no spinner frame was seen while the fetches hung")
    keys = summary([1000 * x for x in samples])
    loop = summary([1000 * x for x in lags])
    report.put(
        key_latency_p99_ms=round(keys["p99"], 1),
        loop_lag_p99_ms=round(loop["p99"], 1),
        key_latency_ms={k: round(v, 1) for k, v in keys.items()},
        loop_lag_ms={**{k: round(v, 1) for k, v in loop.items()}, "method": "spinner frames: tick time to screen"},
    )
    if not still_hung:
        report.notes.append("key latency: the fetches stopped hanging during the measurement")


def measure_supervision(plan: Plan, workdir: str, report: Report, say: Progress) -> None:
    """Kill latency with every fetch hung in C code; restart time once a cloud hang clears;
    memory of each table's fetch process."""
    from arr_actors.messages import TableSnapshot
    from arr_actors.runtime import system as runtime

    regions = region_names(18)
    deadline = plan.kill_deadline_s
    with start_emulator(plan, regions=regions) as emu:
        # 1. Every table hangs holding the GIL; two deadlines each.
        settings = emulated_settings(
            emu,
            home=os.path.join(workdir, "hang"),
            regions=regions,
            faults=tuple((key, "hang") for key in TABLE_KEYS),
            policies={key: {"deadline": deadline} for key in TABLE_KEYS},
        )
        collector = Collector()
        system = runtime.start(settings, [collector])
        try:
            hung = _wait_child_pids(system, timeout=30)
            gone_at = watch_exits([pid for pids in hung.values() for pid in pids], timeout=deadline + 60)
            rounds = 1 if plan.quick else 2
            collector.wait_for(
                lambda items: all(len(kill_latencies(items).get(k, [])) >= rounds for k in TABLE_KEYS),
                timeout=rounds * (deadline + settings.backoff_max_s) + 30,
                what="every hung table timed out",
            )
        finally:
            system.stop()
        latencies = kill_latencies(collector.items)
        samples = [x for values in latencies.values() for x in values]
        first_deadline = {table: events[0][0] for table, events in kill_events(collector.items).items()}
        reaped = [
            gone_at[pid] - first_deadline[table]
            for table, pids in hung.items()
            for pid in pids
            if pid in gone_at and table in first_deadline
        ]
        say(f"  kill latency: {len(samples)} samples, worst {max(samples):.3f} s")

        # 2. The runner's cloud calls hang from the start; as soon as its fetch is
        #    killed the cloud answers again: time until the table is fresh. The
        #    deadline leaves room for a fresh fetch process to import its
        #    libraries, so the first fetch after the restart can succeed.
        settings = emulated_settings(
            emu,
            home=os.path.join(workdir, "restart"),
            regions=regions,
            policies={"runner": {"deadline": plan.restart_deadline_s}},
        )
        emu.set_faults({"runner": "hang"})
        collector = Collector()
        system = runtime.start(settings, [collector])
        try:
            timed_out_at, timeout_snapshot = collector.wait_for(
                lambda items: next(iter(snapshots(items, "runner", state="timeout")), None),
                timeout=plan.restart_deadline_s + 30,
                what="the hung runner refresh timed out",
            )
            emu.set_faults({})
            ok_at, ok = collector.wait_for(
                lambda items: next(iter(snapshots(items, "runner", state="ok", after=timed_out_at)), None),
                timeout=settings.backoff_max_s + plan.restart_deadline_s + 30,
                what="the runner refreshed again after the hang cleared",
            )
            collector.wait_for(
                lambda items: all(snapshots(items, k, state="ok") for k in TABLE_KEYS),
                timeout=60,
                what="all five tables ok",
            )
            fetch_rss = {
                table: round(sum(_rss(psutil.Process(pid)) or 0 for pid in pids) / 2**20, 1)
                for table, pids in sorted(system.child_pids().items())
            }
            launcher_pid = system.launcher_pid
            launcher_rss = round((_rss(psutil.Process(launcher_pid)) or 0) / 2**20, 1) if launcher_pid else None
        finally:
            system.stop()
        cloud_kill = kill_latencies(collector.items).get("runner", [])
    assert isinstance(ok, TableSnapshot)
    report.put(
        kill_latency_s=round(max(samples), 3),
        kill_latency={
            "fault": "hang in C code holding the GIL, every table",
            "deadline_s": deadline,
            "samples": len(samples),
            "p50_s": round(percentile(samples, 50), 3),
            "max_s": round(max(samples), 3),
            "cloud_hang_s": round(cloud_kill[0], 3) if cloud_kill else None,
            "process_gone_after_deadline_max_s": round(max(reaped), 3) if reaped else None,
        },
        restart_s=round(ok_at - timed_out_at, 3),
        restart={
            "fault": "runner: cloud call hangs until its fetch is killed, then answers again",
            "backoff_s": round(timeout_snapshot.next_refresh_at - timed_out_at, 3)
            if timeout_snapshot.next_refresh_at
            else None,
            "deadline_s": plan.restart_deadline_s,
            "refresh_duration_s": ok.duration_s,
        },
    )
    rss = report.values.setdefault("rss_mb", {})
    rss["fetch_process_by_table"] = fetch_rss
    rss["launcher"] = launcher_rss


def measure_scaling(plan: Plan, workdir: str, report: Report, say: Progress) -> None:
    """All tables filled, and Cloud Logging reads, with more regions and ``executions_factor``
    times more executions (every table's row limit raised by that factor)."""
    from arr_actors.sources import open_source

    runs = []
    for count in plan.scaling_regions:
        regions = region_names(count)
        home = os.path.join(workdir, f"regions-{count}")
        limits = {spec.key: {"limit": spec.limit * plan.executions_factor} for spec in TABLES}
        with start_emulator(plan, regions=regions) as emu:
            env = monitor_env(
                emu,
                home=home,
                regions=regions,
                settings={
                    **every_table(interval=3600),
                    **{f"tables.{key}.limit": v["limit"] for key, v in limits.items()},
                },
            )
            with Monitor([], env=env, home=home) as monitor:
                fills = FillTimes(fresh=True)
                monitor.term.wait_for(fills, timeout=60 + 40 * plan.latency_scale, what="fresh rows in all five tables")
                # ... and the runner's log read behind its first rows: the first round complete.
                monitor.term.wait_for(fetches_done, timeout=60 + 40 * plan.latency_scale, what="every first fetch to end")
                stats = emu.stats()
            all_tables = monitor.since_start(max(fills.at.values()))
            paths = first_round_critical_path(plan, stats)
            # The monitor left its terminal-state memory on disk: a refresh now has nothing new to read.
            emu.set_latency("none")
            settings = emulated_settings(emu, home=home, regions=regions, policies=limits)
            fetch = open_source(settings, "runner")
            before = emu.stats().get("ListLogEntries", 0)
            data = fetch()
            steady_reads = emu.stats().get("ListLogEntries", 0) - before
            fetch.args[1].close()
        run = {
            "regions": count,
            "executions_factor": plan.executions_factor,
            "runner_rows": len(data.rows),
            "all_tables_s": round(all_tables, 3),
            "table_filled_s": {
                k: round(monitor.since_start(v), 3) for k, v in sorted(fills.at.items(), key=lambda kv: kv[1])
            },
            "critical_path_s": round(max(paths.values()), 3),
            "logging_reads_first_refresh": stats.get("ListLogEntries", 0),
            "logging_reads_per_refresh": steady_reads,
        }
        say(
            f"  {count} regions: all tables in {all_tables:.2f} s, log reads {run['logging_reads_first_refresh']} then {steady_reads}"
        )
        runs.append(run)
    # Against 18 regions with the same rows when that run was made (only the region count
    # changes), else against the start-up measurement (18 regions, normal rows).
    smallest = min(runs, key=lambda r: r["regions"])
    base = smallest["all_tables_s"] if smallest["regions"] <= 18 else report.values.get("all_tables_s")
    base = base or smallest["all_tables_s"]
    report.put(
        scaling={
            "base_all_tables_s": base,
            "runs": runs,
            "time_ratio_max": round(max(r["all_tables_s"] for r in runs) / base, 3),
            "logging_reads_max": max(
                max(r["logging_reads_first_refresh"], r["logging_reads_per_refresh"]) for r in runs
            ),
        }
    )


#: name -> function(plan, workdir, report, say); run in this order.
MEASUREMENTS: tuple[tuple[str, Callable[[Plan, str, Report, Progress], None]], ...] = (
    ("runner_refresh", measure_runner_refresh),
    ("startup", measure_startup),
    ("keys", measure_keys),
    ("supervision", measure_supervision),
    ("scaling", measure_scaling),
)


# ------------------------------------------------------------------ report


@dataclass
class Report:
    values: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def put(self, **values: Any) -> None:
        self.values.update(values)

    def document(self) -> dict[str, Any]:
        doc = dict(self.values)
        if "all_tables_s" in doc and doc.get("critical_path_s"):
            doc["all_tables_over_critical_path"] = round(doc["all_tables_s"] / doc["critical_path_s"], 3)
        doc["goals"] = {
            goal.path: {
                "target": goal.text,
                "value": lookup(doc, goal.path),
                "met": None
                if not isinstance(lookup(doc, goal.path), (int, float))
                else goal.met(lookup(doc, goal.path)),
            }
            for goal in GOALS
        }
        doc["errors"] = dict(self.errors)
        doc["notes"] = list(self.notes)
        return doc


def format_table(doc: Mapping[str, Any]) -> str:
    lines = [f"{'measure':<44} {'value':>12}  {'goal':<12} ", "-" * 74]
    for goal in GOALS:
        value = lookup(doc, goal.path)
        if isinstance(value, (int, float)):
            mark = "pass" if goal.met(value) else "MISS"
            shown = _number(value) + (f" {goal.unit}" if goal.unit else "")
        else:
            mark, shown = "n/a", "-"
        lines.append(f"{goal.label:<44} {shown:>12}  {goal.text:<12} {mark}")
    lines.append("")
    for key in (
        "first_frame_s",
        "all_tables_s",
        "critical_path_s",
        "sequential_baseline_s",
        "product_refresh_s",
        "restart_s",
    ):
        if isinstance(doc.get(key), (int, float)):
            lines.append(f"{key:<44} {_number(doc[key]):>12} s")
    rss = doc.get("rss_mb")
    if isinstance(rss, Mapping):
        lines.append(f"{'rss_mb.tree_peak':<44} {_number(rss.get('tree_peak', 0)):>12} MB")
        for name, mb in (rss.get("per_process") or {}).items():
            lines.append(f"{'  ' + name:<44} {_number(mb):>12} MB")
    scaling = doc.get("scaling")
    if isinstance(scaling, Mapping):
        for row in scaling.get("runs", []):
            lines.append(
                f"{'scaling ' + str(row.get('regions')) + ' regions, x' + str(row.get('executions_factor')):<44} "
                f"{_number(row['all_tables_s']) if isinstance(row.get('all_tables_s'), (int, float)) else '-':>12} s"
                f"  log reads {row.get('logging_reads_per_refresh', '-')}"
            )
    for key, message in (doc.get("errors") or {}).items():
        lines.append(f"error in {key}: {message}")
    for note in doc.get("notes") or ():
        lines.append(f"note: {note}")
    return "\n".join(lines)


# ------------------------------------------------------------------ run


class Progress:
    def __init__(self, out: Any) -> None:
        self._out = out
        self._started = time.monotonic()

    def __call__(self, text: str) -> None:
        if self._out is not None:
            print(f"[{time.monotonic() - self._started:6.1f} s] {text}", file=self._out, flush=True)


def run(*, quick: bool, progress: Any = None, only: Sequence[str] = ()) -> Report:
    plan = Plan.make(quick=quick)
    report = Report()
    say = Progress(progress)
    marker = uuid.uuid4().hex
    os.environ[RUN_MARKER_VAR] = marker
    # Everything here talks to the emulator: a real key must never leave this process.
    os.environ["WANDB_API_KEY"] = DUMMY_WANDB_KEY
    os.environ.setdefault("WANDB_SILENT", "true")
    workdir = tempfile.mkdtemp(prefix="arr-actors-bench-")
    started = time.monotonic()
    report.put(
        plan={
            "quick": plan.quick,
            "latency_profile": "realistic" if plan.latency_scale == 1 else f"realistic x{plan.latency_scale:g}",
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        }
    )
    try:
        for name, measure in MEASUREMENTS:
            if only and name not in only:
                continue
            say(f"{name} ...")
            try:
                measure(plan, os.path.join(workdir, name), report, say)
            except Exception as exc:  # noqa: BLE001 - one broken measurement must not hide the others
                text = f"{type(exc).__name__}: {exc}"
                report.errors[name] = text.splitlines()[0]
                say(f"{name} failed: {text}")
            left = reap_leftovers(marker)
            if left:
                report.errors[f"{name}.leftovers"] = f"{len(left)} processes left behind: " + "; ".join(left)
    finally:
        left = reap_leftovers(marker)
        if left:
            report.errors["leftovers"] = f"{len(left)} processes left behind: " + "; ".join(left)
        shutil.rmtree(workdir, ignore_errors=True)
    if plan.latency_scale != 1:
        report.notes.append(
            f"cloud latencies scaled by {plan.latency_scale:g}: fixed start-up costs (interpreters, imports) weigh "
            "more against them, so judge all_tables/critical path and the scaling ratio on a full run"
        )
    load = os.getloadavg()
    report.values["plan"]["load_average_at_end"] = [round(x, 2) for x in load]
    busiest = max(load[0], report.values["plan"]["load_average_at_start"][0])
    if busiest > (os.cpu_count() or 1):
        report.notes.append(
            f"the machine was busy (load average up to {busiest:.1f} on {os.cpu_count()} CPUs): "
            "absolute times are inflated, ratios and counts much less"
        )
    report.put(bench_duration_s=round(time.monotonic() - started, 1), processes_left=len(left))
    return report


# ------------------------------------------------------------------ command line


class UsageError(Exception):
    pass


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def parser() -> Parser:
    p = Parser(prog=PROG, description=__doc__.split("\n\n")[0])
    p.add_argument("--json", action="store_true", help="print one JSON object instead of a table")
    p.add_argument("--quick", action="store_true", help="CI-sized run: under a minute, scaled-down latencies")
    p.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NAME",
        help="run only this measurement (repeatable): " + ", ".join(name for name, _ in MEASUREMENTS),
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parser().parse_args(argv)
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    unknown = [name for name in args.only if name not in dict(MEASUREMENTS)]
    if unknown:
        print(
            f"{PROG}: error: unknown measurement {unknown[0]!r} (measurements: {', '.join(n for n, _ in MEASUREMENTS)})",
            file=sys.stderr,
        )
        return EXIT_USAGE
    report = run(quick=args.quick, progress=sys.stderr, only=args.only)
    doc = report.document()
    print(json.dumps(doc, indent=2) if args.json else format_table(doc))
    return EXIT_OK if not doc["errors"] and all(g["met"] for g in doc["goals"].values()) else EXIT_MISSED


if __name__ == "__main__":
    sys.exit(main())
