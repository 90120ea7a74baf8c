"""The pattern registry: every example line, validation, the wrapper's exported patterns."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arr_actors.diagnostics import formats
from arr_actors.diagnostics.extract import diagnose
from arr_actors.diagnostics.registry import DEFAULT_PATH, RegistryError, default, load, loads, main

ROOT = Path(__file__).resolve().parents[2]
LAUNCHER = ROOT / "launcher-image"
REGISTRY = default()
EXAMPLES = [
    pytest.param(pattern, example, id=f"{pattern.id}#{number}")
    for pattern in REGISTRY.patterns
    for number, example in enumerate(pattern.examples, start=1)
]
MATCHERS = [pytest.param(p, id=p.id) for p in REGISTRY.patterns if p.kind in ("error", "bailout")]


@pytest.mark.parametrize(("pattern", "example"), EXAMPLES)
def test_every_example_line_is_recognised_as_its_own_pattern(pattern, example):
    found = REGISTRY.classify_all(example.line)
    winner = getattr(found, pattern.kind)
    assert winner is not None and winner.id == pattern.id, f"{example.line!r} matched {winner and winner.id}"
    if example.summary is not None:
        assert REGISTRY.summarize(pattern, example.line) == example.summary


@pytest.mark.parametrize(("pattern", "example"), [p for p in EXAMPLES if p.values[0].kind == "error"])
def test_every_error_example_diagnoses_to_its_summary(pattern, example):
    diagnosis = diagnose([example.line], status="FAILED")
    assert (diagnosis.outcome, diagnosis.category, diagnosis.pattern) == ("failed", pattern.category, pattern.id)
    assert diagnosis.summary == example.summary
    assert len(diagnosis.summary) <= 200


@pytest.mark.parametrize(
    ("pattern", "example"), [p for p in EXAMPLES if p.values[0].kind in ("info", "success")]
)
def test_info_and_success_examples_are_never_errors(pattern, example):
    found = REGISTRY.classify(example.line)
    assert found is None or found.info is not None or found.success is not None
    diagnosis = diagnose([example.line], status="FAILED")
    assert diagnosis.pattern is None and diagnosis.category == "unknown"


def test_traceback_header_and_quoted_source_lines_are_not_the_exception():
    for line in ("Traceback (most recent call last):", "    except KeyError:", "class QuotaError(Exception):"):
        found = REGISTRY.classify_all(line)
        assert found.error is None, (line, found.error)


@pytest.mark.parametrize("pattern", MATCHERS)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_needles_cover_every_line_the_regex_matches(pattern, data):
    """The needle shortcut must never hide a line the pattern's regex would match."""
    line = data.draw(st.from_regex(pattern.compiled))
    assert any(needle in line.lower() for needle in pattern.needles)
    assert REGISTRY.classify(line) is not None


def test_registry_file_is_the_packaged_default():
    assert REGISTRY.origin == str(DEFAULT_PATH)
    assert load() == REGISTRY
    categories = {p.category for p in REGISTRY.patterns}
    for required in (
        "wrapper_bailout", "machine_type", "invalid_argument", "permission_denied", "not_found", "quota",
        "service_error", "http_error", "image_pull", "python_exception", "wandb_error", "timeout",
    ):  # fmt: skip
        assert required in categories
    assert {p.source for p in REGISTRY.patterns} == {"wrapper", "gcp", "k8s", "python", "wandb"}


# the wrapper's message formats agree with the registry

WRAPPER_LINES = {
    "STARTUP_RUNS": (formats.STARTUP_RUNS.format(runs=0), None),
    "MONITORING": (formats.MONITORING, "info"),
    "JOB_SUBMITTED": (formats.JOB_SUBMITTED.format(runs=3), "success"),
    "FATAL_DETECTED": (formats.FATAL_DETECTED.format(line="wandb: ERROR something"), "bailout"),
    "KILLING_AGENT": (formats.KILLING_AGENT, "bailout"),
    "RUNNER_ALIVE": (formats.RUNNER_ALIVE.format(clock="08:17:45", lifetime=1204, idle=360, runs=2), "info"),
    "IDLE_TIMEOUT": (formats.IDLE_TIMEOUT.format(idle=1800, limit=1800), "info"),
    "FINAL_STATS": (formats.FINAL_STATS, None),
    "FINAL_RUNS": (formats.FINAL_RUNS.format(runs=3), None),
    "FINAL_LIFETIME": (formats.FINAL_LIFETIME.format(lifetime="55m 57s"), None),
    "FINAL_IDLE": (formats.FINAL_IDLE.format(idle="14m 20s"), "info"),
    "AGENT_STARTING": (formats.AGENT_STARTING.format(queue="vertex-ai-queue", entity="team"), None),
    "AGENT_EXITED": (formats.AGENT_EXITED.format(code=1), "error"),
    "SIGNAL_RECEIVED": (formats.SIGNAL_RECEIVED.format(signal="SIGTERM"), "error"),
    "CONTEXT_BEGIN": (formats.CONTEXT_BEGIN, "info"),
    "CONTEXT_LINE": (formats.CONTEXT_LINE.format(line="polling"), None),
    "CONTEXT_END": (formats.CONTEXT_END, "info"),
    "MISSING_ENV": (formats.MISSING_ENV.format(names="WANDB_API_KEY"), "error"),
    "BAD_ENV": (formats.BAD_ENV.format(name="IDLE_TIMEOUT_S", value="x"), "error"),
    "PATTERNS_MISSING": (formats.PATTERNS_MISSING.format(path="/opt/launcher/fatal-patterns.txt"), "error"),
}


def test_every_wrapper_format_is_covered_here():
    assert set(WRAPPER_LINES) == set(formats.WRAPPER_FORMATS)


@pytest.mark.parametrize("name", sorted(WRAPPER_LINES))
def test_wrapper_lines_are_what_the_registry_says(name):
    line, kind = WRAPPER_LINES[name]
    found = REGISTRY.classify_all(line)
    if kind is None:
        assert found.error is None and found.bailout is None, found
        return
    winner = getattr(found, kind)
    assert winner is not None, f"{line!r} is not recognised as {kind}"
    if kind in ("error", "bailout", "success"):
        assert winner.source == "wrapper"


def test_agent_lines_from_formats_are_recognised():
    created = formats.AGENT_JOB_CREATED.format(resource="projects/1/locations/us-central1/customJobs/2")
    assert REGISTRY.classify_all(created).success.id == "vertex.custom_job_created"
    polling = formats.AGENT_POLLING.format(queue="q", running=0, max_jobs=1)
    assert REGISTRY.classify_all(polling).info is not None
    launching = formats.AGENT_LAUNCHING.format(entity="team", project="proj")
    assert REGISTRY.classify_all(launching).error is None
    assert REGISTRY.classify_all(formats.AGENT_EXITED.format(code=0)).error is None


# exported grep patterns


def _export(flag: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "arr_actors.diagnostics.registry", flag], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.timeout(60)
@pytest.mark.parametrize(("flag", "filename"), [("--export-fatal", "fatal-patterns.txt"), ("--export-success", "success-patterns.txt")])
def test_committed_pattern_files_equal_the_generated_ones(flag, filename):
    committed = (LAUNCHER / filename).read_text()
    assert committed == _export(flag), (
        f"launcher-image/{filename} is stale: run "
        f"python -m arr_actors.diagnostics.registry {flag} > launcher-image/{filename}"
    )
    assert committed.strip(), "no patterns exported"


@pytest.mark.timeout(60)
def test_grep_and_python_agree_on_which_example_lines_are_fatal(tmp_path):
    grep = shutil.which("grep")
    if grep is None:
        pytest.skip("grep is not installed")
    lines = sorted({example.line for p in REGISTRY.patterns for example in p.examples})
    sample = tmp_path / "lines.txt"
    sample.write_text("".join(f"{line}\n" for line in lines))
    proc = subprocess.run(
        [grep, "-E", "-f", str(LAUNCHER / "fatal-patterns.txt"), str(sample)], capture_output=True, text=True, timeout=30
    )
    assert proc.returncode in (0, 1), proc.stderr
    by_grep = set(proc.stdout.splitlines())
    fatal = [p for p in REGISTRY.patterns if p.fatal]
    by_python = {line for line in lines if any(p.compiled.search(line) for p in fatal)}
    assert by_grep == by_python
    for p in fatal:
        assert {e.line for e in p.examples} <= by_grep
    for p in REGISTRY.patterns:
        if p.kind in ("info", "success"):
            assert not {e.line for e in p.examples} & by_grep, p.id


def test_registry_program_validates_and_reports(capsys):
    assert main([]) == 0
    assert "patterns" in capsys.readouterr().out
    assert main(["--registry", "/nonexistent/patterns.toml"]) == 2
    assert "cannot read the pattern registry" in capsys.readouterr().err


# adding a pattern is adding one entry

EXTRA = '''
[[pattern]]
id = "python.cuda_driver"
category = "gpu_driver"
source = "python"
priority = 45
regex = 'CUDA driver version is insufficient'
needles = ["cuda driver"]
summary = ["GPU driver too old for this CUDA runtime"]
[[pattern.example]]
line = "RuntimeError: CUDA error: CUDA driver version is insufficient for CUDA runtime version"
summary = "GPU driver too old for this CUDA runtime"
'''


def test_an_extra_registry_entry_is_used_without_code_changes():
    log = [
        "Runs: 0",
        "RuntimeError: CUDA error: CUDA driver version is insufficient for CUDA runtime version",
        "Agent exited with code 1",
    ]
    assert diagnose(log).category == "python_exception"
    extended = loads(DEFAULT_PATH.read_text() + EXTRA, origin="extended.toml")
    assert len(extended.patterns) == len(REGISTRY.patterns) + 1
    diagnosis = diagnose(log, registry=extended)
    assert (diagnosis.category, diagnosis.pattern) == ("gpu_driver", "python.cuda_driver")
    assert diagnosis.summary == "GPU driver too old for this CUDA runtime"


# validation: clear errors naming the entry

BASE = """
schema = 1
default_cut = []
[[pattern]]
id = "gcp.thing"
category = "thing"
source = "gcp"
priority = 10
{body}
[[pattern.example]]
line = "Thing broke: 42"
summary = "Thing broke: 42"
"""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('regex = "Thing broke"', "need needles"),
        ('substring = "Thing broke"\nregex = "x"', "exactly one of 'substring' or 'regex'"),
        ('regex = "Thing (broke"\nneedles = ["thing"]', "invalid regex"),
        ('regex = "Thing broke"\nneedles = ["Thing"]', "must be a non-empty lowercase string"),
        ('regex = "Thing broke"\nneedles = ["other"]', "contains none of the needles"),
        ('regex = "Other"\nneedles = ["other"]', "does not match the pattern"),
        ('regex = "Thing broke: \\\\d+"\nneedles = ["thing"]\nfatal = true', "POSIX ERE"),
        ('substring = "Thing broke"\nfatal = true\nignore_case = true', "case-sensitive"),
        ('substring = "Thing broke"\ncut = ["nope"]', "unknown cut 'nope'"),
        ('substring = "Thing broke"\nsummary = ["Thing {code}"]', "{code}, which is not in fields"),
        ('substring = "Thing broke"\nkind = "maybe"', "kind must be one of"),
        ('substring = "Thing broke"\ncolour = "red"', "unknown key(s) colour"),
        ('substring = "Thing broke"\n[pattern.fields]\ncode = "[0-9]+"', "needs a (group)"),
        ('regex = "x*"\nneedles = ["x"]', "matches an empty line"),
    ],
)
def test_invalid_entries_are_rejected_with_the_entry_named(body, message):
    with pytest.raises(RegistryError) as caught:
        loads(BASE.format(body=body), origin="bad.toml")
    text = str(caught.value)
    assert text.startswith("bad.toml: pattern 'gcp.thing'"), text
    assert message in text


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("schema = [", "not valid TOML"),
        ("schema = 2", "schema must be 1"),
        ("schema = 1\nextra = 1", "unknown top-level key(s) extra"),
        ("schema = 1", "no [[pattern]] entries"),
        ('schema = 1\ndefault_cut = ["x"]', "unknown cut 'x'"),
    ],
)
def test_invalid_files_are_rejected(text, message):
    with pytest.raises(RegistryError, match="^bad.toml: ") as caught:
        loads(text, origin="bad.toml")
    assert message in str(caught.value)


def test_duplicate_ids_and_priorities_are_checked():
    twice = BASE.format(body='substring = "Thing broke"') + BASE.format(body='substring = "Thing broke"').split(
        "default_cut = []", 1
    )[1]
    with pytest.raises(RegistryError, match="id used twice"):
        loads(twice, origin="bad.toml")
    with pytest.raises(RegistryError, match="priority must be a whole number"):
        loads(BASE.format(body='substring = "Thing broke"').replace("priority = 10", "priority = 1.5"), origin="bad.toml")
    with pytest.raises(RegistryError, match="errors need the summary"):
        loads(BASE.format(body='substring = "Thing broke"').replace('summary = "Thing broke: 42"', ""), origin="bad.toml")


def test_unreadable_registry_file(tmp_path):
    binary = tmp_path / "patterns.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(RegistryError, match="not UTF-8"):
        load(binary)
