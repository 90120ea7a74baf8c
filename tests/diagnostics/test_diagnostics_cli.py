"""``python -m arr_actors diagnose`` on plain logs, Cloud Logging JSON and bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys

import pytest

from arr_actors.diagnostics import cli, formats

QUOTA = (
    "wandb: ERROR launch: Error running job: google.api_core.exceptions.ResourceExhausted: 429 The following quota "
    "metrics exceed quota limits: aiplatform.googleapis.com/custom_model_training_nvidia_l4_gpus in region us-west2"
)
FAILED_LOG = [
    formats.STARTUP_RUNS.format(runs=0),
    formats.MONITORING,
    formats.JOB_SUBMITTED.format(runs=1),
    QUOTA,
    formats.FATAL_DETECTED.format(line=QUOTA),
    formats.KILLING_AGENT,
    *formats.final_stats(runs=1, lifetime_s=70, idle_s=30),
]
FINISHED_LOG = [
    formats.STARTUP_RUNS.format(runs=0),
    formats.JOB_SUBMITTED.format(runs=1),
    formats.JOB_SUBMITTED.format(runs=2),
    formats.JOB_SUBMITTED.format(runs=3),
    "[08:22:36] Runner alive: 2404s lifetime, 860s idle, Runs: 3",
    formats.IDLE_TIMEOUT.format(idle=1800, limit=1800),
    *formats.final_stats(runs=3, lifetime_s=3357, idle_s=1800),
]


def gcloud_json(lines: list[str]) -> str:
    """Entries as `gcloud logging read --format=json` prints them: newest first."""
    entries = []
    for i, line in enumerate(lines):
        entry = {
            "insertId": f"id{i}",
            "logName": "projects/demo/logs/run.googleapis.com%2Fstdout",
            "resource": {"type": "cloud_run_job", "labels": {"job_name": "vertex-ai-launcher"}},
            "timestamp": f"2025-11-18T08:17:{i:02d}.{i * 1000:09d}Z",
        }
        if i % 2:
            entry["jsonPayload"] = {"message": line}
        else:
            entry["textPayload"] = line
        entries.append(entry)
    return json.dumps(entries[::-1], indent=2)


def run(argv, capsys, *, stdin: str | None = None, monkeypatch=None):
    if stdin is not None:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(stdin.encode()))))
    code = cli.main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_plain_file_failure(tmp_path, capsys):
    log = tmp_path / "runner.log"
    log.write_text("\n".join(FAILED_LOG) + "\n")
    code, out, err = run([str(log)], capsys)
    assert code == 1 and err == ""
    assert out.splitlines() == [
        "summary:  Quota exceeded: custom_model_training_nvidia_l4_gpus in us-west2",
        "outcome:  failed",
        "category: quota (gcp.quota_exceeded)",
        "runs:     1",
    ]


def test_plain_file_finished_with_context(tmp_path, capsys):
    log = tmp_path / "runner.log"
    log.write_text("\n".join(FINISHED_LOG))
    code, out, _ = run([str(log), "--context"], capsys)
    assert code == 0
    assert "summary:  [08:22:36] Runner completed: 2404s lifetime, 860s idle, Runs: 3" in out
    assert "context:\n  Runs: 0" in out


def test_gcloud_json_is_sorted_by_timestamp(capsys, monkeypatch):
    code, out, _ = run(["--json"], capsys, stdin=gcloud_json(FAILED_LOG), monkeypatch=monkeypatch)
    doc = json.loads(out)
    assert code == 1
    assert doc["outcome"] == "failed" and doc["category"] == "quota" and doc["pattern"] == "gcp.quota_exceeded"
    assert doc["runs"] == 1
    assert doc["summary"] == "Quota exceeded: custom_model_training_nvidia_l4_gpus in us-west2"
    assert doc["context"][:3] == FAILED_LOG[:3]
    assert set(doc) == {"outcome", "summary", "category", "pattern", "runs", "context"}


def test_newest_first_plain_text(tmp_path, capsys):
    log = tmp_path / "newest-first.log"
    log.write_text("\n".join(reversed(FINISHED_LOG)))
    code, out, _ = run([str(log), "--newest-first", "--status", "SUCCEEDED"], capsys)
    assert code == 0 and "runs:     3" in out and "Runner completed" in out
    # The log's own markers (final stats before "Runs: 0") say it is newest first.
    code, out, _ = run([str(log), "--status", "SUCCEEDED", "--format"], capsys)
    assert code == 0 and "runs:     3" in out and "(newest first, turned around)" in out
    unmarked = tmp_path / "unmarked.log"
    unmarked.write_text("\n".join(reversed([formats.JOB_SUBMITTED.format(runs=n) for n in (1, 2, 3)])))
    code, out, _ = run([str(unmarked), "--status", "SUCCEEDED"], capsys)
    assert "runs:     1" in out  # nothing says which way round: read as given, the oldest count looks newest
    code, out, _ = run([str(unmarked), "--status", "SUCCEEDED", "--newest-first"], capsys)
    assert "runs:     3" in out


def test_json_without_timestamps_honours_newest_first(tmp_path, capsys):
    entries = [{"textPayload": line} for line in reversed(FINISHED_LOG)]
    path = tmp_path / "entries.json"
    path.write_text(json.dumps(entries))
    code, out, _ = run([str(path), "--newest-first", "--json"], capsys)
    assert json.loads(out)["runs"] == 3 and json.loads(out)["outcome"] == "finished"


def test_json_lines_and_an_api_response_object(tmp_path, capsys):
    path = tmp_path / "entries.jsonl"
    path.write_text("\n".join(json.dumps({"textPayload": line}) for line in FAILED_LOG))
    code, out, _ = run([str(path), "--json"], capsys)
    assert code == 1 and json.loads(out)["category"] == "quota"
    response = tmp_path / "response.json"
    response.write_text(json.dumps({"entries": [{"textPayload": line} for line in FAILED_LOG]}))
    code, out, _ = run([str(response), "--json"], capsys)
    assert code == 1 and json.loads(out)["runs"] == 1


def test_a_plain_line_starting_with_a_bracket_is_not_json(tmp_path, capsys):
    path = tmp_path / "alive.log"
    path.write_text("[08:15:00] Runner alive: 900s lifetime, 10s idle, Runs: 2\n")
    code, out, _ = run([str(path)], capsys)
    assert code == 0 and "outcome:  running" in out


@pytest.mark.parametrize(
    ("content", "fmt"),
    [
        ('[{"textPayload": "x"', "cloud_logging"),
        ('[{"textPayload": "x"}, 3]', "json"),
        ('{"a": 1}\nnot json\n', "json_lines"),
        ('[{"a": ' + "[" * 100_000, "text"),
        ('{"errors":[{"message":"Agent user not valid","path":["createAgent"]}],"data":{"createAgent":null}}\n'
         "wandb: ERROR Error while calling W&B API: Agent user not valid (<Response [400]>)\n", "json_lines"),
    ],
)
def test_text_that_is_not_strict_json_is_still_read(tmp_path, capsys, content, fmt):
    """Readable text never exits 2: a structured reading that fails falls back to text."""
    path = tmp_path / "pasted.json"
    path.write_text(content)
    code, out, err = run([str(path), "--format"], capsys)
    assert code in (0, 1) and err == "", err
    assert f"format:   {fmt}" in out


def test_bad_files_and_arguments_exit_2(tmp_path, capsys):
    for argv, message in [
        ([str(tmp_path / "missing.log")], "cannot read (No such file or directory)"),
        ([str(tmp_path)], "is a directory"),
        (["--execution", "vertex-ai-launcher-abc"], "--execution needs --region"),
        (["x.log", "--execution", "e", "--region", "us-west2"], "either FILE or --execution"),
        (["x.log", "--region", "us-west2"], "only apply with --execution"),
        (["--bogus"], "unrecognized arguments: --bogus"),
    ]:
        code, out, err = run(argv, capsys)
        assert code == 2, argv
        assert err.startswith("python -m arr_actors diagnose: error: ") and message in err, err


def test_help_documents_the_exit_status(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--help"])
    assert done.value.code == 0
    assert "exit status: 0" in capsys.readouterr().out


@pytest.mark.timeout(60)
def test_the_subcommand_is_wired_into_the_program(tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "arr_actors", "diagnose", "-", "--json"],
        input="\n".join(FAILED_LOG).encode(),
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["category"] == "quota"
