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
numbers (12 bytes per band per document) with a small bounded dict in front for recent
inserts, spilled into sorted runs merged geometrically (amortised ``O(log n)`` per insert). That is what
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


_PENDING_MAX = 16384  # recent inserts held in a dict (~100 bytes each) before they become a sorted run


def _merge_sorted(a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Merge two ``(sorted keys, ids)`` runs; a stable sort of two concatenated runs is linear (timsort)."""
    keys = np.concatenate([a[0], b[0]])
    ids = np.concatenate([a[1], b[1]])
    order = np.argsort(keys, kind="stable")
    return keys[order], ids[order]


class BandIndex:
    """band key -> document numbers; sorted numpy runs plus a small dict of recent inserts.

    Layout (a small log-structured merge tree): ``keys``/``ids`` is the main sorted run; recent
    inserts go to ``pending`` (a dict, fast to update) until it holds ``_PENDING_MAX`` entries,
    then become a sorted run in ``runs``; a run at least half the size of the one before it is
    merged into it (main included), so there are ``O(log n)`` runs and every entry is merged
    ``O(log n)`` times. The dict is bounded, so memory is 12 bytes per entry plus a constant
    (an unbounded dict of recent inserts cost ~100 bytes per entry, up to a quarter of the index).

    Deletions are not supported on purpose: a re-added article simply gets new keys, and a
    stale key can only produce a candidate that verification (on the current record) rejects.
    """

    def __init__(self, keys: np.ndarray | None = None, ids: np.ndarray | None = None) -> None:
        self.keys = np.empty(0, dtype=np.uint64) if keys is None else keys
        self.ids = np.empty(0, dtype=np.int32) if ids is None else ids
        self.runs: list[tuple[np.ndarray, np.ndarray]] = []
        self.pending: dict[int, int | tuple[int, ...]] = {}
        self._pending_n = 0

    def __len__(self) -> int:
        return len(self.keys) + sum(len(k) for k, _ in self.runs) + self._pending_n

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
        if self._pending_n >= _PENDING_MAX:
            self._spill()

    @staticmethod
    def _gather(keys: np.ndarray, ids: np.ndarray, q: np.ndarray, out: set[int]) -> None:
        left = np.searchsorted(keys, q, side="left")
        right = np.searchsorted(keys, q, side="right")
        hit = left < right
        if hit.any():
            lo, lens = left[hit], (right - left)[hit]
            if len(lo) == 1:
                out.update(ids[lo[0] : lo[0] + lens[0]].tolist())
            else:  # all hit ranges gathered at once: no Python loop per band or per candidate
                ends = np.cumsum(lens)
                pos = np.arange(ends[-1]) + np.repeat(lo - (ends - lens), lens)
                out.update(ids[pos].tolist())

    def query(self, keys: np.ndarray) -> set[int]:
        out: set[int] = set()
        if len(self.keys):
            self._gather(self.keys, self.ids, keys, out)
        for rk, ri in self.runs:
            self._gather(rk, ri, keys, out)
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

    def _pending_run(self) -> tuple[np.ndarray, np.ndarray]:
        ks: list[int] = []
        vs: list[int] = []
        for k, v in self.pending.items():
            if isinstance(v, int):
                ks.append(k)
                vs.append(v)
            else:
                ks.extend([k] * len(v))
                vs.extend(v)
        keys = np.array(ks, dtype=np.uint64)
        ids = np.array(vs, dtype=np.int32)
        order = np.argsort(keys, kind="stable")
        self.pending = {}
        self._pending_n = 0
        return keys[order], ids[order]

    def _spill(self) -> None:
        """Pending dict -> a sorted run; merge runs geometrically (the main run is the first)."""
        if not self.pending:
            return
        self.runs.append(self._pending_run())
        while self.runs:
            prev_len = len(self.runs[-2][0]) if len(self.runs) >= 2 else len(self.keys)
            if 2 * len(self.runs[-1][0]) < prev_len:
                break
            last = self.runs.pop()
            if self.runs:
                self.runs[-1] = _merge_sorted(self.runs[-1], last)
            else:
                self.keys, self.ids = _merge_sorted((self.keys, self.ids), last)

    def compact(self) -> None:
        """Fold the pending dict and every run into the main sorted arrays."""
        if self.pending:
            self.runs.append(self._pending_run())
        while self.runs:
            last = self.runs.pop()
            if self.runs:
                self.runs[-1] = _merge_sorted(self.runs[-1], last)
            else:
                self.keys, self.ids = _merge_sorted((self.keys, self.ids), last)

    def nbytes(self) -> int:
        """Approximate memory (sorted arrays exactly; pending dict entries at ~100 bytes)."""
        runs = sum(k.nbytes + i.nbytes for k, i in self.runs)
        return self.keys.nbytes + self.ids.nbytes + runs + 100 * self._pending_n
