"""Lineage: which rows of the other tables belong to the same failure chain as a row.

A training attempt is one chain: a runner execution (Cloud Run) submits a
Vertex AI custom job, whose image a Cloud Build made, and the job reports to a
W&B run. Each link is read from what the services themselves record, never
guessed from times:

- execution -> job: the agent's ``CustomJob created. Resource name:
  .../customJobs/ID`` line in the execution's log (``RunnerRow.job_ids``);
- job -> W&B run: the ``wandb-run-id`` label the W&B Launch agent's Vertex
  runner sets on every job it creates (or the ``WANDB_RUN_ID`` it puts in the
  container's environment) (``VertexRow.run_id``);
- build -> job: the image a build pushed (``BuildRow.image``, ``repo:tag``) is
  the image the job's first worker pool runs (``VertexRow.image``).

The job is the hub: a row's relatives are its jobs and everything linked to
those jobs (so a build's relatives are the jobs that run its image, their
executions and runs, not every other job of another build). A link that is not
recorded is reported as unknown with the reason, and a link to a row that is
not in its table says so. Everything here is pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from arr_actors.rows import BuildRow, Row, RunnerRow, VertexRow, WandbRunRow

#: The agent's line naming the Vertex AI job it created (see diagnostics.formats.AGENT_JOB_CREATED).
_JOB_CREATED = re.compile(r"CustomJob created\. Resource name: projects/[^/\s]+/locations/[^/\s]+/customJobs/(\d+)")
#: The label the W&B Launch agent's Vertex runner puts on each custom job it creates.
RUN_ID_LABEL = "wandb-run-id"
#: The environment variable W&B Launch sets in the job's container.
RUN_ID_ENV = "WANDB_RUN_ID"

#: The kinds of rows in a chain, in chain order, and what one is called.
KINDS: tuple[tuple[type, str], ...] = (
    (RunnerRow, "Execution"),
    (BuildRow, "Build"),
    (VertexRow, "Vertex job"),
    (WandbRunRow, "W&B run"),
)


def created_job_ids(lines: Iterable[str]) -> tuple[str, ...]:
    """The ids of the Vertex AI custom jobs a runner's log says it created, in order."""
    found: list[str] = []
    for line in lines:
        match = _JOB_CREATED.search(line)
        if match and match.group(1) not in found:
            found.append(match.group(1))
    return tuple(found)


def run_id_of(labels: Mapping[str, str], env: Iterable[tuple[str, str]] = ()) -> str:
    """The W&B run id a custom job records: its ``wandb-run-id`` label, else ``WANDB_RUN_ID`` in its environment."""
    label = labels.get(RUN_ID_LABEL, "")
    if label:
        return str(label)
    return next((str(value) for name, value in env if name == RUN_ID_ENV and value), "")


@dataclass(frozen=True, slots=True)
class Fact:
    """One line of what is known about a relation: ``kind`` names the other end
    (``Vertex job``, ``W&B run``...), ``text`` what it is, ``known`` whether the
    link is recorded (False: unknown, ``text`` says why)."""

    kind: str
    text: str
    known: bool = True


@dataclass(frozen=True, slots=True)
class Chain:
    """A row's relatives: ``members`` are the ``(table, key)`` of every row of the
    chain in the tables, the row itself included, in table order; ``facts`` say
    what each relation is, known or not."""

    members: tuple[tuple[str, str], ...] = ()
    facts: tuple[Fact, ...] = ()

    def keys_in(self, table: str) -> frozenset[str]:
        return frozenset(key for t, key in self.members if t == table)


def kind_of(row: Row) -> str:
    return next(name for row_type, name in KINDS if isinstance(row, row_type))


def chain_of(rows: Mapping[str, Sequence[Row]], table: str, key: str) -> Chain:
    """The chain of the row ``key`` of ``table`` among ``rows`` (table key -> its rows, in table order)."""
    anchor = next((r for r in rows.get(table, ()) if r.key == key), None)
    if anchor is None:
        return Chain()
    placed = [(t, r) for t, table_rows in rows.items() for r in table_rows]
    executions = [(t, r) for t, r in placed if isinstance(r, RunnerRow)]
    builds = [(t, r) for t, r in placed if isinstance(r, BuildRow)]
    jobs = [(t, r) for t, r in placed if isinstance(r, VertexRow)]
    runs = [(t, r) for t, r in placed if isinstance(r, WandbRunRow)]
    facts: list[Fact] = []
    members: set[tuple[str, str]] = {(table, key)}

    if isinstance(anchor, VertexRow):
        linked = [(table, anchor)]
    elif isinstance(anchor, RunnerRow):
        linked = [(t, j) for t, j in jobs if j.job_id in anchor.job_ids]
        facts += _execution_jobs(anchor, {j.job_id: j for _, j in linked})
    elif isinstance(anchor, WandbRunRow):
        linked = [(t, j) for t, j in jobs if j.run_id and j.run_id == anchor.run_id]
        if not linked:
            facts.append(Fact("Vertex job", f"unknown: no job in the table is labelled {RUN_ID_LABEL}={anchor.run_id}", False))
    else:
        linked = [(t, j) for t, j in jobs if j.image and j.image == anchor.image]
        if not linked:
            facts.append(Fact("Vertex job", "none in the table runs this build's image", False))
    if not isinstance(anchor, RunnerRow | VertexRow):
        facts += [Fact("Vertex job", _describe(j)) for _, j in linked]
    members.update((t, j.key) for t, j in linked)

    for _, job in linked:
        prefix = f"job {job.job_id}: " if len(linked) > 1 or not isinstance(anchor, VertexRow) else ""
        if not isinstance(anchor, RunnerRow):
            parents = [(t, e) for t, e in executions if job.job_id in e.job_ids]
            members.update((t, e.key) for t, e in parents)
            facts += [Fact("Execution", prefix + _describe(e)) for _, e in parents]
            if not parents:
                facts.append(Fact("Execution", prefix + "unknown: no execution in the table logged creating it", False))
        if not isinstance(anchor, WandbRunRow):
            if not job.run_id:
                facts.append(Fact("W&B run", prefix + f"unknown: the job has no {RUN_ID_LABEL} label", False))
            else:
                found = [(t, r) for t, r in runs if r.run_id == job.run_id]
                members.update((t, r.key) for t, r in found)
                facts += [Fact("W&B run", prefix + _describe(r)) for _, r in found]
                if not found:
                    facts.append(Fact("W&B run", prefix + f"{job.run_id} (not in the W&B tables)"))
        if not isinstance(anchor, BuildRow):
            if not job.image:
                facts.append(Fact("Build", prefix + "unknown: the job's image is not known", False))
            else:
                made = [(t, b) for t, b in builds if b.image == job.image]
                members.update((t, b.key) for t, b in made)
                facts += [Fact("Build", prefix + _describe(b)) for _, b in made]
                if not made:
                    facts.append(Fact("Build", prefix + f"unknown: no build in the table made {job.image}", False))
    order = {t: i for i, t in enumerate(rows)}
    positions = {(t, r.key): i for t, table_rows in rows.items() for i, r in enumerate(table_rows)}
    ordered = sorted(members, key=lambda m: (order.get(m[0], len(order)), positions.get(m, 0)))
    return Chain(members=tuple(ordered), facts=tuple(facts))


def _execution_jobs(execution: RunnerRow, in_table: Mapping[str, VertexRow]) -> list[Fact]:
    if not execution.job_ids:
        if execution.active:
            why = "unknown until its log is read (when it ends)"
        else:
            why = "unknown: its log names no job it created"
        return [Fact("Vertex job", why, False)]
    return [
        Fact("Vertex job", _describe(in_table[job_id]) if job_id in in_table else f"{job_id} (not in the Vertex table)")
        for job_id in execution.job_ids
    ]


def _describe(row: Row) -> str:
    if isinstance(row, RunnerRow):
        return f"{row.execution} ({row.region}) {row.status}"
    if isinstance(row, VertexRow):
        return f"{row.job_id} {row.display_name} ({row.region}) {row.state}"
    if isinstance(row, WandbRunRow):
        return f"{row.run_id} {row.name} {row.state}"
    return f"{row.build_id} {row.status} {row.image}"


def step(chain: Chain, current: tuple[str, str], *, forward: bool = True) -> tuple[str, str] | None:
    """The chain member after (or before) ``current``, wrapping; None when the chain has no other member."""
    members = chain.members
    others = [m for m in members if m != current]
    if not others:
        return None
    if current not in members:
        return others[0] if forward else others[-1]
    i = members.index(current)
    return members[(i + (1 if forward else -1)) % len(members)]


__all__ = ["KINDS", "RUN_ID_ENV", "RUN_ID_LABEL", "Chain", "Fact", "chain_of", "created_job_ids", "kind_of", "run_id_of", "step"]
