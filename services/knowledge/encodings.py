"""The last texts encoded, kept so the same words are encoded once, even when asked twice at once.

The capture form asks `SuggestCodes` and `Search` on the same verbatim together, and again each time the
agent pauses, often on words unchanged but for spacing. The key is the text with its whitespace folded
(runs of spaces, tabs and line breaks as one space, none at either end, Unicode NFC), and that folded text
is what is encoded, so a kept vector is exactly the one a fresh encoding of the same key gives. A caller
asking for a text another caller is encoding waits for that encoding instead of making a second one.
"""

from __future__ import annotations

import threading
import unicodedata
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future

import numpy as np


def folded(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).split())


class EncodingCache:
    """At most `size` vectors, the least recently used dropped first; counts its hits and misses."""

    def __init__(self, encode: Callable[[str], np.ndarray], size: int = 256) -> None:
        self._encode = encode
        self._size = size
        self._kept: OrderedDict[str, Future] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __call__(self, text: str) -> np.ndarray:
        key = folded(text)
        with self._lock:
            kept = self._kept.get(key)
            if kept is not None:
                self._kept.move_to_end(key)
                self.hits += 1
            else:
                self.misses += 1
                self._kept[key] = pending = Future()
                while len(self._kept) > self._size:
                    self._kept.popitem(last=False)
        if kept is not None:
            return kept.result()  # kept, or being encoded by another caller
        return self._fill(key, pending)

    def _fill(self, key: str, pending: Future) -> np.ndarray:
        try:
            vector = self._encode(key)
        except BaseException as failure:
            with self._lock:
                if self._kept.get(key) is pending:
                    del self._kept[key]  # a failed encoding is not kept: the next caller tries again
            pending.set_exception(failure)
            raise
        pending.set_result(vector)
        return vector

    def __len__(self) -> int:
        return len(self._kept)

    def clear(self) -> None:
        with self._lock:
            self._kept.clear()
