"""The runner wrapper's own output lines: the one definition of their formats.

``launcher-image/entrypoint-wrapper.sh`` prints these lines, the emulator writes
them into its simulated Cloud Run logs, and extraction parses them. A contract
test checks the wrapper's output against this module, so a format cannot drift
in one place only.
"""

from __future__ import annotations

import re

from arr_actors.timefmt import human_duration

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
AGENT_STARTING = "Starting agent: wandb launch-agent --queue {queue} --entity {entity}"
AGENT_EXITED = "Agent exited with code {code}"
SIGNAL_RECEIVED = "Received {signal}, stopping agent"
CONTEXT_BEGIN = "--- agent output around the fatal error ---"
CONTEXT_LINE = "    {line}"
CONTEXT_END = "--- end of agent output ---"
MISSING_ENV = "Missing required environment variables: {names} (set them on the Cloud Run job; the API key from Secret Manager)"
BAD_ENV = "Invalid {name}: {value} is not a whole number of seconds greater than 0"
PATTERNS_MISSING = "Cannot read {path}: the image is incomplete (rebuild it from launcher-image/)"

#: Lines of the W&B Launch agent itself (not the wrapper) that the wrapper and
#: extraction rely on; the emulator and the wrapper tests print them verbatim.
#: The Vertex AI SDK inside the agent logs this once the custom job exists: it is
#: the success line the wrapper counts (registry entry ``vertex.custom_job_created``).
AGENT_JOB_CREATED = "CustomJob created. Resource name: {resource}"
AGENT_LAUNCHING = "wandb: launch: Launching run into {entity}/{project}"
AGENT_POLLING = "wandb: launch: agent polling on queues {queue}, running {running} out of a maximum of {max_jobs} jobs"

#: Every wrapper line format above, by name. The wrapper defines each as a
#: ``FMT_<NAME>`` printf format; a test checks the two agree.
WRAPPER_FORMATS = (
    "STARTUP_RUNS",
    "MONITORING",
    "JOB_SUBMITTED",
    "FATAL_DETECTED",
    "KILLING_AGENT",
    "RUNNER_ALIVE",
    "IDLE_TIMEOUT",
    "FINAL_STATS",
    "FINAL_RUNS",
    "FINAL_LIFETIME",
    "FINAL_IDLE",
    "AGENT_STARTING",
    "AGENT_EXITED",
    "SIGNAL_RECEIVED",
    "CONTEXT_BEGIN",
    "CONTEXT_LINE",
    "CONTEXT_END",
    "MISSING_ENV",
    "BAD_ENV",
    "PATTERNS_MISSING",
)

#: The newest ``Runs: N`` on a line (every wrapper line that carries a count uses this form).
RUNS_RE = re.compile(r"\bRuns: (\d+)")
RUNNER_ALIVE_RE = re.compile(r"Runner alive: (\d+)s lifetime, (\d+)s idle, Runs: (\d+)")
#: The wrapper's final stats header: the wrapper has exited (cleanly or not). The
#: predecessor's wrapper put an emoji in front ("📊 Final stats:").
FINAL_STATS_RE = re.compile(r"^\W*Final stats:\s*$")

#: The predecessor's wrapper (still in users' logs) counted with other words before it
#: settled on ``Runs: N``: "Job submitted to Vertex AI! (Total jobs: 3)", "   • Jobs
#: processed: 3", "[08:22:36] Runner alive: ... Jobs run: 3"; and decorated its lines
#: with emoji and bullets ("📊 Runs: 0", "   • Runs: 3", "🚨 FATAL ERROR DETECTED: ...").
LEGACY_COUNTS = ("Jobs run: ", "Total jobs: ", "Jobs processed: ")
#: ``Runs: N`` or one of the legacy counts.
ANY_RUNS_RE = re.compile(r"\b(?:Runs|Jobs run|Total jobs|Jobs processed): (\d+)")
#: A ``Runner alive`` line in the current or the legacy form.
ANY_ALIVE_RE = re.compile(r"Runner alive: .*\b(?:Runs|Jobs run): \d+")
AGENT_EXITED_RE = re.compile(r"Agent exited with code (\d+)")


def printf_format(template: str) -> str:
    """``"Runs: {runs}"`` -> ``"Runs: %s"``: the same line as a shell printf format."""
    return re.sub(r"\{[a-z_]+\}", "%s", template.replace("%", "%%"))


def final_stats(*, runs: int, lifetime_s: int, idle_s: int) -> tuple[str, ...]:
    """The block the wrapper prints on every exit."""
    return (
        FINAL_STATS,
        FINAL_RUNS.format(runs=runs),
        FINAL_LIFETIME.format(lifetime=human_duration(lifetime_s)),
        FINAL_IDLE.format(idle=human_duration(idle_s)),
    )
