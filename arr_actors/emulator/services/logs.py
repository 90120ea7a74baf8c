"""Cloud Logging v2: ``LoggingServiceV2.ListLogEntries`` over the runner executions' logs.

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

from typing import Any

import grpc

from arr_actors.emulator import filters, runnerlogs
from arr_actors.emulator.filters import FilterError
from arr_actors.emulator.paging import PageRules, PageTokenError, fingerprint
from arr_actors.emulator.services.common import Abort, Method, MethodTable, Service, match_name, ns, page
from arr_actors.emulator.world import RUNNER_JOB, Execution, World

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

#: One entry before it becomes a LogEntry: (timestamp, insert id, execution, line).
_Entry = tuple[float, str, Execution, runnerlogs.LogLine]


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
            for execution in self.world.all_executions(now):
                for index, line in enumerate(execution.visible_lines(now)):
                    insert_id = f"{execution.uid[:8]}{index:06d}"
                    if keep(_getter(self.world, execution, line=line, insert_id=insert_id)):
                        entries.append((line.at, insert_id, execution, line))
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
            entries=[self._log_entry(execution, line=line, insert_id=insert_id) for _, insert_id, execution, line in found],
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

    def _log_entry(self, execution: Execution, *, line: runnerlogs.LogLine, insert_id: str) -> Any:
        p = self.p
        project = self.world.project
        resource = p.monitored_resource_pb2.MonitoredResource(
            type="cloud_run_job",
            labels={"job_name": RUNNER_JOB, "location": execution.region, "project_id": project},
        )
        return p.log_entry.LogEntry(
            log_name=f"projects/{project}/logs/{line.log}",
            resource=resource,
            text_payload=line.text,
            timestamp=self.ts(line.at),
            receive_timestamp=self.ts(line.at + 0.4),
            severity=_SEVERITY_NUMBERS[line.severity],
            insert_id=insert_id,
            labels={
                "run.googleapis.com/execution_name": execution.name,
                "run.googleapis.com/task_index": "0",
                "run.googleapis.com/task_attempt": "0",
                "instanceId": "00" + execution.uid.replace("-", "")[:30],
            },
        )


def _getter(world: World, execution: Execution, *, line: runnerlogs.LogLine, insert_id: str) -> filters.Getter:
    values: dict[tuple[str, ...], object] = {
        ("resource", "type"): "cloud_run_job",
        ("resource", "labels", "job_name"): RUNNER_JOB,
        ("resource", "labels", "location"): execution.region,
        ("resource", "labels", "project_id"): world.project,
        ("logName",): f"projects/{world.project}/logs/{line.log}",
        ("log_name",): f"projects/{world.project}/logs/{line.log}",
        ("severity",): line.severity,
        ("timestamp",): ns(line.at),
        ("receiveTimestamp",): ns(line.at + 0.4),
        ("textPayload",): line.text,
        ("text_payload",): line.text,
        ("insertId",): insert_id,
        ("labels", "run.googleapis.com/execution_name"): execution.name,
        ("labels", "run.googleapis.com/task_index"): "0",
        ("labels", "run.googleapis.com/task_attempt"): "0",
    }
    return values.get
