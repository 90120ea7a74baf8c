"""One running emulator: the world, the gRPC server and the HTTP server, started and stopped together."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from arr_actors.emulator.control import Control
from arr_actors.emulator.options import Options
from arr_actors.emulator.world import WANDB_ENTITY, WANDB_PROJECT, World


class Emulator:
    """Serve ``options`` on 127.0.0.1. ``light_imports`` is for a process of its own (see protos.py)."""

    def __init__(self, options: Options, *, light_imports: bool = False, clock: Callable[[], float] = time.time) -> None:
        self.options = options
        self.world = World(
            project=options.project,
            regions=options.regions,
            seed=options.seed,
            speed=options.speed,
            t0=clock(),
        )
        self.control = Control(
            scenario=options.scenario,
            faults=list(options.faults),
            latency_profile=options.latency,
            seed=options.seed,
            log_gaps=options.log_gaps,
        )
        self._light = light_imports
        self._clock = clock
        self._grpc: Any = None
        self._http: Any = None
        self.grpc_port = 0
        self.http_port = 0

    @property
    def grpc_address(self) -> str:
        return f"127.0.0.1:{self.grpc_port}"

    @property
    def wandb_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def start(self) -> None:
        # Imported here: the world and the options are light, the protocol stacks are not.
        from arr_actors.emulator import http_api, protos, services

        types = protos.load(light=self._light)
        handlers = services.Services(self.world, self.control, types, clock=self._clock)
        self._grpc, self.grpc_port = services.start_server(handlers, port=self.options.port)
        try:
            app = http_api.HttpApp(self.world, self.control, clock=self._clock, info=self.info())
            self._http, _, self.http_port = app.start(self.options.http_port)
        except BaseException:
            self._grpc.stop(0)
            raise

    def info(self) -> dict[str, Any]:
        return {
            "project": self.world.project,
            "project_number": self.world.project_number,
            "regions": list(self.world.regions),
            "wandb_entity": WANDB_ENTITY,
            "wandb_project": WANDB_PROJECT,
            "seed": self.options.seed,
            "speed": self.options.speed,
        }

    def stop(self, *, grace: float = 0.5) -> None:
        """Stop both servers; calls held by a fault are released at once."""
        self.control.stop()
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None
        if self._grpc is not None:
            self._grpc.stop(grace).wait(grace + 2.0)
            self._grpc = None
