"""A question waiting for the model goes before the next slice of a long batch (a training)."""

import threading

import numpy as np
import pytest

from services.knowledge.embedders import BATCH, E5, EmbedderClosed
from tests.support.wait import wait_for


class GatedEngine:
    """Records what it encoded, in order; the first slice of a batch holds until the test lets it go."""

    def __init__(self):
        self.encoded: list[str] = []
        self.first_slice_started = threading.Event()
        self.release = threading.Event()

    def query(self, texts):
        if len(texts) > 1:
            self.encoded.append("slice")
            if not self.first_slice_started.is_set():
                self.first_slice_started.set()
                assert self.release.wait(10)
        else:
            self.encoded.append(texts[0])
        return np.zeros((len(texts), 384), dtype=np.float32)

    passage = query


def test_a_question_is_encoded_before_the_next_slice_of_a_training():
    engine = GatedEngine()
    embedder = E5(engine)
    engine.encoded.clear()  # the warm-up
    training = threading.Thread(target=embedder.queries, args=([f"verbatim {i}" for i in range(3 * BATCH)],))
    training.start()
    assert engine.first_slice_started.wait(10)
    question = threading.Thread(target=embedder.queries, args=(["where can I buy the oats?"],))
    question.start()
    wait_for(lambda: embedder._single_waiting == 1, timeout=10, what="the question to wait for the model")
    engine.release.set()
    question.join(10)
    training.join(10)
    assert engine.encoded == ["slice", "where can I buy the oats?", "slice", "slice"]


def test_a_stop_ends_a_batch_waiting_for_its_turn():
    embedder = E5(GatedEngine())
    embedder.close()
    with pytest.raises(EmbedderClosed):
        embedder.queries(["a", "b"])
