"""The terminal screen: five live tables drawn with urwid (installed as ``arr_actors_ui``).

The folder is ``ui/``; the installed package is named ``arr_actors_ui`` so that it
cannot collide with another project's ``ui``, and every import uses that name.
Below, ``ui.X`` is ``arr_actors_ui.X``. ``ui.app.run`` owns the terminal; ``ui.actor.UiActor`` receives the system's
messages inside the urwid loop; ``ui.model``, ``ui.visible`` (which rows a
table shows) and ``ui.screen`` are pure functions of the latest snapshots and
the local view state. ``ui.screen``
puts together one view per screen element (``ui.views``: tables, title lines,
detail, help, footer), built from ``ui.columns`` (cells, widths and their
caches) and ``ui.text`` (measuring and fitting), and drawn by ``ui.canvas`` through the one widget, ``ui.widget``;
``ui.context`` holds what drawing needs beyond the state. ``ui.keys`` and
``ui.palette`` are data. Nothing here imports a cloud or W&B library.
"""
