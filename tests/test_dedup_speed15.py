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
              for r in ROWS] + ["", "t:15.5", "y:2024 c:recall q:?-3 m:g6", "q:2024-3 m:g6 m:su7", "2024-05 m:x1"]
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
