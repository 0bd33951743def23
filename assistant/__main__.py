"""python -m assistant: the same as the `excerpta` command."""

from assistant.cli import run

run()
