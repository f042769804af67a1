"""Compiled kernels (numba) for the per-document hot loops of dedup: LSH band keys, index insert/query.

Why compiled code at all: a streaming dedup decision is one document at a time, and at that size numpy
is all call overhead (~1 µs a call, ~40 calls to key, query and insert one document) rather than
arithmetic. These loops do the same work in one call each, with results identical to the numpy code
in :mod:`aggregator.dedup.lsh`, which stays the reference (tests compare the two).

numba is a regular dependency; the kernels are used only when it imports and ``AGGREGATOR_JIT`` is not
``0`` (so a platform without numba wheels still works, on the numpy path). Compiled code is cached
next to this file (``__pycache__``), so only the first process after an install pays the ~2 s of
compilation. Every kernel trusts its caller for bounds (numba does not check them): the Python side
sizes every array before the call.
"""

from __future__ import annotations

import os

import numpy as np

try:  # pragma: no cover - exercised by whichever environment runs the tests
    import numba
except ImportError:  # pragma: no cover
    numba = None

#: True when the compiled kernels are in use (numba importable and ``AGGREGATOR_JIT`` not ``0``).
ENABLED: bool = numba is not None and os.environ.get("AGGREGATOR_JIT", "1") != "0"


def _njit(fn):  # noqa: ANN001, ANN202 - a decorator over numba's
    if not ENABLED:
        return fn
    return numba.njit(cache=True, nogil=True)(fn)


_U33 = np.uint64(33)
_FM1 = np.uint64(0xFF51AFD7ED558CCD)
_FM2 = np.uint64(0xC4CEB9FE1A85EC53)


@_njit
def fmix64(h):  # noqa: ANN001, ANN201
    """MurmurHash3's 64-bit finaliser on one uint64 (wrapping arithmetic, like ``text._fmix64_``)."""
    h ^= h >> _U33
    h *= _FM1
    h ^= h >> _U33
    h *= _FM2
    h ^= h >> _U33
    return h


@_njit
def band_keys(sig, rows, mult, add, salt_term, out):  # noqa: ANN001, ANN201
    """``out[b] = fmix64(sum_j sig[b*rows + j] * mult[j] + add[b] + salt_term)`` for every band ``b``."""
    for b in range(len(out)):
        h = add[b] + salt_term
        base = b * rows
        for j in range(rows):
            h += np.uint64(sig[base + j]) * mult[j]
        out[b] = fmix64(h)


@_njit
def index_insert(keys, doc, pk, pi, pnext, phead, pshift, n):  # noqa: ANN001, ANN201
    """Append ``(key, doc)`` for every key to the pending arrays at ``n`` and chain each into its
    hash slot (the key's top bits); returns the new count. Capacity is the caller's job."""
    for t in range(len(keys)):
        k = keys[t]
        s = k >> pshift
        pk[n] = k
        pi[n] = doc
        pnext[n] = phead[s]
        phead[s] = n
        n += 1
    return n


@_njit
def index_rechain(pk, pnext, phead, pshift, n):  # noqa: ANN001, ANN201
    """Rebuild the chains of the first ``n`` pending entries into an all ``-1`` ``phead`` (after a resize)."""
    for e in range(n):
        s = pk[e] >> pshift
        pnext[e] = phead[s]
        phead[s] = e


@_njit
def index_query(q, keys, ids, directory, shift, one_bucket, pk, pi, pnext, phead, pshift, mark, stamp, out):  # noqa: ANN001, ANN201, PLR0913
    """Documents sharing a key with ``q``, each once, written to ``out``; returns how many there are.

    Main part: bucket ``key >> shift`` (or bucket 0 if ``one_bucket``) of the sorted ``keys``, scanned
    until a larger key. Pending part: the chain of slot ``key >> pshift``. ``mark[d] == stamp`` means
    ``d`` was already reported in this query (the caller uses a fresh stamp per query). If the count
    exceeds ``len(out)`` only the first ``len(out)`` are written: the caller grows ``out`` and asks again.
    """
    c = 0
    cap = len(out)
    n_main = len(keys)
    for t in range(len(q)):
        key = q[t]
        if n_main:
            b = 0 if one_bucket else np.int64(key >> shift)
            i = directory[b]
            end = directory[b + 1]
            while i < end:
                kk = keys[i]
                if kk == key:
                    d = ids[i]
                    if mark[d] != stamp:
                        mark[d] = stamp
                        if c < cap:
                            out[c] = d
                        c += 1
                elif kk > key:
                    break
                i += 1
        e = phead[key >> pshift]
        while e >= 0:
            if pk[e] == key:
                d = pi[e]
                if mark[d] != stamp:
                    mark[d] = stamp
                    if c < cap:
                        out[c] = d
                    c += 1
            e = pnext[e]
    return c
