"""The tools' bodies over one ``Federation``, run one call at a time; no SDK here, so
the model can start loading while the SDK is still being imported."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from ..errors import AssistantError
from ..federation import Federation
from .tools import answer_text, checked, hits_text

log = logging.getLogger("excerpta.mcp")


@dataclass(frozen=True)
class Reply:
    """A tool's result: its text, its structured content, and whether it is an error."""

    text: str
    data: dict[str, Any] | None = field(default=None)
    is_error: bool = False


class Tools:
    """ask, search and status over ``served``; calls wait for the warm-up."""

    def __init__(self, served: Federation) -> None:
        self.served = served
        self._lock = threading.Lock()

    def start_warm_up(self) -> None:
        """Load the model and open the indexes in a thread; the first call waits for it."""
        self._lock.acquire()  # released by the thread, so no call can slip in before it
        threading.Thread(target=self._warm_up, name="excerpta-warm-up", daemon=True).start()

    def _warm_up(self) -> None:
        try:
            self.served.warm_up()
            self.served.search_many(["warm up"], k=1)
        except AssistantError as exc:  # each call reports it again, with its hint
            log.warning("excerpta mcp: %s (%s)", exc.message, exc.hint)
        else:
            log.info("excerpta mcp: ready")
        finally:
            self._lock.release()

    def call(self, name: str, arguments: Mapping[str, Any]) -> Reply:
        """Run tool ``name``; expected errors and bad arguments become error replies."""
        try:
            with self._lock:
                return self._call(name, arguments)
        except AssistantError as exc:
            return Reply(exc.message + (f" (hint: {exc.hint})" if exc.hint else ""), None, True)
        except OSError as exc:  # the machine's (a name too long, a folder unreadable)
            return Reply(f"{exc.strerror or exc}: {exc.filename}", None, True)

    def _call(self, name: str, arguments: Mapping[str, Any]) -> Reply:
        if name == "status":
            entries = self._statuses()
            return Reply("\n".join(map(_status_line, entries)), {"collections": entries})
        if name not in ("ask", "search"):
            raise AssistantError(f"unknown tool {name!r}", hint="tools: ask, search, status")
        query = checked(name, arguments)
        self._follow_commits()
        with self._scoped(query.scope):
            if name == "ask":
                answer = self.served.ask(query.text, k=query.k, mode=query.mode)
                return Reply(answer_text(answer), answer.to_json())
            result = self.served.search(query.text, k=query.k, mode=query.mode)
            return Reply(hits_text(result), result.to_json())

    def _follow_commits(self) -> None:
        """A server lives long: a question after an update (say, by ``index --watch``)
        reads the new commit, and the old one's pin is let go (the model stays loaded)."""
        for _, assistant in self.served.members:
            opened = assistant.opened_generation()
            if opened and assistant.committed() != opened:
                assistant.refresh_index()

    @contextmanager
    def _scoped(self, globs: tuple[str, ...]) -> Iterator[None]:
        """Questions of this call search only files the globs match (``in``); each
        collection's own scope is back afterwards. Calls run one at a time."""
        if not globs:
            yield
            return
        before = [(assistant, assistant.settings.scope) for _, assistant in self.served.members]
        try:
            unmatched = set(globs)
            for assistant, _ in before:
                assistant.set_scope(globs)
                selection = assistant.selection()
                unmatched &= set(selection.unmatched if selection is not None else ())
            for glob in (g for g in globs if g in unmatched):
                log.warning("excerpta mcp: in %r matches no indexed file", glob)
            yield
        finally:
            for assistant, scope in before:
                assistant.set_scope(scope)

    def _statuses(self) -> list[dict[str, Any]]:
        entries = []
        for name, assistant in self.served.members:
            settings = assistant.settings
            entry: dict[str, Any] = {
                "collection": name,
                "corpus": str(settings.corpus),
                "index": str(settings.index),
            }
            try:
                entry.update(assistant.status().to_json())
            except AssistantError as exc:
                entry.update(index_ready=False, problem=exc.message)
            entries.append(entry)
        return entries


def _status_line(entry: Mapping[str, Any]) -> str:
    name = entry["collection"] or entry["corpus"]
    if not entry.get("index_ready"):
        return f"{name}: index not usable ({entry.get('problem') or 'not built'})"
    stale = "changed since indexed" if entry.get("stale") else "up to date"
    return f"{name}: {entry['files']} files, {entry['chunks']} chunks, {stale}"
