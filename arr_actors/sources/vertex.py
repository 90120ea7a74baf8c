"""The vertex table: Vertex AI v1 custom jobs in every configured region.

Each region has its own endpoint (``{region}-aiplatform.googleapis.com``), so
the regions are asked in parallel, one ``ListCustomJobs`` page each (the
service lists newest first), and the newest ``limit`` jobs overall are shown.
A region that fails is named in the table's status; the others still show.
"""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from arr_actors.messages import TableData, VertexRow
from arr_actors.sources.clients import require_project
from arr_actors.sources.common import epoch, fan_out, last_segment, location_of

if TYPE_CHECKING:
    from arr_actors.config import Settings
    from arr_actors.sources.common import SourceContext

# Only what the table shows: a job's spec can be large and 18 regions multiply it.
READ_MASK = ("name", "display_name", "state", "create_time", "start_time", "end_time", "error")


def job_state(job: Any) -> str:
    name = getattr(job.state, "name", str(job.state))
    return name.removeprefix("JOB_STATE_")


def job_row(job: Any, *, region: str) -> VertexRow:
    state = job_state(job)
    message = job.error.message if job.error and job.error.message else ""
    if state == "CANCELLED" and message.upper() in ("CANCELED", "CANCELLED"):
        message = ""  # Vertex AI's error of a cancelled job only repeats the state
    return VertexRow(
        job_id=last_segment(job.name),
        display_name=job.display_name,
        region=location_of(job.name, region),
        state=state,
        created_at=epoch(job.create_time) or 0.0,
        started_at=epoch(job.start_time),
        ended_at=epoch(job.end_time),
        note=" ".join(message.split()),
    )


def _list_region(ctx: SourceContext, region: str, *, limit: int) -> list[Any]:
    settings = ctx.settings
    pager = ctx.clients.job_service(region).list_custom_jobs(
        request={
            "parent": f"projects/{settings.project}/locations/{region}",
            "page_size": limit,
            "read_mask": {"paths": list(READ_MASK)},
        },
        timeout=settings.api.call_timeout_s,
        retry=None,
    )
    return list(itertools.islice(pager, limit))


def fetch(settings: Settings, ctx: SourceContext) -> TableData:
    require_project(settings)
    limit = settings.policy("vertex").limit
    outcome = fan_out(
        ctx.pool(), settings.regions, lambda r: _list_region(ctx, r, limit=limit), timeout_s=settings.api.call_timeout_s
    )
    outcome.raise_if_all_failed(service="aiplatform", timeout_s=settings.api.call_timeout_s)
    rows = [job_row(job, region=region) for region, jobs in outcome.results.items() for job in jobs]
    rows.sort(key=lambda r: (r.created_at, r.job_id), reverse=True)
    return TableData(rows=tuple(rows[:limit]), warning=outcome.warning(len(settings.regions)))
