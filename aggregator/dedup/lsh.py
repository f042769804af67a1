"""Banded LSH over MinHash signatures: the band/row choice, band keys, and a compact index.

With ``b`` bands of ``r`` rows, two documents of Jaccard similarity ``s`` share at least one
band key with probability ``P(s) = 1 - (1 - s**r)**b`` (an S-curve). The usual LSH
"threshold" ``(1/b)**(1/r)`` is roughly the curve's inflection point, *not* its recall point:
``MinHashLSH(threshold=t)`` weights false positives and negatives equally, and a pair exactly
at ``t`` is found well under half the time. :func:`choose_bands` instead asks for a recall
(``P(t) >= min_recall``) and, among the configurations reaching it, picks the one with the
least false-positive mass ``integral_0^t P(s) ds``. Precision is then restored by verifying
every candidate on exact shingle sets, so extra candidates cost time, never correctness.

Band keys are 64-bit hashes of ``(band index, salt, r signature values)``; two documents
collide in a band iff their ``r`` values agree (up to a 2**-64 accident, caught by
verification). :class:`BandIndex` keeps them as sorted ``uint64`` keys + ``int32`` document
numbers (12 bytes per band per document) with a small dict in front for recent inserts,
merged into the sorted arrays geometrically (amortised ``O(log n)`` per insert). That is what
keeps LSH state at a few hundred bytes per document instead of datasketch's ~8.7 KB of
Python dicts and lists.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import numpy as np

from .text import _fmix64

_ROW_MULT = np.random.RandomState(0x15A).randint(1, 1 << 62, 64, dtype=np.uint64) | np.uint64(1)
_BAND_MULT = np.uint64(0x9E3779B97F4A7C15)


def collision_probability(s: float, bands: int, rows: int) -> float:
    """``P[candidate]`` for a pair of Jaccard ``s`` under ``bands`` x ``rows`` banding."""
    return 1.0 - (1.0 - s**rows) ** bands


def _fp_mass(threshold: float, bands: int, rows: int, steps: int = 200) -> float:
    xs = (np.arange(steps) + 0.5) * (threshold / steps)
    return float(np.sum(1.0 - (1.0 - xs**rows) ** bands) * (threshold / steps))


@lru_cache(maxsize=256)
def choose_bands(
    threshold: float, num_perm: int, min_recall: float = 0.98, max_bands: int | None = None
) -> tuple[int, int]:
    """``(bands, rows)`` with ``P(threshold) >= min_recall`` and least false-positive mass.

    For each row count the smallest sufficient band count is taken (more bands only add false
    positives and memory); ``max_bands`` caps memory (12 bytes per band per document). If no
    configuration reaches ``min_recall`` the one with the highest recall is returned.
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError("threshold must be in (0, 1)")
    cap = min(num_perm, max_bands or num_perm)
    best: tuple[float, int, int] | None = None
    fallback: tuple[float, int, int] | None = None
    for rows in range(1, num_perm + 1):
        max_b = min(cap, num_perm // rows)
        if max_b < 1:
            break
        recall_max = collision_probability(threshold, max_b, rows)
        if fallback is None or recall_max > fallback[0]:
            fallback = (recall_max, max_b, rows)
        if recall_max < min_recall:
            continue
        lo, hi = 1, max_b  # smallest b reaching min_recall (P is increasing in b)
        while lo < hi:
            mid = (lo + hi) // 2
            if collision_probability(threshold, mid, rows) >= min_recall:
                hi = mid
            else:
                lo = mid + 1
        fp = _fp_mass(threshold, lo, rows)
        if best is None or (fp, lo) < (best[0], best[1]):
            best = (fp, lo, rows)
    if best is not None:
        return best[1], best[2]
    assert fallback is not None
    return fallback[1], fallback[2]


def band_keys(signature: np.ndarray, bands: int, rows: int, salt: int = 0) -> np.ndarray:
    """uint64 key per band of one signature (``salt`` separates index spaces / time buckets)."""
    sig = np.asarray(signature[: bands * rows], dtype=np.uint64).reshape(bands, rows)
    with np.errstate(over="ignore"):
        h = (sig * _ROW_MULT[:rows]).sum(axis=1, dtype=np.uint64)
        h += (np.arange(bands, dtype=np.uint64) + np.uint64(1)) * _BAND_MULT
        h += np.uint64(salt & 0xFFFFFFFFFFFFFFFF) * np.uint64(0xD6E8FEB86659FD93)
        return _fmix64(h)


class BandIndex:
    """band key -> document numbers; sorted numpy arrays plus a dict of recent inserts.

    Deletions are not supported on purpose: a re-added article simply gets new keys, and a
    stale key can only produce a candidate that verification (on the current record) rejects.
    """

    def __init__(self, keys: np.ndarray | None = None, ids: np.ndarray | None = None) -> None:
        self.keys = np.empty(0, dtype=np.uint64) if keys is None else keys
        self.ids = np.empty(0, dtype=np.int32) if ids is None else ids
        self.pending: dict[int, int | tuple[int, ...]] = {}
        self._pending_n = 0

    def __len__(self) -> int:
        return len(self.keys) + self._pending_n

    def insert(self, keys: Iterable[int], doc: int) -> None:
        pend = self.pending
        for k in keys:
            k = int(k)
            old = pend.get(k)
            if old is None:
                pend[k] = doc
            elif isinstance(old, int):
                if old != doc:
                    pend[k] = (old, doc)
            elif doc not in old:
                pend[k] = old + (doc,)
            self._pending_n += 1
        if self._pending_n > max(65536, len(self.keys) // 4):
            self.compact()

    def query(self, keys: np.ndarray) -> set[int]:
        out: set[int] = set()
        if len(self.keys):
            left = np.searchsorted(self.keys, keys, side="left")
            right = np.searchsorted(self.keys, keys, side="right")
            hit = left < right
            if hit.any():
                lo, lens = left[hit], (right - left)[hit]
                if len(lo) == 1:
                    out.update(self.ids[lo[0] : lo[0] + lens[0]].tolist())
                else:  # all hit ranges gathered at once: no Python loop per band or per candidate
                    ends = np.cumsum(lens)
                    pos = np.arange(ends[-1]) + np.repeat(lo - (ends - lens), lens)
                    out.update(self.ids[pos].tolist())
        pend = self.pending
        if pend:
            for k in keys.tolist():
                v = pend.get(k)
                if v is None:
                    continue
                if isinstance(v, int):
                    out.add(v)
                else:
                    out.update(v)
        return out

    def compact(self) -> None:
        """Fold the pending dict into the sorted arrays."""
        if not self.pending:
            return
        ks: list[int] = []
        vs: list[int] = []
        for k, v in self.pending.items():
            if isinstance(v, int):
                ks.append(k)
                vs.append(v)
            else:
                ks.extend([k] * len(v))
                vs.extend(v)
        keys = np.concatenate([self.keys, np.array(ks, dtype=np.uint64)])
        ids = np.concatenate([self.ids, np.array(vs, dtype=np.int32)])
        order = np.argsort(keys, kind="stable")
        self.keys, self.ids = keys[order], ids[order]
        self.pending = {}
        self._pending_n = 0

    def nbytes(self) -> int:
        """Approximate memory (sorted arrays exactly; pending dict entries at ~100 bytes)."""
        return self.keys.nbytes + self.ids.nbytes + 100 * self._pending_n
