"""Vertex AI documents no order for ListCustomJobs: the table reads the window and sorts it itself."""

from __future__ import annotations

import pytest
from source_helpers import emulator_settings

from arr_actors.sources import open_source
from arr_actors.sources.clients import Clients

pytest.importorskip("google.cloud.aiplatform_v1")
pytestmark = pytest.mark.timeout(90)


def test_the_newest_jobs_are_shown_although_the_service_lists_them_in_no_creation_order(emulated, tmp_path):
    emu, clock = emulated
    now = clock()
    settings = emulator_settings(emu, tmp_path)
    region = max(settings.regions, key=lambda r: len(emu.world.vertex_jobs(r, now)))
    first_page = list(
        Clients(settings).job_service(region).list_custom_jobs(
            request={"parent": f"projects/{settings.project}/locations/{region}", "page_size": 10}, timeout=5
        ).pages
    )[0].custom_jobs
    newest_in_region = [j.job_id for j in emu.world.vertex_jobs(region, now)[:10]]
    assert [j.name.rsplit("/", 1)[-1] for j in first_page] != newest_in_region, "the list is not newest first"

    data = open_source(settings, "vertex")()
    truth = emu.world.vertex_jobs(None, now)[: settings.policy("vertex").kept]
    assert [row.job_id for row in data.rows] == [j.job_id for j in truth]
    assert data.warning == ""


def test_the_window_is_a_documented_create_time_filter(emulated, tmp_path):
    emu, clock = emulated
    now = clock()
    settings = emulator_settings(emu, tmp_path, values={"api.vertex_window_hours": 1.0})
    data = open_source(settings, "vertex")()
    truth = [j for j in emu.world.vertex_jobs(None, now) if j.created >= int(now - 3600)][: settings.policy("vertex").kept]
    assert [row.job_id for row in data.rows] == [j.job_id for j in truth]
