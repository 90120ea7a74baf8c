"""W&B through the unmodified ``wandb.Api``, and the HTTP endpoints' handling of bad requests."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from datetime import datetime
from typing import Any

import pytest

pytestmark = pytest.mark.timeout(90)

FINISHED = ["finished", "failed", "crashed"]


def post(url: str, body: bytes, *, path: str = "/graphql") -> tuple[int, Any]:
    request = urllib.request.Request(url + path, data=body, method="POST", headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def get(url: str, path: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(url + path, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_viewer_and_default_entity(wandb_api, emu) -> None:
    assert wandb_api.default_entity == emu.wandb_entity
    assert wandb_api.viewer.username == "demo-user"
    assert [p.name for p in wandb_api.projects(emu.wandb_entity)] == [emu.wandb_project]


def test_active_runs(wandb_api, emu) -> None:
    path = f"{emu.wandb_entity}/{emu.wandb_project}"
    runs = list(wandb_api.runs(path, filters={"state": "running"}, order="-created_at", per_page=3))
    assert runs and all(r.state == "running" for r in runs)
    created = [r.created_at for r in runs]
    assert created == sorted(created, reverse=True)
    run = runs[0]
    datetime.fromisoformat(run.created_at)
    assert len(run.id) == 8 and run.name.count("-") == 2
    assert run.url.endswith(f"/{emu.wandb_entity}/{emu.wandb_project}/runs/{run.id}")
    assert run.summary["_runtime"] > 0


def test_completed_runs_paged_and_filtered(wandb_api, emu) -> None:
    path = f"{emu.wandb_entity}/{emu.wandb_project}"
    before = emu.stats().get("GraphQL", 0)
    small = wandb_api.runs(path, filters={"state": {"$in": FINISHED}}, order="-created_at", per_page=2)
    ids = [r.id for r in small]
    pages = emu.stats()["GraphQL"] - before
    big = wandb_api.runs(path, filters={"state": {"$in": FINISHED}}, order="-created_at", per_page=500)
    assert ids == [r.id for r in big] and len(ids) == len(big)
    assert pages >= len(ids) // 2  # really fetched two at a time
    states = {r.state for r in big}
    assert states <= set(FINISHED) and "finished" in states
    oldest_first = [r.id for r in wandb_api.runs(path, filters={"state": {"$in": FINISHED}}, order="+created_at", per_page=500)]
    assert oldest_first == list(reversed(ids))


def test_run_details_through_the_full_fragment(wandb_api, emu) -> None:
    path = f"{emu.wandb_entity}/{emu.wandb_project}"
    run = next(iter(wandb_api.runs(path, filters={"state": "finished"}, per_page=1, lazy=False)))
    assert run.summary["_runtime"] > 0 and "region" in run.config
    same = wandb_api.run(f"{path}/{run.id}")
    assert same.name == run.name and same.state == "finished"


def test_exit_codes_and_project_id_over_raw_graphql(emu) -> None:
    query = """query R($entity: String!, $project: String!) {
      project(name: $project, entityName: $entity) {
        runs(first: 500, filters: "{\\"state\\": {\\"$in\\": [\\"finished\\", \\"failed\\", \\"crashed\\"]}}") {
          edges { node { name state exitcode projectId } }
        }
      }
    }"""
    body = json.dumps({"query": query, "variables": {"entity": emu.wandb_entity, "project": emu.wandb_project}}).encode()
    status, doc = post(emu.wandb_url, body)
    assert status == 200, doc
    nodes = [e["node"] for e in doc["data"]["project"]["runs"]["edges"]]
    assert nodes and all(n["projectId"].isdigit() for n in nodes)
    for node in nodes:
        expected = {"finished": 0, "failed": 1, "crashed": None}[node["state"]]
        assert node["exitcode"] == expected


def test_unknown_project_is_not_found(wandb_api, emu) -> None:
    with pytest.raises(Exception, match="Could not find project"):
        list(wandb_api.runs(f"{emu.wandb_entity}/no-such-project", per_page=5))


def test_bad_runs_filters_are_graphql_errors(emu) -> None:
    query = '{ project(name: "%s", entityName: "%s") { runs(filters: "{\\"colour\\": 1}") { edges { cursor } } } }'
    status, doc = post(emu.wandb_url, json.dumps({"query": query % (emu.wandb_project, emu.wandb_entity)}).encode())
    assert status == 200 and "unsupported runs filter key 'colour'" in doc["errors"][0]["message"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 400, '"query" string'),
        (b'{"query": "{ viewer { id } }", "variables": [1]}', 400, '"variables" must be a JSON object'),
        (b'{"query": "{ viewer { id "}', 400, "Syntax Error"),
        (b'{"query": "{ viewer { password } }"}', 200, 'Cannot query field "password"'),
        (b"\xff\xfe\x00garbage", 400, "not valid JSON"),
        (b"[" * 100_000 + b"]" * 100_000, 400, "not valid JSON"),
        (json.dumps({"query": "{ viewer " + "{ teams " * 3000 + "}" * 3001}).encode(), 200, "nested too deeply"),
    ],
)
def test_malformed_graphql_requests_get_a_clear_error(emu, body: bytes, status: int, message: str) -> None:
    got_status, doc = post(emu.wandb_url, body)
    assert got_status == status
    assert message in doc["errors"][0]["message"]


def test_other_malformed_http(emu) -> None:
    assert get(emu.wandb_url, "/nowhere")[0] == 404
    assert get(emu.wandb_url, "/graphql")[0] == 405
    status, doc = post(emu.wandb_url, b'{"faults": {"moon": "hang"}}', path="/_control")
    assert status == 400 and "unknown service 'moon'" in doc["error"]
    status, doc = post(emu.wandb_url, b'{"scenario": "launch-ok", "faults": {"run": "melt"}}', path="/_control")
    assert status == 400 and get(emu.wandb_url, "/_health")[1]["scenario"] == "default"  # nothing applied
    status, doc = post(emu.wandb_url, b'{"colour": 1}', path="/_control")
    assert status == 400 and "unknown control keys: colour" in doc["error"]
    # A body larger than allowed, and a raw non-HTTP line: answered, then the server carries on.
    host, port = emu.wandb_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n")
        assert b" 413 " in sock.recv(200)
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"\x00\x01garbage\r\n\r\n")
        assert b" 400 " in sock.recv(200)
    assert get(emu.wandb_url, "/_health")[1]["ok"] is True


def test_stats_count_calls_and_reset(emu) -> None:
    emu.stats(reset=True)
    body = json.dumps({"query": "{ viewer { id } }"}).encode()
    for _ in range(3):
        assert post(emu.wandb_url, body)[0] == 200
    assert emu.stats()["GraphQL"] == 3
    assert emu.peak_per_minute()["GraphQL"] == 3
    assert emu.stats(reset=True)["GraphQL"] == 3
    assert emu.stats() == {}
