"""python -m assistant: the same as the `excerpta` command."""

from assistant.cli import main

main(prog_name="excerpta")
