"""Cloud Logging v2: ``LoggingServiceV2.ListLogEntries`` over the logs of executions, Vertex AI jobs and builds.

Runner executions write under ``cloud_run_job``, custom jobs under ``ml_job``
and builds under ``build`` (see :mod:`arr_actors.emulator.itemlogs`).

``ListLogEntriesResponse`` documents that a page may come back empty with a
``next_page_token`` when "the search found no log entries so far but it did
not have time to search all the possible log entries". The emulator does so
for a share of page positions (``log_gaps``, on by default), at most
``MAX_GAPS`` times in a row, decided by a hash of the query and position so a
repeated query meets the same gaps. How often the real service does it is not
documented (it depends on the filter and the volume searched); the share is a
stand-in, not a measurement.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import grpc

from arr_actors.emulator import filters, itemlogs, runnerlogs
from arr_actors.emulator.filters import FilterError
from arr_actors.emulator.paging import PageRules, PageTokenError, fingerprint
from arr_actors.emulator.services.common import Abort, Method, MethodTable, Service, match_name, ns, page
from arr_actors.emulator.world import RUNNER_JOB, World

#: Cloud Logging refuses a page size above the maximum; the other APIs clamp it.
_PAGES = PageRules(default=50, maximum=1000, reject_above_maximum=True)

_SEVERITY_NUMBERS = {
    "DEFAULT": 0,
    "DEBUG": 100,
    "INFO": 200,
    "NOTICE": 300,
    "WARNING": 400,
    "ERROR": 500,
    "CRITICAL": 600,
    "ALERT": 700,
    "EMERGENCY": 800,
}

_S, _T = filters.Field(filters.STRING), filters.Field(filters.TIMESTAMP)
_FIELDS: filters.Schema = {
    ("resource", "type"): _S,
    ("resource", "labels", "job_name"): _S,
    ("resource", "labels", "location"): _S,
    ("resource", "labels", "project_id"): _S,
    ("resource", "labels", "job_id"): _S,
    ("resource", "labels", "task_name"): _S,
    ("resource", "labels", "build_id"): _S,
    ("resource", "labels", "build_trigger_id"): _S,
    ("logName",): _S,
    ("log_name",): _S,
    ("severity",): filters.Field(filters.SEVERITY),
    ("timestamp",): _T,
    ("receiveTimestamp",): _T,
    ("textPayload",): _S,
    ("text_payload",): _S,
    ("insertId",): _S,
}

#: Empty pages in a row at one position, at most (a search always ends).
MAX_GAPS = 3
_GAP = "gap."

#: One entry before it becomes a LogEntry: (timestamp, insert id, its writer, line).
_Entry = tuple[float, str, "_Item", runnerlogs.LogLine]


class CloudLogging(Service):
    key = "logging"

    def methods(self) -> MethodTable:
        logging = self.p.logging
        return {
            "google.logging.v2.LoggingServiceV2": {
                "ListLogEntries": Method(logging.ListLogEntriesRequest, logging.ListLogEntriesResponse.serialize, self.list_log_entries),
            },
        }

    def list_log_entries(self, request: Any) -> Any:
        if not request.resource_names:
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, "resource_names is required (e.g. [\"projects/PROJECT\"])")
        ours = False
        for name in request.resource_names:
            parts = match_name("projects/{project}", name)
            if parts is None:
                raise Abort(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"resource name {name!r} is not supported by this emulator (use projects/PROJECT)",
                )
            self.check_project(parts[0], name)
            ours = True
        order = " ".join(request.order_by.lower().split()) or "timestamp asc"
        if order not in ("timestamp asc", "timestamp desc"):
            raise Abort(
                grpc.StatusCode.INVALID_ARGUMENT,
                f"order_by {request.order_by!r} is not supported; use \"timestamp asc\" or \"timestamp desc\"",
            )
        try:
            keep = filters.compile_filter(request.filter, _FIELDS, wildcard_maps=("labels",))
            # Checked before the search, as Cloud Logging does; page() below sees it valid.
            _PAGES.size(request.page_size)
        except (FilterError, PageTokenError) as exc:
            raise Abort(grpc.StatusCode.INVALID_ARGUMENT, f"invalid request: {exc}") from None
        query = fingerprint("ListLogEntries", *request.resource_names, request.filter, order)
        gap = self._gap(request, query)
        if gap:
            return self.p.logging.ListLogEntriesResponse(entries=[], next_page_token=gap)
        now = self.now()
        entries: list[_Entry] = []
        if ours:
            for item in self._items(request.filter, now):
                for index, line in enumerate(item.lines):
                    insert_id = f"{item.uid[:8]}{index:06d}"
                    if keep(_getter(self.world, item, line=line, insert_id=insert_id)):
                        entries.append((line.at, insert_id, item, line))
        descending = order == "timestamp desc"
        entries.sort(key=lambda e: (e[0], e[1]), reverse=descending)
        found, token = page(
            entries,
            lambda e: (e[0], e[1]),
            rules=_PAGES,
            request=request,
            query=query,
            descending=descending,
        )
        return self.p.logging.ListLogEntriesResponse(
            entries=[self._log_entry(item, line=line, insert_id=insert_id) for _, insert_id, item, line in found],
            next_page_token=token,
        )

    def _gap(self, request: Any, query: str) -> str:
        """The token of an empty "not finished yet" page for this position, or ""; unwraps a gap token."""
        served, position = 0, request.page_token
        if position.startswith(_GAP):
            count, issued_for, position = (position[len(_GAP) :].split(".", 2) + ["", ""])[:3]
            if issued_for != query or not count.isdigit():
                raise Abort(grpc.StatusCode.INVALID_ARGUMENT, "page_token was issued for a different request")
            served = int(count)
            request.page_token = position
        share = self.control.log_gaps
        if served >= MAX_GAPS or share <= 0:
            return ""
        draw = int(fingerprint(query, position, str(served)), 16) / float(16 ** 12)
        return f"{_GAP}{served + 1}.{query}.{position}" if draw < share else ""

    def _items(self, filter_text: str, now: float) -> list[_Item]:
        """Every item whose log the filter may select. A filter naming one execution,
        job or build (the log view's) is narrowed to it first: the compiled filter
        still decides, this only spares building every other log."""
        volume = self.control.log_volume
        names = {kind: set(pattern.findall(filter_text)) for kind, pattern in _NARROW.items()}
        kinds = set(_RESOURCE.findall(filter_text)) or {"cloud_run_job", "ml_job", "build"}
        items: list[_Item] = []
        project = self.world.project
        if "cloud_run_job" in kinds:
            for execution in self.world.all_executions(now):
                if names["execution"] and execution.name not in names["execution"]:
                    continue
                lines = itemlogs.execution_lines(execution, now=now, volume=volume)
                resource = {"job_name": RUNNER_JOB, "location": execution.region, "project_id": project}
                labels = {
                    "run.googleapis.com/execution_name": execution.name,
                    "run.googleapis.com/task_index": "0",
                    "run.googleapis.com/task_attempt": "0",
                    "instanceId": "00" + execution.uid.replace("-", "")[:30],
                }
                items.append(_Item("cloud_run_job", execution.uid, resource, labels, tuple(lines)))
        if "ml_job" in kinds:
            for job in self.world.vertex_jobs(None, now):
                if names["job"] and job.job_id not in names["job"]:
                    continue
                lines = itemlogs.job_lines(job, now=now, volume=volume)
                resource = {"job_id": job.job_id, "task_name": itemlogs.JOB_LOG, "project_id": project}
                items.append(_Item("ml_job", f"j{job.job_id[-7:]}", resource, {"ml.googleapis.com/job_id/log_area": "user"}, tuple(lines)))
        if "build" in kinds:
            for build in self.world.builds(None, now):
                if names["build"] and build.build_id not in names["build"]:
                    continue
                lines = itemlogs.build_lines(build, now=now)
                resource = {"build_id": build.build_id, "build_trigger_id": "", "project_id": project}
                items.append(_Item("build", build.build_id, resource, {}, tuple(lines)))
        return items

    def _log_entry(self, item: _Item, *, line: runnerlogs.LogLine, insert_id: str) -> Any:
        p = self.p
        project = self.world.project
        resource = p.monitored_resource_pb2.MonitoredResource(type=item.resource_type, labels=dict(item.resource))
        return p.log_entry.LogEntry(
            log_name=f"projects/{project}/logs/{line.log}",
            resource=resource,
            text_payload=line.text,
            timestamp=self.ts(line.at),
            receive_timestamp=self.ts(line.at + 0.4),
            severity=_SEVERITY_NUMBERS[line.severity],
            insert_id=insert_id,
            labels=dict(item.labels),
        )


@dataclass(frozen=True, slots=True)
class _Item:
    """One writer of log entries: its monitored resource, its entries' labels and its lines."""

    resource_type: str
    uid: str
    resource: Mapping[str, str]
    labels: Mapping[str, str]
    lines: tuple[runnerlogs.LogLine, ...]


_RESOURCE = re.compile(r'resource\.type\s*=\s*"([a-z_]+)"')
_NARROW = {
    "execution": re.compile(r'labels\."run\.googleapis\.com/execution_name"\s*=\s*"([^"\\]+)"'),
    "job": re.compile(r'resource\.labels\.job_id\s*=\s*"([^"\\]+)"'),
    "build": re.compile(r'resource\.labels\.build_id\s*=\s*"([^"\\]+)"'),
}


def _getter(world: World, item: _Item, *, line: runnerlogs.LogLine, insert_id: str) -> filters.Getter:
    values: dict[tuple[str, ...], object] = {
        ("resource", "type"): item.resource_type,
        ("logName",): f"projects/{world.project}/logs/{line.log}",
        ("log_name",): f"projects/{world.project}/logs/{line.log}",
        ("severity",): line.severity,
        ("timestamp",): ns(line.at),
        ("receiveTimestamp",): ns(line.at + 0.4),
        ("textPayload",): line.text,
        ("text_payload",): line.text,
        ("insertId",): insert_id,
    }
    for key, value in item.resource.items():
        values[("resource", "labels", key)] = value
    for key, value in item.labels.items():
        values[("labels", key)] = value
    return values.get
