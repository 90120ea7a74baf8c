"""One module per element of the screen: each turns the state into lines of markup.

``title`` (a table's title and freshness line), ``tables`` (the table area),
``detail`` (the detail view of a row or table), ``help`` (the key bindings) and
``footer`` (toasts and the status line). ``ui.screen`` puts them together.
"""
