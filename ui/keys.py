"""Key bindings: the one table the key handler and the help screen both read.

A binding is active in a context: ``tables`` (the five tables), ``detail`` (a
row's detail view), ``log`` (a row's full log), ``help``, ``health`` (the region health view) or
``global`` (anywhere but while typing a filter). While the filter is being typed, printable keys go into the filter;
``enter`` keeps it, ``esc`` clears it, and the arrow keys still move.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from arr_actors_ui.model import UiState


@dataclass(frozen=True, slots=True)
class Binding:
    keys: tuple[str, ...]
    action: str
    description: str
    context: str = "global"


BINDINGS: tuple[Binding, ...] = (
    Binding(("up", "k"), "row_up", "previous row", "tables"),
    Binding(("down", "j"), "row_down", "next row", "tables"),
    Binding(("page up",), "page_up", "page up", "tables"),
    Binding(("page down",), "page_down", "page down", "tables"),
    Binding(("home", "g"), "row_first", "first row", "tables"),
    Binding(("end", "G"), "row_last", "last row", "tables"),
    Binding(("tab",), "table_next", "next table", "tables"),
    Binding(("shift tab",), "table_prev", "previous table", "tables"),
    Binding(("enter",), "detail_open", "details of the row", "tables"),
    Binding(("/",), "filter_start", "regex filter (! inverts)", "tables"),
    Binding(("f",), "state_filter_next", "filter by state", "tables"),
    Binding(("F",), "filter_scope", "filter all tables/this", "tables"),
    Binding(("esc",), "filter_clear", "clear the filters", "tables"),
    Binding(("s",), "sort_next", "sort by next column", "tables"),
    Binding(("S",), "sort_reverse", "reverse the sort", "tables"),
    Binding(("z",), "zoom", "zoom in, with history", "tables"),
    Binding(("l",), "log_open", "full log of the row", "tables"),
    Binding(("]",), "chain_next", "next row of its chain", "tables"),
    Binding(("[",), "chain_prev", "previous row of its chain", "tables"),
    Binding(("up", "k"), "scroll_up", "scroll up", "detail"),
    Binding(("down", "j"), "scroll_down", "scroll down", "detail"),
    Binding(("page up",), "scroll_page_up", "page up", "detail"),
    Binding(("page down",), "scroll_page_down", "page down", "detail"),
    Binding(("home", "g"), "scroll_top", "top", "detail"),
    Binding(("end", "G"), "scroll_bottom", "bottom", "detail"),
    Binding(("esc", "enter"), "detail_close", "close the detail view", "detail"),
    Binding(("l",), "log_open", "full log of the row", "detail"),
    Binding(("up", "k"), "scroll_up", "scroll up", "log"),
    Binding(("down", "j"), "scroll_down", "scroll down", "log"),
    Binding(("page up",), "scroll_page_up", "page up", "log"),
    Binding(("page down",), "scroll_page_down", "page down", "log"),
    Binding(("home", "g"), "scroll_top", "oldest line", "log"),
    Binding(("end", "G"), "scroll_bottom", "newest line", "log"),
    Binding(("/",), "log_search", "search (enter runs it)", "log"),
    Binding(("n",), "log_next", "next match", "log"),
    Binding(("N",), "log_prev", "previous match", "log"),
    Binding(("e",), "log_error", "back to the error line", "log"),
    Binding(("w",), "log_wrap", "wrap long lines on/off", "log"),
    Binding(("f",), "log_follow", "pause/resume following", "log"),
    Binding(("s",), "log_save", "save the log to a file", "log"),
    Binding(("esc", "q", "l"), "log_close", "close the log", "log"),
    Binding(("up", "k"), "scroll_up", "scroll up", "help"),
    Binding(("down", "j"), "scroll_down", "scroll down", "help"),
    Binding(("page up",), "scroll_page_up", "page up", "help"),
    Binding(("page down",), "scroll_page_down", "page down", "help"),
    Binding(("home", "g"), "scroll_top", "top", "help"),
    Binding(("end", "G"), "scroll_bottom", "bottom", "help"),
    Binding(("esc", "?"), "help_close", "close this help", "help"),
    Binding(("esc", "h"), "health_close", "close region health", "health"),
    Binding(("ctrl k",), "cancel", "cancel the running item", "global"),
    Binding(("c",), "copy_id", "copy the row's id", "global"),
    Binding(("C",), "copy_link", "copy the row's URL", "global"),
    Binding(("r",), "refresh", "refresh this table now", "global"),
    Binding(("R",), "refresh_all", "refresh all tables now", "global"),
    Binding(("p",), "pause", "pause/resume refreshing", "global"),
    Binding(("h",), "health_open", "region health", "global"),
    Binding(("?",), "help_open", "show the keys", "global"),
    Binding(("q", "ctrl c"), "quit", "quit", "global"),
)

class Hint(NamedTuple):
    """A key hint of the status line: the keys as shown (``r/R``), what it
    says, and the action each of those keys triggers where it is shown."""

    keys: str
    label: str
    actions: tuple[str, ...]

    @property
    def key_names(self) -> tuple[str, ...]:
        return (self.keys,) if self.keys == "/" else tuple(self.keys.split("/"))


#: The hints the status line shows, by context, in this order when there is
#: room: only keys that do what they say there (``q`` closes the log view,
#: ``/`` searches it, ``s`` saves it).
FOOTER_HINTS: dict[str, tuple[Hint, ...]] = {
    "tables": (
        Hint("q", "quit", ("quit",)),
        Hint("?", "help", ("help_open",)),
        Hint("tab", "table", ("table_next",)),
        Hint("enter", "detail", ("detail_open",)),
        Hint("/", "filter", ("filter_start",)),
        Hint("s", "sort", ("sort_next",)),
        Hint("r/R", "refresh", ("refresh", "refresh_all")),
        Hint("p", "pause", ("pause",)),
    ),
    "detail": (
        Hint("q", "quit", ("quit",)),
        Hint("?", "help", ("help_open",)),
        Hint("esc", "close", ("detail_close",)),
        Hint("l", "log", ("log_open",)),
        Hint("r/R", "refresh", ("refresh", "refresh_all")),
        Hint("p", "pause", ("pause",)),
    ),
    "log": (
        Hint("esc/q", "close", ("log_close", "log_close")),
        Hint("?", "help", ("help_open",)),
        Hint("ctrl c", "quit", ("quit",)),
        Hint("p", "pause", ("pause",)),
    ),
    "help": (
        Hint("esc", "close", ("help_close",)),
        Hint("q", "quit", ("quit",)),
    ),
    "health": (
        Hint("esc/h", "close", ("health_close", "health_close")),
        Hint("q", "quit", ("quit",)),
        Hint("?", "help", ("help_open",)),
    ),
}


def context(state: UiState) -> str:
    """Which bindings apply: the view on top (help, region health, log, detail), else the tables."""
    if state.help_open:
        return "help"
    if state.health_open:
        return "health"
    if state.log is not None:
        return "log"
    if state.detail is not None:
        return "detail"
    return "tables"


CONTEXTS = ("tables", "detail", "log", "help", "health", "global")


def _index() -> dict[tuple[str, str], str]:
    index: dict[tuple[str, str], str] = {}
    for binding in BINDINGS:
        if binding.context not in CONTEXTS:
            raise ValueError(f"binding {binding.action}: unknown context {binding.context!r}")
        for key in binding.keys:
            if (binding.context, key) in index:
                raise ValueError(f"key {key!r} bound twice in context {binding.context!r}")
            index[(binding.context, key)] = binding.action
    return index


_INDEX = _index()


def action_for(key: str, context: str) -> str | None:
    """The action ``key`` triggers in ``context``; bindings of the context win
    over global ones."""
    return _INDEX.get((context, key)) or _INDEX.get(("global", key))


def help_rows() -> list[tuple[str, str, str]]:
    """``(context title, keys, description)`` for the help screen, in table order."""
    titles = {
        "tables": "Tables", "detail": "Detail view", "log": "Log view", "help": "Help", "health": "Region health", "global": "Anywhere",
    }
    names = {" ": "space", "shift tab": "shift-tab"}
    return [(titles[b.context], " ".join(names.get(k, k) for k in b.keys), b.description) for b in BINDINGS]


__all__ = ["BINDINGS", "FOOTER_HINTS", "Binding", "Hint", "action_for", "context", "help_rows"]
