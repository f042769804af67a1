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
numbers (12 bytes per band per document) with a bucket directory and a bounded *pending* part in
front for recent inserts, merged in linearly when it fills. That is what keeps LSH state at a few
hundred bytes per document instead of datasketch's ~8.7 KB of Python dicts and lists. Per-document
work (keys, query, insert) runs in compiled kernels (:mod:`aggregator.dedup._jit`) when numba is
available; the numpy versions are the reference and the fallback.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

import numpy as np

from . import _jit
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
    bands and spaces apart. Computed by a compiled kernel when available, else by
    :func:`band_keys_numpy` (the reference; the keys are persisted, so both must agree bit for bit).
    """
    if not _jit.ENABLED:
        return band_keys_numpy(signature, bands, rows, salt)
    mult, add = _band_constants(bands, rows)
    sig = np.ascontiguousarray(signature)
    if len(sig) < bands * rows:
        raise ValueError(f"signature of {len(sig)} values is shorter than {bands} bands x {rows} rows")
    out = np.empty(bands, dtype=np.uint64)
    _jit.band_keys(sig, rows, mult, add, np.uint64(_salt_term(salt)), out)
    return out


def _salt_term(salt: int) -> int:
    return ((salt & _MASK64) * 0xD6E8FEB86659FD93) & _MASK64


# the story tier's name index (core.NAME_SPACE): its keys are kept apart from every band key by this constant
_NAME_SPACE = 0x6E616D6573706163


def name_keys(names: np.ndarray, salt: int) -> np.ndarray:
    """uint64 key of each name hash in ``names`` under ``salt`` (a time bucket, or the any-time salts the story
    LSH uses): the documents naming one name in one bucket share a key, in every store (a key is a bucket as a
    band key is)."""
    return name_keys_many(names, (salt,))[:, 0]


def name_keys_many(names: np.ndarray, salts: tuple[int, ...]) -> np.ndarray:
    """:func:`name_keys` of ``names`` under each of ``salts`` at once: a ``(len(names), len(salts))`` array whose
    column ``j`` is ``name_keys(names, salts[j])`` (one pass of the mixer instead of one per salt, whose fixed numpy
    cost is most of a call on a few names; :func:`name_keys` is its one-salt case)."""
    h = np.asarray(names, dtype=np.uint64)[:, None] * np.uint64(0x9E3779B97F4A7C15)
    h = h + np.array([_salt_term(s) ^ _NAME_SPACE for s in salts], dtype=np.uint64)[None, :]
    return _fmix64_(h)


def band_keys_numpy(signature: np.ndarray, bands: int, rows: int, salt: int = 0) -> np.ndarray:
    """:func:`band_keys` in numpy array arithmetic (which wraps silently; the salt is reduced in Python)."""
    mult, add = _band_constants(bands, rows)
    h = np.dot(np.asarray(signature[: bands * rows]).reshape(bands, rows).astype(np.uint64), mult)
    h += add
    if salt:
        h += np.uint64(_salt_term(salt))
    return _fmix64_(h)


_PENDING_MIN = 16384  # recent inserts held apart before they are folded into the sorted arrays
_PENDING_FRACTION = 16  # ... or up to 1/16 of the main arrays: each entry is then copied ~16 times in all
_BUCKET_LOAD = 4  # main-array entries per directory bucket (on average)
_PENDING_START = 1024  # the compiled index's pending arrays start this big and double


class NumpyBandIndex:
    """band key -> document numbers: one sorted array with a bucket directory, plus a small dict.

    Layout: ``keys`` (sorted ``uint64``) and ``ids`` (``int32``) hold every folded entry; a key's
    documents are contiguous. Band keys are uniform 64-bit hashes, so the top ``bits`` of a key
    pick one of ``2**bits`` buckets, and ``directory[b]:directory[b + 1]`` is the slice of bucket
    ``b`` (about ``_BUCKET_LOAD`` entries): a lookup is one directory read and a short scan, all
    bands of a query at once in numpy, instead of a binary search whose ~22 cache misses per key
    dominated at 100k documents. Recent inserts are *pending* (here a dict of lists, fast to update)
    until there are ``max(_PENDING_MIN, len(keys) / _PENDING_FRACTION)`` of them; then they are
    merged in (one linear merge) and the directory is rebuilt (one ``bincount``), so the
    amortised cost per entry is ``O(_PENDING_FRACTION)`` element copies.

    Memory: 12 bytes per entry + 8 bytes per bucket (~14 bytes an entry), plus the bounded pending part.

    This is the pure-numpy reference; :data:`BandIndex` is :class:`CompiledBandIndex` when the
    compiled kernels are available (same layout, same saved arrays, same answers).

    Single deletions are not supported on purpose: a re-added article simply gets new keys, and a
    stale key can only produce a candidate that verification (on the current record) rejects.
    Retention removes many documents at once with :meth:`drop` (one pass over the arrays).
    """

    def __init__(self, keys: np.ndarray | None = None, ids: np.ndarray | None = None) -> None:
        self.keys = np.empty(0, dtype=np.uint64) if keys is None else np.asarray(keys, dtype=np.uint64)
        self.ids = np.empty(0, dtype=np.int32) if ids is None else np.asarray(ids, dtype=np.int32)
        if len(self.keys) > 1 and not bool(np.all(self.keys[1:] >= self.keys[:-1])):
            order = np.argsort(self.keys, kind="stable")
            self.keys, self.ids = self.keys[order], self.ids[order]
        self._mark = np.zeros(0, dtype=np.int32)  # scratch for de-duplicating candidates
        self._reset_pending()
        self._build_directory()

    # -- pending part (the numpy version: a dict, plus the same entries in insertion order) --
    def _reset_pending(self) -> None:
        self.pending: dict[int, int | list[int]] = {}
        self._pending_keys: list[int] = []
        self._pending_ids: list[int] = []

    def _pending_count(self) -> int:
        return len(self._pending_keys)

    def _take_pending(self) -> tuple[np.ndarray, np.ndarray]:
        """The pending entries in insertion order (keys, ids), and an empty pending part."""
        pk = np.array(self._pending_keys, dtype=np.uint64)
        pi = np.array(self._pending_ids, dtype=np.int32)
        self._reset_pending()
        return pk, pi

    def __len__(self) -> int:
        return len(self.keys) + self._pending_count()

    _pending_fraction = _PENDING_FRACTION

    def _pending_limit(self) -> int:
        return max(_PENDING_MIN, len(self.keys) // self._pending_fraction)

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
        """Add document number ``doc`` (``0 <= doc < 2**31``) under each of ``keys``."""
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
        if len(self._pending_keys) >= self._pending_limit():
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
        """Document numbers sharing at least one key with ``keys``, each once (unordered, int32)."""
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
        if not self._pending_count():
            return
        pk, pi = self._take_pending()
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

    def drop(self, docs: np.ndarray) -> int:
        """Remove every entry of the document numbers ``docs``; returns how many entries went.

        One fold and one filtering pass over the arrays (``O(len(self))``), meant for retention's batch
        of expired documents, not for one document at a time.
        """
        self.compact()
        if not len(self.ids) or not len(docs):
            return 0
        gone = np.isin(self.ids, np.asarray(docs, dtype=np.int32))
        removed = int(gone.sum())
        if removed:
            # copies, not views: the old arrays are freed
            self.keys, self.ids = self.keys[~gone].copy(), self.ids[~gone].copy()
            self._build_directory()
        return removed

    def nbytes(self) -> int:
        """Approximate memory (arrays exactly; pending dict entries at ~100 bytes)."""
        return (self.keys.nbytes + self.ids.nbytes + self.directory.nbytes + self._mark.nbytes
                + 100 * len(self._pending_keys))


class CompiledBandIndex(NumpyBandIndex):
    """:class:`NumpyBandIndex` with the per-document work in compiled kernels (:mod:`._jit`).

    The main part (sorted arrays + directory, the fold) is shared. The pending part is a chained hash
    over append-only arrays instead of a dict: ``_pk``/``_pi`` hold entries in insertion order (so a
    fold is two slices), ``_phead[slot]`` is the newest entry of a slot (the key's top bits, about one
    entry per slot) and ``_pnext`` links to the one before; ~20-24 bytes an entry, the arrays doubling
    as they fill. Queries share scratch arrays: like the numpy index, one instance serves one thread
    at a time (the stores call it under their lock). Candidates are de-duplicated with
    a per-query stamp in ``_mark`` (one int32 per document number) instead of a second pass.
    """

    # folds are the larger share of an insert's cost here; the pending part's lookups stay O(1) however
    # big it gets, so it may hold twice as much before a fold (each entry copied ~8 times in all)
    _pending_fraction = _PENDING_FRACTION // 2

    def __init__(self, keys: np.ndarray | None = None, ids: np.ndarray | None = None) -> None:
        self._stamp = 0
        self._out = np.empty(256, dtype=np.int32)
        super().__init__(keys, ids)
        if len(self.ids):
            self._grow_mark(int(self.ids.max()) + 1)

    def _reset_pending(self) -> None:
        self._alloc_pending(_PENDING_START)

    def _alloc_pending(self, cap: int) -> None:
        """Empty pending arrays for ``cap`` entries (they grow by doubling up to the fold limit)."""
        pbits = max(1, (cap - 1).bit_length())  # at most one entry per slot on average
        self._pk = np.empty(cap, dtype=np.uint64)
        self._pi = np.empty(cap, dtype=np.int32)
        self._pnext = np.empty(cap, dtype=np.int32)
        self._phead = np.full(1 << pbits, -1, dtype=np.int32)
        self._pshift = np.uint64(64 - pbits)
        self._pn = 0

    def _grow_pending(self, need: int) -> None:
        n, pk, pi = self._pn, self._pk, self._pi
        self._alloc_pending(max(need, 2 * len(pk)))
        self._pk[:n], self._pi[:n] = pk[:n], pi[:n]
        _jit.index_rechain(self._pk, self._pnext, self._phead, self._pshift, n)
        self._pn = n

    def _pending_count(self) -> int:
        return self._pn

    def _take_pending(self) -> tuple[np.ndarray, np.ndarray]:
        pk, pi = self._pk[: self._pn].copy(), self._pi[: self._pn].copy()
        self._pn = 0
        self._phead.fill(-1)
        return pk, pi

    def compact(self) -> None:
        """Fold the pending entries in and give back the pending arrays' memory."""
        self._fold()
        self._alloc_pending(_PENDING_START)

    def insert(self, keys: Iterable[int] | np.ndarray, doc: int) -> None:
        """Add document number ``doc`` (``0 <= doc < 2**31``) under each of ``keys``."""
        ks = np.ascontiguousarray(keys if isinstance(keys, np.ndarray) else list(keys), dtype=np.uint64)
        doc = int(doc)
        if not 0 <= doc < 1 << 31:
            raise ValueError(f"document number {doc} out of range 0..2**31-1")
        if self._pn + len(ks) > len(self._pk):
            self._grow_pending(self._pn + len(ks))
        if doc >= len(self._mark):
            self._grow_mark(doc + 1)
        self._pn = _jit.index_insert(ks, np.int32(doc), self._pk, self._pi, self._pnext, self._phead,
                                     self._pshift, self._pn)
        if self._pn >= self._pending_limit():
            self._fold()

    def _grow_mark(self, need: int) -> None:
        mark = np.zeros(max(need, 2 * len(self._mark), 1024), dtype=np.int32)
        mark[: len(self._mark)] = self._mark
        self._mark = mark

    def query_array(self, keys: np.ndarray) -> np.ndarray:
        """Document numbers sharing at least one key with ``keys``, each once (unordered, int32)."""
        q = np.ascontiguousarray(keys, dtype=np.uint64)
        while True:
            self._stamp += 1
            if self._stamp >= 0x7FFFFFFF:  # stamps wrapped: start over on a clean scratch
                self._mark[:] = 0
                self._stamp = 1
            c = _jit.index_query(q, self.keys, self.ids, self.directory, self._shift, self.bits == 0,
                                 self._pk, self._pi, self._pnext, self._phead, self._pshift,
                                 self._mark, self._stamp, self._out)
            if c <= len(self._out):
                return self._out[:c].copy()
            self._out = np.empty(2 * c, dtype=np.int32)

    def nbytes(self) -> int:
        """Approximate memory: every array, the pending part at its allocated size."""
        return (self.keys.nbytes + self.ids.nbytes + self.directory.nbytes + self._mark.nbytes
                + self._pk.nbytes + self._pi.nbytes + self._pnext.nbytes + self._phead.nbytes)


#: The band index to use: the compiled one when numba is available, else the numpy reference.
BandIndex = CompiledBandIndex if _jit.ENABLED else NumpyBandIndex
