"""Says which Python versions ran the viewer subset (test_python_versions.py), at the end of the run."""

from __future__ import annotations

from typing import Any


def pytest_terminal_summary(terminalreporter: Any) -> None:
    from test_python_versions import OUTCOMES

    if not OUTCOMES:
        return
    terminalreporter.section("Python versions")
    for version, outcome in sorted(OUTCOMES.items()):
        terminalreporter.write_line(f"Python {version}: {outcome}")
