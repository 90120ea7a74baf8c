"""A hostile cloud on the real wire protocols: every text it sends is HOSTILE.

Run as ``python hostile_server.py``; prints ``grpc HOST:PORT``, ``wandb URL`` and
``ready``, then serves until killed. gRPC: Vertex AI ``ListCustomJobs`` answers
one job whose display name and error are hostile; with
``HOSTILE_RUN_JOB=start`` Cloud Run ``RunJob`` starts an execution with a
hostile name; every other method fails with PERMISSION_DENIED and a hostile
message (as a real server's error text
would come). HTTP: every GraphQL request gets a GraphQL error with a hostile
message.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
from google.cloud import aiplatform_v1, run_v2
from google.longrunning import operations_pb2
from google.protobuf import timestamp_pb2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from hostile_text import HOSTILE  # noqa: E402

REGION = "us-central1"
STATUS = int(os.environ.get("HOSTILE_HTTP_STATUS", "400"))
#: Whether RunJob starts an execution (with a hostile name) instead of failing with a hostile message.
STARTS = os.environ.get("HOSTILE_RUN_JOB") == "start"


def vertex_jobs() -> bytes:
    now = int(time.time())
    job = aiplatform_v1.CustomJob(
        name=f"projects/123/locations/{REGION}/customJobs/4242",
        display_name=HOSTILE,
        state=aiplatform_v1.JobState.JOB_STATE_FAILED,
        create_time=timestamp_pb2.Timestamp(seconds=now - 60),
        start_time=timestamp_pb2.Timestamp(seconds=now - 50),
        end_time=timestamp_pb2.Timestamp(seconds=now - 10),
        error={"code": 9, "message": HOSTILE},
    )
    return aiplatform_v1.ListCustomJobsResponse.serialize(aiplatform_v1.ListCustomJobsResponse(custom_jobs=[job]))


def started_execution() -> bytes:
    """RunJob's answer: done at once, the new execution's name hostile (a name segment holds no slash)."""
    name = f"projects/hostile-project/locations/{REGION}/jobs/vertex-ai-launcher/executions/{HOSTILE.replace('/', '')}"
    execution = run_v2.Execution.pb(
        run_v2.Execution(name=name, create_time=timestamp_pb2.Timestamp(seconds=int(time.time())))
    )
    operation = operations_pb2.Operation(name=f"projects/hostile-project/locations/{REGION}/operations/1", done=True)
    operation.metadata.Pack(execution)
    operation.response.Pack(execution)
    return operation.SerializeToString()


class Hostile(grpc.GenericRpcHandler):
    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        if handler_call_details.method == "/google.cloud.aiplatform.v1.JobService/ListCustomJobs":
            answer = vertex_jobs()
            return grpc.unary_unary_rpc_method_handler(lambda request, context: answer)
        if handler_call_details.method == "/google.cloud.run.v2.Jobs/RunJob" and STARTS:
            started = started_execution()
            return grpc.unary_unary_rpc_method_handler(lambda request, context: started)

        def refuse(request: bytes, context: grpc.ServicerContext) -> bytes:
            context.abort(grpc.StatusCode.PERMISSION_DENIED, HOSTILE)
            return b""

        return grpc.unary_unary_rpc_method_handler(refuse)


class GraphQL(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps({"errors": [{"message": HOSTILE}], "data": None}).encode()
        self.send_response(STATUS)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = _answer
    do_GET = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


def main() -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), handlers=[Hostile()])
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    http = ThreadingHTTPServer(("127.0.0.1", 0), GraphQL)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    print(f"grpc 127.0.0.1:{port}", flush=True)
    print(f"wandb http://127.0.0.1:{http.server_address[1]}", flush=True)
    print("ready", flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
