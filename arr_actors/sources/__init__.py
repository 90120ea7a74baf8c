"""The five tables' sources: what fills each table, run inside that table's child process.

``open_source(settings, table)`` is called once per child incarnation and
returns the function the child calls once per fetch. Every source is a plain
function ``fetch(settings, ctx) -> TableData`` named by ``tables.TABLES[...].source``;
``ctx`` (a :class:`~arr_actors.sources.common.SourceContext`) holds what lives
between fetches: clients, a thread pool, the terminal-state memory.

Importing this package loads no cloud or W&B library; each source imports
what it needs when it first runs.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from arr_actors.sources.errors import SourceError
from arr_actors.tables import load_function
from arr_actors.tables import table as table_spec

if TYPE_CHECKING:
    from arr_actors.config import Settings
    from arr_actors.messages import TableData


def open_source(settings: Settings, table: str) -> Callable[[], TableData]:
    """The fetch function of ``table``: call it once per refresh; it returns TableData or raises."""
    from arr_actors.sources.common import SourceContext

    spec = table_spec(table)
    # Load the heavy client libraries now, when the fetch process starts, so the
    # first fetch's deadline measures the fetch and not the imports.
    for module in spec.preload:
        importlib.import_module(module)
    fetch = load_function(spec.source)
    ctx = SourceContext(settings)
    return functools.partial(fetch, settings, ctx)


__all__ = ["SourceError", "open_source"]
