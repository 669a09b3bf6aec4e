"""An in-memory Store for the knowledge use cases."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

from services.knowledge.service import OutcomeCount


class MemoryStore:
    def __init__(self, threshold: float = 0.8):
        self.versions = {}
        self.answers = []
        self.models = []
        self.saved_vectors = {}
        self._threshold = threshold
        self._changed = ("migration", "2026-01-01T00:00:00+00:00")

    async def latest(self, article_id, language):
        found = [a for (i, lang, _), a in self.versions.items() if (i, lang) == (article_id, language)]
        return max(found, key=lambda a: a.version) if found else None

    async def save(self, article, *, new):
        self.versions[(article.id, article.language, article.version)] = article

    async def all_latest(self):
        keys = {(i, lang) for i, lang, _ in self.versions}
        return [await self.latest(i, lang) for i, lang in sorted(keys)]

    async def published(self):
        best = {}
        for a in self.versions.values():
            if (
                a.state == "published"
                and a.version > best.get((a.id, a.language), replace(a, version=0)).version
            ):
                best[(a.id, a.language)] = a
        return list(best.values())

    async def vectors(self, model):
        return {key[1:]: v for key, v in self.saved_vectors.items() if key[0] == model}

    async def save_vectors(self, model, vectors):
        self.saved_vectors.update({(model, *key): v for key, v in vectors.items()})

    async def threshold(self):
        return self._threshold

    async def set_threshold(self, value, actor):
        self._threshold = value
        self._changed = (actor, "2026-01-02T00:00:00+00:00")

    async def threshold_change(self):
        return self._changed

    async def outcome_counts(self, days):
        # Every answer here was asked just now, inside any window.
        counted = Counter((a.channel, a.outcome, a.handoff_reason) for a in self.answers)
        return [OutcomeCount(*key, count) for key, count in sorted(counted.items())]

    async def log_answer(self, entry):
        self.answers.append(entry)
        return len(self.answers)

    async def set_outcome(self, log_id, outcome):
        if not 0 < log_id <= len(self.answers):
            return False
        self.answers[log_id - 1] = replace(self.answers[log_id - 1], outcome=outcome)
        return True

    async def current_model(self):
        promoted = [m for m in self.models if m[4]]
        return (promoted[-1][0], promoted[-1][5]) if promoted else None

    async def next_model_version(self):
        return len(self.models) + 1

    async def save_model(self, version, examples, top1, top3, promoted, model):
        self.models.append((version, examples, top1, top3, promoted, model))
