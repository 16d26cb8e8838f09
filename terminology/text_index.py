"""Prefix search over normalised words (Persian or Latin) of a fixed list of entries.

Each entry has a list of texts (code, display, designations). A query matches an entry
when every query word is the prefix of one of the entry's words, or when the query with
its spaces removed is a prefix of one word (a user typing "آموکسی سیلین" for
"آموکسی‌سیلین"). Lookups bisect one sorted word list, so they cost O(log n + hits).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from .normalize import words


class TextIndex:
    def __init__(self, texts: Sequence[Sequence[str]]) -> None:
        pairs: set[tuple[str, int]] = set()
        self._lead: list[tuple[str, ...]] = []  # first word of each name (not of the code)
        for i, entry in enumerate(texts):
            split = [words(t) for t in entry]
            self._lead.append(tuple(ws[0] for ws in split[1:] if ws))
            pairs.update((w, i) for ws in split for w in ws)
        ordered = sorted(pairs)
        self._words = [w for w, _ in ordered]
        self._ids = [i for _, i in ordered]
        self.size = len(texts)

    def _prefixed(self, prefix: str) -> set[int]:
        lo = bisect.bisect_left(self._words, prefix)
        hi = bisect.bisect_left(self._words, prefix + "\U0010ffff", lo)
        return set(self._ids[lo:hi])

    def search(self, query: str) -> list[int] | None:
        """Matching entry numbers in entry order, best first; None for an empty query."""
        terms = words(query)
        if not terms:
            return None
        hits: set[int] | None = None
        for term in terms:
            found = self._prefixed(term)
            hits = found if hits is None else hits & found
            if not hits:
                break
        if len(terms) > 1:
            hits = (hits or set()) | self._prefixed("".join(terms))
        assert hits is not None
        first = terms[0]
        # entries with a name that starts with the first term come first
        return sorted(hits, key=lambda i: (not any(w.startswith(first) for w in self._lead[i]), i))
