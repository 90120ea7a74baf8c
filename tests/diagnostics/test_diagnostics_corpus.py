"""The corpus of real-world log formats: every log gives its expected outcome, category and cause.

``corpus/manifest.json`` names, for each log, the outcome, the category, the
format the reader must recognise, the phrases the one-line summary must contain
and, for runner logs, the run count. The score is reported; anything under
100 % fails.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from arr_actors.diagnostics import cli
from arr_actors.diagnostics.extract import diagnose
from arr_actors.diagnostics.readers import FORMATS, read
from arr_actors.diagnostics.registry import CATEGORIES, default

CORPUS = Path(__file__).with_name("corpus")
MANIFEST = json.loads((CORPUS / "manifest.json").read_text(encoding="utf-8"))
SUMMARY_MAX = 300


def problems(name: str) -> list[str]:
    expected = MANIFEST[name]
    reading = read((CORPUS / name).read_bytes())
    d = diagnose(reading.lines)
    found = []
    if reading.format != expected["format"]:
        found.append(f"format {reading.format!r}, expected {expected['format']!r}")
    if d.outcome != expected["outcome"]:
        found.append(f"outcome {d.outcome!r}, expected {expected['outcome']!r}")
    if d.category != expected["category"]:
        found.append(f"category {d.category!r} ({d.pattern}), expected {expected['category']!r}")
    for phrase in expected["phrases"]:
        if phrase not in d.summary:
            found.append(f"summary lacks {phrase!r}")
    if "runs" in expected and d.runs != expected["runs"]:
        found.append(f"runs {d.runs}, expected {expected['runs']}")
    if len(d.summary) > SUMMARY_MAX or "\n" in d.summary or not d.summary.strip():
        found.append("summary is not one line of at most 300 characters")
    if any(unicodedata.category(char) in ("Cc", "Cf") for char in d.summary):
        found.append("summary holds control characters")
    return [f"{name}: {problem} (summary: {d.summary!r})" for problem in found]


def test_the_corpus_scores_100_percent(capsys):
    names = sorted(MANIFEST)
    failures = {name: problems(name) for name in names}
    failed = [name for name in names if failures[name]]
    score = 100.0 * (len(names) - len(failed)) / len(names)
    with capsys.disabled():
        print(f"\ndiagnostics corpus: {len(names) - len(failed)}/{len(names)} logs right ({score:.1f} %)")
    assert not failed, "\n".join(problem for name in failed for problem in failures[name])


def test_the_corpus_is_big_and_covers_every_format_and_cause():
    files = {path.name for path in CORPUS.iterdir()} - {"manifest.json", "README.md"}
    assert files == set(MANIFEST), "every log has an entry in manifest.json and every entry a log"
    assert len(MANIFEST) >= 40
    assert {entry["format"] for entry in MANIFEST.values()} == set(FORMATS)
    for category in (
        "capacity", "quota", "service_error", "wandb_service_error", "wandb_api_error", "memory", "permission_denied",
        "image_pull", "image_start", "invalid_project", "build_dependency", "build_failed", "container_exit",
    ):  # fmt: skip
        assert any(entry["category"] == category for entry in MANIFEST.values()), category
    readme = (CORPUS / "README.md").read_text(encoding="utf-8")
    for fmt in FORMATS:
        assert f"`{fmt}`" in readme, f"the README cites where the {fmt} format was seen"


def test_every_registry_category_is_documented_with_its_group():
    for pattern in default().patterns:
        if pattern.kind in ("error", "bailout"):
            assert pattern.category in CATEGORIES, pattern.id


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_the_command_reads_every_corpus_log_without_a_usage_error(name, capsys):
    code = cli.main([str(CORPUS / name), "--json"])
    out, err = capsys.readouterr()
    assert code == (1 if MANIFEST[name]["outcome"] == "failed" else 0), err
    assert json.loads(out)["category"] == MANIFEST[name]["category"]


FATAL_NOW = [
    "wandb: ERROR launch: Error running job: google.api_core.exceptions.PermissionDenied: 403 CONSUMER_INVALID: "
    "Permission denied on resource project My Training Project.",
    "googleapi: Error 403: Permission 'iam.serviceaccounts.actAs' denied on service account 1-compute@developer.gserviceaccount.com",
    'Failed to pull image "us-docker.pkg.dev/demo-project/arr/trainer:v3": rpc error: code = NotFound desc = manifest unknown',
    "terminated: Application failed to start: failed to load /opt/launcher/entrypoint-wrapper.sh: exec format error",
    "wandb: ERROR Error while calling W&B API: permission denied (<Response [403]>)",
]
TRANSIENT = [
    "exception=503 SERVICE UNAVAILABLE ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS: The zone "
    "'projects/p/zones/us-east1-c' does not have enough resources available to fulfill the request.",
    "RESOURCE_EXHAUSTED: The zone does not have enough resources available to fulfil the request.",
    "google.api_core.exceptions.ServiceUnavailable: 503 The service is currently unavailable.",
    "wandb: ERROR Error while calling W&B API: An internal error occurred. Please contact support. (<Response [500]>)",
    "wandb: Network error (HTTPError), entering retry loop.",
    "The replica workerpool0-0 ran out-of-memory and exited with a non-zero status of 9(SIGKILL).",
]


@pytest.mark.timeout(60)
def test_the_wrapper_bails_out_on_configuration_permission_and_image_causes_not_transient_ones(tmp_path):
    """What the wrapper's own grep -E makes of each line, with the committed fatal-patterns.txt."""
    import shutil
    import subprocess

    fatal = Path(__file__).parents[2] / "launcher-image" / "fatal-patterns.txt"
    grep = shutil.which("grep")
    assert grep is not None
    for line, expected in [*((line, True) for line in FATAL_NOW), *((line, False) for line in TRANSIENT)]:
        sample = tmp_path / "line.txt"
        sample.write_text(line + "\n")
        found = subprocess.run([grep, "-qE", "-f", str(fatal), str(sample)], timeout=30).returncode == 0
        assert found is expected, line
