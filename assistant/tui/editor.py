"""Opening a cited file in the user's editor at the cited line (ctrl+o)."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path
from typing import Any

from textual.app import App, SuspendNotSupported

from ..records import Citation, page_word
from .widgets.source import inside


def open_cited(app: App[Any], corpus: Path | None, citation: Citation | None) -> None:
    """Open the cited file in $VISUAL/$EDITOR (or less) at the cited line; a paged file
    (PDF, slides, sheets) gets a note saying where to look instead."""
    if citation is None or corpus is None:
        app.notify("No citation to open yet.")
        return
    path = inside(corpus, citation.path)
    if path is None or not path.is_file():
        app.notify(f"Can't open {citation.path}", severity="warning", markup=False)
        return
    if citation.page is not None:
        where = f"{page_word(citation.path)} {citation.page}"
        app.notify(f"Open {path} at {where} in its viewer.", markup=False)
        return
    editor = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "less"
    try:
        # An argument list, never a shell: the path is data.
        command = [*shlex.split(editor), f"+{citation.start_line}", str(path)]
        with app.suspend():
            subprocess.run(command, check=False)
    except (OSError, ValueError, SuspendNotSupported) as exc:
        app.notify(f"Can't run {editor}: {exc}", severity="error", markup=False)
