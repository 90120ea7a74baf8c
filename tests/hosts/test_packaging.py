"""What ``pip install`` puts on a host: two top-level packages of our own, and a checkout that works without it."""

from __future__ import annotations

import configparser
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
#: Installed name -> folder in the repository.
FOLDERS = {"arr_actors": "arr_actors", "arr_actors_ui": "ui"}

sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "tests" / "recording"))


def declared_packages() -> list[str]:
    setup = configparser.ConfigParser()
    setup.read(ROOT / "setup.cfg")
    return [name.strip() for name in setup["options"]["packages"].split() if name.strip()]


def package_folders() -> list[str]:
    """Every package folder in the repository, under the name it is installed as."""
    found = []
    for installed, folder in FOLDERS.items():
        for init in (ROOT / folder).rglob("__init__.py"):
            relative = init.parent.relative_to(ROOT / folder)
            found.append(".".join([installed, *relative.parts]))
    return sorted(found)


def test_setup_cfg_lists_every_package_folder():
    assert sorted(declared_packages()) == package_folders()


@pytest.mark.timeout(180)
def test_the_wheel_holds_arr_actors_and_arr_actors_ui_and_nothing_named_ui(tmp_path):
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--disable-pip-version-check",
         "-w", str(tmp_path), str(ROOT)],
        capture_output=True, text=True, timeout=170, cwd=tmp_path,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = tmp_path.glob("arr_actors-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names if not name.split("/")[0].endswith(".dist-info")}
    assert top == {"arr_actors", "arr_actors_ui"}
    for package in package_folders():
        assert f"{package.replace('.', '/')}/__init__.py" in names
    assert "arr_actors/diagnostics/patterns.toml" in names
    assert "arr_actors/recording/replay.py" in names


@pytest.mark.e2e
@pytest.mark.timeout(60)
def test_scripts_replay_works_from_a_checkout_that_is_not_installed(tmp_path):
    from e2e.pty import Terminal
    from recording_samples import NOW, session_messages

    from arr_actors import config
    from arr_actors import recording as rec

    path = tmp_path / "session.jsonl"
    path.write_bytes(
        rec.encode_header(config.defaults(project="demo-project"), started_at=NOW)
        + b"".join(rec.encode_entry(t, x) for t, x in session_messages())
    )
    script = ROOT / "scripts" / "replay.py"
    # Forget the development install (an editable install's finder and path hooks), then run the script.
    code = (
        "import sys, runpy\n"
        "sys.meta_path[:] = [f for f in sys.meta_path if '__editable__' not in getattr(f, '__module__', '')]\n"
        "sys.path_hooks[:] = [h for h in sys.path_hooks if '__editable__' not in getattr(h, '__module__', '')]\n"
        f"sys.path[:] = [p for p in sys.path if p not in ('', {str(ROOT)!r})]\n"
        "sys.path_importer_cache.clear()\n"
        "import importlib.util\n"
        "assert importlib.util.find_spec('arr_actors') is None, 'still installed'\n"
        f"sys.argv = [{str(script)!r}, {str(path)!r}, '--speed', '20']\n"
        f"runpy.run_path({str(script)!r}, run_name='__main__')\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    with Terminal([sys.executable, "-c", code], cols=120, rows=40, env=env, cwd=str(tmp_path)) as term:
        term.wait_text("REPLAY", timeout=20)
        term.wait_text("calm-sea-10", timeout=20)
        term.press("q")
        assert term.wait_exit(timeout=10) == 0, term.dump()
