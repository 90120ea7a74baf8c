"""Packages registered without running their ``__init__``, so that a process imports one client, not them all.

A Google Cloud GAPIC package's ``__init__`` (``aiplatform_v1``, ``run_v2``,
``logging_v2``) imports every service client it has and, through its
``types`` package, every message module: megabytes and tenths of a second in
a fetch process that uses one or two services. :func:`defer_init` registers
such a package under its real directory without running that ``__init__``:
its submodules import as usual, so importing a client's own module loads that
client, its transport and the message modules it names, and nothing else.

The package stays whole for anyone else in the process: the first attribute
asked of it that is not one of its submodules (``aiplatform_v1.CustomJob``,
``from google.cloud.run_v2 import JobsClient``) runs its real ``__init__``
then, into the same module object, and from there on it is the package as its
authors wrote it. The emulator's ``protos.load(light=True)`` registers bare
packages the same way but never completes them, which is only safe in a
process that uses no client.

The light client modules (:mod:`arr_actors.sources.aiplatform`,
:mod:`arr_actors.sources.cloudrun`, :mod:`arr_actors.sources.cloudlogging`)
each defer their packages with :func:`defer_packages`, then import what they
use.
"""

from __future__ import annotations

import importlib.util
import sys
import threading
from typing import Any


def _is_submodule(package: str, attr: str) -> bool:
    try:
        return importlib.util.find_spec(f"{package}.{attr}") is not None
    except (ImportError, ValueError):
        return False


def defer_init(name: str) -> None:
    """Register package ``name`` without running its ``__init__`` (nothing if it is imported already).

    Its ``__init__`` runs on the first attribute asked of it that is not a
    submodule (a submodule's name is left to the import system, which imports
    just that submodule, as it would for any package). Its parent package must
    be imported (or deferred) already.
    """
    if name in sys.modules:
        return
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        raise ModuleNotFoundError(f"No module named {name!r}", name=name)
    module = importlib.util.module_from_spec(spec)
    loader = spec.loader
    # Another thread asking while the __init__ runs waits for it to end; the
    # __init__'s own lookups (the same thread, state "running") find nothing
    # yet, as they would in the real import.
    lock = threading.RLock()
    state = "deferred"

    def __getattr__(attr: str) -> Any:
        nonlocal state
        with lock:
            if state == "deferred" and not _is_submodule(name, attr):
                state = "running"
                try:
                    loader.exec_module(module)
                except BaseException:
                    state = "deferred"
                    raise
                state = "whole"
                module.__dict__.pop("__getattr__", None)
        try:
            return module.__dict__[attr]
        except KeyError:
            raise AttributeError(f"module {name!r} has no attribute {attr!r}") from None

    module.__dict__["__getattr__"] = __getattr__
    sys.modules[name] = module
    parent, _, child = name.rpartition(".")
    setattr(sys.modules[parent], child, module)


def defer_packages(*names: str) -> None:
    """:func:`defer_init` each of ``names``, parents first."""
    for name in names:
        defer_init(name)


__all__ = ["defer_init", "defer_packages"]
