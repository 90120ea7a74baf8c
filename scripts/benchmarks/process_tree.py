"""Memory and CPU of process trees, sampled from a thread; the processes a run left behind."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence

import psutil

from benchmarks.plan import RUN_MARKER_VAR

#: The label of a process a fork template has just forked (relabelled once it has its own name).
TEMPLATE_FORK = "template-fork"

#: ``label(proc, root_name, root_pid)``: a readable name for a process of a sampled tree.
Labeler = Callable[[psutil.Process, str, int], str]


def tree(root: psutil.Process) -> list[psutil.Process]:
    """A process and all its descendants that are alive now."""
    try:
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def rss_of(proc: psutil.Process) -> int | None:
    """Resident memory in bytes, None once the process is gone."""
    try:
        return int(proc.memory_info().rss)
    except psutil.Error:
        return None


def pss_of(pid: int) -> int | None:
    """Proportional set size in bytes (``/proc/PID/smaps_rollup``): each shared
    page counted once across the processes sharing it, so the sum over a tree is
    what the tree costs. None once the process is gone or the kernel has no rollup."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as fh:
            for line in fh:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def cpu_seconds_of(proc: psutil.Process) -> float | None:
    try:
        times = proc.cpu_times()
    except psutil.Error:
        return None
    return float(times.user + times.system)


class TreeSampler:
    """Samples resident memory (RSS and PSS) and CPU time of process trees from a thread.

    ``roots`` maps a name to a pid; each root's whole tree is sampled. The peak
    of the sum over a tree and the peak of every single process are kept, each
    process under a label from ``label(proc, root_name, root_pid)``. RSS counts
    a page shared by several processes in each of them; PSS splits it between
    them, so only the PSS of a tree adds up to what the tree costs.
    """

    def __init__(self, roots: Mapping[str, int], *, interval_s: float = 0.1, label: Labeler | None = None) -> None:
        self._roots = {name: psutil.Process(pid) for name, pid in roots.items()}
        self._interval_s = interval_s
        self._label: Labeler = label or (lambda proc, root, root_pid: root if proc.pid == root_pid else f"{root}-child")
        self._lock = threading.Lock()
        self.peak_tree_rss: dict[str, int] = {}
        self.peak_process_rss: dict[int, tuple[str, int]] = {}
        self.peak_tree_pss: dict[str, int] = {}
        self.peak_process_pss: dict[int, int] = {}
        self.last_tree_pss: dict[str, int] = {}
        self.last_process_pss: dict[str, dict[int, int]] = {}  # by root, of the last sample
        self._cpu_last: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tree-sampler", daemon=True)

    def __enter__(self) -> TreeSampler:
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
            total = total_pss = 0
            pss_now: dict[int, int] = {}
            for proc in tree(root):
                rss = rss_of(proc)
                if rss is None:
                    continue
                total += rss
                pss = pss_of(proc.pid) or 0
                total_pss += pss
                pss_now[proc.pid] = pss
                cpu = cpu_seconds_of(proc)
                with self._lock:
                    if cpu is not None:
                        self._cpu_last[proc.pid] = cpu
                    known = self.peak_process_rss.get(proc.pid)
                    # A label sticks (a process on its way out reads badly), except the
                    # provisional one of a process a fork template has just forked.
                    if known is None or known[0] == TEMPLATE_FORK:
                        label = self._safe_label(proc, name)
                    else:
                        label = known[0]
                    self.peak_process_rss[proc.pid] = (label, max(rss, known[1] if known else 0))
                    self.peak_process_pss[proc.pid] = max(self.peak_process_pss.get(proc.pid, 0), pss)
            with self._lock:
                self.peak_tree_rss[name] = max(self.peak_tree_rss.get(name, 0), total)
                self.peak_tree_pss[name] = max(self.peak_tree_pss.get(name, 0), total_pss)
                self.last_tree_pss[name] = total_pss
                self.last_process_pss[name] = pss_now

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
        with self._lock:
            values = {pid: rss for pid, (_label, rss) in self.peak_process_rss.items()}
        return self._by_label(values)

    def pss_peaks_mb(self) -> dict[str, float]:
        """Peak PSS per process label (MB); repeated labels get a number."""
        with self._lock:
            values = dict(self.peak_process_pss)
        return self._by_label(values)

    def pss_now_mb(self, root: str) -> dict[str, float]:
        """PSS per process label (MB) of ``root``'s tree at the last sample."""
        with self._lock:
            values = dict(self.last_process_pss.get(root, {}))
        return self._by_label(values)

    def _by_label(self, values: Mapping[int, int]) -> dict[str, float]:
        labels = self.labels()
        out: dict[str, float] = {}
        for pid, value in sorted(values.items()):
            label = labels.get(pid, "?")
            name, n = label, 2
            while name in out:
                name, n = f"{label}#{n}", n + 1
            out[name] = round(value / 2**20, 1)
        return out


def tree_cpu_during(
    root_pid: int, *, seconds: float, activity: Callable[[float], None], label: Labeler | None = None
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
        parent_proc = psutil.Process(parent)
        parent_cmdline = " ".join(parent_proc.cmdline())
        parent_parent = parent_proc.ppid()
        parent_name = parent_proc.name()
    except psutil.Error:
        parent_cmdline, parent_parent, parent_name = "", 0, ""
    if parent_name.startswith("arr-tpl-"):
        # Forked by a fork template, not yet handed over to the launcher (or the
        # intermediate process of that hand-over): there for milliseconds.
        return TEMPLATE_FORK
    if parent_parent == root_pid and "arr_actors.runtime.launcher" in parent_cmdline:
        name = proc.name()
        # Forked processes keep the launcher's command line; the runtime names
        # them: the fork template, and the fetch processes by table (whether the
        # launcher or the template forked them, they end up the launcher's children).
        if name.startswith("arr-tpl-"):
            return "template:" + name[len("arr-tpl-") :]
        return name if name.startswith("fetch") else f"fetch:{name}"
    return f"grandchild:{proc.name()}"


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
