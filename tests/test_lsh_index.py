"""BandIndex: the LSH index behind the memory and file stores, checked against a plain dict."""

from __future__ import annotations

import numpy as np
import pytest

from aggregator.dedup import lsh
from aggregator.dedup.lsh import BandIndex


def _reference(entries: list[tuple[list[int], int]], q: np.ndarray) -> set[int]:
    table: dict[int, set[int]] = {}
    for keys, doc in entries:
        for k in keys:
            table.setdefault(k, set()).add(doc)
    out: set[int] = set()
    for k in q.tolist():
        out |= table.get(k, set())
    return out


@pytest.mark.parametrize("pending_min", [7, 64, 100_000])
def test_queries_match_a_dict_across_folds(monkeypatch: pytest.MonkeyPatch, pending_min: int) -> None:
    # small fold thresholds force many merges and directory updates (incremental and rebuilt)
    monkeypatch.setattr(lsh, "_PENDING_MIN", pending_min)
    rng = np.random.default_rng(3)
    pool = rng.integers(0, 2**64, 400, dtype=np.uint64, endpoint=False)  # shared keys: long posting lists
    idx = BandIndex()
    entries: list[tuple[list[int], int]] = []
    for doc in range(1500):
        keys = np.concatenate([rng.choice(pool, 3), rng.integers(0, 2**64, 5, dtype=np.uint64)])
        q = np.concatenate([keys[:4], rng.integers(0, 2**64, 2, dtype=np.uint64)])
        assert idx.query(q) == _reference(entries, q)
        arr = idx.query_array(q)
        assert len(arr) == len(set(arr.tolist()))  # each candidate once
        idx.insert(keys, doc)
        entries.append((keys.tolist(), doc))
    assert len(idx) == 1500 * 8
    idx.compact()
    assert not idx.pending and len(idx.keys) == 1500 * 8
    assert np.all(idx.keys[1:] >= idx.keys[:-1])
    for doc in (0, 777, 1499):
        q = np.array(entries[doc][0], dtype=np.uint64)
        assert doc in idx.query(q)
        assert idx.query(q) == _reference(entries, q)


def test_reloaded_arrays_answer_the_same() -> None:
    rng = np.random.default_rng(5)
    idx = BandIndex()
    for doc in range(300):
        idx.insert(rng.integers(0, 2**64, 6, dtype=np.uint64), doc)
    idx.compact()
    # the file store saves keys/ids and rebuilds the index from them (shuffled: order is restored)
    perm = rng.permutation(len(idx.keys))
    again = BandIndex(idx.keys[perm], idx.ids[perm])
    for q in (idx.keys[:6], idx.keys[-40:], rng.integers(0, 2**64, 5, dtype=np.uint64)):
        assert again.query(q) == idx.query(q)


def test_memory_is_a_few_bytes_per_entry() -> None:
    idx = BandIndex()
    rng = np.random.default_rng(9)
    for doc in range(20_000):
        idx.insert(rng.integers(0, 2**64, 30, dtype=np.uint64), doc)
    idx.compact()
    # 12 bytes a (key, id) entry plus the directory (8 bytes a bucket, 2-4 entries a bucket)
    assert 12 * 600_000 <= idx.nbytes() <= 17 * 600_000
