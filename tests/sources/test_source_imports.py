"""Importing the sources (as the UI process does) loads no cloud or W&B library;
opening a table's source (in its fetch process) loads exactly that table's libraries."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from arr_actors.tables import TABLES

HEAVY = ("grpc", "wandb", "google.api_core", "google.auth", "google.protobuf", "google.cloud.run_v2",
         "google.cloud.logging_v2", "google.cloud.aiplatform_v1", "google.cloud.devtools", "proto")

IMPORT_ONLY = """
import json, sys
import arr_actors.sources as sources
from arr_actors.sources import builds, clients, common, errors, limiter, logs, runner, runner_memory, vertex, wandb_runs
from arr_actors import config, tables
print(json.dumps(sorted(sys.modules)))
"""

OPEN_ONE = """
import json, sys
from arr_actors import config
from arr_actors.sources import open_source
open_source(config.defaults(project="p"), sys.argv[1])
print(json.dumps(sorted(sys.modules)))
"""


def loaded_modules(code: str, *args: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=50, check=True)
    return json.loads(out.stdout)


def heavy(loaded: list[str]) -> set[str]:
    return {h for h in HEAVY if any(m == h or m.startswith(h + ".") for m in loaded)}


@pytest.mark.timeout(60)
def test_importing_the_sources_loads_no_cloud_library():
    loaded = loaded_modules(IMPORT_ONLY)
    assert heavy(loaded) == set()
    assert "arr_actors.sources.runner" in loaded  # the probe did import the sources


@pytest.mark.timeout(120)
@pytest.mark.parametrize("spec", TABLES, ids=lambda s: s.key)
def test_opening_a_source_preloads_its_own_libraries_only(spec):
    loaded = loaded_modules(OPEN_ONE, spec.key)
    for module in spec.preload:
        assert module in loaded
    others = {m for other in TABLES if other.key != spec.key for m in other.preload} - set(spec.preload)
    assert not [m for m in others if m in loaded and m.startswith(("google.cloud.", "wandb"))]


def test_star_import_gives_every_public_name():
    import arr_actors.sources as sources

    namespace: dict[str, object] = {}
    exec("from arr_actors.sources import *", namespace)
    assert set(sources.__all__) <= namespace.keys()
    assert namespace["open_source"] is sources.open_source
