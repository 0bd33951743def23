"""The question input, with up/down through the questions asked before."""

from __future__ import annotations

from textual.binding import Binding
from textual.widgets import Input


class QuestionInput(Input):
    """An Input that remembers what was asked."""

    BINDINGS = [
        Binding("up", "history(-1)", "Previous question", show=False),
        Binding("down", "history(1)", "Next question", show=False),
    ]

    def __init__(self, *, placeholder: str, id: str | None = None) -> None:
        # Keep the cursor where it is on focus: typing from the chat log appends to it.
        super().__init__(placeholder=placeholder, id=id, select_on_focus=False)
        self.history: list[str] = []
        self._position = 0  # == len(history) when editing a new question
        self._draft = ""

    def remember(self, question: str) -> None:
        """Add a submitted question to the history (once, if repeated)."""
        if not self.history or self.history[-1] != question:
            self.history.append(question)
        self._position = len(self.history)
        self._draft = ""

    def action_history(self, step: int) -> None:
        """Show the previous (-1) or next (+1) question, back to the unsent draft."""
        if not self.history:
            return
        if self._position == len(self.history):
            self._draft = self.value  # keep what was being typed
        position = max(0, min(len(self.history), self._position + step))
        if position == self._position:
            return
        self._position = position
        self.value = self._draft if position == len(self.history) else self.history[position]
        self.cursor_position = len(self.value)
