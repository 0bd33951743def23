"""Errors the core raises. Each carries a one-line hint and the exit code the CLI uses.

The faces (CLI, TUI) decide how to show them; the core never prints.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum

REBUILD_HINT = "rebuild it: excerpta index --full"


class ExitCode(IntEnum):
    """Process exit codes, documented in docs/json-and-exit-codes.md, "Exit codes"."""

    OK = 0
    FAILURE = 1
    USAGE = 2
    INDEX_UNUSABLE = 3
    INTERRUPTED = 130


class AssistantError(Exception):
    """Base class for expected errors: a message, a hint and an exit code."""

    exit_code: ExitCode = ExitCode.FAILURE

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class UsageError(AssistantError):
    """Bad options or input from the user."""

    exit_code = ExitCode.USAGE


class ConfigError(UsageError):
    """A configuration file that can't be read or holds unknown settings."""


class CorpusError(AssistantError):
    """The corpus folder is missing or unreadable."""


class LoaderError(AssistantError):
    """One document could not be read; the indexer skips it with this reason."""


class ModelError(AssistantError):
    """The embedding model can't be found or loaded."""


@contextmanager
def model_errors(what: str, hint: str) -> Iterator[None]:
    """Turn what a model runtime raises (tokenizers' and onnxruntime's exceptions, and
    pyo3's PanicException, which derives from BaseException alone) into a ModelError.
    Ctrl-C, exits and Excerpta's own errors pass through."""
    try:
        yield
    except (AssistantError, KeyboardInterrupt, SystemExit, GeneratorExit, MemoryError):
        raise
    except BaseException as exc:  # a panic in Rust code is a BaseException only
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"{what} failed: {first}", hint=hint) from exc


class IndexUnusableError(AssistantError):
    """The index is missing, corrupt, or built with other settings."""

    exit_code = ExitCode.INDEX_UNUSABLE


class IndexMissingError(IndexUnusableError):
    """No index has been built yet."""


class IndexCorruptError(IndexUnusableError):
    """The index on disk can't be read."""


class IndexMismatchError(IndexUnusableError):
    """The index was built with another model or chunking settings."""


class IndexLockedError(AssistantError):
    """Another process is updating the index."""


class IndexChangedError(AssistantError):
    """Another process committed while the index was being opened, and removed files of
    the commit being read: opening it again reads the newer commit."""


class ClusterError(AssistantError):
    """The Ray cluster can't be used (Ray missing, unreachable), or a worker failed."""


class Cancelled(AssistantError):
    """The user cancelled a long operation."""

    exit_code = ExitCode.INTERRUPTED
