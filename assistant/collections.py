"""Named collections: corpora (with their indexes) listed in the user's config file.

``$XDG_CONFIG_HOME/excerpta/config.toml`` (default ``~/.config/excerpta/config.toml``)
holds settings for every run of this user and ``[collections.NAME]`` tables, each with
``corpus``, optionally ``index`` (default ``$XDG_DATA_HOME/excerpta/NAME``) and any other
setting for that collection alone. Settings come from, lowest first: defaults, the user
config, the collection's table, the project TOML, the environment, flags; a collection
named by ``--collection`` or ``EXCERPTA_COLLECTION`` brings its corpus and index with it.
Files and the environment are read when settings are loaded, never at import time.
Must not import textual, click or torch.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import Settings, load_settings
from .errors import ConfigError, UsageError

ENVIRONMENT = "EXCERPTA_COLLECTION"
NAME_RULE = "a letter or digit, then up to 63 letters, digits, '_', '.' or '-'"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_LOCATIONS = ("corpus", "index")


@dataclass(frozen=True)
class UserConfig:
    """The user's config file as read: its own settings and its collections' tables."""

    path: Path
    settings: dict[str, Any] = field(default_factory=dict)
    collections: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return sorted(self.collections)

    def known(self) -> str:
        """The hint that lists the collections, for errors."""
        if not self.collections:
            return f"no collections are defined in {self.path}"
        return f"known collections: {', '.join(self.names)}"


def user_config_path() -> Path:
    """``$XDG_CONFIG_HOME/excerpta/config.toml``, by default under ``~/.config``."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "excerpta" / "config.toml"


def data_home() -> Path:
    """Where collections' indexes go by default: ``$XDG_DATA_HOME/excerpta``."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "excerpta"


def read_user_config(path: Path | None = None) -> UserConfig:
    """Read the user's config file; a missing one is an empty config.

    Raises:
        ConfigError: the file can't be read or a collection table is malformed.
    """
    path = path or user_config_path()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return UserConfig(path)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read config file {path}: {exc}", hint="fix the TOML") from exc
    tables = data.pop("collections", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"collections in {path} is not a table", hint="use [collections.NAME]")
    collections: dict[str, dict[str, Any]] = {}
    for name, table in tables.items():
        check_name(name, f"in {path}")
        if not isinstance(table, dict) or "corpus" not in table:
            raise ConfigError(
                f"collection {name!r} in {path} has no corpus",
                hint=f'add: [collections.{name}] corpus = "/path/to/documents"',
            )
        values = _located(dict(table), path.parent)
        values.setdefault("index", data_home() / name)
        collections[name] = values
    return UserConfig(path, _located(data, path.parent), collections)


def check_name(name: str, where: str = "") -> str:
    """``name`` if it may name a collection: its index goes in a folder of that name
    under ``data_home()``, so it can't hold a "/" or be "." or "..".

    Raises:
        UsageError: it breaks the rule (exit code 2); ``where`` says where it was found.
    """
    if not _NAME.fullmatch(name) or name in (".", ".."):
        shown = name if len(name) <= 80 else name[:77] + "..."
        place = f" {where}" if where else ""
        raise ConfigError(f"bad collection name {shown!r}{place}", hint=f"a name is {NAME_RULE}")
    return name


def _located(values: dict[str, Any], folder: Path) -> dict[str, Any]:
    """Paths in the file are relative to it; ``~`` is the home folder."""
    for key in _LOCATIONS:
        if key in values and isinstance(values[key], str):
            try:
                location = Path(values[key]).expanduser()
            except RuntimeError as exc:  # "~someone" with no such user
                raise ConfigError(
                    f"bad {key} {values[key]!r} in {folder}: {exc}",
                    hint="give a path; ~ is your home folder",
                ) from exc
            values[key] = location if location.is_absolute() else folder / location
    return values


def selected(names: Sequence[str]) -> tuple[list[str], bool]:
    """The collections asked for: ``names`` from flags, else ``EXCERPTA_COLLECTION``
    (names separated by commas). Returns them and whether they came from the environment."""
    if names:
        return list(dict.fromkeys(names)), False
    from_env = [n.strip() for n in os.environ.get(ENVIRONMENT, "").split(",") if n.strip()]
    return list(dict.fromkeys(from_env)), True


def collection_settings(
    name: str | None,
    overrides: Mapping[str, Any] | None = None,
    *,
    config_file: Path | None = None,
    user: UserConfig | None = None,
) -> Settings:
    """Settings for the collection ``name`` (``None``: no collection, just the layers).

    ``overrides`` holds the flags given; ``--corpus`` or ``--index`` beside a collection
    is an error, as both would say where the documents are.

    Raises:
        UsageError: ``name`` is not a collection of the user config (exit code 2).
        ConfigError: a file can't be read, or holds unknown settings or bad values.
    """
    user = user or read_user_config()
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    if name is None:
        return load_settings(given, config_file=config_file, user=user.settings)
    check_name(name)
    if name not in user.collections:
        raise UsageError(f"unknown collection {name!r}", hint=user.known())
    clash = [key for key in _LOCATIONS if key in given]
    if clash:
        raise UsageError(
            f"--collection and --{clash[0]} both say where the documents are",
            hint="give one of them",
        )
    table = user.collections[name]
    layer = {**user.settings, **{k: v for k, v in table.items() if k not in _LOCATIONS}}
    places = {key: table[key] for key in _LOCATIONS}
    return load_settings({**places, **given}, config_file=config_file, user=layer)


def resolve(
    names: Sequence[str],
    overrides: Mapping[str, Any] | None = None,
    *,
    config_file: Path | None = None,
) -> list[tuple[str | None, Settings]]:
    """Each collection asked for with its settings; ``[(None, settings)]`` when none is.

    A collection chosen by ``EXCERPTA_COLLECTION`` gives way to ``--corpus`` /
    ``--index`` flags (flags win over the environment).
    """
    user = read_user_config()
    chosen, from_env = selected(names)
    if from_env and any((overrides or {}).get(key) is not None for key in _LOCATIONS):
        chosen = []
    if not chosen:
        return [(None, collection_settings(None, overrides, config_file=config_file, user=user))]
    return [
        (name, collection_settings(name, overrides, config_file=config_file, user=user))
        for name in chosen
    ]
