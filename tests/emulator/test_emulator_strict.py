"""The emulator is as strict and as untidy as the real services document: no kinder."""

from __future__ import annotations

import pytest
from emulator_helpers import PROJECT, REGIONS, short
from google.api_core import exceptions as gexc

from arr_actors.emulator.options import DEFAULT_LOG_GAPS

pytestmark = pytest.mark.timeout(60)

T = 10
EXEC_LABEL = 'labels."run.googleapis.com/execution_name"'


def _log_pages(clients, text: str, page_size: int = 20) -> list:
    request = {"resource_names": [f"projects/{PROJECT}"], "filter": text, "order_by": "timestamp desc",
               "page_size": page_size}
    return list(clients.logging.list_log_entries(request=request, timeout=T).pages)


def test_log_gaps_give_empty_pages_with_a_token_and_lose_nothing(emu, clients) -> None:
    text = 'resource.type="cloud_run_job" AND severity>=INFO'
    try:
        emu.set_log_gaps(0.0)
        whole = [e.insert_id for p in _log_pages(clients, text) for e in p.entries]
        emu.set_log_gaps(0.9)
        pages = _log_pages(clients, text)
    finally:
        emu.set_log_gaps(DEFAULT_LOG_GAPS)
    empty = [p for p in pages if not p.entries]
    assert empty and all(p.next_page_token for p in empty)
    assert [e.insert_id for p in pages for e in p.entries] == whole


def test_a_gap_token_belongs_to_its_query(emu, clients) -> None:
    text = 'resource.type="cloud_run_job"'
    try:
        emu.set_log_gaps(0.99)
        first = _log_pages(clients, text)[0]
        assert not first.entries and first.next_page_token
        request = {"resource_names": [f"projects/{PROJECT}"], "filter": text + " AND severity>=ERROR",
                   "page_token": first.next_page_token}
        with pytest.raises(gexc.InvalidArgument):
            clients.logging.list_log_entries(request=request, timeout=T)
    finally:
        emu.set_log_gaps(DEFAULT_LOG_GAPS)


@pytest.mark.parametrize(
    "text",
    [
        'update_time>"2025-01-01T00:00:00Z"',  # not a documented filter field
        'name="123"',
        'end_time>"2025-01-01T00:00:00Z"',
        'state:"JOB_STATE_FAILED"',  # state documents = and != only
        'create_time:"2025-01-01T00:00:00Z"',
    ],
)
def test_vertex_refuses_undocumented_filter_fields_and_operators(clients, text: str) -> None:
    with pytest.raises(gexc.InvalidArgument):
        clients.vertex.list_custom_jobs(
            request={"parent": f"projects/{PROJECT}/locations/{REGIONS[0]}", "filter": text}, timeout=T
        )


@pytest.mark.parametrize(
    "text",
    [
        'state="JOB_STATE_FAILED" AND display_name:"a*"',
        'state!="JOB_STATE_FAILED" OR display_name="my_job"',
        'NOT display_name="my_job"',
        'create_time>"2021-05-18T00:00:00Z"',
        "labels.keyA=valueA",
        "labels.keyB:*",
    ],
)
def test_vertex_takes_the_documented_examples(clients, text: str) -> None:
    clients.vertex.list_custom_jobs(
        request={"parent": f"projects/{PROJECT}/locations/{REGIONS[0]}", "filter": text}, timeout=T
    )


def test_custom_jobs_are_not_listed_newest_first(clients) -> None:
    for region in REGIONS:
        jobs = list(clients.vertex.list_custom_jobs(
            request={"parent": f"projects/{PROJECT}/locations/{region}"}, timeout=T
        ))
        created = [j.create_time for j in jobs]
        if len(jobs) > 3:
            assert created != sorted(created, reverse=True), short(jobs[0].name)
            return
    pytest.fail("no region with enough jobs to tell an order")


def test_vertex_read_mask_is_honoured(clients) -> None:
    parent = f"projects/{PROJECT}/locations/{REGIONS[0]}"
    full = next(iter(clients.vertex.list_custom_jobs(request={"parent": parent}, timeout=T)))
    assert full.job_spec.worker_pool_specs
    masked = next(iter(clients.vertex.list_custom_jobs(
        request={"parent": parent, "read_mask": {"paths": ["name", "state"]}}, timeout=T
    )))
    assert masked.name == full.name and masked.state == full.state
    assert not masked.job_spec.worker_pool_specs and not masked.display_name and not masked.create_time
    with pytest.raises(gexc.InvalidArgument):
        clients.vertex.list_custom_jobs(request={"parent": parent, "read_mask": {"paths": ["no_such_field"]}}, timeout=T)
