"""scripts/replay.py as a user runs it: --once --json, bad input, stdin, no cloud imports."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest
from recording_samples import (
    NOW,
    PYTHON,
    REPLAY,
    ROOT,
    blocked_imports_prelude,
    final_snapshots,
    session_messages,
    subprocess_env,
)

from arr_actors import messages as m
from arr_actors import recording as rec
from arr_actors.once_document import once_document


def write_recording(path: Path, settings, messages, *, extra: bytes = b"") -> bytes:
    data = rec.encode_header(settings, started_at=NOW) + b"".join(rec.encode_entry(t, x) for t, x in messages) + extra
    path.write_bytes(data)
    return data


def replay(*args: str, stdin: bytes | None = None, blocked: bool = True, timeout: float = 30):
    """Run the script as `python scripts/replay.py ...`, with cloud imports made impossible."""
    if blocked:
        code = (
            blocked_imports_prelude()
            + "import runpy\n"
            + f"sys.argv = [{str(REPLAY)!r}, *{list(args)!r}]\n"
            + f"runpy.run_path({str(REPLAY)!r}, run_name='__main__')\n"
        )
        command = [PYTHON, "-c", code]
    else:
        command = [PYTHON, str(REPLAY), *args]
    return subprocess.run(
        command,
        input=stdin if stdin is not None else b"",
        capture_output=True,
        cwd=ROOT,
        env=subprocess_env(),
        timeout=timeout,
    )


@pytest.mark.timeout(60)
def test_once_json_prints_the_recordings_last_tables(settings, tmp_path):
    messages = session_messages()
    path = tmp_path / "session.jsonl"
    write_recording(path, settings, messages)
    proc = replay(str(path), "--once", "--json")
    assert proc.stderr == b""
    doc = json.loads(proc.stdout)
    last_t = messages[-1][0]
    expected = once_document(final_snapshots(messages), generated_at=NOW + last_t)
    assert doc == json.loads(json.dumps(expected))
    assert doc["tables"]["vertex"]["state"] == "timeout"
    assert proc.returncode == 1  # like the monitor: not every table is ok


@pytest.mark.timeout(60)
def test_once_json_from_stdin_and_exit_0_when_all_ok(settings, tmp_path):
    messages = [(t, x) for t, x in session_messages() if not (isinstance(x, m.TableSnapshot) and x.state != "ok")]
    data = write_recording(tmp_path / "ok.jsonl", settings, messages)
    proc = replay("-", "--once", "--json", stdin=data)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert {k: t["state"] for k, t in doc["tables"].items()} == dict.fromkeys(doc["tables"], "ok")


@pytest.mark.timeout(60)
def test_once_text_summary(settings, tmp_path):
    path = tmp_path / "session.jsonl"
    write_recording(path, settings, session_messages())
    proc = replay(str(path), "--once", blocked=False)
    lines = proc.stdout.decode().splitlines()
    assert len(lines) == 5
    assert lines[2].startswith("Vertex AI jobs") and "timeout" in lines[2] and "killed" in lines[2]


@pytest.mark.timeout(60)
def test_bad_lines_are_warned_about_and_the_rest_is_used(settings, tmp_path):
    messages = session_messages()
    path = tmp_path / "damaged.jsonl"
    damaged = (
        b'{"t": 9.0, "message": {"type": "Teleport"}}\n'
        + b'{"t": 9.1, "message": {"type": "TableSnapshot", "table": "runner", "seq": 9, "state": "ok", "rows": 5}}\n'
        + rec.encode_entry(9.2, m.PauseChanged(True))[:-9]
    )
    write_recording(path, settings, messages, extra=damaged)
    proc = replay(str(path), "--once", "--json")
    n = len(messages) + 2  # line number of the first damaged line
    err = proc.stderr.decode().splitlines()
    assert err == [
        f"replay.py: {path}: line {n} skipped: unknown message type 'Teleport'",
        f"replay.py: {path}: line {n + 1} skipped: TableSnapshot.rows: expected a list, got 5",
        f"replay.py: {path}: line {n + 2} skipped: truncated (the recording ends in the middle of this line)",
    ]
    doc = json.loads(proc.stdout)
    assert doc["tables"]["runner"]["rows"] == [m.row_to_plain(r) for r in final_snapshots(messages)["runner"].rows]


@pytest.mark.timeout(60)
def test_many_bad_lines_are_summarised(settings, tmp_path):
    path = tmp_path / "garbage.jsonl"
    write_recording(path, settings, [], extra=b"nonsense\n" * 500)
    proc = replay(str(path), "--once", "--json", blocked=False)
    err = proc.stderr.decode().splitlines()
    assert len(err) == 21 and err[-1].endswith("... 480 more lines skipped")
    assert json.loads(proc.stdout)["tables"]["runner"]["state"] == "error"


@pytest.mark.timeout(60)
@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (["NOFILE"], None, "replay.py: error: NOFILE: cannot read (No such file or directory)"),
        (["FILE", "--json"], None, "replay.py: error: --json needs --once"),
        (["FILE", "--once", "--follow"], None, "--follow cannot be combined with --once"),
        (["FILE", "--speed", "0"], None, "'0' must be a number greater than 0"),
        (["FILE", "--speed", "fast"], None, "'fast' is not a number"),
        (["FILE", "--once"], b"", "empty input"),
        (["-", "--once"], b"hello\n", "replay.py: stdin: not an arr_actors recording"),
        (["NEWER", "--once"], None, "schema 2 is newer than this program understands (1); upgrade arr_actors"),
        (["TEXT", "--once"], None, "not an arr_actors recording (its first line is not a recording header)"),
    ],
)
def test_user_errors_exit_2_with_one_clear_line(settings, tmp_path, args, stdin, message):
    (tmp_path / "FILE").write_bytes(b"")
    header = json.loads(rec.encode_header(settings, started_at=NOW))
    header["schema"] = 2
    (tmp_path / "NEWER").write_text(json.dumps(header) + "\n")
    (tmp_path / "TEXT").write_text("just some text\n")
    args = [str(tmp_path / a) if a in ("FILE", "NEWER", "TEXT") else a for a in args]
    proc = subprocess.run([PYTHON, str(REPLAY), *args], input=stdin or b"", capture_output=True, cwd=tmp_path,
                          env=subprocess_env(), timeout=30)
    err = proc.stderr.decode()
    assert proc.returncode == 2
    assert message in err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert proc.stdout == b""


@pytest.mark.timeout(60)
def test_headless_recording_piped_into_replay(settings, tmp_path):
    """`--record -` | replay.py - --once --json: a pipe that closes mid-line still gives the tables."""
    messages = session_messages()
    data = rec.encode_header(settings, started_at=NOW) + b"".join(rec.encode_entry(t, x) for t, x in messages)
    proc = replay("-", "--once", "--json", stdin=data + b'{"t": 3.0, "mess')
    assert proc.stderr.decode().strip().endswith("truncated (the recording ends in the middle of this line)")
    doc = json.loads(proc.stdout)
    assert doc["tables"] == json.loads(json.dumps(once_document(final_snapshots(messages))))["tables"]


@pytest.mark.timeout(60)
def test_the_import_block_really_blocks(tmp_path):
    code = blocked_imports_prelude() + "import grpc\n"
    proc = subprocess.run([PYTHON, "-c", code], capture_output=True, env=subprocess_env(), timeout=30)
    assert proc.returncode != 0 and b"blocked by the test" in proc.stderr


@pytest.mark.timeout(60)
def test_replay_imports_no_cloud_library(settings, tmp_path):
    """Not even indirectly: list every module loaded by a full --once run."""
    path = tmp_path / "session.jsonl"
    write_recording(path, settings, session_messages())
    code = (
        "import runpy, sys\n"
        + "before = set(sys.modules)\n"  # site may pre-create empty namespace packages (google, google.cloud)
        + f"sys.argv = [{str(REPLAY)!r}, {str(path)!r}, '--once', '--json']\n"
        + "try:\n"
        + f"    runpy.run_path({str(REPLAY)!r}, run_name='__main__')\n"
        + "except SystemExit:\n"
        + "    pass\n"
        + "print(sorted({n.split('.')[0] for n in set(sys.modules) - before}), file=sys.stderr)\n"
    )
    proc = subprocess.run([PYTHON, "-c", code], capture_output=True, cwd=ROOT, env=subprocess_env(), timeout=30)
    loaded = set(ast.literal_eval(proc.stderr.decode().strip().splitlines()[-1]))
    assert "arr_actors" in loaded
    assert not loaded & {"google", "grpc", "wandb", "proto", "requests", "urllib3"}


@pytest.mark.timeout(60)
def test_replay_screen_runs_where_cloud_libraries_cannot_be_imported(settings, tmp_path):
    """The full-screen replay in a real terminal, with google/grpc/wandb/proto blocked."""
    sys.path.insert(0, str(ROOT / "tests"))
    from e2e.pty import Terminal

    path = tmp_path / "session.jsonl"
    write_recording(path, settings, session_messages())
    code = (
        blocked_imports_prelude()
        + "import runpy\n"
        + f"sys.argv = [{str(REPLAY)!r}, {str(path)!r}, '--speed', '20']\n"
        + f"runpy.run_path({str(REPLAY)!r}, run_name='__main__')\n"
    )
    with Terminal([PYTHON, "-c", code], cols=120, rows=40, env=subprocess_env(), cwd=str(ROOT)) as term:
        term.wait_text("REPLAY", timeout=20)
        term.wait_text("calm-sea-10", timeout=20)
        term.wait_for(lambda t: "TIMED OUT" in (t.line_with("Vertex AI jobs") or ""), timeout=20,
                      what="the recording's last vertex snapshot")
        term.press("q")
        assert term.wait_exit(timeout=10) == 0
    assert b"blocked by the test" not in bytes(term.output)
