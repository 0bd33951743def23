"""Reliability: crashes and Ctrl-C mid-update, two processes at once, a damaged index,
a malicious index, no network, and nothing read or run outside the corpus.

Subprocess tests run the real CLI through ``tests/fake_model_cli.py`` (FakeEmbedder, with
hooks to sleep or pause at a chosen stage so a signal lands there). Timeouts are generous
because a benchmark may share the CPU; nothing asserts on speed.
"""

from __future__ import annotations

import contextlib
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner

from assistant.cli import main
from assistant.config import Settings
from assistant.conversation import Conversation
from assistant.core import Assistant, Status
from assistant.embedding import Encoders
from assistant.errors import IndexUnusableError
from assistant.indexing import update_index
from assistant.records import Answer, Citation, IndexReport
from tests.fakes import FakeEmbedder
from tests.index_state import committed, orphans

pytestmark = pytest.mark.usefixtures("isolated")

ROOT = Path(__file__).resolve().parent.parent
HOOK = ROOT / "tests" / "fake_model_cli.py"
SAMPLE = ROOT / "corpus" / "peru-coup-government-us-troops.txt"
TIMEOUT = 120  # seconds for any one subprocess; generous, never a speed assertion
TOMATO_QUESTION = "When were the tomatoes planted?"
TOMATO_ANSWER = "The tomatoes were planted in May."
ZEPPELIN_QUESTION = "Where does the zeppelin land?"
ZEPPELIN_ANSWER = "The zeppelin lands beside the harbour."


def _where(settings: Settings) -> list[str]:
    return ["--corpus", str(settings.corpus), "--index", str(settings.index)]


def _start(args: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(HOOK), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(HOOK), *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
    )


def _wait_for(path: Path, process: subprocess.Popen[str]) -> None:
    """Wait until the process creates ``path`` (its pause began)."""
    deadline = time.monotonic() + TIMEOUT
    while not path.exists():
        if process.poll() is not None:
            _, err = process.communicate()
            pytest.fail(f"exited {process.returncode} before the pause:\n{err}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"{path.name} never appeared")
        time.sleep(0.02)


def _finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=TIMEOUT)
    return process.returncode, out, err


def _live(index: Path) -> str:
    """The latest commit, named as the generation folders of format 2 were."""
    return f"gen-{committed(index):06d}"


def _answer(settings: Settings, question: str) -> Answer:
    return Assistant(settings, encoders=Encoders.single(FakeEmbedder())).ask(question)


def _change_corpus(settings: Settings) -> None:
    """Changes the next update must pick up: a new file and an edited one."""
    (settings.corpus / "zeppelin.txt").write_text(f"{ZEPPELIN_ANSWER}\n")
    with (settings.corpus / "recipes.txt").open("a") as handle:
        handle.write("\nRye bread keeps for a week.\n")


def _assert_recovers(settings: Settings) -> None:
    """The next update completes, answers the new question, and leaves no debris."""
    update_index(settings, Encoders.single(FakeEmbedder()))
    assert ZEPPELIN_ANSWER in _answer(settings, ZEPPELIN_QUESTION).text
    assert TOMATO_ANSWER in _answer(settings, TOMATO_QUESTION).text
    assert not Assistant(settings, encoders=Encoders.single(FakeEmbedder())).status().stale
    assert orphans(settings.index) == []  # partial segments deleted


@pytest.fixture
def built(settings: Settings) -> Settings:
    """An index of the fixture corpus (gen-000001), then a corpus that changed since."""
    update_index(settings, Encoders.single(FakeEmbedder()))
    assert _live(settings.index) == "gen-000001"
    _change_corpus(settings)
    return settings


# --- crash safety: SIGKILL and SIGINT mid-update --------------------------------------------

# Stages tests/fake_model_cli.py can pause at, in the order an update reaches them, and
# whether the new generation is live by then.
STAGES = {"embed": False, "bm25": False, "vectors": False, "rename": False, "commit": False}


def _index_paused_at(built: Settings, tmp_path: Path, stage: str) -> subprocess.Popen[str]:
    """Start `excerpta index` and return once it is paused at ``stage``."""
    ready = tmp_path / "ready"
    process = _start(
        ["index", *_where(built)],
        {"EXCERPTA_FAKE_PAUSE": f"{stage}:60", "EXCERPTA_FAKE_READY": str(ready)},
    )
    _wait_for(ready, process)
    return process


@pytest.mark.parametrize("stage", [*STAGES, "prune"])
def test_sigkill_at_each_stage_keeps_an_index_that_answers(
    built: Settings, tmp_path: Path, stage: str
) -> None:
    process = _index_paused_at(built, tmp_path, stage)
    process.send_signal(signal.SIGKILL)
    process.wait(TIMEOUT)

    if stage == "prune":  # committed just before the kill: the new index is live
        assert _live(built.index) == "gen-000002"
        assert ZEPPELIN_ANSWER in _answer(built, ZEPPELIN_QUESTION).text
    else:
        assert _live(built.index) == "gen-000001"
        assert ZEPPELIN_ANSWER not in _answer(built, ZEPPELIN_QUESTION).text
    assert TOMATO_ANSWER in _answer(built, TOMATO_QUESTION).text
    result = _run(["ask", TOMATO_QUESTION, *_where(built)])
    assert result.returncode == 0 and TOMATO_ANSWER in result.stdout, result.stderr
    _assert_recovers(built)


@pytest.mark.parametrize("seed", range(3))
def test_sigkill_after_a_random_delay_keeps_an_index_that_answers(
    built: Settings, seed: int
) -> None:
    """Kills land anywhere: start-up, planning, embedding (slowed), writing, or after."""
    for n in range(30):
        (built.corpus / f"bulk-{n:02d}.txt").write_text(
            f"Bulk note {n} about the {n}th lantern in the arcade.\n\n" * 3
        )
    delay = random.Random(seed).uniform(0.1, 2.5)
    process = _start(["index", *_where(built)], {"EXCERPTA_FAKE_SLEEP": "0.03"})
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait(TIMEOUT)

    assert _live(built.index) in ("gen-000001", "gen-000002"), f"killed after {delay:.2f}s"
    assert TOMATO_ANSWER in _answer(built, TOMATO_QUESTION).text
    _assert_recovers(built)


@pytest.mark.parametrize("stage", ["embed", "commit", "prune"])
def test_ctrl_c_during_index_exits_130_and_keeps_a_whole_index(
    built: Settings, tmp_path: Path, stage: str
) -> None:
    process = _index_paused_at(built, tmp_path, stage)
    process.send_signal(signal.SIGINT)
    code, out, err = _finish(process)

    assert code == 130, err
    assert "excerpta: error: interrupted" in err
    assert "Traceback" not in err and out == ""
    if stage == "prune":
        # Interrupted after the commit: the new generation must survive.
        assert ZEPPELIN_ANSWER in _answer(built, ZEPPELIN_QUESTION).text
    else:
        assert _live(built.index) == "gen-000001"
        assert orphans(built.index) == []  # the partial segment was removed
    assert TOMATO_ANSWER in _answer(built, TOMATO_QUESTION).text
    _assert_recovers(built)


def test_error_after_the_switch_keeps_the_new_index(built: Settings) -> None:
    """Failing while pruning (already committed) must not undo the live index."""

    def fail_at_prune(stage: str, done: int, total: int) -> None:
        if stage == "prune":
            raise OSError(5, "Input/output error")

    with pytest.raises(OSError):
        update_index(built, Encoders.single(FakeEmbedder()), progress=fail_at_prune)
    assert _live(built.index) == "gen-000002"
    assert ZEPPELIN_ANSWER in _answer(built, ZEPPELIN_QUESTION).text
    _assert_recovers(built)


# --- concurrency ------------------------------------------------------------------------------


def test_second_index_refuses_while_the_first_holds_the_lock(
    built: Settings, tmp_path: Path
) -> None:
    ready = tmp_path / "ready"
    first = _start(
        ["index", *_where(built)],
        {"EXCERPTA_FAKE_PAUSE": "embed:60", "EXCERPTA_FAKE_READY": str(ready)},
    )
    _wait_for(ready, first)
    try:
        second = _run(["index", *_where(built)])
        assert second.returncode == 1, second.stderr
        assert "another excerpta process" in second.stderr
        assert "hint: wait for it to finish" in second.stderr
        assert "Traceback" not in second.stderr and second.stdout == ""
        # Readers don't wait for the lock.
        asked = _run(["ask", TOMATO_QUESTION, *_where(built)])
        assert asked.returncode == 0 and TOMATO_ANSWER in asked.stdout
    finally:
        first.send_signal(signal.SIGINT)
        code, _, err = _finish(first)
    assert code == 130, err
    third = _run(["index", *_where(built)])  # the lock was released
    assert third.returncode == 0, third.stderr
    assert ZEPPELIN_ANSWER in _answer(built, ZEPPELIN_QUESTION).text


def test_asking_while_updates_run_always_sees_a_whole_index(built: Settings) -> None:
    stop = threading.Event()
    answers: list[str] = []
    errors: list[BaseException] = []
    kept = Assistant(
        built, encoders=Encoders.single(FakeEmbedder())
    )  # one long-lived, reloading reader

    def ask_repeatedly() -> None:
        while not stop.is_set():
            try:
                fresh = Assistant(
                    built, encoders=Encoders.single(FakeEmbedder())
                )  # opens CURRENT anew
                answers.append(fresh.ask(TOMATO_QUESTION).text)
                kept.reload()
                answers.append(kept.ask(TOMATO_QUESTION).text)
                answers.append(fresh.search("basil sun").hits[0].chunk.path)
            except BaseException as exc:  # any failure is what this test looks for
                errors.append(exc)
                return

    reader = threading.Thread(target=ask_repeatedly)
    reader.start()
    try:
        for n in range(8):
            (built.corpus / "recipes.txt").write_text(f"Update number {n} of the recipes.\n")
            update_index(built, Encoders.single(FakeEmbedder()))
    finally:
        stop.set()
        reader.join(TIMEOUT)
    assert not errors, errors
    assert len(answers) >= 6  # the reader really ran alongside the updates
    assert all(a in (TOMATO_ANSWER + " [1]", "notes/garden.md") for a in answers), set(answers)
    assert _live(built.index) == "gen-000009"


# --- a damaged index, through the real CLI ----------------------------------------------------


def _truncate_vectors(generation: Path) -> None:
    path = generation / "vectors.faiss"
    path.write_bytes(path.read_bytes()[:100])


def _garble_sqlite(segment: Path) -> None:
    index = segment.parent.parent
    for suffix in ("-wal", "-shm"):
        (index / f"index.sqlite{suffix}").unlink(missing_ok=True)
    path = index / "index.sqlite"
    data = bytearray(path.read_bytes())
    for i in range(0, len(data), 5):
        data[i] ^= 0xA5
    path.write_bytes(bytes(data))


def _delete_bm25(generation: Path) -> None:
    shutil.rmtree(generation / "bm25")


@pytest.mark.parametrize(
    "damage",
    [_truncate_vectors, _garble_sqlite, _delete_bm25],
    ids=["vectors truncated", "sqlite garbled", "bm25 missing"],
)
def test_damaged_index_is_exit_3_without_traceback_and_full_rebuilds(
    settings: Settings, damage: Any
) -> None:
    update_index(settings, Encoders.single(FakeEmbedder()))
    damage(settings.index / "segments" / "seg-000001")
    result = _run(["ask", TOMATO_QUESTION, *_where(settings)])
    assert result.returncode == 3, result.stderr
    assert "excerpta: error:" in result.stderr and "hint:" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "assistant.cli.make_assistant", lambda s: Assistant(s, Encoders.single(FakeEmbedder()))
        )
        searched = CliRunner().invoke(main, ["search", "tomatoes", *_where(settings)])
    assert searched.exit_code == 3 and "hint:" in searched.stderr
    rebuilt = _run(["index", "--full", *_where(settings)])
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert TOMATO_ANSWER in _answer(settings, TOMATO_QUESTION).text


# --- nothing in index/ is unpickled ------------------------------------------------------------


class _Payload:
    """Pickles to a call of open(marker, "w"): loading it creates the marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.marker, "w"))


def _write_payload(path: Path, marker: Path) -> None:
    array = np.empty(1, dtype=object)
    array[0] = _Payload(marker)
    with path.open("wb") as handle:
        np.save(handle, array, allow_pickle=True)


@pytest.mark.parametrize("target", ["chunk_ids.npy", "data.csc.index.npy", "indptr.csc.index.npy"])
def test_pickle_payload_in_the_index_is_never_loaded(
    settings: Settings, tmp_path: Path, target: str
) -> None:
    # The payload is live: loading it with pickle allowed creates its marker.
    probe_marker = tmp_path / "probe-marker"
    _write_payload(tmp_path / "probe.npy", probe_marker)
    np.load(tmp_path / "probe.npy", allow_pickle=True)
    assert probe_marker.exists()

    update_index(settings, Encoders.single(FakeEmbedder()))
    marker = tmp_path / "pwned"
    _write_payload(settings.index / "segments" / "seg-000001" / "bm25" / target, marker)
    with pytest.raises(IndexUnusableError):
        _answer(settings, TOMATO_QUESTION)
    result = _run(["ask", TOMATO_QUESTION, *_where(settings)])
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    Assistant(settings, encoders=Encoders.single(FakeEmbedder())).status()
    update_index(
        settings, Encoders.single(FakeEmbedder())
    )  # a plain update only reads SQLite and JSON
    assert not marker.exists()


# --- no network at run time ---------------------------------------------------------------------


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every connection and name lookup fails; the attempts are recorded."""
    attempts: list[str] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        attempts.append(repr(args))
        raise OSError("network blocked by the test")

    for name in ("connect", "connect_ex"):
        monkeypatch.setattr(socket.socket, name, refuse)
    for name in ("create_connection", "getaddrinfo", "gethostbyname"):
        monkeypatch.setattr(socket, name, refuse)
    with pytest.raises(OSError):  # the block is in place
        socket.create_connection(("example.com", 80))
    attempts.clear()
    yield attempts


def test_index_ask_batch_and_tokenizers_need_no_network(
    no_network: list[str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    from assistant.embedding.sentence_transformer import SentenceTransformerEmbedder
    from assistant.text import bpe

    bpe.get_encoding.cache_clear()  # built again from the packaged file, now
    assert bpe.get_encoding().encode_ordinary("hello world")
    real = SentenceTransformerEmbedder()  # resolves the bundled model; loads no torch
    assert real.count_tokens(["The tomatoes were planted in May."])[0] > 5

    embedder = FakeEmbedder()
    monkeypatch.setattr(
        "assistant.cli.make_assistant", lambda s: Assistant(s, encoders=Encoders.single(embedder))
    )
    runner, where = CliRunner(), _where(settings)
    assert runner.invoke(main, ["index", *where]).exit_code == 0
    asked = runner.invoke(main, ["ask", TOMATO_QUESTION, *where])
    assert asked.exit_code == 0 and TOMATO_ANSWER in asked.stdout
    batch = runner.invoke(main, ["batch", "-", *where], input=f"{TOMATO_QUESTION}\n")
    assert batch.exit_code == 0 and TOMATO_ANSWER in batch.stdout
    assert no_network == []


def test_tui_loads_and_answers_without_network(no_network: list[str], settings: Settings) -> None:
    from assistant.tui import ExcerptaApp
    from assistant.tui.widgets import AnswerEntry

    update_index(settings, Encoders.single(FakeEmbedder()))
    app = ExcerptaApp(
        make_assistant=lambda: Assistant(settings, encoders=Encoders.single(FakeEmbedder()))
    )

    async def scenario() -> None:
        async with app.run_test() as pilot:
            for _ in range(200):
                if app.model_ready:
                    break
                await pilot.pause(0.05)
            assert app.model_ready
            app.query_one("#question").value = TOMATO_QUESTION  # type: ignore[attr-defined]
            await pilot.press("enter")
            for _ in range(200):
                if app.query(AnswerEntry):
                    break
                await pilot.pause(0.05)
            assert app.exchanges and app.exchanges[-1].answer is not None
            assert TOMATO_ANSWER in app.exchanges[-1].answer.text

    import asyncio

    asyncio.run(scenario())
    assert no_network == []


_BLOCKED_CLI = """
import socket, sys
def refuse(*args, **kwargs):
    sys.stderr.write(f"NETWORK ATTEMPT {args!r}\\n")
    raise OSError("network blocked by the test")
socket.socket.connect = socket.socket.connect_ex = refuse
socket.create_connection = socket.getaddrinfo = socket.gethostbyname = refuse
from assistant.cli import main
main(sys.argv[1:], prog_name="excerpta")
"""


@pytest.mark.model
def test_real_model_index_and_ask_with_network_blocked(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SAMPLE, corpus / SAMPLE.name)
    where = ["--corpus", str(corpus), "--index", str(tmp_path / "index")]
    env = {k: v for k, v in os.environ.items() if not k.endswith("_OFFLINE")}
    env["HF_HOME"] = str(tmp_path / "hf-home")  # nothing cached to fall back on

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", _BLOCKED_CLI, *args],
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
            cwd=tmp_path,
        )

    indexed = run("index", *where)
    assert indexed.returncode == 0, indexed.stderr
    asked = run("ask", "Who heads the U.S. Southern Command?", "--json", *where)
    assert asked.returncode == 0, asked.stderr
    assert "Richardson" in asked.stdout
    for result in (indexed, asked):
        assert "NETWORK ATTEMPT" not in result.stderr
        assert "Traceback" not in result.stderr


# --- nothing read or run outside the corpus ------------------------------------------------------


def test_source_reader_refuses_paths_that_leave_the_corpus(tmp_path: Path) -> None:
    from assistant.tui.widgets.source import inside, read_cited_lines

    corpus = tmp_path / "corpus"
    (corpus / "notes").mkdir(parents=True)
    (corpus / "notes" / "ok.txt").write_text("fine\n")
    secret = tmp_path / "secret.txt"
    secret.write_text("secret\n")
    (corpus / "notes" / "link.txt").symlink_to(secret)
    for stored in (
        "../secret.txt",
        "notes/../../secret.txt",
        str(secret),  # an absolute path replaces the corpus in a join
        "notes/link.txt",  # a link made after indexing, pointing out
        "",
        ".",
    ):
        assert inside(corpus, stored) is None, stored
        cited = Citation(1, stored, 1, 1, None, 0, 6, 0.9, "secret", "secret", 0)
        assert read_cited_lines(corpus, cited) is None
    assert inside(corpus, "notes/ok.txt") == (corpus / "notes" / "ok.txt").resolve()


def test_links_out_of_the_corpus_are_never_indexed(settings: Settings, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "vault.txt").write_text("The vault combination is swordfish.\n")
    (settings.corpus / "vault.txt").symlink_to(outside / "vault.txt")
    (settings.corpus / "elsewhere").symlink_to(outside)
    report = update_index(settings, Encoders.single(FakeEmbedder()))
    reasons = {s.path: s.reason for s in report.skipped}
    assert reasons == {"elsewhere": "links outside the corpus", "vault.txt": reasons["elsewhere"]}
    hits = Assistant(settings, encoders=Encoders.single(FakeEmbedder())).search(
        "vault combination swordfish"
    )
    assert all("swordfish" not in h.chunk.text for h in hits.hits)


class _EditorAssistant:
    """Enough of an assistant for the app to start; it is never asked anything."""

    def __init__(self, corpus: Path) -> None:
        self.settings = Settings(corpus=corpus, index=corpus.parent / "index")
        self.generation, self.refreshed = 1, 0

    def warm_up(self) -> None:
        pass

    def committed(self) -> int:
        return self.generation

    def refresh_index(self) -> None:
        self.refreshed += 1

    def watcher(self, **callbacks: Any) -> Any:
        raise AssertionError("watch = true is not set in these tests")

    def status(self) -> Status:
        return Status(True, "", "fake", 1, 1, "", 0, 0, 0, 0)

    def ask(self, question: str, *, k: int | None = None, mode: str | None = None) -> Answer:
        raise AssertionError("not asked in these tests")

    def ask_many(
        self, questions: Sequence[str], *, k: int | None = None, mode: str | None = None
    ) -> list[Answer]:
        raise AssertionError("not asked in these tests")

    def update_index(
        self,
        *,
        progress: Callable[[str, int, int], None] | None = None,
        cancel: threading.Event | None = None,
    ) -> IndexReport:
        raise AssertionError("not indexed in these tests")

    def conversation(self) -> Conversation:
        return Conversation(self)


def _cited(path: str, page: int | None = None) -> Answer:
    citation = Citation(1, path, 7, 7, page, 0, 10, 0.9, "excerpt", "excerpt", 0)
    return Answer("q", "excerpt [1]", False, (citation,))


def _open_in_editor(
    corpus: Path, answer: Answer, editor: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[tuple[Any, dict[str, Any]]], list[str]]:
    """Run the app's open-editor action on ``answer``; return the runs and the notices."""
    from assistant.tui import ExcerptaApp

    runs: list[tuple[Any, dict[str, Any]]] = []
    notices: list[str] = []
    monkeypatch.setenv("VISUAL", editor)
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: runs.append((a, k)))
    monkeypatch.setattr(ExcerptaApp, "suspend", lambda self: contextlib.nullcontext())
    app = ExcerptaApp(make_assistant=lambda: _EditorAssistant(corpus))
    monkeypatch.setattr(app, "notify", lambda message, **k: notices.append(message))

    async def scenario() -> None:
        async with app.run_test() as pilot:
            await pilot.pause()
            assert app.conversation is not None
            app.conversation.record("q", answer)
            app.action_open_editor()
            await pilot.pause()

    import asyncio

    asyncio.run(scenario())
    return runs, notices


def test_editor_gets_the_path_as_one_argument_never_a_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = tmp_path / "corpus"
    name = "it's $(touch pwned); `id` & rm -rf ~ .txt"
    (corpus / "dir with space").mkdir(parents=True)
    (corpus / "dir with space" / name).write_text("line\n" * 10)
    runs, _ = _open_in_editor(corpus, _cited(f"dir with space/{name}"), "code --wait", monkeypatch)
    assert len(runs) == 1
    args, kwargs = runs[0]
    path = str((corpus / "dir with space" / name).resolve())
    assert args == (["code", "--wait", "+7", path],)
    assert not kwargs.get("shell")


@pytest.mark.parametrize("stored", ["../outside.txt", "/etc/passwd", "missing.txt"])
def test_editor_refuses_paths_outside_the_corpus(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stored: str
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (tmp_path / "outside.txt").write_text("outside\n")
    runs, notices = _open_in_editor(corpus, _cited(stored), "vi", monkeypatch)
    assert runs == []
    assert any("Can't open" in n for n in notices)


def test_editor_setting_that_does_not_parse_is_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text("line\n" * 10)
    runs, notices = _open_in_editor(corpus, _cited("a.txt"), "vim '-c", monkeypatch)
    assert runs == [] and any("Can't run" in n for n in notices)
