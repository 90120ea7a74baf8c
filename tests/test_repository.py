"""The repository's own promises: the README's commands, CI and packaging."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    quick = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", quick)


def test_readme_has_exactly_the_two_quick_start_commands():
    commands = readme_commands()
    assert len(commands) == 2
    demo, tests = commands
    assert demo.endswith("&& python -m arr_actors --demo")
    assert tests.endswith("&& python -m pytest")


def test_ci_runs_exactly_the_readme_test_command():
    ci = (ROOT / ".ci" / "run").read_text()
    command_lines = [line for line in ci.splitlines() if line.startswith("python3 -m venv")]
    assert command_lines == [readme_commands()[1]]
    assert "status\" -eq 5" in ci  # "no tests collected" fails CI


@pytest.mark.timeout(60)
def test_ci_script_passes_shellcheck():
    shellcheck = Path(sys.executable).with_name("shellcheck")
    proc = subprocess.run([str(shellcheck), str(ROOT / ".ci" / "run")], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout


def test_package_data_is_declared():
    setup = (ROOT / "setup.cfg").read_text()
    assert "diagnostics/*.toml" in setup and "examples/*.toml" in setup
    tables = re.findall(r"^\[(.+)\]$", (ROOT / "pyproject.toml").read_text(), flags=re.M)
    # Packaging metadata lives in setup.cfg alone; pyproject.toml holds the build system and tool settings.
    assert "build-system" in tables
    assert not [t for t in tables if t == "project" or t.startswith("tool.setuptools")], tables


def test_readme_documents_every_setting():
    from arr_actors.config import KEYS
    from arr_actors.tables import TABLE_KEYS

    readme = (ROOT / "README.md").read_text()
    for key in KEYS:
        name = key.name
        for table in TABLE_KEYS:
            name = name.replace(f"tables.{table}.", "tables.TABLE.")
        assert f"`{name}`" in readme, f"README.md does not document the setting {key.name}"
