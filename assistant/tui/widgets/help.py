"""The help screen: what the keys do."""

from __future__ import annotations

from rich.table import Table
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

KEYS = (
    ("enter", "ask the question"),
    ("up / down", "previous / next question"),
    ("/in GLOB…", "ask only files matching the globs (notes/** *.pdf); /in alone clears"),
    ("escape", "cancel the question or indexing; close the source pane"),
    ("shift+tab, tab", "move to the citations; enter or a click opens one"),
    ("1–9", "open that citation (when the chat log has focus)"),
    ("ctrl+o", "open the cited file in $EDITOR at the line"),
    ("ctrl+r", "build or update the index"),
    ("ctrl+y", "copy the last answer"),
    ("ctrl+s", "export the conversation to Markdown"),
    ("ctrl+p", "command palette"),
    ("f1", "this help"),
    ("ctrl+q", "quit"),
)
FOLLOW_UPS = (
    "A short question, or one that says he, she, it, they, this, that, his, her or "
    "their, is searched together with your last stand-alone question."
)


class HelpScreen(ModalScreen[None]):
    """Key bindings and how follow-up questions work."""

    BINDINGS = [
        Binding("escape,f1,q,question_mark", "app.pop_screen", "Close help"),
    ]

    def compose(self) -> ComposeResult:
        table = Table.grid(padding=(0, 2))
        table.add_column(style="bold cyan")
        table.add_column()
        for key, meaning in KEYS:
            table.add_row(key, meaning)
        with Vertical(id="help"):
            yield Static("Excerpta — keys", id="help-title")
            yield Static(table)
            yield Static(FOLLOW_UPS, id="help-follow-ups")
            yield Static("escape closes this help", id="help-close")
