"""A local fake Google Cloud and W&B on the real wire protocols, bound to 127.0.0.1.

gRPC (one port): Cloud Run v2 ``Jobs.RunJob``, ``Executions.ListExecutions`` /
``GetExecution``; Vertex AI v1 ``JobService.ListCustomJobs`` / ``GetCustomJob``;
Cloud Build v1 ``CloudBuild.ListBuilds``; Cloud Logging v2
``LoggingServiceV2.ListLogEntries``; Resource Manager v3 ``Projects.GetProject``
/ ``TestIamPermissions``; ``google.longrunning.Operations.GetOperation``. HTTP (another port): W&B GraphQL at
``/graphql``, plus ``/_control``, ``/_stats`` and ``/_health`` (http_api.py).

What clients see:

- The runner job ``vertex-ai-launcher`` exists in every configured region.
  Executions are listed newest first. An execution's queue is the
  ``LAUNCH_QUEUE`` variable in ``template.containers[0].env`` (where Cloud
  Run puts RunJob's env overrides). Status: ``completion_time`` unset and
  ``running_count == 1`` while running; then exactly one of
  ``succeeded_count`` / ``failed_count`` / ``cancelled_count`` is 1, matching
  the ``Completed`` condition (CONDITION_SUCCEEDED, or CONDITION_FAILED with
  execution_reason NON_ZERO_EXIT_CODE or CANCELLED).
- ``RunJob`` returns an operation that is not done; its metadata is the new
  Execution, and ``GetOperation`` reports it done (response: the Execution)
  once the execution has ended. The scenario decides what that execution
  does (``SCENARIOS``).
- Logs are ``cloud_run_job`` entries with resource labels ``job_name``,
  ``location``, ``project_id`` and the label
  ``run.googleapis.com/execution_name``; text in ``text_payload``. Filters
  support the subset in filters.py (unsupported ones are INVALID_ARGUMENT);
  ``order_by`` is ``timestamp asc`` (default) or ``timestamp desc``; page
  size defaults to 50 and may not exceed 1000, as in Cloud Logging. A share
  of page positions (``--log-gaps``, on by default) is first answered with an
  empty page and a ``next_page_token``, as ``ListLogEntriesResponse``
  documents.
- Vertex AI takes only the documented filter fields and operators, lists jobs
  in no creation order (the API documents none) and honours ``read_mask``.
- Errors: an ``error:`` fault (or a permission the control denies) fails the
  way Google's APIs do: status, message text and ``ErrorInfo`` reason
  (``SERVICE_DISABLED``, ``IAM_PERMISSION_DENIED``, ``CREDENTIALS_MISSING``,
  ``RATE_LIMIT_EXCEEDED``; ``services/errors.py``). A job not deployed in a
  region is NOT_FOUND with Cloud Run's text.
- Vertex AI jobs of a runner are created in the runner's region; names
  carry the project *number*, and either the number or the id is accepted.
- Builds live in location ``global`` and in the first configured region. As
  in Cloud Build, the project-level list (``project_id`` only) returns the
  ``global`` builds; ``parent=projects/P/locations/R`` returns region R's.
- W&B: viewer ``demo-user``, default entity ``WANDB_ENTITY``, one project
  ``WANDB_PROJECT`` whose runs are the Vertex AI jobs that reached RUNNING,
  in every state of the wandb SDK's run-state list (pending, running,
  preempting, finished, failed, crashed, killed, preempted); launch queues in
  the entity's ``model-registry`` project. An unknown project is ``null``
  (no error), as in W&B's GraphQL; an HTTP error has a GraphQL ``errors`` body.

Not known, so not invented (each place says what it does instead):

- how often Cloud Logging answers an empty page (the ``--log-gaps`` share is
  a stand-in, not a measurement);
- the exact text Vertex AI uses to refuse an undocumented filter field, and
  whether it refuses or ignores an unknown ``read_mask`` path;
- whether the operation of a failed Cloud Run execution ends with an error
  instead of a response;
- whether other statuses (UNAVAILABLE, INTERNAL, ...) carry an ErrorInfo;
- the body W&B sends with a 401 (the emulator sends ``permission denied``,
  the text wandb reports) and which spellings of runs filter keys the W&B
  server takes beyond those in wandb's own code and docs (``state``,
  ``display_name``, ``displayName``, ``createdAt``...): the emulator takes
  both spellings it has seen there; the product filters on ``state`` only;
- what ``TestIamPermissions`` answers for a project that does not exist.

Layout: ``world`` (the entities over time, a package), ``services`` (one
module per gRPC API, with ``common`` for names, filters and pages),
``wandb_api`` + ``graphql`` (W&B), ``filters`` and ``graphql`` on one
scanner (``lexing``), ``paging``, ``faults``/``latency``/``control`` (what
goes wrong and how slowly), ``server`` (one running emulator), ``cli`` and
``options`` (the command), ``process`` (``spawn``).

Importing this package is cheap: names load on first use, and the protocol
stacks load only in the emulator's own process.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arr_actors.config import DEFAULT_REGIONS
    from arr_actors.emulator.faults import KINDS as FAULT_KINDS
    from arr_actors.emulator.faults import SERVICES, FaultError
    from arr_actors.emulator.latency import PROFILES as LATENCY_PROFILES
    from arr_actors.emulator.process import EmulatorError, EmulatorProcess, spawn
    from arr_actors.emulator.world import RUNNER_JOB, SCENARIOS, WANDB_ENTITY, WANDB_PROJECT

_EXPORTS = {
    "DEFAULT_REGIONS": ("arr_actors.config", "DEFAULT_REGIONS"),
    "FAULT_KINDS": ("arr_actors.emulator.faults", "KINDS"),
    "SERVICES": ("arr_actors.emulator.faults", "SERVICES"),
    "FaultError": ("arr_actors.emulator.faults", "FaultError"),
    "LATENCY_PROFILES": ("arr_actors.emulator.latency", "PROFILES"),
    "EmulatorError": ("arr_actors.emulator.process", "EmulatorError"),
    "EmulatorProcess": ("arr_actors.emulator.process", "EmulatorProcess"),
    "spawn": ("arr_actors.emulator.process", "spawn"),
    "RUNNER_JOB": ("arr_actors.emulator.world", "RUNNER_JOB"),
    "SCENARIOS": ("arr_actors.emulator.world", "SCENARIOS"),
    "WANDB_ENTITY": ("arr_actors.emulator.world", "WANDB_ENTITY"),
    "WANDB_PROJECT": ("arr_actors.emulator.world", "WANDB_PROJECT"),
}

__all__ = [*_EXPORTS, "main"]


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'arr_actors.emulator' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), attribute)
    globals()[name] = value
    return value


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m arr_actors emulator ARGS``: serve until stopped; returns the exit code."""
    from arr_actors.emulator.cli import main as serve

    return serve(argv)
