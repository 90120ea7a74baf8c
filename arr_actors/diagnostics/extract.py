"""Find what matters in a runner execution's log: outcome, one-line summary, run count.

``diagnose`` is a pure function of the log lines (chronological) and, when the
caller knows it, the execution's status. It streams: memory is bounded by the
context windows, not by the log, and every line costs a few fast checks (one
combined regex rejects the lines no pattern can match).

Rules, in order:

1. A wrapper bailout (``FATAL ERROR DETECTED`` / ``Killing agent``) means the
   wrapper saw a fatal line; the real cause is the highest-priority error in the
   20 lines before and 80 after the first bailout line. Without one, the
   wrapper's own message is the summary.
2. Otherwise the highest-priority error in the whole log wins; between equal
   priorities, the earliest (later ones are usually fallout).
3. A finished runner's note is its newest ``Runner alive`` line as ``Runner
   completed: ...`` with the final run count; a running one shows its newest
   ``Runner alive`` line.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from arr_actors.diagnostics import formats
from arr_actors.diagnostics.registry import Pattern, Registry, RegistryError, default
from arr_actors.diagnostics.text import LINE_LIMIT, one_line, physical_lines

OUTCOMES = ("failed", "finished", "running", "unknown")
SUMMARY_LIMIT = 200
#: Lines kept before and after a match for the detail view (and searched around a bailout).
BEFORE = 20
AFTER = 80
#: Lines kept from the end of the log, for the context when no line matched.
TAIL = 100

_FAILED = frozenset({"failed", "failure", "error", "cancelled", "canceled", "killed", "timeout", "timed_out"})
_FINISHED = frozenset({"finished", "succeeded", "success", "successful", "completed", "complete", "done"})
_RUNNING = frozenset({"running", "pending", "queued", "started", "starting", "active", "retrying"})
_MAX_RUNS = 10**9


@dataclass(frozen=True, slots=True)
class Diagnosis:
    """What a runner execution's log says, ready for the runner table's note and the detail view."""

    outcome: str  # failed | finished | running | unknown
    summary: str  # one line, at most SUMMARY_LIMIT characters, inert text
    category: str  # an error category from the registry, or completed / running / unknown
    pattern: str | None  # the registry id that produced the summary
    runs: int | None  # from the newest "Runs: N" line
    context: tuple[str, ...] = ()  # lines around the match (or the log's end)
    job_ids: tuple[str, ...] = ()  # Vertex AI jobs the log says were created (arr_actors.lineage)
    #: The line the summary was made from (the log view opens on it); not kept in the
    #: memory, so not part of what makes two diagnoses the same.
    line: str = dataclasses.field(default="", compare=False)

    def to_plain(self) -> dict[str, Any]:
        plain: dict[str, Any] = {
            "outcome": self.outcome,
            "summary": self.summary,
            "category": self.category,
            "pattern": self.pattern,
            "runs": self.runs,
            "context": list(self.context),
        }
        if self.job_ids:  # only the runner table records them (what `diagnose` prints stays as it was)
            plain["job_ids"] = list(self.job_ids)
        return plain

    @classmethod
    def from_plain(cls, data: Mapping[str, Any]) -> Diagnosis:
        """Rebuild from ``to_plain`` output; ValueError names what is wrong."""
        if not isinstance(data, Mapping):
            raise ValueError("a diagnosis must be an object")
        outcome, summary, category = data.get("outcome"), data.get("summary"), data.get("category")
        pattern, runs, context = data.get("pattern"), data.get("runs"), data.get("context", [])
        if outcome not in OUTCOMES:
            raise ValueError(f"outcome must be one of {', '.join(OUTCOMES)}, got {outcome!r}")
        if not isinstance(summary, str) or not isinstance(category, str):
            raise ValueError("summary and category must be strings")
        if pattern is not None and not isinstance(pattern, str):
            raise ValueError("pattern must be a string or null")
        if runs is not None and (not isinstance(runs, int) or isinstance(runs, bool) or runs < 0):
            raise ValueError("runs must be a whole number or null")
        if not isinstance(context, (list, tuple)) or not all(isinstance(line, str) for line in context):
            raise ValueError("context must be a list of strings")
        # Diagnoses remembered before jobs were recorded have none: their links stay unknown.
        job_ids = data.get("job_ids", [])
        if not isinstance(job_ids, (list, tuple)) or not all(isinstance(j, str) for j in job_ids):
            raise ValueError("job_ids must be a list of strings")
        return cls(outcome, summary, category, pattern, runs, tuple(context), tuple(job_ids))


def outcome_of_status(status: str | None) -> str | None:
    """An execution status (``FAILED``, ``SUCCEEDED``, ``RUNNING``...) as an outcome, or None."""
    if not status:
        return None
    word = status.strip().lower().replace("-", "_")
    for prefix in ("execution_", "job_state_", "state_"):
        word = word.removeprefix(prefix)
    if word in _FAILED:
        return "failed"
    if word in _FINISHED:
        return "finished"
    if word in _RUNNING:
        return "running"
    return None


class _Capture:
    """A matched line and the lines around it, filled in as later lines arrive."""

    __slots__ = ("after", "before", "index", "line", "pattern")

    def __init__(self, index: int, line: str, *, pattern: Pattern, before: Iterable[str]) -> None:
        self.index = index
        self.line = line
        self.pattern = pattern
        self.before = tuple(before)[-BEFORE:]
        self.after: list[str] = []

    @property
    def full(self) -> bool:
        return len(self.after) >= AFTER

    def context(self) -> tuple[str, ...]:
        return (*self.before, self.line, *self.after)


class _Scanner:
    """Streaming state of one diagnosis (private, single use)."""

    def __init__(self, registry: Registry) -> None:
        self.registry = registry
        self.count = 0
        # (index, line, error pattern or None) of the newest lines: the log's tail,
        # and enough to look 20 lines back from a bailout and still give the cause
        # found there 20 lines of its own context.
        self.history: deque[tuple[int, str, Pattern | None]] = deque(maxlen=max(TAIL, 2 * BEFORE))
        self.may_match = registry.may_match
        self.open: list[_Capture] = []
        self.best: _Capture | None = None
        self.bailout: _Capture | None = None
        self.bailout_end = -1
        self.cause: _Capture | None = None
        self.runs: int | None = None
        self.alive: str | None = None
        self.ended = False
        self.agent_failed = False
        self.signalled = False
        self.runner_seen = False

    def feed(self, line: str) -> None:
        index = self.count
        self.count += 1
        if self.open:
            for waiting in self.open:
                waiting.after.append(line)
            if any(waiting.full for waiting in self.open):
                self.open = [waiting for waiting in self.open if not waiting.full]
        if "Runs: " in line or (" jobs: " in line or " run: " in line or "processed: " in line):
            self._runs(line)
        elif "Final stats:" in line and formats.FINAL_STATS_RE.match(line):
            self.ended = True
        elif "Idle timeout" in line:  # the wrapper's, or its predecessor's ("⏱️ Idle timeout ...")
            self.ended = True
        if not self.may_match(line.lower()):  # most lines: no needle, not an error
            self.history.append((index, line, None))
            return
        classified = self.registry.classify(line)
        if classified is None or classified.info is not None or classified.success is not None:
            self.history.append((index, line, None))
            return
        error = classified.error
        if error is not None and error.source == "wrapper":
            self._wrapper_error(line)
        if classified.bailout is not None and self.bailout is None:
            self._start_bailout(index, line, bailout=classified.bailout, error=error)
        elif error is not None:
            capture: _Capture | None = None
            if self.best is None or error.priority > self.best.pattern.priority:
                capture = self._capture(index, line, pattern=error)
                self.best = capture
            if index <= self.bailout_end and (self.cause is None or error.priority > self.cause.pattern.priority):
                self.cause = capture or self._capture(index, line, pattern=error)
        self.history.append((index, line, error))

    def _runs(self, line: str) -> None:
        match = formats.ANY_RUNS_RE.search(line)
        if match is None:
            return
        digits = match.group(1)
        if len(digits) <= 9 and int(digits) < _MAX_RUNS:
            self.runs = int(digits)
            self.runner_seen = True
            if "Runner alive: " in line and formats.ANY_ALIVE_RE.search(line):
                self.alive = line.strip()

    def _wrapper_error(self, line: str) -> None:
        if "Agent exited with code " in line:
            self.agent_failed = True
        elif "Received SIG" in line:
            self.signalled = True

    def _capture(self, index: int, line: str, *, pattern: Pattern) -> _Capture:
        before = (text for i, text, _ in self.history if i >= index - BEFORE)
        capture = _Capture(index, line, pattern=pattern, before=before)
        self.open.append(capture)
        return capture

    def _start_bailout(self, index: int, line: str, *, bailout: Pattern, error: Pattern | None) -> None:
        self.bailout = self._capture(index, line, pattern=bailout)
        self.bailout_end = index + AFTER
        self.runner_seen = True
        # The cause usually comes just before the bailout; the earliest of the
        # highest priority wins, and the bailout line itself (which quotes it) last.
        best: tuple[int, str, Pattern] | None = None
        for i, text, pattern in self.history:
            if pattern is not None and i >= index - BEFORE and (best is None or pattern.priority > best[2].priority):
                best = (i, text, pattern)
        if best is not None:
            i, text, pattern = best
            before = (t for j, t, _ in self.history if i - BEFORE <= j < i)
            cause = _Capture(i, text, pattern=pattern, before=before)
            cause.after.extend(t for j, t, _ in self.history if j > i)
            cause.after.append(line)
            self.open.append(cause)
            self.cause = cause
        if error is not None:
            capture: _Capture | None = None
            if self.cause is None or error.priority > self.cause.pattern.priority:
                capture = self.cause = self._capture(index, line, pattern=error)
            if self.best is None or error.priority > self.best.pattern.priority:
                self.best = capture or self._capture(index, line, pattern=error)

    def inferred_outcome(self) -> str:
        if self.bailout is not None:
            return "failed"
        if self.ended:
            return "failed" if self.agent_failed or self.signalled else "finished"
        if self.best is not None:
            return "failed"
        if self.runner_seen or self.alive is not None:
            return "running"
        return "unknown"

    def result(self, status: str | None) -> Diagnosis:
        outcome = outcome_of_status(status) or self.inferred_outcome()
        tail = tuple(text for _, text, _ in self.history)
        if outcome == "finished":
            return self._diagnosis(outcome, self._completed_note(), category="completed", pattern=None, context=tail)
        problem = (self.cause or self.bailout) if self.bailout is not None else self.best
        if outcome == "running" and self.bailout is None and self.alive is not None:
            return self._diagnosis(outcome, self.alive, category="running", pattern=None, context=tail)
        if problem is not None:
            pattern = problem.pattern
            summary = self.registry.summarize(pattern, problem.line)
            context = problem.context()
            found = self._diagnosis(outcome, summary, category=pattern.category, pattern=pattern.id, context=context)
            return dataclasses.replace(found, line=problem.line[:LINE_LIMIT])
        if outcome == "running":
            return self._diagnosis(outcome, "Running", category="running", pattern=None, context=tail)
        if self.count == 0:
            return self._diagnosis(outcome, "No log lines", category="unknown", pattern=None, context=())
        if outcome == "failed":
            summary = f"Failed; no known error in the last {len(tail)} log lines"
        else:
            summary = f"No runner status or known error in {self.count} log lines"
        return self._diagnosis(outcome, summary, category="unknown", pattern=None, context=tail)

    def _completed_note(self) -> str:
        if self.alive is not None:
            note = self.alive.replace("Runner alive:", "Runner completed:", 1)
            if self.runs is not None:
                note = formats.ANY_RUNS_RE.sub(f"Runs: {self.runs}", note)
            return note
        if self.runs is not None:
            return f"Runner completed with {self.runs} run{'' if self.runs == 1 else 's'}"
        return "Runner completed"

    def _diagnosis(
        self, outcome: str, summary: str, *, category: str, pattern: str | None, context: tuple[str, ...]
    ) -> Diagnosis:
        return Diagnosis(
            outcome=outcome,
            summary=one_line(summary, limit=SUMMARY_LIMIT),
            category=category,
            pattern=pattern,
            runs=self.runs,
            context=tuple(line[:LINE_LIMIT] for line in context),
        )


def diagnose(lines: Iterable[Any], *, status: str | None = None, registry: Registry | None = None) -> Diagnosis:
    """Diagnose a runner log given in chronological order; never raises.

    ``lines`` may hold str or bytes, entries with embedded newlines, escape
    sequences and arbitrarily long lines. ``status`` is the execution's state
    when known (``FAILED``, ``SUCCEEDED``/``FINISHED``, ``RUNNING``...); without
    it the outcome is inferred from the log: a bailout or an error without a
    clean wrapper exit is a failure, the wrapper's final stats after an idle
    timeout or a clean agent exit is a finish, wrapper status lines alone mean
    running.
    """
    try:
        active = registry if registry is not None else default()
    except RegistryError as exc:
        summary = one_line(f"Pattern registry unavailable: {exc}", limit=SUMMARY_LIMIT)
        return Diagnosis(outcome="unknown", summary=summary, category="unknown", pattern=None, runs=None)
    if isinstance(lines, (str, bytes, bytearray)):
        lines = (lines,)
    scanner = _Scanner(active)
    try:
        for line in physical_lines(lines):
            scanner.feed(line)
    except Exception:  # a failing input iterator: diagnose what was read
        pass
    try:
        return scanner.result(status)
    except Exception as exc:  # defensive: a diagnosis must never take its caller down
        summary = f"Could not diagnose the log ({type(exc).__name__})"
        return Diagnosis(outcome="unknown", summary=summary, category="unknown", pattern=None, runs=scanner.runs)
