"""Verbatims grouped by theme: a period's and a scope's redacted verbatims clustered, each theme labelled
by the terms that set it apart, with its contacts per week and how fast it is rising.

Representation: the knowledge service's multilingual model (multilingual-e5-small, over its gRPC `Embed`)
when it answers, because on the hand-labelled set (bench/themes_quality.py, figures in docs/insights.md) it
put "plastic", "plastique" and "plástico" together where words alone cannot; otherwise `represent`, TF-IDF
over words (one and two) and character 3- to 5-grams within words, which runs here with nothing to load and
keeps themes pure, though split by language. Labels always come from the verbatims' own words, so they are
in the languages the consumers wrote in.

Clustering: agglomerative, cosine distance, average linkage, for every number of themes from 2 to
MAX_THEMES, keeping the number with the best silhouette (a theme count nobody has to choose). A set too
small to split is one theme.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta

import numpy as np
from scipy.sparse import hstack
from sklearn.cluster import AgglomerativeClustering
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import silhouette_score
from sklearn.preprocessing import normalize

MAX_THEMES = 12
MIN_TO_SPLIT = 4
LABEL_TERMS = 3
RECENT_WEEKS = 4
# Words that say nothing about a theme, in the languages the demo and the tests write in; the redaction's
# markers too. A term in most verbatims of a scope is dropped anyway (max_df).
STOP_WORDS = frozenset(
    """
    a about after again all also am an and any are as at be been but by can could did do does for from
    had has have he her here him his how i if in into is it its just me more my near no not now of on
    once one only or our out over she so some such than that the their them then there these they this
    to too up us very was we were what when where which who why will with would you your yes any anymore
    longer even though like had get got been bought
    au aux avec ce ces dans de des du elle en est et il ils je la le les leur lui ma mais me mes mon ne
    nos notre on ou où par pas plus pour qu que qui sa se ses son sur ta te tu un une vos votre vous puis
    ai été être n en y
    al con de del el en es la las lo los mi mis no por que se su sus un una y ya
    name email phone address number
    """.split()
)
_MARKER = re.compile(r"\[(?:name|email|phone|address|number|redacted)\]")
_FIGURES = re.compile(r"\d+")


@dataclass(frozen=True)
class Verbatim:
    """A contact's redacted verbatim and the facts a theme is scoped and counted by."""

    contact_id: str
    sku: str
    issue_code: str
    received_on: date
    language: str
    text: str


@dataclass(frozen=True)
class Theme:
    id: str
    label: str
    terms: tuple[str, ...]
    size: int
    rise: float  # contacts in the last RECENT_WEEKS over what the theme's earlier weeks would expect
    weeks: tuple[tuple[date, int], ...]
    languages: tuple[str, ...]
    contact_ids: tuple[str, ...]


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def _cleaned(text: str) -> str:
    return _FIGURES.sub(" ", _MARKER.sub(" ", text.lower()))


def _word_vectorizer(max_df: float) -> TfidfVectorizer:
    return TfidfVectorizer(
        preprocessor=_cleaned,
        token_pattern=r"(?u)\b[^\W\d_]{3,}\b",
        stop_words=sorted(STOP_WORDS),
        ngram_range=(1, 2),
        sublinear_tf=True,
        max_df=max_df,
    )


def represent(texts: list[str]):
    """The rows to cluster: word and character n-gram TF-IDF, each part normalised, then the whole."""
    words = _word_vectorizer(1.0).fit_transform(texts)
    chars = TfidfVectorizer(
        preprocessor=_cleaned, analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True
    ).fit_transform(texts)
    return normalize(hstack([normalize(words), normalize(chars)]).tocsr())


def assign(vectors, max_themes: int = MAX_THEMES) -> list[int]:
    """A theme number per row: the count of themes with the best silhouette, 2 to max_themes.

    On the n x n cosine distances, computed once (the rows are unit length): TF-IDF rows have tens of
    thousands of columns, which a dense copy per candidate count would hold again and again."""
    count = vectors.shape[0]
    if count < MIN_TO_SPLIT:
        return [0] * count
    rows = normalize(vectors)
    similarity = rows @ rows.T
    similarity = similarity.toarray() if hasattr(similarity, "toarray") else np.asarray(similarity)
    distances = np.clip(1.0 - similarity, 0.0, 2.0)
    np.fill_diagonal(distances, 0.0)
    best, best_score = [0] * count, -1.0
    for k in range(2, min(max_themes, count - 1) + 1):
        found = AgglomerativeClustering(n_clusters=k, metric="precomputed", linkage="average").fit_predict(
            distances
        )
        score = silhouette_score(distances, found, metric="precomputed")
        if score > best_score:
            best, best_score = list(found), score
    return best


def labels(texts: list[str], themes: list[int], terms: int = LABEL_TERMS) -> dict[int, tuple[str, ...]]:
    """Each theme's terms: the highest mean TF-IDF inside it less the mean outside it."""
    vectorizer = _word_vectorizer(0.9 if len(texts) >= 10 else 1.0)
    try:
        matrix = vectorizer.fit_transform(texts)
    except ValueError:  # nothing but stop words and markers
        return {t: () for t in set(themes)}
    vocabulary = vectorizer.get_feature_names_out()
    numbers = np.asarray(themes)
    found = {}
    for theme in sorted(set(themes)):
        inside = np.asarray(matrix[numbers == theme].mean(axis=0)).ravel()
        outside = (
            np.asarray(matrix[numbers != theme].mean(axis=0)).ravel()
            if (numbers != theme).any()
            else np.zeros_like(inside)
        )
        lead = inside - outside
        chosen: list[str] = []
        for index in np.argsort(-lead):
            if lead[index] <= 0 or len(chosen) == terms:
                break
            term = vocabulary[index]
            # A two-word term repeats its words: keep it only when it is not already said.
            if any(term in c or c in term for c in chosen):
                continue
            chosen.append(term)
        found[theme] = tuple(chosen)
    return found


def _rise(weekly: Counter, today: date) -> float:
    this_week = monday(today)
    recent_from = this_week - timedelta(weeks=RECENT_WEEKS - 1)
    recent = sum(n for week, n in weekly.items() if week >= recent_from)
    earlier = {week: n for week, n in weekly.items() if week < recent_from}
    if earlier:
        span = max(1, (recent_from - min(earlier)).days // 7)
        expected = sum(earlier.values()) / span * RECENT_WEEKS
    else:
        expected = 0.0
    return round((recent + 0.5) / (expected + 0.5), 2)


def usable(verbatims: list[Verbatim]) -> list[Verbatim]:
    """Those with words left once the redaction's markers and figures are taken out."""
    return [v for v in verbatims if _cleaned(v.text).strip()]


def find_themes(verbatims: list[Verbatim], today: date, max_themes: int = MAX_THEMES) -> list[Theme]:
    """The themes of these verbatims over insights' own representation."""
    chosen = usable(verbatims)
    if not chosen:
        return []
    return group(chosen, represent([v.text for v in chosen]), today, max_themes)


def group(chosen: list[Verbatim], vectors, today: date, max_themes: int = MAX_THEMES) -> list[Theme]:
    """Themes of `chosen` (usable verbatims) clustered on `vectors`, one row each: the largest first
    (ties: the faster rising), labelled from the verbatims' own words."""
    if not chosen:
        return []
    numbers = assign(vectors, max_themes)
    named = labels([v.text for v in chosen], numbers)
    themes = []
    for number in sorted(set(numbers)):
        members = [v for v, n in zip(chosen, numbers, strict=True) if n == number]
        weekly = Counter(monday(v.received_on) for v in members)
        terms = named.get(number, ())
        themes.append(
            Theme(
                id="",
                label=", ".join(terms) or "(no distinguishing words)",
                terms=terms,
                size=len(members),
                rise=_rise(weekly, today),
                weeks=tuple(sorted(weekly.items())),
                languages=tuple(sorted({v.language for v in members if v.language})),
                contact_ids=tuple(sorted(v.contact_id for v in members)),
            )
        )
    themes.sort(key=lambda t: (-t.size, -t.rise, t.label))
    return [_numbered(t, i) for i, t in enumerate(themes, start=1)]


def _numbered(theme: Theme, number: int) -> Theme:
    return replace(theme, id=str(number))
