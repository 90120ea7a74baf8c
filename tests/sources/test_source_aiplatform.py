"""The Vertex AI client loads the JobService alone, and aiplatform_v1 stays whole for anyone who asks.

Each check runs in a fresh interpreter: the test process has imported the
whole package already, where deferring its ``__init__`` does nothing.
"""

from __future__ import annotations

import pytest
from source_helpers import children_loaded, modules_loaded_by, run_fresh

pytest.importorskip("google.cloud.aiplatform_v1")

PACKAGE = "google.cloud.aiplatform_v1"


@pytest.mark.timeout(120)
def test_the_client_loads_the_job_service_and_its_types_only():
    loaded = modules_loaded_by("arr_actors.sources.aiplatform")
    assert children_loaded(loaded, PACKAGE + ".services") == {"job_service"}
    types = children_loaded(loaded, PACKAGE + ".types")
    assert {"custom_job", "job_service", "job_state"} <= types
    # The package's __init__ imports all of them (more than a hundred).
    assert "featurestore" not in types and "dataset_service" not in types and len(types) < 60


@pytest.mark.timeout(120)
def test_the_vertex_table_fetches_and_cancels_without_the_rest_of_the_package(tmp_path):
    done = run_fresh(
        f"""
        import json, sys
        from arr_actors import config, emulator, messages
        from arr_actors.sources import actions, open_source

        # Every default region: some job is running in one of them whatever the clock says.
        with emulator.spawn(regions=emulator.DEFAULT_REGIONS, seed=5) as emu:
            settings = config.defaults(project=emu.project, regions=emulator.DEFAULT_REGIONS, values={{
                "emulator.address": emu.grpc_address, "paths.state_dir": {str(tmp_path)!r},
                "paths.cache_dir": {str(tmp_path)!r},
            }})
            rows = open_source(settings, "vertex")().rows
            running = next(r for r in rows if r.state == "RUNNING")
            actions.run(settings, messages.Action(
                "cancel", "vertex", f"{{running.region}}/{{running.job_id}}", running.job_id, running.region,
                running.job_id,
            ))
            after = open_source(settings, "vertex")().rows
        print(json.dumps({{
            "rows": len(rows),
            "cancelling": [r.state for r in after if r.job_id == running.job_id],
            "services": sorted({{m.split(".")[4] for m in sys.modules if m.startswith("{PACKAGE}.services.")}}),
            "deferred": "__getattr__" in vars(sys.modules["{PACKAGE}"]),
        }}))
        """
    )
    assert done["rows"] > 0 and done["cancelling"] == ["CANCELLING"]
    assert done["services"] == ["job_service"] and done["deferred"]


@pytest.mark.timeout(120)
def test_the_package_is_whole_once_anyone_asks_for_more():
    found = run_fresh(
        """
        import json
        from arr_actors.sources import aiplatform
        from google.cloud import aiplatform_v1
        from google.cloud.aiplatform_v1.types import custom_job, Featurestore
        from google.cloud.aiplatform_v1 import DatasetServiceClient
        import google.cloud.aiplatform_v1.types as types_package

        namespace = {}
        exec("from google.cloud.aiplatform_v1 import *", namespace)
        print(json.dumps({
            "custom_job": aiplatform_v1.CustomJob is custom_job.CustomJob is types_package.CustomJob,
            "client": aiplatform_v1.JobServiceClient is aiplatform.JobServiceClient,
            "request": aiplatform_v1.CancelCustomJobRequest is aiplatform.CancelCustomJobRequest,
            "featurestore": Featurestore.__name__,
            "dataset": DatasetServiceClient.__name__,
            "version": aiplatform_v1.__version__,
            "star": sorted(k for k in namespace if not k.startswith("__")),
            "getattr_left": "__getattr__" in vars(aiplatform_v1) or "__getattr__" in vars(types_package),
            "missing": hasattr(aiplatform_v1, "NoSuchName"),
        }))
        """
    )
    whole = run_fresh(
        """
        import json
        from google.cloud import aiplatform_v1
        namespace = {}
        exec("from google.cloud.aiplatform_v1 import *", namespace)
        print(json.dumps({"version": aiplatform_v1.__version__, "star": sorted(k for k in namespace if not k.startswith("__"))}))
        """
    )
    assert found["custom_job"] and found["client"] and found["request"]
    assert (found["featurestore"], found["dataset"]) == ("Featurestore", "DatasetServiceClient")
    assert found["version"] == whole["version"]
    assert found["star"] == whole["star"] and len(whole["star"]) > 500
    assert not found["getattr_left"] and not found["missing"]


@pytest.mark.timeout(120)
def test_threads_asking_while_the_package_completes_all_get_their_answer():
    answers = run_fresh(
        """
        import json, threading
        from arr_actors.sources import aiplatform
        from google.cloud import aiplatform_v1

        names = ["CustomJob", "DatasetServiceClient", "Featurestore", "JobServiceClient", "Endpoint", "Model"] * 4
        got, start = {}, threading.Barrier(len(names))

        def ask(i, name):
            start.wait()
            got[i] = getattr(aiplatform_v1, name).__name__

        threads = [threading.Thread(target=ask, args=(i, n)) for i, n in enumerate(names)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        print(json.dumps([got.get(i) for i in range(len(names))] == names))
        """
    )
    assert answers is True


@pytest.mark.timeout(120)
def test_an_already_whole_package_is_left_as_it_is():
    same = run_fresh(
        """
        import json, sys
        from google.cloud import aiplatform_v1
        before = sys.modules["google.cloud.aiplatform_v1"], sys.modules["google.cloud.aiplatform_v1.types"]
        from arr_actors.sources import aiplatform
        after = sys.modules["google.cloud.aiplatform_v1"], sys.modules["google.cloud.aiplatform_v1.types"]
        print(json.dumps(before == after and aiplatform.JobServiceClient is aiplatform_v1.JobServiceClient))
        """
    )
    assert same is True
