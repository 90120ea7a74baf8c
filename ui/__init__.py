"""The terminal screen: five live tables drawn with urwid.

``ui.app.run`` owns the terminal; ``ui.actor.UiActor`` receives the system's
messages inside the urwid loop; ``ui.model`` and ``ui.render`` are pure
functions of the latest snapshots and the local view state; ``ui.keys`` and
``ui.palette`` are data. Nothing here imports a cloud or W&B library.
"""
