"""The W&B GraphQL schema the emulator serves: the viewer, one team, one project and its runs.

Field names and shapes follow what ``wandb.Api`` 0.31 asks for (``Viewer``,
``GetDefaultEntity``, ``GetViewer``, ``Runs`` with filters, order and cursor
paging, a single ``Run``, projects). Runs come from the world: every Vertex
AI job that reached RUNNING has one. ``projectId`` is an integer string, as
the client requires.
"""

from __future__ import annotations

import base64
import json
import math
import operator
import re
import time
from collections.abc import Callable
from typing import Any

from arr_actors.emulator.graphql import GraphQLError, Obj
from arr_actors.emulator.paging import PageTokenError, cut_page, encode_token, fingerprint
from arr_actors.emulator.world import QUEUES, WANDB_ENTITY, WANDB_PROJECT, WANDB_USER, WandbRun, World

#: Where W&B keeps an entity's launch queues (wandb.sdk.launch.utils.LAUNCH_DEFAULT_PROJECT).
LAUNCH_PROJECT = "model-registry"

PROJECT_ID = 123  # the integer id of the one project
USER_NAME = "Demo User"
EMAIL = "demo-user@example.com"


def iso(at: float) -> str:
    """W&B's timestamp format: UTC, seconds, no zone suffix."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(at))


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _connection(nodes: list[Obj], *, cursors: list[str], has_next: bool, typename: str) -> Obj:
    edges = [Obj(typename + "Edge", {"node": n, "cursor": c}) for n, c in zip(nodes, cursors, strict=True)]
    page_info = Obj(
        "PageInfo",
        {
            "endCursor": cursors[-1] if cursors else None,
            "startCursor": cursors[0] if cursors else None,
            "hasNextPage": has_next,
            "hasPreviousPage": False,
        },
    )
    return Obj(typename + "Connection", {"edges": edges, "pageInfo": page_info, "totalCount": len(nodes)})


# ------------------------------------------------------------------- runs filters

#: Whether a run matches, at a moment.
RunTest = Callable[[WandbRun, float], bool]

_FILTER_KEYS: dict[str, Callable[[WandbRun, float], Any]] = {
    "state": lambda r, now: r.state(now),
    "name": lambda r, now: r.run_id,
    "displayName": lambda r, now: r.display_name,
    "display_name": lambda r, now: r.display_name,
    "createdAt": lambda r, now: iso(r.created),
    "created_at": lambda r, now: iso(r.created),
    "heartbeatAt": lambda r, now: iso(min(now, r.ended)),
    "heartbeat_at": lambda r, now: iso(min(now, r.ended)),
    "tags": lambda r, now: ["launch", r.queue],
    "jobType": lambda r, now: "train",
    "group": lambda r, now: None,
}
_ORDER_KEYS: dict[str, Callable[[WandbRun, float], Any]] = {
    "created_at": lambda r, now: r.created,
    "createdAt": lambda r, now: r.created,
    "heartbeat_at": lambda r, now: min(now, r.ended),
    "heartbeatAt": lambda r, now: min(now, r.ended),
    "name": lambda r, now: r.run_id,
    "display_name": lambda r, now: r.display_name,
}


def compile_run_filter(raw: Any) -> RunTest:
    """The MongoDB-style filters of ``api.runs(filters=...)``: a strict subset, errors name what is wrong."""
    if raw in (None, "", "{}"):
        return lambda run, now: True
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            raise GraphQLError(f"filters is not valid JSON: {raw[:80]!r}") from None
    if not isinstance(raw, dict):
        raise GraphQLError("filters must be a JSON object such as {\"state\": \"running\"}")
    return _compile_doc(raw)


def _compile_doc(doc: dict[str, Any]) -> RunTest:
    tests: list[RunTest] = []
    for key, cond in doc.items():
        if key in ("$and", "$or", "$nor"):
            if not isinstance(cond, list) or not all(isinstance(c, dict) for c in cond):
                raise GraphQLError(f"{key} needs a list of filter objects")
            tests.append(_logical(key, [_compile_doc(c) for c in cond]))
            continue
        getter = _FILTER_KEYS.get(key)
        if getter is None:
            raise GraphQLError(f"unsupported runs filter key {key!r} (supported: {', '.join(_FILTER_KEYS)})")
        tests.append(_condition(key, getter, cond=cond))
    return lambda r, now: all(t(r, now) for t in tests)


def _logical(key: str, parts: list[RunTest]) -> RunTest:
    if key == "$and":
        return lambda r, now: all(p(r, now) for p in parts)
    if key == "$or":
        return lambda r, now: any(p(r, now) for p in parts)
    return lambda r, now: not any(p(r, now) for p in parts)  # $nor


def _condition(key: str, getter: Callable[[WandbRun, float], Any], *, cond: Any) -> RunTest:
    if not isinstance(cond, dict):
        cond = {"$eq": cond}
    checks = [_check(key, op, arg) for op, arg in cond.items()]
    return lambda r, now: all(c(getter(r, now)) for c in checks)


_COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "$gt": operator.gt,
    "$gte": operator.ge,
    "$lt": operator.lt,
    "$lte": operator.le,
}


def _check(key: str, op: str, arg: Any) -> Callable[[Any], bool]:
    """One operator of a field's condition, as a test of the field's value (a list for tags)."""
    if op == "$eq":
        return lambda v: arg in v if isinstance(v, list) else v == arg
    if op == "$ne":
        return lambda v: arg not in v if isinstance(v, list) else v != arg
    if op in ("$in", "$nin"):
        if not isinstance(arg, list):
            raise GraphQLError(f"{key}: {op} needs a list")
        wanted = list(arg)
        if op == "$in":
            return lambda v: any(x in wanted for x in v) if isinstance(v, list) else v in wanted
        return lambda v: not any(x in wanted for x in v) if isinstance(v, list) else v not in wanted
    if op in _COMPARISONS:
        compare = _COMPARISONS[op]
        return lambda v: v is not None and _comparable(v, arg) and compare(v, arg)
    if op == "$regex":
        try:
            pattern = re.compile(str(arg))
        except re.error as exc:
            raise GraphQLError(f"{key}: $regex {arg!r} is not a valid pattern ({exc})") from None
        return lambda v: isinstance(v, str) and pattern.search(v) is not None
    if op == "$exists":
        return lambda v: (v is not None) == bool(arg)
    raise GraphQLError(f"{key}: unsupported operator {op!r} (supported: $eq $ne $in $nin $gt $gte $lt $lte $regex $exists)")


def _comparable(a: Any, b: Any) -> bool:
    return type(a) is type(b) or (isinstance(a, (int, float)) and isinstance(b, (int, float)))


def _order(order: Any) -> tuple[Callable[[WandbRun, float], Any], bool, str]:
    text = order or "-created_at"
    if not isinstance(text, str):
        raise GraphQLError("order must be a string such as \"-created_at\"")
    descending = text.startswith("-")
    key = text.lstrip("+-")
    getter = _ORDER_KEYS.get(key)
    if getter is None:
        raise GraphQLError(f"unsupported order {text!r} (supported: {', '.join('+/-' + k for k in _ORDER_KEYS)})")
    return getter, descending, text


# ------------------------------------------------------------------- objects


def _summary(run: WandbRun, now: float) -> dict[str, Any]:
    runtime = run.runtime(now)
    step = int(runtime // 6)
    return {
        "_runtime": round(runtime, 3),
        "_step": step,
        "_timestamp": round(min(now, run.ended), 3),
        "_wandb": {"runtime": int(runtime)},
        "loss": round(0.1 + 2.4 * math.exp(-runtime / 3000.0), 5),
        "epoch": step // 500,
    }


def _run_obj(run: WandbRun, now: float, *, project: Obj) -> Obj:
    state = run.state(now)
    summary = _summary(run, now)
    config = {
        "learning_rate": {"value": 3e-4, "desc": None},
        "batch_size": {"value": 64, "desc": None},
        "region": {"value": run.region, "desc": None},
        "vertex_job_id": {"value": run.job_id, "desc": None},
    }
    heartbeat = iso(min(now, run.ended))
    return Obj(
        "Run",
        {
            "id": _b64(f"Run:v1:{run.run_id}:{WANDB_PROJECT}:{WANDB_ENTITY}"),
            "name": run.run_id,
            "displayName": run.display_name,
            "projectId": str(PROJECT_ID),
            "project": project,
            "tags": ["launch", run.queue],
            "sweepName": None,
            "state": state,
            "config": json.dumps(config),
            "group": None,
            "jobType": "train",
            "commit": None,
            "readOnly": False,
            "createdAt": iso(run.created),
            "heartbeatAt": heartbeat,
            "updatedAt": heartbeat,
            "description": None,
            "notes": None,
            "systemMetrics": json.dumps({"system.gpu.0.gpu": 87.5} if state == "running" else {}),
            "summaryMetrics": json.dumps(summary),
            "historyLineCount": summary["_step"],
            "historyKeys": {"lastStep": summary["_step"], "keys": {}},
            "user": Obj("User", {"name": USER_NAME, "username": WANDB_USER}),
            "exitcode": None if state in ("pending", "running", "preempting") else run.exitcode,
            "running": state in ("running", "preempting"),
            "failed": state in ("failed", "crashed"),
            "stopped": state == "killed",
            "shouldStop": False,
            "host": f"cmle-training-{run.job_id[-6:]}",
        },
    )


class WandbSchema:
    """Builds the query root for one request from the world at ``now``."""

    def __init__(self, world: World) -> None:
        self.world = world

    def root(self, now: float) -> Obj:
        return Obj(
            "Query",
            {
                "viewer": self._viewer(),
                "project": lambda args: self._project(args, now),
                "entity": lambda args: self._entity(args.get("name"), now),
                "models": lambda args: self._projects(args.get("entityName"), now),
                "serverInfo": Obj(
                    "ServerInfo",
                    {
                        "cliVersionInfo": {},
                        "latestLocalVersionInfo": None,
                        "features": [],
                        "availableBucketProviders": [],
                        "frontendHost": "",
                    },
                ),
            },
        )

    def _viewer(self) -> Obj:
        team = Obj("Entity", {"name": WANDB_ENTITY, "id": _b64(f"Entity:{WANDB_ENTITY}")})
        return Obj(
            "User",
            {
                "id": _b64(f"User:{WANDB_USER}"),
                "name": USER_NAME,
                "username": WANDB_USER,
                "email": EMAIL,
                "admin": False,
                "flags": "{}",
                "entity": WANDB_ENTITY,
                "deletedAt": None,
                "photoUrl": None,
                "apiKeys": Obj("ApiKeyConnection", {"edges": []}),
                "teams": Obj("EntityConnection", {"edges": [Obj("EntityEdge", {"node": team})]}),
            },
        )

    def _entity(self, name: Any, now: float) -> Obj | None:
        if name != WANDB_ENTITY:
            return None
        return Obj(
            "Entity",
            {
                "id": _b64(f"Entity:{WANDB_ENTITY}"),
                "name": WANDB_ENTITY,
                "isTeam": True,
                "projects": lambda args: self._projects(WANDB_ENTITY, now),
                "project": lambda args: self._project({"name": args.get("name"), "entityName": WANDB_ENTITY}, now),
            },
        )

    def _projects(self, entity: Any, now: float) -> Obj:
        nodes = [self._project_obj(now)] if entity in (None, WANDB_ENTITY) else []
        return _connection(nodes, cursors=[_b64("Project:1")] * len(nodes), has_next=False, typename="Project")

    def _project(self, args: dict[str, Any], now: float) -> Obj | None:
        if args.get("entityName") == WANDB_ENTITY and args.get("name") == LAUNCH_PROJECT:
            return self._launch_project()
        # An unknown project is no error in W&B's GraphQL: the field is null.
        if args.get("entityName") != WANDB_ENTITY or args.get("name") != WANDB_PROJECT:
            return None
        return self._project_obj(now)

    def _launch_project(self) -> Obj:
        """The entity's project that holds its launch queues (``wandb.sdk.launch.utils.LAUNCH_DEFAULT_PROJECT``)."""

        def queue(args: dict[str, Any]) -> Obj | None:
            name = args.get("name")
            if name not in QUEUES:
                return None
            return Obj("RunQueue", {"id": _b64(f"RunQueue:{name}"), "name": name, "access": "PROJECT"})

        return Obj(
            "Project",
            {
                "id": _b64(f"Project:v1:{LAUNCH_PROJECT}:{WANDB_ENTITY}"),
                "name": LAUNCH_PROJECT,
                "entityName": WANDB_ENTITY,
                "runQueue": queue,
            },
        )

    def _project_obj(self, now: float) -> Obj:
        fields: dict[str, Any] = {
            "id": _b64(f"Project:v1:{WANDB_PROJECT}:{WANDB_ENTITY}"),
            "internalId": _b64(f"Project:v1:{WANDB_PROJECT}:{WANDB_ENTITY}"),
            "name": WANDB_PROJECT,
            "entityName": WANDB_ENTITY,
            "entity": Obj("Entity", {"name": WANDB_ENTITY, "id": _b64(f"Entity:{WANDB_ENTITY}")}),
            "createdAt": iso(self.world.clock.t0 - 90 * 86400),
            "isBenchmark": False,
            "readOnly": False,
            "description": None,
            "user": self._viewer(),
        }
        project = Obj("Project", fields)
        fields["runCount"] = lambda args: self._run_count(args, now)
        fields["runs"] = lambda args: self._runs(args, now, project=project)
        fields["run"] = lambda args: self._run(args, now, project=project)
        return project

    def _run_count(self, args: dict[str, Any], now: float) -> int:
        keep = compile_run_filter(args.get("filters"))
        return sum(1 for r in self.world.wandb_runs(now) if keep(r, now))

    def _runs(self, args: dict[str, Any], now: float, *, project: Obj) -> Obj:
        keep = compile_run_filter(args.get("filters"))
        getter, descending, order_text = _order(args.get("order"))
        first = args.get("first")
        size = 50 if first is None else first
        if not isinstance(size, int) or size < 0:
            raise GraphQLError(f"first must be a non-negative integer (got {first!r})")
        runs = [r for r in self.world.wandb_runs(now) if keep(r, now)]
        runs.sort(key=lambda r: (getter(r, now), r.run_id), reverse=descending)
        query = fingerprint("runs", json.dumps(args.get("filters"), sort_keys=True), order_text)
        try:
            page, _ = cut_page(
                runs,
                lambda r: (getter(r, now), r.run_id),
                descending=descending,
                page_size=size,
                page_token=args.get("after") or "",
                query=query,
            )
        except PageTokenError as exc:
            raise GraphQLError(f"after: {exc}") from None
        # Every edge gets a cursor so a client may resume after any of them.
        cursors = [encode_token((getter(r, now), r.run_id), query) for r in page]
        has_next = bool(page) and runs.index(page[-1]) + 1 < len(runs)
        return _connection([_run_obj(r, now, project=project) for r in page], cursors=cursors, has_next=has_next, typename="Run")

    def _run(self, args: dict[str, Any], now: float, *, project: Obj) -> Obj | None:
        for run in self.world.wandb_runs(now):
            if run.run_id == args.get("name"):
                return _run_obj(run, now, project=project)
        return None
