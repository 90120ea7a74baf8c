"""The runner table's view of terminal-state memory and log diagnosis.

A terminal execution's diagnosis never changes, so it is kept on disk (sqlite
under ``config.project_cache_dir``, keyed by project, endpoint and execution) and its logs are
read once, ever, across restarts. The storage and the diagnosis themselves
belong to ``arr_actors.diagnostics``; this module is the one seam the runner
source goes through.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from arr_actors.config import Settings
    from arr_actors.diagnostics.extract import Diagnosis


def diagnose(lines: Iterable[str], *, status: str) -> Diagnosis:
    """The diagnosis of an execution's log, with the Vertex AI jobs it created (its lineage)."""
    import dataclasses

    from arr_actors.diagnostics.extract import diagnose as run_diagnosis
    from arr_actors.lineage import created_job_ids

    lines = list(lines)
    return dataclasses.replace(run_diagnosis(lines, status=status), job_ids=created_job_ids(lines))


def memory_key(region: str, execution: str) -> str:
    """The memory key of an execution: its name, as ``diagnose --execution`` and ``launch`` know it.

    Cloud Run gives every execution a random suffix, so the name alone is unique
    across the job's regions.
    """
    del region
    return execution


def open_memory(settings: Settings) -> Any:
    from arr_actors.config import project_cache_dir
    from arr_actors.diagnostics.memory import TerminalMemory

    # Keyed by project and endpoint: a demo's executions are never taken for a real project's.
    return TerminalMemory(project_cache_dir(settings), settings.project)
