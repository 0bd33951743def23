"""The Textual face of Excerpta: ``run_tui(settings)`` opens the chat app.

The CLI calls ``run_tui`` when ``excerpta`` is run without a subcommand. Tests build
``ExcerptaApp`` directly and hand it a fake assistant.
"""

from __future__ import annotations

from ..config import Settings
from ..core import Assistant
from ..errors import ExitCode
from .app import ExcerptaApp
from .protocol import AppAssistant

__all__ = ["AppAssistant", "ExcerptaApp", "run_tui"]


def run_tui(settings: Settings) -> int:
    """Run the app until the user quits; returns the process exit code."""
    app = ExcerptaApp(make_assistant=lambda: Assistant(settings))
    app.run()
    return int(app.return_code or ExitCode.OK)
