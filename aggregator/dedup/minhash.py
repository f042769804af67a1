"""MinHash signatures of whole shingle sets at once, in numpy (the :data:`OPH` scheme also as a compiled
kernel, ``_jit.oph_sign``, with the same values; the costs below are the numpy path's).

Two schemes; :attr:`Signer.scheme` names the one a signer uses. Signatures of different schemes (or
seeds, or ``num_perm``) are not comparable: stored signatures must be recomputed when it changes
(they can be, from the stored shingle sets: the shingle hashes themselves do not depend on it).

``"oph-rehash-v1"`` (:data:`OPH`, the default): One Permutation Hashing (Li, Owen & Zhang 2012)
    filled by re-hashing rounds, as in Dahlgaard, Knudsen & Thorup's *fast similarity sketching*
    (FOCS 2017). Round ``r`` hashes every shingle ``x`` to a 32-bit value ``v_r(x)``; the value
    range is cut into ``num_perm`` equal bins. Position ``i`` of the signature is the smallest
    ``v_r(x)`` in bin ``i`` in the *first* round in which any shingle lands in bin ``i``. Round 0
    is plain OPH; a 600-shingle text fills all 128 bins in round 0 about 40 % of the time and
    nearly always by round 1; a 10-shingle set needs tens of rounds (computed as one array). From
    round ``num_perm`` on, a shingle's bin is its round-0 bin plus ``r`` (mod ``num_perm``), so
    every bin is filled by round ``2 * num_perm`` whatever the set.

    For any two sets every position collides with probability exactly ``J`` (up to 32-bit ties):
    the union first reaches bin ``i`` in some round; if that round's minimum of the union there
    is in the intersection both sets hold it, and if it is in one set only the other set's value
    comes from a larger value or a later round. So ``(sig_a == sig_b).mean()`` is an unbiased
    Jaccard estimate. Positions sample the union *without* replacement (two bins filled in one
    round hold different shingles), so its error is no larger than with ``num_perm`` independent
    permutations: at J in 0.2-0.9 and 128 positions the mean absolute error is ~0.022 for 10-40
    element sets and ~0.029 at 600, vs ~0.031 for k permutations at any size
    (``benchmarks/bench_minhash.py`` and ``tests/test_signing.py`` measure it).
    Cost, for a set of ``n >= 2 * num_perm``: one 64-bit hash and one sort of the set, ``num_perm``
    binary searches, and for ~60 % of long texts one more hashing round; ~15-25 numpy calls,
    ``O(n log n + k)``, instead of the ``n * k`` products of k permutations. A smaller set hashes
    all the rounds it needs (``~k ln(20 k)`` values, whatever ``n``) in one array and takes the
    minima with one ``np.minimum.at``: ~20 µs at 64 positions, ~2x the k-permutation time there.

    ``v_r(x) = high32(m2 * g(x * m1 + a1 + r * D))`` in wrapping 64-bit arithmetic, with
    ``g(y) = y ^ (y >> 32)``, odd ``m1, m2`` and ``a1`` drawn from ``seed`` (numpy's frozen legacy
    ``RandomState``) and ``D`` the 64-bit golden ratio: every input bit reaches the high half.

``"kperm-affine32"`` (:data:`KPERM`): ``num_perm`` permutations ``pi_i(x) = a_i * fmix32(x) + b_i
    (mod 2**32)`` drawn exactly as ``datasketch.MinHash(num_perm, seed)`` draws them (its
    ``affine32`` scheme), so a signature equals ``MinHash(num_perm, seed, hashfunc=shingle_hash32)``
    updated shingle by shingle and can be handed to ``datasketch.LeanMinHash`` / ``MinHashLSH``
    (:meth:`Signer.to_datasketch`). One numpy expression, but ``n * k`` multiply-adds (~80k for a
    600-word article): ~3x the signing time of :data:`OPH`.

The empty set gets all ``2**32-1`` in both schemes.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import _jit
from .text import _hi, _u64, shingle_set, sorted_unique, token_hashes

__all__ = ["KPERM", "OPH", "SCHEMES", "Signer", "jaccard", "overlap", "permutations", "sorted_unique"]

OPH = "oph-rehash-v1"
KPERM = "kperm-affine32"
SCHEMES = (OPH, KPERM)

_MASK64 = (1 << 64) - 1
_MAX32 = np.uint32(0xFFFFFFFF)
_MAX64 = np.uint64(_MASK64)
_GOLDEN = 0x9E3779B97F4A7C15  # D: round r adds r * D before mixing


def _u32(x: int) -> np.ndarray:
    return np.array(x, dtype=np.uint32)


_S16, _S13 = _u32(16), _u32(13)
_M1, _M2 = _u32(0x85EBCA6B), _u32(0xC2B2AE35)
_S32 = _u64(32)
_SMALL_FILL = 48  # up to this many candidate shingles, a round's bin minima are taken in a Python loop
_MAX_BATCH = 256  # re-hashing rounds computed in one array (bounds its size for tiny sets)


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser (datasketch pre-mixes every input hash with it).

    Works on a copy with in-place ops (integer array arithmetic wraps silently in numpy).
    """
    h = np.array(h, dtype=np.uint32)
    t = np.right_shift(h, _S16)
    np.bitwise_xor(h, t, out=h)
    np.multiply(h, _M1, out=h)
    np.right_shift(h, _S13, out=t)
    np.bitwise_xor(h, t, out=h)
    np.multiply(h, _M2, out=h)
    np.right_shift(h, _S16, out=t)
    np.bitwise_xor(h, t, out=h)
    return h


def permutations(num_perm: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``(a, b)`` as datasketch 2.x draws them for the ``affine32`` scheme."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


class Signer:
    """Shingles text and computes MinHash signatures (uint32 arrays of length ``num_perm``).

    ``scheme`` is :data:`OPH` (default) or :data:`KPERM` (datasketch-identical); see the module
    docstring. A signature is a pure function of ``(scheme, num_perm, seed)`` and the set: no
    Python ``hash()``, the same in every process and on every platform.
    """

    def __init__(self, num_perm: int = 128, seed: int = 1, shingle_size: int = 3, scheme: str = OPH) -> None:
        if scheme not in SCHEMES:
            raise ValueError(f"unknown MinHash scheme {scheme!r} (known: {', '.join(SCHEMES)})")
        if not 1 <= num_perm <= 1 << 16:
            raise ValueError("num_perm must be 1..65536")
        self.num_perm = num_perm
        self.seed = seed
        self.shingle_size = shingle_size
        self.scheme = scheme
        if scheme == KPERM:
            self.a, self.b = permutations(num_perm, seed)
            self._buf = np.empty((0, num_perm), dtype=np.uint32)  # reused: no page faults per call
        else:
            self._init_oph()

    # -- OPH with re-hashing rounds -------------------------------------------------------
    def _init_oph(self) -> None:
        k = self.num_perm
        # RandomState is numpy's frozen legacy generator: the same stream on every platform/version
        r = [int(w) for w in np.random.RandomState([self.seed & 0xFFFFFFFF, 0x0F1]).randint(
            0, 1 << 32, 6, dtype=np.uint64)]
        self._mul1 = _u64((r[0] << 32 | r[1]) | 1)
        self._add1 = _u64(r[2] << 32 | r[3])
        self._mul2 = _u64((r[4] << 32 | r[5]) | 1)
        self._mul1_s, self._add1_s, self._mul2_s = (np.uint64(int(x)) for x in (self._mul1, self._add1, self._mul2))
        # bin i holds the values lo[i] .. lo[i] + width[i], lo[i] = ceil(i * 2**32 / k), i.e. the
        # bin of v is floor(v * k / 2**32)
        lo = [-(-i * (1 << 32) // k) for i in range(k + 1)]
        self._lo = np.array(lo[:-1], dtype=np.uint32)
        self._width = np.array([lo[i + 1] - lo[i] - 1 for i in range(k)], dtype=np.uint32)
        self._k64 = _u64(k)
        self._round_add = np.arange(2 * k, dtype=np.uint64) * np.uint64(_GOLDEN)  # r * D, wrapping
        self._no_min = np.full(k, _MAX64, dtype=np.uint64)
        self._round_tag = np.arange(2 * k, dtype=np.uint64) << _S32
        self._bin_shift = _u64(64 - k.bit_length() + 1) if k & (k - 1) == 0 and k > 1 else None

    def _mix(self, z: np.ndarray, r: int | np.ndarray = 0) -> np.ndarray:
        """Round ``r``'s 64-bit mix of pre-hashed ``z = x * m1 + a1``; ``v_r`` is its high half.

        ``r``: a round number, or an array of round numbers (then one row per round)."""
        if isinstance(r, np.ndarray):
            w = np.add(z, self._round_add[r][:, None])
        elif r:
            w = np.add(z, self._round_add[r : r + 1])
        else:  # round 0 (every signature): no add, and z is left intact for later rounds
            w = np.bitwise_xor(z, np.right_shift(z, _S32))
            return np.multiply(w, self._mul2, out=w)
        t = np.right_shift(w, _S32)
        np.bitwise_xor(w, t, out=w)
        return np.multiply(w, self._mul2, out=w)

    def _bins(self, w: np.ndarray) -> np.ndarray:
        """``floor(v * num_perm / 2**32)`` of every mixed value ``w`` (``v`` its high half), as intp."""
        if self._bin_shift is not None:  # (an intp index array gathers 5x faster than a uint32 one)
            return np.right_shift(w, self._bin_shift).view(np.intp)
        if self.num_perm == 1:
            return np.zeros(w.shape, dtype=np.intp)
        return np.right_shift(np.multiply(np.right_shift(w, _S32), self._k64), _S32).view(np.intp)

    def oph_values(self, hashes: np.ndarray, r: int = 0) -> np.ndarray:
        """``v_r(x)`` of every hash ``x`` (a new uint32 array): round ``r``'s hash function."""
        return _hi(self._mix(self._prehash(hashes), r)).copy()

    def _prehash(self, hashes: np.ndarray) -> np.ndarray:
        z = np.multiply(np.asarray(hashes, dtype=np.uint32), self._mul1, dtype=np.uint64)
        return np.add(z, self._add1, out=z)

    def _sign_oph(self, hashes: np.ndarray) -> np.ndarray:
        if not _jit.ENABLED:
            return self._sign_oph_numpy(hashes)
        sig = np.empty(self.num_perm, dtype=np.uint32)
        _jit.oph_sign(np.ascontiguousarray(hashes, dtype=np.uint32), self._mul1_s, self._add1_s, self._mul2_s,
                      self._round_add, self.num_perm, sig)
        return sig

    def _sign_oph_numpy(self, hashes: np.ndarray) -> np.ndarray:
        """:meth:`_sign_oph` in numpy (the reference; the compiled kernel must give the same signature)."""
        z = self._prehash(hashes)
        if len(z) < 2 * self.num_perm:
            return self._sign_small(z)
        v = _hi(self._mix(z)).copy()
        v.sort()  # (np.sort: the same plus a Python wrapper)
        idx = v.searchsorted(self._lo)  # first value >= each bin's lower bound
        sig = v.take(idx, mode="clip")
        off = np.subtract(sig, self._lo)  # wraps when sig < lo: no value in or above the bin
        hole = np.greater(off, self._width)  # bins no shingle fell in
        empty = int(np.count_nonzero(hole))  # (ndarray.any() costs 4x more at this size)
        return self._fill(z, sig, hole, empty) if empty else sig

    def _rounds_for(self, n: int, empty: int, r: int) -> int:
        """How many rounds from ``r`` to hash at once: enough that, in expectation, fewer than 0.05
        of ``empty`` bins are still empty after them; a batch never spans the switch to cyclic bins."""
        k = self.num_perm
        miss = (1.0 - 1.0 / k) ** n  # chance that a round leaves a given bin empty
        want = 1 if miss < 1e-12 else math.ceil(math.log(20 * empty) / -math.log(miss)) if miss < 1 else k
        return max(1, min(want, _MAX_BATCH, (k if r < k else 2 * k) - r))

    def _sign_small(self, z: np.ndarray) -> np.ndarray:
        """Sets of fewer than ``2 * num_perm``: rounds 0 .. R-1 in one array (no sort), then :meth:`_fill`."""
        n = len(z)
        batch = self._rounds_for(n, self.num_perm, 0)
        w = self._mix(z, np.arange(batch))  # row j: round j (round 0 adds 0: the same v_0)
        bins = self._bins(w).ravel()
        key = np.right_shift(w, _S32)  # v, and above it the round: the minimum per bin is its
        key |= self._round_tag[:batch, None]  # earliest round's smallest v
        m = self._no_min.copy()
        np.minimum.at(m, bins, key.ravel())
        hole = np.equal(m, _MAX64)
        sig = m.astype(np.uint32)  # the low half: the value
        empty = int(np.count_nonzero(hole))
        return self._fill(z, sig, hole, empty, batch) if empty else sig

    def _fill(self, z: np.ndarray, sig: np.ndarray, hole: np.ndarray, empty: int, r: int = 1) -> np.ndarray:
        """Re-hashing rounds ``r``, ``r + 1``, ... until every bin holds a value (``sig``/``hole`` are updated)."""
        k, n = self.num_perm, len(z)
        while empty:
            batch = self._rounds_for(n, empty, r)
            if batch == 1:  # long texts: one round over all shingles, few of them land in an empty bin
                w = self._mix(z, r)
                v = _hi(w)
                bins = self._bins(w) if r < k else self._cyclic_bins(z, np.array([r]))[0]
                idx = hole[bins].nonzero()[0]
                if len(idx) <= _SMALL_FILL:
                    best: dict[int, int] = {}
                    for b, val in zip(bins[idx].tolist(), v[idx].tolist(), strict=True):
                        if val < best.get(b, 1 << 32):
                            best[b] = val
                    for b, val in best.items():
                        sig[b] = val
                        hole[b] = False
                    empty -= len(best)
                else:
                    empty -= self._take_minima(sig, hole, bins[idx], v[idx].astype(np.uint64))
            else:
                rounds = np.arange(r, r + batch)
                w = self._mix(z, rounds).ravel()  # row j: round r + j
                bins = (self._bins(w) if r < k else self._cyclic_bins(z, rounds)).ravel()
                idx = hole[bins].nonzero()[0]  # (round, shingle) pairs landing in an empty bin
                if len(idx):
                    key = np.right_shift(w[idx], _S32)  # v, and the round above it (see _sign_small)
                    key |= self._round_tag[idx // n]
                    empty -= self._take_minima(sig, hole, bins[idx], key)
            r += batch
        return sig

    def _cyclic_bins(self, z: np.ndarray, rounds: np.ndarray) -> np.ndarray:
        """Bins in rounds ``>= num_perm``: the round-0 bin plus ``r``, so ``num_perm`` rounds visit every bin."""
        b0 = self._bins(self._mix(z))
        return (b0[None, :] + rounds.astype(np.intp)[:, None]) % self.num_perm

    def _take_minima(self, sig: np.ndarray, hole: np.ndarray, bins: np.ndarray, key: np.ndarray) -> int:
        """Fill each bin in ``bins`` with the low half of its smallest uint64 ``key``; returns how
        many bins were filled."""
        m = self._no_min.copy()
        np.minimum.at(m, bins, key)
        hit = np.not_equal(m, _MAX64)
        sig[hit] = m[hit].astype(np.uint32)  # the low half: the value
        np.logical_and(hole, np.logical_not(hit), out=hole)
        return int(np.count_nonzero(hit))

    # -- k permutations (datasketch affine32) ---------------------------------------------
    def _sign_kperm(self, hashes: np.ndarray) -> np.ndarray:
        n = len(hashes)
        if len(self._buf) < n:
            self._buf = np.empty((max(n, 2 * len(self._buf), 1024), self.num_perm), dtype=np.uint32)
        prod = self._buf[:n]
        hv = _fmix32(hashes)
        np.multiply(hv[:, None], self.a, out=prod)
        prod += self.b
        return prod.min(axis=0)

    # -- API ------------------------------------------------------------------------------
    def shingle_set(self, text: str) -> np.ndarray:
        """Sorted unique uint32 shingle hashes of ``text`` (what verification compares)."""
        return shingle_set(token_hashes(text), self.shingle_size)

    def sign(self, hashes: np.ndarray) -> np.ndarray:
        """Signature of a set of uint32 shingle hashes (any order, repeats allowed); the empty set
        gives all ``2**32-1``."""
        if len(hashes) == 0:
            return np.full(self.num_perm, _MAX32, dtype=np.uint32)
        if self.scheme == OPH:
            return self._sign_oph(hashes)
        return self._sign_kperm(hashes)

    def sign_text(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """``(shingle_set, signature)`` of a text."""
        sh = self.shingle_set(text)
        return sh, self.sign(sh)

    def to_datasketch(self, signature: np.ndarray) -> Any:
        """A ``datasketch.LeanMinHash`` holding a :data:`KPERM` ``signature`` (imported lazily).

        Only the k-permutation scheme is datasketch's; an OPH signature would compare and index
        fine there but could not be updated, so it is refused rather than mislabelled.
        """
        if self.scheme != KPERM:
            raise ValueError(f"to_datasketch needs scheme={KPERM!r}; this signer uses {self.scheme!r}")
        from datasketch import LeanMinHash

        return LeanMinHash(seed=self.seed, hashvalues=signature, scheme="affine32")


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard of two sorted-unique uint32 arrays."""
    if len(a) == 0 and len(b) == 0:
        return 0.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


def overlap(a: np.ndarray, b: np.ndarray) -> tuple[int, int, int]:
    """``(|a & b|, |a|, |b|)`` for sorted-unique arrays."""
    return len(np.intersect1d(a, b, assume_unique=True)), len(a), len(b)
