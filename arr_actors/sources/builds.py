"""The builds table: Cloud Build v1 builds of the project, active first.

Cloud Build keeps builds per location: the project-level collection holds only
the ``global`` builds, and a build run in a regional pool is listed only under
``projects/P/locations/REGION``. One refresh therefore reads one page of the
newest builds of ``global`` and of every configured region, in parallel (the
service lists newest first). Active builds (QUEUED, WORKING, PENDING) come first,
then the most recent finished ones, ``limit`` rows in all; the UI draws the
divider between the two groups from ``BuildRow.active``. A location that fails
is named in the table's status while the others still show.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from arr_actors.messages import BuildRow, TableData
from arr_actors.sources.clients import require_project
from arr_actors.sources.common import epoch, fan_out, last_segment, location_of
from arr_actors.tables import active_first

if TYPE_CHECKING:
    from arr_actors.config import Settings
    from arr_actors.sources.common import SourceContext

# Enough recent builds that a still-queued build behind a burst of finished ones is seen.
PAGE_SIZE = 50


def build_image(build: Any) -> str:
    """The image a build produces: its ``images`` list, else what it pushed."""
    if build.images:
        return str(build.images[0])
    for image in build.results.images:
        if image.name:
            return str(image.name)
    return ""


def build_row(build: Any) -> BuildRow:
    status = getattr(build.status, "name", str(build.status))
    return BuildRow(
        build_id=build.id or last_segment(build.name),
        status=status,
        image=build_image(build),
        region=location_of(build.name, "global"),
        created_at=epoch(build.create_time) or 0.0,
        started_at=epoch(build.start_time),
        finished_at=epoch(build.finish_time),
        log_url=build.log_url,
    )


def order_rows(rows: Sequence[BuildRow], limit: int) -> tuple[BuildRow, ...]:
    """Active builds first, then finished; each group newest first; ``limit`` rows in all."""
    newest = sorted(rows, key=lambda r: (r.created_at, r.build_id), reverse=True)
    return active_first(newest)[:limit]


def _list_location(ctx: SourceContext, location: str, *, page_size: int) -> list[Any]:
    settings = ctx.settings
    pager = ctx.clients.cloud_build().list_builds(
        request={
            "project_id": settings.project,
            "parent": f"projects/{settings.project}/locations/{location}",
            "page_size": page_size,
        },
        timeout=settings.api.call_timeout_s,
        retry=None,
    )
    # One page: reading past it would ask for the next one.
    return list(itertools.islice(pager, page_size))


def fetch(settings: Settings, ctx: SourceContext) -> TableData:
    require_project(settings)
    limit = settings.policy("builds").kept
    page_size = max(PAGE_SIZE, limit)
    locations = ("global", *settings.regions)
    outcome = fan_out(
        ctx.pool(),
        locations,
        lambda loc: _list_location(ctx, loc, page_size=page_size),
        timeout_s=settings.api.call_timeout_s,
    )
    outcome.raise_if_all_failed(service="cloudbuild", timeout_s=settings.api.call_timeout_s)
    rows = [build_row(b) for builds in outcome.results.values() for b in builds]
    return TableData(rows=order_rows(rows, limit), warning=outcome.warning(len(locations), noun="locations"))
