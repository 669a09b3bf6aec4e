"""Issue-code suggestion from coded verbatims: two linear models, fused.

One reads the local embedding model's vector of the verbatim: it carries meaning across phrasings and
languages, so a way of saying it that training never had still lands. The other reads character and word
n-grams: misspellings, accents, exact words. Their probabilities are averaged, DENSE_WEIGHT to the first
(chosen on a validation split carved from the training verbatims, never on the held-out set; see
docs/benchmarks.md). Without an embedding model the n-gram model serves alone. A new version replaces the
current one only when it scores better on the held-out set.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion, make_pipeline

from services.knowledge.handoff import fold


@dataclass(frozen=True)
class Example:
    verbatim: str
    code: str
    language: str = ""


@dataclass(frozen=True)
class Scores:
    top1: float
    top3: float
    count: int

    def better_than(self, other: Scores | None) -> bool:
        return other is None or (self.top3, self.top1) > (other.top3, other.top1)


DENSE_WEIGHT = 0.7
DENSE_C = 20.0
# The n-gram model has ~34,000 features per code (~785,000 weights). L-BFGS keeps ten pairs of steps of
# that size and its workspace besides: fitting it took the service ~220 MB above what it holds after, its
# peak over 400 MB. Newton-CG reaches the same optimum (the same loss, C and tolerance) holding a few
# vectors of that size: ~67 MB, in fewer iterations (docs/benchmarks.md).
LEXICAL_SOLVER = "newton-cg"


class CodeModel:
    """A fitted version. Pickled without the embedding model, which `attach` gives back after loading."""

    def __init__(self, version: int, pipeline, codes: Sequence[str], dense=None, embedder=None):
        self.version = version
        self.pipeline = pipeline
        self.codes = list(codes)
        self.dense = dense
        self.embedder = embedder

    def __getstate__(self) -> dict:
        return {**self.__dict__, "embedder": None}

    def __setstate__(self, state: dict) -> None:
        # Versions stored before the embedding half existed load as n-gram models.
        self.__dict__.update({"dense": None, "embedder": None, **state})

    def attach(self, embedder) -> CodeModel:
        self.embedder = embedder
        return self

    def probabilities(self, verbatims: Sequence[str]) -> np.ndarray:
        lexical = self.pipeline.predict_proba([fold(v) for v in verbatims])
        if self.dense is None or self.embedder is None:
            return lexical
        dense = self.dense.predict_proba(self.embedder.queries(list(verbatims)))
        return DENSE_WEIGHT * dense + (1 - DENSE_WEIGHT) * lexical

    def suggest(self, verbatim: str, limit: int = 3) -> list[tuple[str, float]]:
        probabilities = self.probabilities([verbatim])[0]
        order = np.argsort(-probabilities)[:limit]
        return [(self.codes[i], round(float(probabilities[i]), 4)) for i in order]

    def score(self, examples: Sequence[Example]) -> Scores:
        if not examples:
            return Scores(0.0, 0.0, 0)
        probabilities = self.probabilities([e.verbatim for e in examples])
        top = np.argsort(-probabilities, axis=1)[:, :3]
        wanted = [self.codes.index(e.code) if e.code in self.codes else -1 for e in examples]
        top1 = sum(int(top[i, 0] == w) for i, w in enumerate(wanted)) / len(examples)
        top3 = sum(int(w in top[i]) for i, w in enumerate(wanted)) / len(examples)
        return Scores(round(top1, 4), round(top3, 4), len(examples))


def train(examples: Sequence[Example], *, version: int, embedder=None) -> CodeModel:
    features = FeatureUnion(
        [
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)),
            ("words", TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True)),
        ]
    )
    pipeline = make_pipeline(features, LogisticRegression(C=20.0, max_iter=300, solver=LEXICAL_SOLVER))
    labels = [e.code for e in examples]
    pipeline.fit([fold(e.verbatim) for e in examples], labels)
    dense = None
    if embedder is not None:
        dense = LogisticRegression(C=DENSE_C, max_iter=3000)
        dense.fit(embedder.queries([e.verbatim for e in examples]), labels)
    return CodeModel(version, pipeline, pipeline.classes_, dense, embedder)


def split(
    examples: Sequence[Example], *, held_out: float = 0.2, seed: int = 7
) -> tuple[list[Example], list[Example]]:
    shuffled = list(examples)
    random.Random(seed).shuffle(shuffled)
    cut = int(len(shuffled) * held_out)
    return shuffled[cut:], shuffled[:cut]


@dataclass(frozen=True)
class Candidate:
    model: CodeModel
    scores: Scores
    promoted: bool


def retrain(
    training: Sequence[Example],
    held_out: Sequence[Example],
    *,
    current: CodeModel | None,
    version: int,
    embedder=None,
) -> Candidate:
    """Train a new version and promote it only when it beats the current one on the same held-out set."""
    candidate = train(training, version=version, embedder=embedder)
    scores = candidate.score(held_out)
    baseline = current.score(held_out) if current is not None else None
    return Candidate(candidate, scores, scores.better_than(baseline))
