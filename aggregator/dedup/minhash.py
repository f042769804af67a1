"""MinHash signatures in datasketch's ``affine32`` scheme, applied to a whole shingle set at once.

For a set ``S`` of 32-bit shingle hashes and ``num_perm`` permutations
``pi_i(x) = a_i * fmix32(x) + b_i  (mod 2**32)`` with odd ``a_i`` (a bijection), the signature is
``sig_i = min_{x in S} pi_i(x)``. For two sets, ``P[sig_i(A) == sig_i(B)] ~= J(A, B)``
(exactly, for min-wise independent permutations; empirically for this affine family, see
datasketch's notes), so the fraction of equal positions is an unbiased Jaccard estimate with
standard error ``sqrt(J(1-J)/num_perm)``.

The permutation parameters are drawn exactly as ``datasketch.MinHash(num_perm, seed)`` draws
them, so a signature here equals ``MinHash(num_perm, seed, hashfunc=shingle_hash32)`` updated
shingle by shingle, and can be handed to ``datasketch.LeanMinHash`` / ``MinHashLSH``
(:meth:`Signer.to_datasketch`). Unlike ``MinHash.update`` the whole ``(n_shingles, num_perm)``
product is one numpy expression, no Python loop over shingles or permutations.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .text import shingle_hashes, token_hashes

_MAX32 = np.uint32(0xFFFFFFFF)


_S16, _S13 = np.uint32(16), np.uint32(13)
_M1, _M2 = np.uint32(0x85EBCA6B), np.uint32(0xC2B2AE35)


def _fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser (datasketch pre-mixes every input hash with it).

    Works on a copy with in-place ops (integer array arithmetic wraps silently in numpy).
    """
    h = np.array(h, dtype=np.uint32)
    t = h >> _S16
    h ^= t
    h *= _M1
    np.right_shift(h, _S13, out=t)
    h ^= t
    h *= _M2
    np.right_shift(h, _S16, out=t)
    h ^= t
    return h


def permutations(num_perm: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """``(a, b)`` as datasketch 2.x draws them for the ``affine32`` scheme."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


class Signer:
    """Shingles text and computes MinHash signatures (uint32 arrays of length ``num_perm``)."""

    def __init__(self, num_perm: int = 128, seed: int = 1, shingle_size: int = 3) -> None:
        self.num_perm = num_perm
        self.seed = seed
        self.shingle_size = shingle_size
        self.a, self.b = permutations(num_perm, seed)
        self._buf = np.empty((0, num_perm), dtype=np.uint32)  # reused: no page faults per call

    def shingle_set(self, text: str) -> np.ndarray:
        """Sorted unique uint32 shingle hashes of ``text`` (what verification compares)."""
        return sorted_unique(shingle_hashes(token_hashes(text), self.shingle_size))

    def sign(self, hashes: np.ndarray) -> np.ndarray:
        """Signature of a set of uint32 shingle hashes; the empty set gives all ``2**32-1``."""
        if len(hashes) == 0:
            return np.full(self.num_perm, _MAX32, dtype=np.uint32)
        n = len(hashes)
        if len(self._buf) < n:
            self._buf = np.empty((max(n, 2 * len(self._buf), 1024), self.num_perm), dtype=np.uint32)
        prod = self._buf[:n]
        hv = _fmix32(hashes)
        np.multiply(hv[:, None], self.a, out=prod)
        prod += self.b
        return prod.min(axis=0)

    def sign_text(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """``(shingle_set, signature)`` of a text."""
        sh = self.shingle_set(text)
        return sh, self.sign(sh)

    def to_datasketch(self, signature: np.ndarray) -> Any:
        """A ``datasketch.LeanMinHash`` holding ``signature`` (datasketch is imported lazily)."""
        from datasketch import LeanMinHash

        return LeanMinHash(seed=self.seed, hashvalues=signature, scheme="affine32")


def sorted_unique(x: np.ndarray) -> np.ndarray:
    """``np.unique`` without its per-call overhead (which dominates at ~600 elements)."""
    if len(x) < 2:
        return x.copy()
    x = np.sort(x)
    keep = np.empty(len(x), dtype=bool)
    keep[0] = True
    np.not_equal(x[1:], x[:-1], out=keep[1:])
    return x[keep]


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard of two sorted-unique uint32 arrays."""
    if len(a) == 0 and len(b) == 0:
        return 0.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


def overlap(a: np.ndarray, b: np.ndarray) -> tuple[int, int, int]:
    """``(|a & b|, |a|, |b|)`` for sorted-unique arrays."""
    return len(np.intersect1d(a, b, assume_unique=True)), len(a), len(b)
