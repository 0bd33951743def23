"""The app over named collections: the status bar names the collection, and the command
palette switches to another one (a new conversation, its own status and model)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from textual.command import CommandPalette
from textual.pilot import Pilot

from assistant.tui import ExcerptaApp
from assistant.tui.widgets import StatusBar
from tests.test_tui import FakeAssistant, chat_text, plain, settle


def test_palette_switches_collection(tmp_path: Path) -> None:
    alpha, beta = FakeAssistant(tmp_path / "alpha"), FakeAssistant(tmp_path / "beta")
    beta.index_ready = False  # so the status bar visibly changes too

    async def main() -> None:
        app = ExcerptaApp(
            make_assistant=lambda: alpha,
            collection="alpha",
            collections={"alpha": lambda: alpha, "beta": lambda: beta},
        )
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            bar = plain(app.query_one(StatusBar))
            assert bar.startswith("alpha · 2 documents · 40 chunks")
            titles = [command.title for command in app.get_system_commands(app.screen)]
            assert "Collection: beta" in titles and "Collection: alpha" not in titles
            await pilot.press("ctrl+p")
            await pilot.pause()
            assert isinstance(app.screen, CommandPalette)
            await pilot.press(*"Collection: beta")
            await pilot.pause(0.5)
            await pilot.press("enter")
            await settle(app, pilot)
            await settle(app, pilot)
            assert app.collection == "beta" and app.assistant is beta
            assert plain(app.query_one(StatusBar)).startswith("beta · fake-model")
            assert f"Now asking the collection beta ({tmp_path / 'beta'})" in chat_text(app)
            await _ask(app, pilot, "When was Castillo removed from office?")
            assert beta.asked and not alpha.asked

    asyncio.run(main())


async def _ask(app: ExcerptaApp, pilot: Pilot[int], question: str) -> None:
    from assistant.tui.widgets import QuestionInput

    app.query_one(QuestionInput).value = question
    await pilot.press("enter")
    await settle(app, pilot)


def test_a_citation_asked_before_a_switch_opens_in_its_own_collection(tmp_path: Path) -> None:
    from assistant.tui.widgets import ChatLog, SourcePane

    alpha, beta = FakeAssistant(tmp_path / "alpha"), FakeAssistant(tmp_path / "beta")

    async def main() -> None:
        app = ExcerptaApp(
            make_assistant=lambda: alpha,
            collection="alpha",
            collections={"alpha": lambda: alpha, "beta": lambda: beta},
        )
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(app, pilot)
            await _ask(app, pilot, "When was Castillo removed from office?")
            await app.switch_collection("beta")
            await settle(app, pilot)
            app.query_one(ChatLog).action_cite(1)  # the earlier answer, asked of alpha
            await settle(app, pilot)
            pane = app.query_one(SourcePane)
            assert pane.display and pane.corpus == alpha.settings.corpus != beta.settings.corpus

    asyncio.run(main())
