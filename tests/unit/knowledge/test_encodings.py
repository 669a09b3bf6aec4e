"""The kept encodings: the same codes as a fresh encoding, at most `size` kept, one encoding per text."""

import hashlib
import threading

import numpy as np
import pytest

from services.knowledge.demo.verbatims import generate
from services.knowledge.embedders import E5
from services.knowledge.encodings import EncodingCache
from services.knowledge.suggest import train
from tests.support.wait import wait_for


class HashedWords:
    """A deterministic engine: each word's hashed direction, summed and normalised; records what it encoded."""

    def __init__(self):
        self.encoded: list[str] = []

    def query(self, texts):
        self.encoded.extend(texts)
        out = np.zeros((len(texts), 384), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "big")
                out[row] += np.random.default_rng(seed).standard_normal(384)
            out[row] /= max(float(np.linalg.norm(out[row])), 1e-9)
        return out

    passage = query


def test_a_kept_encoding_suggests_the_same_codes_as_a_fresh_one():
    training, held_out = generate()
    engine = HashedWords()
    model = train(training[::4], version=1, embedder=E5(engine))
    verbatim = held_out[0].verbatim
    fresh = model.suggest(verbatim)
    encoded = len(engine.encoded)
    assert model.suggest(verbatim) == fresh
    assert model.suggest(f"  {verbatim}\n") == model.suggest(verbatim)
    assert len(engine.encoded) == encoded  # both answered from the kept encoding
    model.embedder._one.clear()
    assert model.suggest(verbatim) == fresh
    assert len(engine.encoded) == encoded + 1


def test_spacing_is_folded_and_the_folded_text_is_what_is_encoded():
    engine = HashedWords()
    cache = EncodingCache(lambda text: engine.query([text]))
    first = cache("il y avait  du plastique\tdans ma boîte ")
    assert engine.encoded == ["il y avait du plastique dans ma boîte"]
    assert np.array_equal(cache("il y avait du plastique dans ma boîte"), first)
    assert (cache.hits, cache.misses) == (1, 1)


def test_at_most_size_encodings_are_kept_the_least_recently_used_dropped_first():
    engine = HashedWords()
    cache = EncodingCache(lambda text: engine.query([text]), size=3)
    for text in ("one", "two", "three", "one", "four", "five"):
        cache(text)
    assert len(cache) == 3
    cache("one")  # used after "two" and "three", so kept
    cache("two")  # dropped, encoded again
    assert engine.encoded == ["one", "two", "three", "four", "five", "two"]


def test_two_callers_asking_for_the_same_words_at_once_share_one_encoding():
    started, release = threading.Event(), threading.Event()
    calls = []

    def slow(text):
        calls.append(text)
        started.set()
        assert release.wait(10)
        return np.ones((1, 384), dtype=np.float32)

    cache = EncodingCache(slow)
    results = []
    first = threading.Thread(target=lambda: results.append(cache("the lid will not open")))
    first.start()
    assert started.wait(10)
    second = threading.Thread(target=lambda: results.append(cache("the lid will not open")))
    second.start()
    wait_for(lambda: cache.hits == 1, timeout=10, what="the second caller to find the encoding under way")
    release.set()
    first.join(10)
    second.join(10)
    assert calls == ["the lid will not open"]
    assert len(results) == 2 and all(np.array_equal(r, results[0]) for r in results)


def test_a_failed_encoding_is_not_kept():
    outcomes = [RuntimeError("the model is stopping"), np.ones((1, 384), dtype=np.float32)]

    def flaky(text):
        outcome = outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    cache = EncodingCache(flaky)
    with pytest.raises(RuntimeError):
        cache("where can I buy the oats")
    assert cache("where can I buy the oats").shape == (1, 384)
    assert cache.misses == 2
