"""BandIndex: the LSH index behind the memory and file stores, checked against a plain dict.

Both implementations are tested: :class:`NumpyBandIndex` (the reference, also the fallback without
numba) and :class:`CompiledBandIndex` (the kernels in ``aggregator.dedup._jit``); they must agree
with a dict, with each other, and on the arrays they save.
"""

from __future__ import annotations

import numpy as np
import pytest

from aggregator.dedup import _jit, lsh
from aggregator.dedup.lsh import CompiledBandIndex, NumpyBandIndex, band_keys, band_keys_numpy

IMPLS = [NumpyBandIndex, pytest.param(CompiledBandIndex, marks=pytest.mark.skipif(
    not _jit.ENABLED, reason="numba not available (or AGGREGATOR_JIT=0)"))]


class _Reference:
    """The obvious dict of sets the index must agree with."""

    def __init__(self) -> None:
        self.table: dict[int, set[int]] = {}
        self.entries: list[list[int]] = []

    def add(self, keys: np.ndarray, doc: int) -> None:
        for k in keys.tolist():
            self.table.setdefault(k, set()).add(doc)
        self.entries.append(keys.tolist())

    def query(self, q: np.ndarray) -> set[int]:
        out: set[int] = set()
        for k in q.tolist():
            out |= self.table.get(k, set())
        return out


@pytest.mark.parametrize("impl", IMPLS)
@pytest.mark.parametrize("pending_min", [7, 64, 100_000])
def test_queries_match_a_dict_across_folds(monkeypatch: pytest.MonkeyPatch, pending_min: int, impl: type) -> None:
    # small fold thresholds force many merges and directory updates (incremental and rebuilt)
    monkeypatch.setattr(lsh, "_PENDING_MIN", pending_min)
    monkeypatch.setattr(lsh, "_PENDING_START", 4)  # and the compiled pending arrays to grow often
    rng = np.random.default_rng(3)
    pool = rng.integers(0, 2**64, 400, dtype=np.uint64, endpoint=False)  # shared keys: long posting lists
    idx = impl()
    ref = _Reference()
    for doc in range(1500):
        keys = np.concatenate([rng.choice(pool, 3), rng.integers(0, 2**64, 5, dtype=np.uint64)])
        q = np.concatenate([keys[:4], rng.integers(0, 2**64, 2, dtype=np.uint64)])
        assert idx.query(q) == ref.query(q)
        arr = idx.query_array(q)
        assert len(arr) == len(set(arr.tolist()))  # each candidate once
        idx.insert(keys, doc)
        ref.add(keys, doc)
    assert len(idx) == 1500 * 8
    idx.compact()
    assert len(idx.keys) == 1500 * 8 == len(idx)
    assert np.all(idx.keys[1:] >= idx.keys[:-1])
    for doc in (0, 777, 1499):
        q = np.array(ref.entries[doc], dtype=np.uint64)
        assert doc in idx.query(q)
        assert idx.query(q) == ref.query(q)


@pytest.mark.parametrize("impl", IMPLS)
def test_reloaded_arrays_answer_the_same(impl: type) -> None:
    rng = np.random.default_rng(5)
    idx = impl()
    for doc in range(300):
        idx.insert(rng.integers(0, 2**64, 6, dtype=np.uint64), doc)
    idx.compact()
    # the file store saves keys/ids and rebuilds the index from them (shuffled: order is restored)
    perm = rng.permutation(len(idx.keys))
    for cls in (NumpyBandIndex, impl):
        again = cls(idx.keys[perm], idx.ids[perm])
        for q in (idx.keys[:6], idx.keys[-40:], rng.integers(0, 2**64, 5, dtype=np.uint64)):
            assert again.query(q) == idx.query(q)
    # a reloaded index keeps taking inserts (document numbers below the loaded ones included)
    again = impl(idx.keys, idx.ids)
    k = rng.integers(0, 2**64, 6, dtype=np.uint64)
    again.insert(k, 3)
    assert 3 in again.query(k[:1])


@pytest.mark.skipif(not _jit.ENABLED, reason="numba not available (or AGGREGATOR_JIT=0)")
def test_compiled_and_numpy_indexes_save_the_same_arrays(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lsh, "_PENDING_MIN", 50)
    rng = np.random.default_rng(8)
    a, b = NumpyBandIndex(), CompiledBandIndex()
    for doc in range(2000):
        keys = rng.integers(0, 2**64, 5, dtype=np.uint64)
        keys[0] = doc % 13  # a few very long posting lists
        assert np.array_equal(np.sort(a.query_array(keys)), np.sort(b.query_array(keys)))
        a.insert(keys, doc)
        b.insert(keys.tolist(), doc)  # a list of ints is accepted too
    a.compact(), b.compact()
    # equal keys keep insertion order in both, so the saved arrays are identical
    assert np.array_equal(a.keys, b.keys) and np.array_equal(a.ids, b.ids)


@pytest.mark.skipif(not _jit.ENABLED, reason="numba not available (or AGGREGATOR_JIT=0)")
def test_compiled_index_edge_cases() -> None:
    idx = CompiledBandIndex()
    # more candidates than the output buffer holds: it grows and the query is answered in full
    for doc in range(1000):
        idx.insert(np.array([7, doc + 100], dtype=np.uint64), doc)
    assert idx.query(np.array([7], dtype=np.uint64)) == set(range(1000))
    # a document with more keys than the pending arrays hold
    many = np.arange(10_000, 30_000, dtype=np.uint64)
    idx.insert(many, 5000)
    assert idx.query(many[-3:]) == {5000}
    # the per-query stamps wrap around without losing candidates
    idx._stamp = 0x7FFFFFFF - 2
    for _ in range(5):
        assert idx.query(np.array([7, 10_000], dtype=np.uint64)) == set(range(1000)) | {5000}
    with pytest.raises(ValueError):
        idx.insert(np.array([1], dtype=np.uint64), -1)


@pytest.mark.parametrize("impl", IMPLS)
def test_memory_is_a_few_bytes_per_entry(impl: type) -> None:
    idx = impl()
    rng = np.random.default_rng(9)
    for doc in range(20_000):
        idx.insert(rng.integers(0, 2**64, 30, dtype=np.uint64), doc)
    idx.compact()
    # 12 bytes a (key, id) entry plus the directory (8 bytes a bucket, 2-4 entries a bucket)
    assert 12 * 600_000 <= idx.nbytes() <= 17 * 600_000


def test_band_keys_compiled_equal_numpy() -> None:
    # band keys are persisted: the kernel and the numpy reference must agree bit for bit
    rng = np.random.default_rng(2)
    for num_perm, bands, rows in ((128, 30, 3), (64, 47, 1), (128, 16, 8)):
        sig = rng.integers(0, 2**32, num_perm, dtype=np.uint64).astype(np.uint32)
        for salt in (0, 1, -1, 20_000, 2**70 + 3):
            assert np.array_equal(band_keys(sig, bands, rows, salt), band_keys_numpy(sig, bands, rows, salt))
    with pytest.raises(ValueError):
        band_keys(np.zeros(10, dtype=np.uint32), 30, 3)


@pytest.mark.parametrize("impl", IMPLS)
def test_drop_removes_documents_and_keeps_the_rest(monkeypatch: pytest.MonkeyPatch, impl: type) -> None:
    monkeypatch.setattr(lsh, "_PENDING_MIN", 64)  # part of the entries folded, the rest pending
    rng = np.random.default_rng(11)
    pool = rng.integers(0, 2**64, 60, dtype=np.uint64, endpoint=False)
    idx, ref = impl(), _Reference()
    for doc in range(300):
        keys = np.concatenate([rng.choice(pool, 2), rng.integers(0, 2**64, 4, dtype=np.uint64)])
        idx.insert(keys, doc)
        ref.add(keys, doc)
    gone = np.array([0, 5, 150, 299, 1000], dtype=np.int64)  # 1000 was never inserted
    assert idx.drop(gone) == 4 * 6
    assert len(idx) == 296 * 6
    for keys in ref.entries:
        expected = ref.query(np.array(keys, dtype=np.uint64)) - set(gone.tolist())
        assert idx.query(np.array(keys, dtype=np.uint64)) == expected
    idx.insert(ref.entries[5], 5)  # a dropped number can come back
    assert 5 in idx.query(np.array(ref.entries[5][2:3], dtype=np.uint64))
