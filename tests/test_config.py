"""Settings: defaults < TOML file < environment < flags, checked names, types and bounds.

The CLI's own tests (test_cli.py) check that these reach the commands; here
``load_settings`` is called directly.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest

from assistant.config import ChunkingSettings, Settings, load_settings
from assistant.errors import ConfigError, ExitCode

pytestmark = pytest.mark.usefixtures("isolated")


def toml(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def config_error(overrides: dict[str, Any] | None = None, **kwargs: Any) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_settings(overrides, **kwargs)
    assert info.value.exit_code == ExitCode.USAGE
    assert info.value.hint
    return info.value


# --- where settings come from --------------------------------------------------------


def test_without_file_environment_or_flags_the_defaults_hold() -> None:
    assert load_settings() == Settings()
    assert load_settings({"k": None, "mode": None}) == Settings()  # unset flags are None


def test_each_layer_overrides_the_one_below(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = toml(
        tmp_path / "conf" / "excerpta.toml",
        'corpus = "/file/corpus"\nindex = "/file/index"\nmodel = "file-model"\nk = 7\n',
    )
    from_file = load_settings(config_file=config)
    assert (from_file.corpus, from_file.index) == (Path("/file/corpus"), Path("/file/index"))
    assert (from_file.model, from_file.k) == ("file-model", 7)
    assert from_file.mode == Settings().mode  # not in the file: the default

    monkeypatch.setenv("EXCERPTA_CORPUS", "/env/corpus")
    monkeypatch.setenv("EXCERPTA_MODEL", "env-model")
    from_env = load_settings(config_file=config)
    assert (from_env.corpus, from_env.index) == (Path("/env/corpus"), Path("/file/index"))
    assert (from_env.model, from_env.k) == ("env-model", 7)

    flagged = load_settings({"model": "flag-model", "k": 3}, config_file=config)
    assert (flagged.corpus, flagged.index) == (Path("/env/corpus"), Path("/file/index"))
    assert (flagged.model, flagged.k) == ("flag-model", 3)


def test_the_environment_locates_corpus_index_and_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXCERPTA_CORPUS", "docs")
    monkeypatch.setenv("EXCERPTA_INDEX", "/var/idx")
    monkeypatch.setenv("EXCERPTA_MODEL", "my-model")
    settings = load_settings()
    assert settings.corpus == Path("docs")  # relative to the working directory, as given
    assert settings.index == Path("/var/idx")
    assert settings.model == "my-model"


def test_an_empty_environment_variable_is_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXCERPTA_MODEL", "")
    assert load_settings().model == Settings().model


def test_relative_paths_in_the_file_are_taken_from_its_folder(tmp_path: Path) -> None:
    config = toml(
        tmp_path / "project" / "excerpta.toml", 'corpus = "docs"\nindex = "../shared/idx"\n'
    )
    settings = load_settings(config_file=config)
    assert settings.corpus == tmp_path / "project" / "docs"
    assert settings.index == tmp_path / "project" / ".." / "shared" / "idx"


def test_absolute_and_home_paths_in_the_file_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    config = toml(tmp_path / "excerpta.toml", 'corpus = "/data/corpus"\nindex = "~/idx"\n')
    settings = load_settings(config_file=config)
    assert settings.corpus == Path("/data/corpus")
    assert settings.index == tmp_path / "home" / "idx"


def test_the_file_is_found_by_flag_then_environment_then_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    toml(Path("excerpta.toml"), "k = 1\n")  # the isolated fixture's working directory
    assert load_settings().k == 1
    monkeypatch.setenv("EXCERPTA_CONFIG", str(toml(tmp_path / "env.toml", "k = 2\n")))
    assert load_settings().k == 2
    assert load_settings(config_file=toml(tmp_path / "flag.toml", "k = 3\n")).k == 3


def test_dashes_and_underscores_name_the_same_setting(tmp_path: Path) -> None:
    config = toml(tmp_path / "excerpta.toml", "chunk-tokens = 200\n")
    assert load_settings({"overlap-tokens": 10}, config_file=config).chunking == (
        ChunkingSettings(200, 10, Settings().encoding)
    )


def test_values_from_the_environment_and_flags_are_converted() -> None:
    settings = load_settings({"k": "9", "max_file_mb": "1.5", "index": "~/x"})
    assert settings.k == 9 and settings.max_file_mb == 1.5
    assert settings.index == Path("~/x").expanduser()


# --- what is refused -----------------------------------------------------------------


def test_an_unknown_setting_names_the_known_ones(tmp_path: Path) -> None:
    config = toml(tmp_path / "excerpta.toml", 'modle = "x"\n')
    error = config_error(config_file=config)
    assert "unknown setting 'modle'" in error.message and str(config) in error.message
    assert error.hint.startswith("known settings: ")
    known = error.hint.removeprefix("known settings: ").split(", ")
    assert known == sorted(f.name for f in dataclasses.fields(Settings))


def test_an_unknown_flag_is_refused_too() -> None:
    assert "unknown setting 'depth'" in config_error({"depth": 3}).message


def test_lists_of_strings_come_from_toml_lists_or_comma_separated_text(tmp_path: Path) -> None:
    config = toml(
        tmp_path / "excerpta.toml", 'text_extensions = ["py", ".log"]\nscope = "notes/**, *.pdf"\n'
    )
    settings = load_settings(config_file=config)
    assert settings.text_extensions == ("py", ".log")
    assert settings.scope == ("notes/**", "*.pdf")
    error = config_error(config_file=toml(tmp_path / "bad.toml", "scope = [1, 2]\n"))
    assert error.hint == "scope takes a list of strings"


@pytest.mark.parametrize(
    "line", ['k = "five"', "k = [5]", 'max_file_mb = "big"', "chunk_tokens = {}", "k = true"]
)
def test_a_value_of_the_wrong_type_is_refused(tmp_path: Path, line: str) -> None:
    error = config_error(config_file=toml(tmp_path / "excerpta.toml", line + "\n"))
    key = line.split(" =")[0]
    assert "bad value" in error.message and key in error.message
    assert error.hint.startswith(f"{key} takes a ")


@pytest.mark.parametrize("value", ["160.5", "inf", "nan"])
def test_a_whole_number_is_not_a_fraction_or_infinite(tmp_path: Path, value: str) -> None:
    config = toml(tmp_path / "excerpta.toml", f"chunk_tokens = {value}\n")
    assert "bad value" in config_error(config_file=config).message


def test_a_whole_float_is_a_whole_number(tmp_path: Path) -> None:
    assert load_settings(config_file=toml(tmp_path / "c.toml", "k = 4.0\n")).k == 4


def test_a_bad_number_in_the_environment_is_refused() -> None:
    assert "bad value 'lots'" in config_error({"batch_size": "lots"}).message


@pytest.mark.parametrize(
    ("text", "message"),
    [("k = \n", "cannot read config file"), ("\xff\xfe", "cannot read config file")],
)
def test_an_unreadable_file_is_refused(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "excerpta.toml"
    config.write_bytes(text.encode("latin-1"))
    assert message in config_error(config_file=config).message


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    error = config_error(config_file=tmp_path / "nope.toml")
    assert "config file not found" in error.message and "--config" in error.hint


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"k": 0}, "k must be from 1 to 50"),
        ({"k": 51}, "k must be from 1 to 50"),
        ({"chunk_tokens": 15}, "chunk_tokens must be between 16 and 8192"),
        ({"chunk_tokens": 8193}, "chunk_tokens must be between 16 and 8192"),
        ({"overlap_tokens": 160, "chunk_tokens": 160}, "overlap_tokens must be"),
        ({"overlap_tokens": -1}, "overlap_tokens must be"),
        ({"max_file_mb": 0}, "size limits must be positive"),
        ({"max_corpus_mb": -1}, "size limits must be positive"),
        ({"mode": "semantic"}, "unknown mode 'semantic'"),
    ],
)
def test_values_out_of_bounds_are_refused(change: dict[str, Any], message: str) -> None:
    assert message in config_error(change).message


def test_an_unknown_mode_lists_the_modes() -> None:
    assert config_error({"mode": "fuzzy"}).hint == "use one of: hybrid, dense, lexical"


@pytest.mark.parametrize(
    "change",
    [
        {"k": 1},
        {"chunk_tokens": 16, "overlap_tokens": 15},
        {"chunk_tokens": 8192},
        {"overlap_tokens": 0},
        {"mode": "dense"},
        {"mode": "lexical"},
    ],
)
def test_values_at_the_bounds_are_accepted(change: dict[str, Any]) -> None:
    settings = load_settings(change)
    assert {key: getattr(settings, key) for key in change} == change


# --- chunking ------------------------------------------------------------------------


def test_chunking_defaults_are_the_settings_defaults() -> None:
    settings = Settings()
    assert ChunkingSettings() == settings.chunking
    assert {f.name for f in dataclasses.fields(ChunkingSettings)} <= {
        f.name for f in dataclasses.fields(Settings)
    }
    for field in dataclasses.fields(ChunkingSettings):
        assert getattr(ChunkingSettings(), field.name) == getattr(settings, field.name)


def test_chunking_follows_the_settings() -> None:
    settings = Settings(chunk_tokens=300, overlap_tokens=50, encoding="o200k_base")
    assert settings.chunking == ChunkingSettings(300, 50, "o200k_base")


def test_a_local_build_commits_at_its_end_and_a_ray_build_every_50000_chunks() -> None:
    from assistant.config import RAY_COMMIT_EVERY

    local = Settings()
    assert local.commit_interval > 10**12  # one segment: a large build keeps one IVF index
    assert dataclasses.replace(local, ray="local").commit_interval == RAY_COMMIT_EVERY == 50_000
    assert dataclasses.replace(local, commit_every=8).commit_interval == 8
    assert dataclasses.replace(local, ray="auto", commit_every=8).commit_interval == 8


@pytest.mark.parametrize("scope", [["x" * 1001], ["notes/[z-a]"]])
def test_a_scope_the_globs_refuse_is_a_config_error(scope: list[str]) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings(scope=tuple(scope)).validate()
    assert raised.value.message.startswith("scope: ") and raised.value.hint


def test_a_home_folder_that_does_not_exist_is_a_config_error(tmp_path: Path) -> None:
    config = tmp_path / "excerpta.toml"
    config.write_text('corpus = "~nosuchuser-excerpta/docs"\n')
    with pytest.raises(ConfigError) as raised:
        load_settings(config_file=config)
    assert "bad value '~nosuchuser-excerpta/docs' for corpus" in raised.value.message
