"""The core stays headless and light: no UI toolkit, no torch, no FAISS on import."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = [
    "textual",
    "torch",
    "sentence_transformers",
    "faiss",
    "click",
    "rich",
    "onnxruntime",
    "bm25s",
    "scipy",
    "mcp",
]


def modules_after(code: str) -> set[str]:
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], check=True, capture_output=True, text=True
    ).stdout
    return set(json.loads(out.splitlines()[-1]))


def test_importing_the_core_and_answer_path_loads_no_ui_or_torch() -> None:
    loaded = modules_after(
        "import assistant\n"
        "from assistant import Assistant, load_settings\n"
        "import assistant.answer, assistant.retrieval, assistant.indexing, assistant.store,"
        " assistant.embedding, assistant.conversation, assistant.evaluation, assistant.reader,"
        " assistant.reading, assistant.federation, assistant.collections"
    )
    assert "assistant.core" in loaded and "assistant.reading" in loaded  # the check works
    assert not [m for m in HEAVY if m in loaded]


def test_the_cli_module_does_not_import_textual_or_torch() -> None:
    loaded = modules_after("import assistant.cli")
    assert "click" in loaded
    assert not [m for m in ["textual", "torch", "faiss", "mcp"] if m in loaded]
