"""The runner wrapper's own output lines: the one definition of their formats.

``launcher-image/entrypoint-wrapper.sh`` prints these lines, the emulator writes
them into its simulated Cloud Run logs, and extraction parses them. A contract
test checks the wrapper's output against this module, so a format cannot drift
in one place only.
"""

from __future__ import annotations

import re

STARTUP_RUNS = "Runs: {runs}"
MONITORING = "Monitoring for fatal errors in agent output..."
JOB_SUBMITTED = "Job submitted to Vertex AI! (Runs: {runs})"
FATAL_DETECTED = "FATAL ERROR DETECTED: {line}"
KILLING_AGENT = "Killing agent"
RUNNER_ALIVE = "[{clock}] Runner alive: {lifetime}s lifetime, {idle}s idle, Runs: {runs}"
IDLE_TIMEOUT = "Idle timeout: no jobs for {idle}s (limit {limit}s), shutting down"
FINAL_STATS = "Final stats:"
FINAL_RUNS = "   Runs: {runs}"
FINAL_LIFETIME = "   Runner lifetime: {lifetime}"
FINAL_IDLE = "   Idle time: {idle}"

#: The newest ``Runs: N`` on a line (every wrapper line that carries a count uses this form).
RUNS_RE = re.compile(r"\bRuns: (\d+)")
RUNNER_ALIVE_RE = re.compile(r"Runner alive: (\d+)s lifetime, (\d+)s idle, Runs: (\d+)")


def human_duration(seconds: int) -> str:
    """``3357`` -> ``"55m 57s"``, as the final stats print durations."""
    seconds = max(0, int(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes}m {secs}s"
    if minutes:
        return f"{minutes}m {secs}s"
    return f"{secs}s"


def final_stats(*, runs: int, lifetime_s: int, idle_s: int) -> tuple[str, ...]:
    """The block the wrapper prints on every exit."""
    return (
        FINAL_STATS,
        FINAL_RUNS.format(runs=runs),
        FINAL_LIFETIME.format(lifetime=human_duration(lifetime_s)),
        FINAL_IDLE.format(idle=human_duration(idle_s)),
    )
