"""The bundled model is checked before use; the ONNX encoder folder is keyed by model."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from assistant.embedding.export import encoder_dir, has_encoder
from assistant.embedding.model_files import resolve_model_path, verify_bundled_weights
from assistant.embedding.sentence_transformer import SentenceTransformerEmbedder
from assistant.errors import ModelError


def tampered_copy(tmp_path: Path) -> Path:
    real = resolve_model_path("all-MiniLM-L6-v2")
    fake = tmp_path / "model"
    shutil.copytree(real, fake, ignore=shutil.ignore_patterns("model.safetensors"))
    (fake / "model.safetensors").write_bytes(b"tampered weights")
    return fake


def test_the_shipped_weights_match_their_hash() -> None:
    verify_bundled_weights(resolve_model_path("all-MiniLM-L6-v2"))


def test_tampered_weights_are_refused_before_loading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = tampered_copy(tmp_path)
    with pytest.raises(ModelError, match="SHA-256") as info:
        verify_bundled_weights(fake)
    assert "reinstall" in info.value.hint
    monkeypatch.setattr(
        "assistant.embedding.sentence_transformer.resolve_model_path", lambda name: fake
    )
    with pytest.raises(ModelError, match="SHA-256"):
        SentenceTransformerEmbedder().embed_queries(["a question"])


def test_unknown_model_names_fail_offline_with_a_hint() -> None:
    with pytest.raises(ModelError) as info:
        resolve_model_path("no-such-org/no-such-model-xyz")
    assert "path" in info.value.hint


def test_encoder_folders_are_per_model(tmp_path: Path) -> None:
    assert encoder_dir(tmp_path, "a") != encoder_dir(tmp_path, "b")
    assert not has_encoder(tmp_path, "a")
