"""The runner's clients load one Cloud Run service and the Logging client alone; run_v2 and logging_v2 stay whole for anyone who asks.

Each check runs in a fresh interpreter: the test process has imported the
whole packages already, where deferring their ``__init__`` does nothing.
"""

from __future__ import annotations

import pytest
from source_helpers import children_loaded, modules_loaded_by, run_fresh

pytest.importorskip("google.cloud.run_v2")
pytest.importorskip("google.cloud.logging_v2")

RUN = "google.cloud.run_v2"
LOGGING = "google.cloud.logging_v2"


@pytest.mark.timeout(120)
def test_the_runner_clients_load_their_own_service_and_types_only():
    loaded = modules_loaded_by("arr_actors.sources.cloudrun", "arr_actors.sources.cloudlogging")
    assert children_loaded(loaded, RUN + ".services") == {"executions"}
    run_types = children_loaded(loaded, RUN + ".types")
    assert {"execution", "condition"} <= run_types and "job" not in run_types and "service" not in run_types
    # logging_v2's __init__ is the hand-written library: its client, loggers and handlers.
    logging_modules = children_loaded(loaded, LOGGING)
    assert {"services", "types"} <= logging_modules
    assert not logging_modules & {"client", "handlers", "logger", "entries", "sink", "metric"}


@pytest.mark.timeout(120)
def test_the_runner_fetches_reads_logs_and_cancels_without_the_rest_of_the_packages(tmp_path):
    done = run_fresh(
        f"""
        import json, sys
        from arr_actors import config, emulator, messages
        from arr_actors.sources import actions, open_source

        regions = emulator.DEFAULT_REGIONS
        with emulator.spawn(regions=regions, seed=5) as emu:
            settings = config.defaults(project=emu.project, regions=regions, values={{
                "emulator.address": emu.grpc_address, "paths.state_dir": {str(tmp_path)!r},
                "paths.cache_dir": {str(tmp_path)!r},
            }})
            rows = open_source(settings, "runner")().rows
            running = next(r for r in rows if r.status == "RUNNING")
            # The emulator answers an accepted cancel; an unknown execution would be NOT_FOUND.
            actions.run(settings, messages.Action(
                "cancel", "runner", running.key, running.execution, running.region, running.execution,
            ))
        print(json.dumps({{
            "rows": len(rows),
            "notes": sum(1 for r in rows if r.note),
            "cancelled": running.execution,
            "run_services": sorted({{m.split(".")[4] for m in sys.modules if m.startswith("{RUN}.services.")}}),
            "logging_client": "{LOGGING}.services.logging_service_v2.client" in sys.modules,
            "deferred": ["__getattr__" in vars(sys.modules[p]) for p in ("{RUN}", "{RUN}.types", "{LOGGING}", "{LOGGING}.types")],
        }}))
        """
    )
    assert done["rows"] > 0 and done["notes"] > 0 and done["logging_client"]
    assert done["cancelled"]
    assert done["run_services"] == ["executions"] and done["deferred"] == [True] * 4


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("light", "package", "names", "a_type", "same"),
    [
        (
            "cloudrun",
            RUN,
            ("ExecutionsClient", "CancelExecutionRequest", "JobsClient", "RunJobRequest", "EnvVar"),
            "Job",
            {"ExecutionsClient": "ExecutionsClient", "CancelExecutionRequest": "CancelExecutionRequest",
             "ExecutionsGrpcTransport": "services.executions.transports.ExecutionsGrpcTransport"},
        ),
        (
            "cloudlogging",
            LOGGING,
            ("Client", "Logger", "LogEntry", "Resource"),
            "LogEntry",
            {"LoggingServiceV2Client": "services.logging_service_v2.LoggingServiceV2Client",
             "LoggingServiceV2GrpcTransport": "services.logging_service_v2.transports.LoggingServiceV2GrpcTransport"},
        ),
    ],
)
def test_the_package_is_whole_once_anyone_asks_for_more(light, package, names, a_type, same):
    found = run_fresh(
        f"""
        import functools, json, importlib
        light = importlib.import_module("arr_actors.sources.{light}")
        package = importlib.import_module("{package}")
        types_package = importlib.import_module("{package}.types")
        namespace = {{}}
        exec("from {package} import *", namespace)
        print(json.dumps({{
            "names": [getattr(package, n).__name__ for n in {names!r}],
            # The types package completes on its own first ask, like the package.
            "type": getattr(types_package, {a_type!r}).__module__,
            "same": sorted(n for n, path in {same!r}.items()
                           if getattr(light, n) is functools.reduce(getattr, path.split("."), package)),
            "star": sorted(k for k in namespace if not k.startswith("__")),
            "getattr_left": "__getattr__" in vars(package) or "__getattr__" in vars(types_package),
        }}))
        """
    )
    whole = run_fresh(
        f"""
        import json
        namespace = {{}}
        exec("from {package} import *", namespace)
        print(json.dumps(sorted(k for k in namespace if not k.startswith("__"))))
        """
    )
    assert found["names"] == list(names)
    # What the light module hands out is the package's own class, once it is whole.
    assert found["same"] == sorted(same) and set(same) == set(vars_all(light)) - {"DEFERRED_PACKAGES"}
    assert found["star"] == whole and len(whole) >= 10
    assert found["type"].startswith(f"{package}.types.")
    assert not found["getattr_left"]


def vars_all(light: str) -> list[str]:
    return run_fresh(
        f"""
        import json, importlib
        print(json.dumps(importlib.import_module("arr_actors.sources.{light}").__all__))
        """
    )


@pytest.mark.timeout(60)
def test_deferring_a_missing_package_says_so_as_an_import_would():
    said = run_fresh(
        """
        import json
        from arr_actors.sources.deferred import defer_init
        try:
            defer_init("google.cloud.no_such_package_v9")
        except ModuleNotFoundError as exc:
            print(json.dumps(exc.name))
        """
    )
    assert said == "google.cloud.no_such_package_v9"
