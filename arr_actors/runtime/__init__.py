"""The actor runtime: per-table fetch processes supervised by a watchdog.

Public entry points: :func:`arr_actors.runtime.system.start` (the live tree) and
:func:`arr_actors.runtime.once.run_once` (one round of every table).

One snapshot's journey, from the fetch process to the screen — one type per hop,
and the module that produces it:

1. ``StartFetch`` (``runtime/policy``): the policy decides a fetch is due; the
   watchdog hands it to the table's fetcher (``runtime/fetcher.py``), which sends
   it, as it is, through the codec to the table's fetch process.
2. ``TableData`` (``arr_actors/sources``): the source's fetch function, called
   by ``runtime/child.py`` in the fetch process.
3. ``FetchResult`` (``runtime/child.py``): the answer to that StartFetch, codec
   JSON on the child's socket. The fetcher's reader thread hands the bytes on
   untouched (tagged with the child's token, ``protocol.ChildMessage``); the
   fetcher decodes and checks them and passes the same FetchResult on to the
   watchdog, which forwards it to the policy.
4. ``TableState`` (``runtime/policy/transitions.py``): ``policy.handle`` folds
   the FetchResult into the table's state — the rows, or the error over the
   last known good rows (the previous run's at a warm start).
5. ``TableSnapshot`` (``runtime/policy/state.py``): ``policy.snapshot`` of that
   state, published by the watchdog to every subscriber (the UI actor, a
   recorder, the warm-start writer) alike.
6. ``UiState`` (``ui/model.py``): the UI actor folds the snapshot into the
   screen's immutable state, drawn as a pure function of it.

This package's ``__init__`` imports nothing on purpose: the launcher process
imports ``arr_actors.runtime.launcher`` and must not pull in pykka or anything
else the fetch processes do not need.
"""
