"""The actor runtime: per-table fetch processes supervised by a watchdog.

Public entry points: :func:`arr_actors.runtime.system.start` (the live tree) and
:func:`arr_actors.runtime.once.run_once` (one round of every table).

This package's ``__init__`` stays empty on purpose: the launcher process imports
``arr_actors.runtime.launcher`` and must not pull in pykka or anything else the
fetch processes do not need.
"""
