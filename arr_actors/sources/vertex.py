"""The vertex table: Vertex AI v1 custom jobs in every configured region.

Each region has its own endpoint (``{region}-aiplatform.googleapis.com``), so
the regions are asked in parallel and the newest ``limit`` jobs overall are shown.
A region that fails is named in the table's status; the others still show.

``ListCustomJobs`` documents no order and its request has no ``order_by`` (see
``ListCustomJobsRequest`` in ``aiplatform_v1``), so no page can be taken for
the newest. Each region is asked for the jobs created in the last
``api.vertex_window_hours`` hours (``create_time>=``, a documented filter field
and operator), every page of them up to a cap, and the rows are sorted here. A
region with more jobs in the window than the cap reads is named in the status.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from arr_actors.lineage import run_id_of
from arr_actors.messages import TableData, VertexRow
from arr_actors.sources.clients import require_project
from arr_actors.sources.common import epoch, fan_out, last_segment, location_of

if TYPE_CHECKING:
    from arr_actors.config import Settings
    from arr_actors.sources.common import SourceContext

# Only what the table and the lineage need: a job's spec can be large and 18
# regions multiply it (the worker pools hold the image and the environment).
READ_MASK = (
    "name", "display_name", "state", "create_time", "start_time", "end_time", "error", "labels",
    "job_spec.worker_pool_specs",
)  # fmt: skip


def job_image(job: Any) -> str:
    """The image the job's first worker pool runs ('' when the spec does not say)."""
    for pool in job.job_spec.worker_pool_specs:
        if pool.container_spec.image_uri:
            return str(pool.container_spec.image_uri)
    return ""


def job_run_id(job: Any) -> str:
    """The W&B run the job reports to, as the W&B Launch agent records it."""
    env = [(e.name, e.value) for pool in job.job_spec.worker_pool_specs for e in pool.container_spec.env]
    return run_id_of(dict(job.labels), env)


PAGE_SIZE = 100
#: Pages read per region and refresh; past them the region's window is not read whole.
MAX_PAGES = 10


def window_filter(since: float) -> str:
    """``create_time>="2025-01-01T00:00:00Z"``: the jobs created since ``since`` (epoch seconds)."""
    stamp = datetime.fromtimestamp(int(since), tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return f'create_time>="{stamp}"'


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
        run_id=job_run_id(job),
        image=job_image(job),
    )


def _list_region(ctx: SourceContext, region: str, *, since: float) -> tuple[list[Any], bool]:
    """The region's jobs created since ``since``, in the service's order; and whether all were read."""
    settings = ctx.settings
    pager = ctx.clients.job_service(region).list_custom_jobs(
        request={
            "parent": f"projects/{settings.project}/locations/{region}",
            "filter": window_filter(since),
            "page_size": PAGE_SIZE,
            "read_mask": {"paths": list(READ_MASK)},
        },
        timeout=settings.api.call_timeout_s,
        retry=None,
    )
    jobs: list[Any] = []
    for number, page in enumerate(pager.pages, start=1):
        jobs.extend(page.custom_jobs)
        if number >= MAX_PAGES and page.next_page_token:
            return jobs, False
    return jobs, True


def fetch(settings: Settings, ctx: SourceContext) -> TableData:
    require_project(settings)
    limit = settings.policy("vertex").kept
    since = ctx.clock() - settings.api.vertex_window_hours * 3600
    outcome = fan_out(
        ctx.pool(),
        settings.regions,
        lambda r: _list_region(ctx, r, since=since),
        # Several pages may be read one after the other, each call with its own timeout.
        timeout_s=min(settings.api.call_timeout_s * MAX_PAGES, settings.policy("vertex").deadline),
    )
    outcome.raise_if_all_failed(service="aiplatform", timeout_s=settings.api.call_timeout_s)
    rows = [job_row(job, region=region) for region, (jobs, _) in outcome.results.items() for job in jobs]
    rows.sort(key=lambda r: (r.created_at, r.job_id), reverse=True)
    cut = [region for region, (_, whole) in outcome.results.items() if not whole]
    warnings = [outcome.warning(len(settings.regions))]
    if cut:
        warnings.append(
            f"more than {MAX_PAGES * PAGE_SIZE} jobs in the last {settings.api.vertex_window_hours:g} h in "
            f"{', '.join(cut)}: the newest may be missing; lower api.vertex_window_hours"
        )
    return TableData(rows=tuple(rows[:limit]), warning="; ".join(w for w in warnings if w))
