"""Session-15 speed shortcuts of `Deduplicator.add` against the forms they replace: the same counts, columns and
resolutions (speed work must not change a cluster).

- ``store.CountTable.get`` of a short list through its per-key memo of the sorted arrays;
- ``core._extra_columns_from_rows`` over a few rows (a fragment merge's cross test), by a plain loop.
"""

from __future__ import annotations

import json
import pickle
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from aggregator.dedup import features as F
from aggregator.dedup import story as S
from aggregator.dedup.store import CountTable

ROWS = [json.loads(line) for line in
        (Path(__file__).parent / "data" / "dedup_corpus.jsonl").read_text(encoding="utf-8").splitlines()]


def _long_get(t: CountTable, keys: list[int]) -> list[int]:
    """The array path of CountTable.get, whatever the list's length (keys padded past the short-list bound)."""
    pad = [keys[0] if keys else 0] * 80
    return t.get([*keys, *pad])[: len(keys)]


def test_short_count_reads_equal_a_plain_counter_through_folds_and_pickling() -> None:
    rng = np.random.default_rng(3)
    ref: Counter[int] = Counter()
    t = CountTable(spill=200)  # folds often
    universe = [int(k) for k in rng.integers(0, 2**64 - 1, size=3000, dtype=np.uint64)]
    short_reads = 0
    for step in range(400):
        keys = [universe[i] for i in rng.integers(0, len(universe), size=int(rng.integers(1, 40)))]
        t.add(keys)
        ref.update(keys)
        if step % 97 == 96:  # a state written and read back starts with an empty memo
            t = pickle.loads(pickle.dumps(t))
        q = [universe[i] for i in rng.integers(0, len(universe), size=int(rng.integers(0, 64)))]
        want = [ref.get(k, 0) for k in q]
        assert t.get(q) == want
        assert _long_get(t, q) == want
        short_reads += bool(len(t.keys))
    assert short_reads > 300 and len(t.keys) > 1000  # the memo path ran against folded arrays


@pytest.mark.parametrize("few", [1, 3, 8, 16])
def test_extra_columns_over_a_few_rows_equal_the_strings(few: int) -> None:
    """The loop over a few rows gives the columns of story._extra_columns over the extra strings (as the array path
    does for long lists: tests/test_dedup_fastpath.py)."""
    from aggregator.dedup import core
    from aggregator.dedup.store import DocColumns

    extras = [S.pack_extra(F.deshout(F.nfkc(f"{r['title']}\n{r['body'][:1500]}")), r.get("language") or "")
              for r in ROWS] + ["", "t:15.5", "y:2024 c:recall q:?-3 md:g6", "q:2024-3 md:g6 md:su7", "2024-05 md:x1"]
    cols = DocColumns()
    n = len(extras)
    nums = np.arange(1, n + 1)
    cols.set_rows(nums.tolist(), [1] * n, [0.0] * n, [0.0] * n, [""] * n, [b""] * n, [b""] * n,
                  [S._extra_code(e) for e in extras])
    rng = np.random.default_rng(few)
    assert few <= core._FEW_ROWS
    compared = 0
    for a in extras[::2]:
        code = S._extra_code(a)
        if code is None:
            continue
        pick = rng.choice(n, size=few, replace=False)
        x_rows = np.zeros((few, len(S.FEATURES)))
        x_ref = np.zeros_like(x_rows)
        core._extra_columns_from_rows(x_rows, code, cols, nums[pick])
        assert S._extra_columns(x_ref, a, [extras[i] for i in pick])
        assert np.array_equal(x_rows, x_ref), a
        compared += bool(code[3] or code[4])
    assert compared > 10  # articles naming periods or model codes took the loop


def test_compiled_pair_columns_equal_pair_features_bit_for_bit() -> None:
    """_jit.pair_columns (the column path of Deduplicator._evidence_rows) writes what story.pair_features writes with no
    extras, byte for byte, on the evidence of real corpus pairs and on edge values (zeros, caps, one strong name,
    undated rows, other languages)."""
    from aggregator.dedup import Deduplicator, _jit, open_store
    from aggregator.dedup.core import _W_STRONG, _story_evidence

    if not _jit.ENABLED:
        pytest.skip("numba off: the numpy path is the only one")
    dd = Deduplicator(store=open_store("memory:"))
    for r in ROWS[:120]:
        dd.add(r)
    docs = [dd.store.get(f"doc:{n}") for n in range(120)]
    docs = [o for o in docs if o is not None]
    rng = np.random.default_rng(7)
    cases = []
    for d in docs[::4]:
        cands = [o for o in docs if o.number != d.number]
        na, names_a, wa, ka = d.features()
        ev, lens = _story_evidence(cands, na, names_a, wa, dd._idf_of(names_a), ka)
        days = np.where(rng.random(len(cands)) < 0.3, np.nan, rng.random(len(cands)) * 3)
        same = rng.random(len(cands)) < 0.7
        spec_a, strong_a = int((na & np.uint64(1)).sum()), int((wa >= _W_STRONG).sum())
        cases.append((ev, lens, len(na), spec_a, strong_a, len(ka), same, days))
    m = 400
    ev = rng.choice(np.array([0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 7.5, 25.0]), size=(m, 7))
    lens = rng.integers(0, 6, size=(m, 3))
    for n_num, n_spec, n_strong, n_kw in ((0, 0, 0, 0), (1, 1, 1, 3), (5, 2, 4, 12), (2, 0, 0, 1)):
        cases.append((ev, lens, n_num, n_spec, n_strong, n_kw, rng.random(m) < 0.5,
                      np.where(rng.random(m) < 0.5, np.nan, 1.0)))
    shared_rows = 0
    for ev, lens, n_num, n_spec, n_strong, n_kw, same, days in cases:
        want = S.pair_features(ev, lens, n_num, n_spec, n_strong, n_kw, "", [""] * len(ev), days, same)
        got = np.zeros_like(want)
        _jit.pair_columns(ev, lens, n_num, n_spec, n_strong, n_kw, same, days, got)
        assert got.tobytes() == want.tobytes()
        shared_rows += int((want[:, 0] > 0).sum())
    assert shared_rows > 100  # real pairs sharing names were compared, not only zero rows
