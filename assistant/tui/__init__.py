"""The Textual face of Excerpta: ``run_tui(settings)`` opens the chat app.

The CLI calls ``run_tui`` when ``excerpta`` is run without a subcommand. Tests build
``ExcerptaApp`` directly and hand it a fake assistant.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import partial

from ..config import Settings
from ..core import Assistant
from ..errors import ExitCode
from .app import ExcerptaApp
from .protocol import AppAssistant

__all__ = ["AppAssistant", "ExcerptaApp", "run_tui"]


def run_tui(
    settings: Settings,
    collection: str | None = None,
    collections: Mapping[str, Callable[[], Settings]] | None = None,
) -> int:
    """Run the app until the user quits; returns the process exit code.

    ``collections`` gives the settings of each named collection the command palette can
    switch to; ``collection`` names the one ``settings`` are for.
    """
    switch = {name: partial(_assistant, read) for name, read in (collections or {}).items()}
    app = ExcerptaApp(
        make_assistant=lambda: Assistant(settings), collection=collection, collections=switch
    )
    app.run()
    return int(app.return_code or ExitCode.OK)


def _assistant(read: Callable[[], Settings]) -> Assistant:
    return Assistant(read())
