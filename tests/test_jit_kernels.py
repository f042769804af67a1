"""The compiled kernels (aggregator.dedup._jit) against the numpy code they replace.

Token hashes, shingle sets and signatures are persisted (dedup state, stored shingle sets), so the
kernels must reproduce the numpy reference bit for bit, on every script and size, including the
edge cases (empty text, one token, fewer tokens than the shingle size, tiny sets that need many
re-hashing rounds, a ``num_perm`` that is not a power of two). The LSH index kernels are tested in
test_lsh_index.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from aggregator.dedup import _jit
from aggregator.dedup import text as T
from aggregator.dedup.minhash import Signer

pytestmark = pytest.mark.skipif(not _jit.ENABLED, reason="numba not available (or AGGREGATOR_JIT=0)")

TEXTS = [
    "",
    "   ... !!! ",
    "x",
    "Tesla's Q3: 24,838 units, up 5% year-on-year.\n\nBYD sold 1,000 EVs.",
    "比亚迪汽车 sold 1,000 EVs 在中国。蔚来ES6交付量创新高！",
    "ｆｕｌｌ－ｗｉｄｔｈ １２３ Straße ŒUVRE Ärger naïve café",
    "emoji 🚗⚡ and astral CJK 𠀀𠀁 between words",
    "日本語のテキストです。カタカナとひらがな。한국어 텍스트",
    "Der Elektro-Lkw fährt 500 km weit — sagt der Hersteller.",
    " ".join(f"word{i % 97} token{i % 13}" for i in range(700)),  # a long article-sized text
]


@pytest.mark.parametrize("text", TEXTS)
def test_token_hashes_equal_numpy(text: str) -> None:
    norm = T.normalize(text)
    h, s = T.token_hashes_normalized(norm)
    h_ref, s_ref = T._token_hashes_numpy(norm)
    assert h.dtype == np.uint64 and np.array_equal(h, h_ref)
    assert np.array_equal(s, s_ref)
    # and both equal the per-token scalar reference
    assert h.tolist() == [T.token_hash64(t) for t in T.tokenize(text)]


@pytest.mark.parametrize("text", TEXTS)
def test_shingle_sets_equal_numpy(text: str) -> None:
    tok = T.token_hashes(text)
    for k in range(1, T.MAX_SHINGLE + 1):
        got = T.shingle_set(tok, k)
        assert got.dtype == np.uint32
        assert np.array_equal(got, T.sorted_unique(T._shingle_hi32(tok, k)))
    with pytest.raises(ValueError):
        T.shingle_set(tok, 0)


@pytest.mark.parametrize("num_perm", [1, 7, 64, 100, 128])
def test_oph_signatures_equal_numpy(num_perm: int) -> None:
    rng = np.random.default_rng(num_perm)
    signer = Signer(num_perm=num_perm)
    # tiny sets (many re-hashing rounds, the cyclic rounds too), around 2 * num_perm, article-sized
    for size in [*range(1, 30), 2 * num_perm - 1, 2 * num_perm, 2 * num_perm + 1, 600, 3000]:
        for _ in range(3):
            hashes = rng.integers(0, 2**32, size, dtype=np.uint64).astype(np.uint32)
            assert np.array_equal(signer.sign(hashes), signer._sign_oph_numpy(hashes)), size


def test_sign_text_matches_the_numpy_pipeline() -> None:
    signer = Signer()
    for text in TEXTS[3:]:
        sh, sig = signer.sign_text(text)
        ref_sh = T.sorted_unique(T._shingle_hi32(T._token_hashes_numpy(T.normalize(text))[0], 3))
        assert np.array_equal(sh, ref_sh)
        assert np.array_equal(sig, signer._sign_oph_numpy(ref_sh))


def test_story_evidence_equals_numpy() -> None:
    # the story tier's per-candidate sums, read by the kernel straight from the packed documents, must
    # equal the numpy reference exactly (floats included: a threshold decides on them)
    import json
    from pathlib import Path

    from aggregator.dedup import Deduplicator, open_store
    from aggregator.dedup.core import _story_evidence, _story_evidence_numpy

    rows = [json.loads(line) for line in
            (Path(__file__).parent / "data" / "dedup_corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    dd = Deduplicator(store=open_store("memory:"))
    for r in rows:
        dd.add(r)
    docs = [dd.store.get(f"doc:{n}") for n in range(1, len(rows) + 1)]
    docs = [d for d in docs if d is not None]
    assert len(docs) > 200
    compared = 0
    for d in docs[::7]:
        na, names_a, wa, ka = d.features()
        idf_a = dd._idf_of(names_a)
        cands = docs  # every document, the article itself included: all overlaps and none
        ev_ref, lens_ref = _story_evidence_numpy(cands, na, names_a, wa, idf_a, ka)
        ev, lens = _story_evidence(cands, na, names_a, wa, idf_a, ka)
        assert np.array_equal(lens, lens_ref)
        assert np.array_equal(ev, ev_ref)  # bit for bit, not approximately
        assert ev[:, 0].max() > 0 and ev[:, 3].max() > 0  # the comparison saw shared figures and names
        compared += 1
    assert compared > 30
