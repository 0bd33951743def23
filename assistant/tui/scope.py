"""The TUI's scope command: ``/in GLOB ...`` limits questions to some files, ``/in`` alone
searches everything again. What the chat says when a scope is set."""

from __future__ import annotations

import shlex

COMMAND = "/in"


def scope_command(text: str) -> tuple[str, ...] | None:
    """The globs of a ``/in`` command (() clears the scope), or None for a question."""
    text = text.strip()
    if text != COMMAND and not text.startswith(COMMAND + " "):
        return None
    rest = text[len(COMMAND) :]
    try:
        return tuple(shlex.split(rest))
    except ValueError:  # an unclosed quote: take the words as typed
        return tuple(rest.split())


def scope_notice(globs: tuple[str, ...], files: int, unmatched: tuple[str, ...]) -> str:
    """One line for the chat once a scope is set (or cleared); ``files`` is -1 when
    there is no index to match the globs against yet."""
    if not globs:
        return "Scope cleared: questions search all your documents."
    shown = " ".join(globs)
    if files < 0:
        return f"Scope {shown} applies once there is an index."
    if unmatched:
        missing = ", ".join(repr(g) for g in unmatched)
        if not files:
            return f"No indexed file matches {missing}: questions will find nothing. /in clears."
        return f"Scope {shown}: {files} files; no indexed file matches {missing}."
    noun = "file" if files == 1 else "files"
    return f"Questions now search only {shown} ({files} {noun}). /in clears the scope."
