"""VectorIndex: flat while small, IVF-SQ8 past the limit (switched while adding, retrained
by optimize through a temporary file); ids, removal, persistence, recall."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.config import Settings
from assistant.embedding import Encoders
from assistant.errors import IndexCorruptError
from assistant.indexing import update_index
from assistant.retrieval import Retriever
from assistant.store import open_index
from assistant.store import recall as recall_module
from assistant.store import vector_build as vector_build_module
from assistant.store import vectors as vectors_module
from assistant.store.commits import TRAINED, read_manifest
from assistant.store.merge import merge_segments
from assistant.store.vectors import VectorIndex
from tests.fakes import FakeEmbedder

DIM = 48
LIMIT = 2_000  # a test-only flat limit, so a few thousand vectors make an IVF index


def unit(rows: np.ndarray) -> np.ndarray:
    return np.asarray(rows / np.linalg.norm(rows, axis=1, keepdims=True), dtype=np.float32)


def clustered(n: int, seed: int = 0) -> np.ndarray:
    """Vectors around 40 random centers, as embeddings of a corpus cluster by topic."""
    rng = np.random.default_rng(seed)
    centers = unit(rng.standard_normal((40, DIM)))
    noise = unit(rng.standard_normal((n, DIM)))
    return unit(centers[rng.integers(0, 40, n)] + 0.9 * noise)


def exact_top(vectors: np.ndarray, ids: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    order = np.argsort(-(queries @ vectors.T), axis=1)[:, :k]
    return ids[order]


def build(n: int, *, first_id: int = 100, seed: int = 0) -> tuple[VectorIndex, np.ndarray]:
    data = clustered(n, seed)
    index = VectorIndex.empty(DIM)
    index.add(np.arange(first_id, first_id + n), data)
    return index, data


@pytest.fixture(scope="module")
def ivf() -> tuple[VectorIndex, np.ndarray]:
    index, data = build(5_000)
    assert index.optimize(flat_limit=LIMIT)
    return index, data


def test_small_index_stays_flat_and_exact() -> None:
    index, data = build(1_500)
    assert not index.optimize(flat_limit=LIMIT)
    assert index.kind == "flat" and index.nprobe == 0
    assert index.description == "Flat"
    queries = clustered(20, seed=9)
    _, found = index.search(queries, 10)
    np.testing.assert_array_equal(found, exact_top(data, np.arange(100, 1_600), queries, 10))


def test_large_index_becomes_ivf_with_every_id(ivf: tuple[VectorIndex, np.ndarray]) -> None:
    index, _ = ivf
    assert index.kind == "ivf"
    assert len(index) == 5_000
    assert sorted(index.ids().tolist()) == list(range(100, 5_100))
    match = re.fullmatch(r"IVF(\d+),SQ8 nprobe=(\d+)", index.description)
    assert match, index.description
    assert int(match[1]) == 64  # ~sqrt(5000), a power of two
    assert int(match[2]) == index.nprobe and 8 <= index.nprobe <= 64


def test_ivf_recall_at_10_against_exact_search(ivf: tuple[VectorIndex, np.ndarray]) -> None:
    index, data = ivf
    rng = np.random.default_rng(42)  # not the calibration queries
    seeds = data[rng.choice(len(data), 200, replace=False)]
    queries = unit(seeds + unit(rng.standard_normal(seeds.shape)))
    truth = exact_top(data, np.arange(100, 5_100), queries, 10)
    _, found = index.search(queries, 10)
    recall = np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)])
    assert recall >= 0.95


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_reconstruct_returns_the_stored_vectors(kind: str) -> None:
    index, data = build(3_000)
    index.optimize(flat_limit=LIMIT if kind == "ivf" else 10_000)
    assert index.kind == kind
    wanted = [100, 2_999, 1_234, 100]
    tolerance = 1e-6 if kind == "flat" else 0.02  # 8-bit codes are close, not exact
    np.testing.assert_allclose(
        index.reconstruct(wanted), data[[0, 2_899, 1_134, 0]], atol=tolerance
    )
    assert index.reconstruct([]).shape == (0, DIM)


@pytest.mark.parametrize("kind", ["flat", "ivf"])
def test_remove_then_add_by_id(kind: str) -> None:
    index, data = build(3_000)
    index.optimize(flat_limit=LIMIT if kind == "ivf" else 10_000)
    gone = np.arange(100, 400)
    index.remove(gone)
    assert len(index) == 2_700
    _, found = index.search(data[:300], 10)
    assert not set(found.ravel().tolist()) & set(gone.tolist())
    with pytest.raises(RuntimeError):
        index.reconstruct([150])
    index.remove([])  # a no-op, not an error
    fresh = clustered(300, seed=7)
    index.add(gone, fresh)  # an update re-adds changed chunks under new or old ids
    assert len(index) == 3_000
    _, top = index.search(fresh, 1)
    assert np.mean(top[:, 0] == gone) >= 0.95
    tolerance = 1e-6 if kind == "flat" else 0.02
    np.testing.assert_allclose(index.reconstruct(gone[:5]), fresh[:5], atol=tolerance)


def test_save_and_load_keep_type_nprobe_and_results(
    ivf: tuple[VectorIndex, np.ndarray], tmp_path: Path
) -> None:
    index, data = ivf
    index.save(tmp_path / "vectors.faiss")
    loaded = VectorIndex.load(tmp_path / "vectors.faiss")
    assert loaded.kind == "ivf"
    assert loaded.description == index.description
    assert loaded.nprobe == index.nprobe
    for a, b in zip(index.search(data[:50], 10), loaded.search(data[:50], 10), strict=True):
        np.testing.assert_array_equal(a, b)
    loaded.remove([100])  # removal and reconstruction survive the round trip
    np.testing.assert_allclose(loaded.reconstruct([101]), index.reconstruct([101]))


def test_flat_round_trip(tmp_path: Path) -> None:
    index, data = build(500)
    index.save(tmp_path / "vectors.faiss")
    loaded = VectorIndex.load(tmp_path / "vectors.faiss")
    assert loaded.description == "Flat" and len(loaded) == 500
    np.testing.assert_array_equal(loaded.reconstruct([100, 599]), data[[0, 499]])


def test_ivf_regrows_with_more_lists_and_shrinks_back_to_flat() -> None:
    index, _ = build(5_000)
    index.optimize(flat_limit=LIMIT)
    index.add(np.arange(10_000, 10_500), clustered(500, seed=3))
    assert not index.optimize(flat_limit=LIMIT)  # modest growth: same lists
    index.add(np.arange(20_000, 24_000), clustered(4_000, seed=4))
    assert index.optimize(flat_limit=LIMIT)  # 9,500 vectors call for twice the lists
    assert index.description.startswith("IVF128,")
    index.remove(index.ids()[: len(index) - LIMIT // 2 + 1])
    assert index.optimize(flat_limit=LIMIT)
    assert index.kind == "flat" and len(index) == LIMIT // 2 - 1


def test_loading_another_kind_of_faiss_index_is_corrupt(tmp_path: Path) -> None:
    import faiss

    faiss.write_index(faiss.IndexFlatIP(DIM), str(tmp_path / "vectors.faiss"))
    with pytest.raises(IndexCorruptError):
        VectorIndex.load(tmp_path / "vectors.faiss")


def recall_at_10(
    index: VectorIndex, data: np.ndarray, ids: np.ndarray, near: slice = slice(None)
) -> float:
    """Against exact search, for queries near the stored vectors ``data[near]``."""
    rng = np.random.default_rng(42)  # not the calibration queries
    sources = data[near]
    seeds = sources[rng.choice(len(sources), 200, replace=False)]
    queries = unit(seeds + unit(rng.standard_normal(seeds.shape)))
    truth = exact_top(data, ids, queries, 10)
    _, found = index.search(queries, 10)
    return float(np.mean([len(set(f) & set(t)) / 10 for f, t in zip(found, truth, strict=True)]))


class _SwitchSpy:
    """Records how many vectors a flat index held each time it was trained into IVF, and
    each IVF training (list counts)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.trained_on: list[int] = []
        self.built: list[int] = []
        real = VectorIndex._build_ivf

        def spy(index: VectorIndex, nlist: int, seed: int, *cancel: Any) -> object:
            if index.kind == "flat":
                self.trained_on.append(len(index))
            self.built.append(nlist)
            return real(index, nlist, seed, *cancel)

        monkeypatch.setattr(VectorIndex, "_build_ivf", spy)


def test_add_turns_flat_into_ivf_once_past_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = _SwitchSpy(monkeypatch)
    data = clustered(2_600)
    index = VectorIndex.empty(DIM, flat_limit=LIMIT)
    assert index.flat_limit == LIMIT
    for start in range(0, 2_600, 300):  # 1,800 + 300 crosses the limit mid-batch
        index.add(np.arange(100 + start, 100 + min(start + 300, 2_600)), data[start : start + 300])
        assert index.kind == ("flat" if start + 300 <= LIMIT else "ivf")
    assert spy.trained_on == [LIMIT]  # filled to the limit, not past it
    assert index.description.startswith("IVF32,")  # lists for 2,000 vectors, not 2,100
    assert len(index) == 2_600
    assert sorted(index.ids().tolist()) == list(range(100, 2_700))
    # Codes of vectors added before and after training decode to the vectors.
    np.testing.assert_allclose(
        index.reconstruct([100, 2_099, 2_100, 2_699]), data[[0, 1_999, 2_000, 2_599]], atol=0.02
    )
    assert recall_at_10(index, data, np.arange(100, 2_700)) >= 0.95
    assert index.optimize()  # 2,600 vectors call for twice the lists: retrained on all
    assert index.description.startswith("IVF64,")
    assert recall_at_10(index, data, np.arange(100, 2_700)) >= 0.95


def test_one_large_add_is_split_at_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    spy = _SwitchSpy(monkeypatch)
    data = clustered(5_000)
    index = VectorIndex.empty(DIM, flat_limit=LIMIT)
    index.add(np.arange(100, 5_100), data)
    assert spy.trained_on == [LIMIT]
    assert index.kind == "ivf" and len(index) == 5_000
    assert sorted(index.ids().tolist()) == list(range(100, 5_100))
    gone = np.arange(3_000, 3_300)  # added after training
    index.remove(gone)
    assert len(index) == 4_700
    _, found = index.search(data[2_900:3_200], 10)
    assert not set(found.ravel().tolist()) & set(gone.tolist())
    with pytest.raises(RuntimeError):
        index.reconstruct([3_100])
    index.add(gone, data[2_900:3_200])  # an IVF index adds without another switch
    assert spy.trained_on == [LIMIT] and len(index) == 5_000
    assert index.optimize()  # 5,000 vectors call for 64 lists: retrained on all of them
    assert index.description.startswith("IVF64,")
    assert recall_at_10(index, data, np.arange(100, 5_100)) >= 0.95
    index.remove(np.arange(100, 4_200))
    assert index.optimize() and index.kind == "flat" and len(index) == 900


def test_an_index_switched_while_adding_survives_save_and_load(tmp_path: Path) -> None:
    data = clustered(3_000)
    index = VectorIndex.empty(DIM, flat_limit=LIMIT)
    index.add(np.arange(100, 2_600), data[:2_500])
    index.save(tmp_path / "vectors.faiss")
    loaded = VectorIndex.load(tmp_path / "vectors.faiss", flat_limit=LIMIT)
    assert loaded.kind == "ivf" and loaded.description == index.description
    for a, b in zip(index.search(data[:50], 10), loaded.search(data[:50], 10), strict=True):
        np.testing.assert_array_equal(a, b)
    loaded.add(np.arange(2_600, 3_100), data[2_500:])
    loaded.remove([100])
    assert len(loaded) == 2_999
    np.testing.assert_allclose(loaded.reconstruct([2_600, 3_099]), data[[2_500, 2_999]], atol=0.02)


def test_a_flat_index_stays_flat_up_to_the_limit() -> None:
    data = clustered(LIMIT + 40)
    index = VectorIndex.empty(DIM, flat_limit=LIMIT)
    index.add(np.arange(LIMIT), data[:LIMIT])
    assert index.kind == "flat" and len(index) == LIMIT
    index.add(np.arange(LIMIT, LIMIT + 40), data[LIMIT:])
    assert index.description.startswith("IVF32,")
    assert VectorIndex.empty(DIM).flat_limit == vectors_module.FLAT_LIMIT


def test_optimize_retrains_what_add_trained_on_the_first_topics_only() -> None:
    rng = np.random.default_rng(0)
    centers = unit(rng.standard_normal((40, DIM)))
    topics = np.concatenate([rng.integers(0, 8, 1_000), rng.integers(8, 40, 1_000)])
    data = unit(centers[topics] + 0.9 * unit(rng.standard_normal((2_000, DIM))))
    index = VectorIndex.empty(DIM, flat_limit=1_000)
    for start in range(0, 2_000, 250):  # the later topics arrive after the switch
        index.add(np.arange(start, start + 250), data[start : start + 250])
    assert index.description.startswith("IVF32,")
    # 2,000 vectors call for 32 lists too: only the provisional training calls for this.
    assert index.optimize()
    assert index.description.startswith("IVF32,")
    # 0.85 as first trained, for questions on the later topics
    assert recall_at_10(index, data, np.arange(2_000), near=slice(1_000, None)) >= 0.95
    assert not index.optimize()  # retrained once, then the usual rules


def test_an_ivf_rebuild_spills_codes_to_scratch_and_frees_the_old_lists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = clustered(2_600)
    index = VectorIndex.empty(DIM, flat_limit=LIMIT, scratch=tmp_path)
    index.add(np.arange(100, 2_700), data)
    old = index._index
    spills: list[object] = []
    real = vector_build_module.tempfile.TemporaryFile

    def spy(**kwargs: object) -> object:
        spills.append(kwargs.get("dir"))
        assert old.ntotal == 2_600  # still whole when the spill starts
        return real(**kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(vector_build_module.tempfile, "TemporaryFile", spy)
    sizes_seen: list[int] = []
    real_update = recall_module.ExactTopK.update

    def update(truth: object, ids: np.ndarray, vectors: np.ndarray) -> None:
        sizes_seen.append(int(old.ntotal))  # the old index, while the new one fills
        real_update(truth, ids, vectors)  # type: ignore[arg-type]

    monkeypatch.setattr(recall_module.ExactTopK, "update", update)
    assert index.optimize()
    assert spills == [tmp_path] and set(sizes_seen) == {0}
    assert len(index) == 2_600 and sorted(index.ids().tolist()) == list(range(100, 2_700))
    np.testing.assert_allclose(index.reconstruct([100, 2_699]), data[[0, 2_599]], atol=0.02)
    assert recall_at_10(index, data, np.arange(100, 2_700)) >= 0.95
    index.save(tmp_path / "vectors.faiss")
    assert VectorIndex.load(tmp_path / "vectors.faiss").scratch == tmp_path  # its own folder


def test_a_failed_ivf_rebuild_leaves_the_index_empty(monkeypatch: pytest.MonkeyPatch) -> None:
    index, _ = build(2_600)
    assert index.optimize(flat_limit=LIMIT)
    index.add(np.arange(10_000, 20_000), clustered(10_000, seed=5))

    def fail(*args: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(recall_module.ExactTopK, "update", fail)
    with pytest.raises(KeyboardInterrupt):
        index.optimize(flat_limit=LIMIT)
    assert len(index) == 0 and index.ids().size == 0


def _centroids(index: VectorIndex) -> np.ndarray:
    ivf = index._index  # noqa: SLF001  (the test reads FAISS's own trained lists)
    return np.asarray(ivf.quantizer.reconstruct_n(0, ivf.nlist))


def test_shared_training_is_kept_until_the_index_grows_fourfold(tmp_path: Path) -> None:
    trained, _ = build(5_000)
    assert trained.optimize(flat_limit=LIMIT) and trained.kind == "ivf"
    assert trained.save_trained(tmp_path / "trained.faiss")
    assert (tmp_path / "trained.faiss").stat().st_size < 200_000  # lists, no vectors
    for shared in (
        VectorIndex.load_trained(tmp_path / "trained.faiss"),
        VectorIndex.trained_like(trained),
    ):
        assert shared.kind == "ivf" and len(shared) == 0
        assert shared.description == trained.description
        small = clustered(300, seed=5)
        shared.add(np.arange(50_000, 50_300), small)
        assert not shared.optimize(flat_limit=LIMIT)  # small: still IVF, same training
        np.testing.assert_array_equal(_centroids(shared), _centroids(trained))
        _, found = shared.search(small[:20], 1)
        assert (found[:, 0] == np.arange(50_000, 50_020)).mean() >= 0.9
        shared.add(np.arange(60_000, 80_000), clustered(20_000, seed=6))
        assert shared.optimize(flat_limit=LIMIT)  # 4x the lists' worth: trained anew
        assert shared.description.startswith("IVF128,")
    flat, _ = build(100)
    assert not flat.save_trained(tmp_path / "none.faiss")
    assert VectorIndex.trained_like(flat).kind == "flat"


def _manifest(settings: Settings) -> dict[str, object]:
    return read_manifest(settings.index)


def test_manifest_records_the_chosen_index_type(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    update_index(settings, Encoders.single(FakeEmbedder()))
    assert _manifest(settings)["vector_index"] == "Flat"
    monkeypatch.setattr(vectors_module, "FLAT_LIMIT", 5)
    update_index(settings, Encoders.single(FakeEmbedder()), full=True)
    described = _manifest(settings)["vector_index"]
    assert str(described).startswith("IVF")
    # An incremental update's segment shares the IVF training: no k-means, and searched
    # in a few probed lists rather than exhaustively.
    spy = _SwitchSpy(monkeypatch)
    (settings.corpus / "notes" / "garden.md").write_text("# Garden\n\nOwls nest in the oak.\n")
    update_index(settings, Encoders.single(FakeEmbedder()))
    assert _manifest(settings)["vector_index"] == described and spy.built == []
    index = open_index(settings.index)
    try:
        first, second = (s.vectors for s in index.segments)
        assert (first.kind, second.kind) == ("ivf", "ivf") and len(second) < len(first)
        assert first.description == second.description
        np.testing.assert_array_equal(_centroids(first), _centroids(second))
        trained = [
            (settings.index / "segments" / s.name / TRAINED).exists() for s in index.segments
        ]
        assert trained == [True, False]  # the training is saved once, with the first
        retriever = Retriever(index, FakeEmbedder())
        hits = retriever.search(["Where do owls nest?"], 3, "hybrid")
        assert hits[0][0].chunk.path == "notes/garden.md" and "Owls" in hits[0][0].chunk.text
        assert not any("Basil" in h.chunk.text for h in retriever.search(["basil"], 5, "dense")[0])
        centroids = _centroids(first)
    finally:
        index.close()
    # Merging them re-adds the codes into the same training: no k-means either.
    assert merge_segments(settings.index, compact=True) == 2 and spy.built == []
    index = open_index(settings.index)
    try:
        (merged,) = (s.vectors for s in index.segments)
        np.testing.assert_array_equal(_centroids(merged), centroids)
        hits = Retriever(index, FakeEmbedder()).search(["Where do owls nest?"], 3, "hybrid")
        assert hits[0][0].chunk.path == "notes/garden.md"
    finally:
        index.close()


def test_an_update_never_holds_more_flat_vectors_than_the_limit(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vectors_module, "FLAT_LIMIT", 6)
    spy = _SwitchSpy(monkeypatch)
    flat_sizes: list[int] = []
    kinds_before_optimize: list[str] = []
    real_add, real_optimize = VectorIndex.add, VectorIndex.optimize

    def add(index: VectorIndex, *args: object, **kwargs: object) -> None:
        real_add(index, *args, **kwargs)  # type: ignore[arg-type]
        if index.kind == "flat":
            flat_sizes.append(len(index))

    def optimize(index: VectorIndex, **kwargs: object) -> bool:
        kinds_before_optimize.append(index.kind)
        return real_optimize(index, **kwargs)  # type: ignore[arg-type]

    spills: list[object] = []
    real_spill = vector_build_module.tempfile.TemporaryFile

    def spill(**kwargs: object) -> object:
        spills.append(kwargs.get("dir"))
        return real_spill(**kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr(VectorIndex, "add", add)
    monkeypatch.setattr(VectorIndex, "optimize", optimize)
    monkeypatch.setattr(vector_build_module.tempfile, "TemporaryFile", spill)
    report = update_index(settings, Encoders.single(FakeEmbedder()))
    assert report.chunks_total > 6
    assert max(flat_sizes) <= 6 and spy.trained_on == [6]
    assert kinds_before_optimize == ["ivf"]  # switched while embedding, not at the end
    assert spills == [settings.index]  # retrained at the end via the index folder, not /tmp
    assert str(_manifest(settings)["vector_index"]).startswith("IVF")


def test_a_single_query_search_leaves_the_thread_setting_alone() -> None:
    import faiss

    index, data = build(500)
    before = faiss.omp_get_max_threads()
    index.search(data[:1], 5)  # searched on one thread
    index.search(data[:20], 5)  # a batch may use them all
    assert faiss.omp_get_max_threads() == before


def test_an_index_that_outgrows_its_ivf_training_is_merged_and_trained_again(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vectors_module, "FLAT_LIMIT", 5)
    update_index(settings, Encoders.single(FakeEmbedder()))
    lists = int(re.findall(r"IVF(\d+),", str(_manifest(settings)["vector_index"]))[0])
    before = int(str(_manifest(settings)["chunks"]))
    # A small update shares the training; growth to twice the lists' worth trains again.
    (settings.corpus / "note-0.txt").write_text("Owls nest in the old oak.\n")
    assert update_index(settings, Encoders.single(FakeEmbedder())).rebuilt_because == ""
    for n in range(1, 2 * lists * lists):
        (settings.corpus / f"note-{n}.txt").write_text(f"Note {n} about walrus number {n}.\n")
    report = update_index(settings, Encoders.single(FakeEmbedder()))
    assert "outgrew its vector training" in report.rebuilt_because
    assert report.chunks_embedded == report.chunks_total - before - 1  # nothing re-embedded
    manifest = _manifest(settings)
    assert manifest["segments"] == 1
    assert f"IVF{2 * lists}," in str(manifest["vector_index"])
    index = open_index(settings.index)
    try:
        hits = Retriever(index, FakeEmbedder()).search(["owls nest oak"], 3, "hybrid")
        assert hits[0][0].chunk.text.startswith("Owls nest in the old oak.")
    finally:
        index.close()
