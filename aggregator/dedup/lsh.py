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

from .text import _fmix64_

_ROW_MULT = np.random.RandomState(0x15A).randint(1, 1 << 62, 64, dtype=np.uint64) | np.uint64(1)
_BAND_MULT = np.uint64(0x9E3779B97F4A7C15)
_MASK64 = (1 << 64) - 1


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


@lru_cache(maxsize=64)
def _band_constants(bands: int, rows: int) -> tuple[np.ndarray, np.ndarray]:
    return _ROW_MULT[:rows].copy(), (np.arange(bands, dtype=np.uint64) + np.uint64(1)) * _BAND_MULT


def band_keys(signature: np.ndarray, bands: int, rows: int, salt: int = 0) -> np.ndarray:
    """uint64 key per band of one signature (``salt`` separates index spaces / time buckets).

    ``key_b = fmix64(sum_j sig[b*r + j] * m_j + (b + 1) * M + salt * S)`` with odd random ``m_j``
    (all mod 2**64): a band's ``r`` values decide its key, the band index and the salt keep
    bands and spaces apart. Array arithmetic wraps silently; the salt term is reduced in Python.
    """
    mult, add = _band_constants(bands, rows)
    h = np.dot(np.asarray(signature[: bands * rows]).reshape(bands, rows).astype(np.uint64), mult)
    h += add
    if salt:
        h += np.uint64(((salt & _MASK64) * 0xD6E8FEB86659FD93) & _MASK64)
    return _fmix64_(h)


_PENDING_MIN = 16384  # recent inserts held in a dict before they are folded into the sorted arrays
_PENDING_FRACTION = 16  # ... or up to 1/16 of the main arrays: each entry is then copied ~16 times in all
_BUCKET_LOAD = 4  # main-array entries per directory bucket (on average)


class BandIndex:
    """band key -> document numbers: one sorted array with a bucket directory, plus a small dict.

    Layout: ``keys`` (sorted ``uint64``) and ``ids`` (``int32``) hold every folded entry; a key's
    documents are contiguous. Band keys are uniform 64-bit hashes, so the top ``bits`` of a key
    pick one of ``2**bits`` buckets, and ``directory[b]:directory[b + 1]`` is the slice of bucket
    ``b`` (about ``_BUCKET_LOAD`` entries): a lookup is one directory read and a short scan, all
    bands of a query at once in numpy, instead of a binary search whose ~22 cache misses per key
    dominated at 100k documents. Recent inserts go to ``pending`` (a dict of lists, fast to update)
    until it holds ``max(_PENDING_MIN, len(keys) / _PENDING_FRACTION)`` entries; then they are
    merged in (one linear merge) and the directory is rebuilt (one ``bincount``), so the
    amortised cost per entry is ``O(_PENDING_FRACTION)`` element copies.

    Memory: 12 bytes per entry + 8 bytes per bucket (~14 bytes an entry), plus the bounded dict.

    Deletions are not supported on purpose: a re-added article simply gets new keys, and a
    stale key can only produce a candidate that verification (on the current record) rejects.
    """

    def __init__(self, keys: np.ndarray | None = None, ids: np.ndarray | None = None) -> None:
        self.keys = np.empty(0, dtype=np.uint64) if keys is None else np.asarray(keys, dtype=np.uint64)
        self.ids = np.empty(0, dtype=np.int32) if ids is None else np.asarray(ids, dtype=np.int32)
        if len(self.keys) > 1 and not bool(np.all(self.keys[1:] >= self.keys[:-1])):
            order = np.argsort(self.keys, kind="stable")
            self.keys, self.ids = self.keys[order], self.ids[order]
        self.pending: dict[int, int | list[int]] = {}
        self._pending_keys: list[int] = []  # the same entries in insertion order, for a cheap fold
        self._pending_ids: list[int] = []
        self._mark = np.zeros(0, dtype=np.int32)  # scratch for de-duplicating candidates
        self._build_directory()

    def __len__(self) -> int:
        return len(self.keys) + len(self._pending_keys)

    @staticmethod
    def _bits_for(n: int) -> int:
        return max(0, int(np.ceil(np.log2(max(n / _BUCKET_LOAD, 1)))))

    def _build_directory(self) -> None:
        n = len(self.keys)
        self.bits = self._bits_for(n)
        self._shift = np.uint64(64 - self.bits)
        self.directory = np.zeros((1 << self.bits) + 1, dtype=np.intp)
        np.cumsum(np.bincount(self._buckets(self.keys), minlength=1 << self.bits), out=self.directory[1:])

    def _buckets(self, keys: np.ndarray) -> np.ndarray:
        """Directory bucket of each key: its top ``bits`` bits."""
        return (keys >> self._shift).astype(np.intp) if self.bits else np.zeros(len(keys), dtype=np.intp)

    def insert(self, keys: Iterable[int] | np.ndarray, doc: int) -> None:
        ks = keys.tolist() if isinstance(keys, np.ndarray) else [int(k) for k in keys]
        pend = self.pending
        get = pend.get
        for k in ks:
            old = get(k)
            if old is None:
                pend[k] = doc
            elif type(old) is int:
                pend[k] = [old, doc]
            else:
                old.append(doc)
        self._pending_keys.extend(ks)
        self._pending_ids.extend([doc] * len(ks))
        if len(self._pending_keys) >= max(_PENDING_MIN, len(self.keys) // _PENDING_FRACTION):
            self._fold()

    def _query_main(self, q: np.ndarray) -> np.ndarray:
        if not len(self.keys):
            return self.ids[:0]
        b = self._buckets(q)
        lo = self.directory[b]
        lens = self.directory[b + 1] - lo
        ends = lens.cumsum()
        total = int(ends[-1])
        if not total:
            return self.ids[:0]
        # every bucket slice gathered at once: no Python loop per band or per candidate
        pos = np.repeat(lo - ends + lens, lens)
        pos += np.arange(total)
        return self.ids[pos[self.keys[pos] == q.repeat(lens)]]

    def query_array(self, keys: np.ndarray) -> np.ndarray:
        """Document numbers sharing at least one key with ``keys``, each once (unordered)."""
        q = np.asarray(keys, dtype=np.uint64)
        found = self._query_main(q)
        pend = self.pending
        if pend:
            extra: list[int] = []
            for k in q.tolist():
                v = pend.get(k)
                if v is None:
                    continue
                if type(v) is int:
                    extra.append(v)
                else:
                    extra.extend(v)
            if extra:
                found = np.concatenate([found, np.array(extra, dtype=np.int32)])
        if len(found) < 2:
            return found
        # one position per distinct number survives: whichever write to mark[n] landed last
        top = int(found.max()) + 1
        if len(self._mark) < top:
            self._mark = np.zeros(max(top, 2 * len(self._mark)), dtype=np.int32)
        where = np.arange(len(found), dtype=np.int32)
        self._mark[found] = where
        return found[self._mark[found] == where]

    def query(self, keys: np.ndarray) -> set[int]:
        return set(self.query_array(keys).tolist())

    def _fold(self) -> None:
        """Merge the pending entries into the sorted arrays (after equal keys: insertion order kept)."""
        if not self._pending_keys:
            return
        pk = np.array(self._pending_keys, dtype=np.uint64)
        pi = np.array(self._pending_ids, dtype=np.int32)
        self.pending, self._pending_keys, self._pending_ids = {}, [], []
        order = np.argsort(pk, kind="stable")
        pk, pi = pk[order], pi[order]
        n, m = len(self.keys), len(pk)
        dest = np.searchsorted(self.keys, pk, side="right") + np.arange(m)
        old = np.ones(n + m, dtype=bool)
        old[dest] = False
        keys = np.empty(n + m, dtype=np.uint64)
        ids = np.empty(n + m, dtype=np.int32)
        keys[dest], ids[dest] = pk, pi
        keys[old], ids[old] = self.keys, self.ids
        self.keys, self.ids = keys, ids
        if self._bits_for(n + m) == self.bits:
            # same buckets: add the new entries' counts to the directory instead of recounting all
            self.directory[1:] += np.cumsum(np.bincount(self._buckets(pk), minlength=1 << self.bits))
        else:
            self._build_directory()

    def compact(self) -> None:
        """Fold the pending entries into the sorted arrays (before saving them)."""
        self._fold()

    def nbytes(self) -> int:
        """Approximate memory (arrays exactly; pending dict entries at ~100 bytes)."""
        return (self.keys.nbytes + self.ids.nbytes + self.directory.nbytes + self._mark.nbytes
                + 100 * len(self._pending_keys))
