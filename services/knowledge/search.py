"""Hybrid search: BM25 on the words and a local embedding model on the meaning, fused by reciprocal rank.

Every published language version is indexed. A hit is one article; it is shown in the question's language
when a published version exists in it, and otherwise in the language that matched, flagged as such.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import bm25s
import numpy as np

from services.knowledge.articles import Article
from services.knowledge.text import tokens

RRF_K = 60
# Measured (docs/benchmarks.md): the multilingual model ranks far better than BM25 across languages, so
# its ranking counts twice in the fusion; BM25 still lifts exact names, SKUs and lot codes.
WEIGHTS = {"bm25": 1.0, "dense": 2.0}


class Embedder(Protocol):
    name: str

    def queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def passages(self, texts: Sequence[str]) -> np.ndarray: ...


@dataclass(frozen=True)
class Hit:
    article: Article
    score: float
    similarity: float  # the embedding model's cosine for the best-matching version, 0 without one
    other_language: bool


class Index:
    """Published articles, ready to rank with `mode` = 'bm25', 'dense' or 'hybrid'."""

    def __init__(
        self, articles: Sequence[Article], embedder: Embedder | None, *, cache: dict | None = None
    ) -> None:
        self.articles = list(articles)
        self.embedder = embedder
        self.by_key = {(a.id, a.language): a for a in self.articles}
        self.lexical = bm25s.BM25()
        corpus = [tokens(a.text) or ["_"] for a in self.articles]
        if corpus:
            self.lexical.index(corpus, show_progress=False)
        if embedder is not None and self.articles:
            self.vectors = self._encode(cache if cache is not None else {})
        else:
            self.vectors = None

    def _encode(self, cache: dict) -> np.ndarray:
        """Passage vectors, encoding only the versions not in `cache` (keyed by id, language, version)."""
        keys = [(a.id, a.language, a.version) for a in self.articles]
        missing = [i for i, key in enumerate(keys) if key not in cache]
        if missing:
            for i, vector in zip(
                missing, self.embedder.passages([self.articles[i].text for i in missing]), strict=True
            ):
                cache[keys[i]] = vector
        return np.stack([cache[key] for key in keys])

    def _rankings(self, query: str, mode: str) -> tuple[list[tuple[str, np.ndarray]], np.ndarray | None]:
        rankings = []
        cosines = None
        if mode in ("bm25", "hybrid"):
            scores = self.lexical.get_scores(tokens(query) or ["_"])
            order = np.argsort(-scores)
            rankings.append(("bm25", order[scores[order] > 0]))
        if mode in ("dense", "hybrid") and self.vectors is not None:
            cosines = self.vectors @ self.embedder.queries([query])[0]
            rankings.append(("dense", np.argsort(-cosines)))
        return rankings, cosines

    def search(
        self, query: str, *, language: str, product_sku: str = "", limit: int = 5, mode: str = "hybrid"
    ) -> list[Hit]:
        if not self.articles:
            return []
        rankings, cosines = self._rankings(query, mode)
        fused: dict[int, float] = {}
        for kind, ranking in rankings:
            for rank, position in enumerate(ranking[:100]):
                fused[int(position)] = fused.get(int(position), 0.0) + WEIGHTS[kind] / (RRF_K + rank + 1)
        best: dict[str, tuple[float, int]] = {}
        for position, score in sorted(fused.items(), key=lambda item: -item[1]):
            article = self.articles[position]
            if product_sku and article.product_sku not in ("", product_sku):
                continue
            if article.id not in best:
                best[article.id] = (score, position)
        top = sorted(best.values(), key=lambda item: -item[0])[:limit]
        ceiling = sum(WEIGHTS[kind] for kind, _ in rankings) / (RRF_K + 1)
        hits = []
        for score, position in top:
            matched = self.articles[position]
            shown = self.by_key.get((matched.id, language), matched)
            hits.append(
                Hit(
                    article=shown,
                    score=round(score / ceiling, 4),
                    similarity=float(cosines[position]) if cosines is not None else 0.0,
                    other_language=shown.language != language,
                )
            )
        return hits
