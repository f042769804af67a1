"""Shingling and MinHash signing (aggregator.dedup.text / .minhash): the definition, its accuracy,
its determinism, and the texts at the edges (empty, one word, CJK, other scripts)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from aggregator.dedup.minhash import KPERM, OPH, SCHEMES, Signer, jaccard
from aggregator.dedup.text import (
    normalize,
    shingle_hash32,
    shingle_hashes,
    shingle_set,
    shingles,
    sorted_unique,
    token_classes,
    token_hash64,
    token_hashes,
    token_hashes_normalized,
    tokenize,
)

MAX32 = 0xFFFFFFFF
TEXT = "CATL said on Tuesday it will start mass production of sodium-ion cells in December."


def _pair(rng: np.random.Generator, n: int, j: float, structured: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Two sets of ``n`` distinct uint32 values with Jaccard as close to ``j`` as ``n`` allows."""
    c = max(1, round(n * 2 * j / (1 + j)))
    d = n - c
    if structured:  # consecutive integers: no randomness of their own, the signer must supply it
        start = int(rng.integers(0, 2**31))
        u = np.arange(start, start + c + 2 * d, dtype=np.uint64).astype(np.uint32)
    else:
        u = np.unique(rng.integers(0, 2**32, c + 2 * d + 16, dtype=np.uint64).astype(np.uint32))
        u = rng.permutation(u)[: c + 2 * d]
    return np.sort(np.concatenate([u[:c], u[c:c + d]])), np.sort(np.concatenate([u[:c], u[c + d:]]))


def _errors(signer: Signer, n: int, trials: int, seed: int, structured: bool = False) -> np.ndarray:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(trials):
        a, b = _pair(rng, n, rng.uniform(0.2, 0.9), structured)
        out.append(float(np.mean(signer.sign(a) == signer.sign(b))) - jaccard(a, b))
    return np.array(out)


# --- the OPH definition ---------------------------------------------------------------------

M64 = (1 << 64) - 1


def _reference_oph(s: Signer, hashes: np.ndarray) -> np.ndarray:
    """The module docstring's definition, one shingle and one round at a time, in Python ints."""
    k = s.num_perm
    if len(hashes) == 0:
        return np.full(k, MAX32, dtype=np.uint32)
    m1, a1, m2 = int(s._mul1), int(s._add1), int(s._mul2)

    def v(x: int, r: int) -> int:
        w = (x * m1 + a1 + r * 0x9E3779B97F4A7C15) & M64
        w ^= w >> 32
        return ((w * m2) & M64) >> 32

    xs = [int(x) for x in hashes]
    b0 = {x: v(x, 0) * k >> 32 for x in xs}
    sig: list[int | None] = [None] * k
    for r in range(2 * k):
        found: dict[int, int] = {}
        for x in xs:
            val = v(x, r)
            b = (val * k >> 32) if r < k else (b0[x] + r) % k
            if sig[b] is None and val < found.get(b, 1 << 32):
                found[b] = val
        for b, val in found.items():
            sig[b] = val
        if None not in sig:
            break
    return np.array(sig, dtype=np.uint32)


@pytest.mark.parametrize("k", [1, 3, 64, 100, 128])
def test_oph_matches_its_definition(k: int) -> None:
    """Round 0 only, one more round, batched rounds for small sets, and the cyclic rounds (1-3 elements
    cannot fill 128 bins by chance in 128 rounds): all equal the plain per-shingle definition."""
    rng = np.random.default_rng(k)
    for seed in (1, 2):
        s = Signer(k, seed)
        for n in (1, 2, 3, 9, 40, 700):
            x = rng.integers(0, 2**32, n, dtype=np.uint64).astype(np.uint32)
            assert np.array_equal(s.sign(x), _reference_oph(s, x)), (k, seed, n)
        x = np.arange(50, dtype=np.uint32) * 7  # structured input
        assert np.array_equal(s.sign(x), _reference_oph(s, x))


def test_oph_round_zero_fills_almost_every_bin_of_a_long_text() -> None:
    """A 600-shingle set leaves ~128 * (1 - 1/128)**600 = 1.2 of 128 bins empty after round 0: the
    re-hashing rounds are a small top-up, not the main cost."""
    s = Signer(128)
    rng = np.random.default_rng(3)
    empty = []
    for _ in range(200):
        x = rng.integers(0, 2**32, 600, dtype=np.uint64).astype(np.uint32)
        bins0 = s.oph_values(x).astype(np.uint64) * 128 >> 32
        empty.append(128 - len(np.unique(bins0)))
    assert 0.9 < np.mean(empty) < 1.5


def test_signature_ignores_order_and_repeats() -> None:
    rng = np.random.default_rng(5)
    x = np.unique(rng.integers(0, 2**32, 300, dtype=np.uint64).astype(np.uint32))
    messy = rng.permutation(np.concatenate([x, x[:50]]))
    for scheme in SCHEMES:
        s = Signer(128, scheme=scheme)
        assert np.array_equal(s.sign(messy), s.sign(x))
        assert s.sign(x).dtype == np.uint32 and s.sign(x).shape == (128,)


def test_scheme_names_and_validation() -> None:
    assert Signer().scheme == OPH == "oph-rehash-v1"
    assert Signer(scheme=KPERM).scheme == KPERM == "kperm-affine32"
    with pytest.raises(ValueError, match="unknown MinHash scheme"):
        Signer(scheme="kperm-m61")
    with pytest.raises(ValueError, match="to_datasketch needs"):
        Signer().to_datasketch(Signer().sign(np.arange(5, dtype=np.uint32)))


def test_seeds_give_different_signatures() -> None:
    x = np.arange(1000, dtype=np.uint32)
    a, b = Signer(128, 1).sign(x), Signer(128, 2).sign(x)
    assert np.mean(a == b) < 0.05


# --- accuracy ------------------------------------------------------------------------------

@pytest.mark.parametrize("n", [12, 40, 600])
def test_oph_estimate_is_unbiased_and_no_worse_than_kperm(n: int) -> None:
    """Mean |estimate - J| over pairs with J in 0.2-0.9, and its mean (bias), for both schemes.

    Expected (128 positions): k-permutation MAE ~ 0.031 at every size; OPH ~0.022 for small sets
    (positions sample the union without replacement) and ~0.028 at 600."""
    oph, kperm = Signer(128), Signer(128, scheme=KPERM)
    e_oph, e_kp = _errors(oph, n, 300, seed=n), _errors(kperm, n, 300, seed=n)
    assert abs(e_oph.mean()) < 0.006  # 300 pairs: standard error of the mean ~0.002
    assert np.abs(e_oph).mean() < 0.034
    assert np.abs(e_oph).mean() <= np.abs(e_kp).mean() * 1.1


def test_oph_accuracy_on_structured_inputs() -> None:
    """Consecutive integers are not hashes; the per-round mixing still makes the estimate unbiased."""
    e = _errors(Signer(128), 60, 300, seed=9, structured=True)
    assert abs(e.mean()) < 0.006 and np.abs(e).mean() < 0.034


def test_known_jaccard_on_texts() -> None:
    """Two texts sharing a known share of their 3-word shingles."""
    words = [f"w{i}" for i in range(2000)]
    a = " ".join(words[:1000])
    b = " ".join(words[500:1500])  # 998 shingles each, 498 shared: J = 498 / 1498
    for scheme in SCHEMES:
        s = Signer(256, scheme=scheme)
        (sa, ga), (sb, gb) = s.sign_text(a), s.sign_text(b)
        assert jaccard(sa, sb) == pytest.approx(498 / 1498)
        assert abs(float(np.mean(ga == gb)) - 498 / 1498) < 0.09  # 3 standard errors at 256 positions
    s = Signer(128)
    assert np.array_equal(s.sign_text(a)[1], s.sign_text(a + " ")[1])  # identical sets, identical sigs


# --- determinism ----------------------------------------------------------------------------

GOLDEN_SHINGLES = [1171148825, 3473089503, 3909971576, 2331004819]
GOLDEN_OPH = [6041439, 44529909, 71053308, 108577411, 165817513, 171264905]
GOLDEN_KPERM = [698569867, 415130940, 553786619, 701809032, 159509202, 688163636]
GOLDEN_STORY = [3256306, 119747494, 159917976, 211723939, 331049789, 373839045]


def _fingerprint() -> dict:
    s, k, story = Signer(128), Signer(128, scheme=KPERM), Signer(64, 2, 1)
    sh, sig = s.sign_text(TEXT)
    return {"shingles": shingle_hashes(token_hashes(TEXT), 3)[:4].tolist(), "n": len(sh),
            "oph": sig[:6].tolist(), "kperm": k.sign_text(TEXT)[1][:6].tolist(),
            "story": story.sign(np.array([1, 2, 3, MAX32], dtype=np.uint32))[:6].tolist(),
            "zh": Signer(128).sign_text("比亚迪宣布10月销量增长")[1][:4].tolist()}


def test_golden_values() -> None:
    """Stored shingle sets and signatures must stay valid: a change here needs a new scheme name."""
    fp = _fingerprint()
    assert fp["shingles"] == GOLDEN_SHINGLES and fp["n"] == 13
    assert fp["oph"] == GOLDEN_OPH
    assert fp["kperm"] == GOLDEN_KPERM
    assert fp["story"] == GOLDEN_STORY


def test_same_values_in_another_process() -> None:
    """No Python ``hash()`` (salted per process) anywhere: a fresh interpreter with another hash seed agrees."""
    code = ("import json, tests.test_signing as t; print(json.dumps(t._fingerprint()))")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=root,
                         check=True, timeout=120)
    assert json.loads(out.stdout) == _fingerprint()


# --- edge texts -----------------------------------------------------------------------------

@pytest.mark.parametrize("text", ["", "   ", "...!?", "— • —", "😀 🚗"])
def test_texts_without_tokens(text: str) -> None:
    for scheme in SCHEMES:
        sh, sig = Signer(128, scheme=scheme).sign_text(text)
        assert len(sh) == 0 and sh.dtype == np.uint32
        assert sig.tolist() == [MAX32] * 128


def test_short_texts() -> None:
    """Fewer tokens than the shingle size: one shingle of what there is, and a full signature."""
    s = Signer(128)
    one, two = s.sign_text("Tesla"), s.sign_text("Tesla Model")
    assert len(one[0]) == 1 and len(two[0]) == 1
    assert one[0].tolist() == [shingle_hash32(["tesla"])]
    assert (one[1] != MAX32).all() and len(set(one[1].tolist())) > 100  # 128 rounds' values of one shingle
    assert np.array_equal(s.sign_text("TESLA!")[1], one[1])
    assert np.mean(one[1] == two[1]) == 0.0  # disjoint sets
    six = s.sign_text("BYD cuts Seal prices in Europe")
    assert len(six[0]) == 4 and (six[1] != MAX32).all()


def test_cjk_is_one_token_per_character() -> None:
    """Chinese and Japanese have no spaces: ideographs and kana are one token each (3-shingles are
    character trigrams); Latin runs inside stay words. Korean puts spaces between words: Hangul is read as words
    (a state built before that reads syllables, ``token_classes(False)``)."""
    assert tokenize("比亚迪Seal 06上市") == ["比", "亚", "迪", "seal", "06", "上", "市"]
    # traditional forms fold to simplified before tokenising (normalize), Japanese kanji included: every
    # text is folded alike, so only the token's form changes, never what matches what
    assert tokenize("日本語のテキスト、カタカナ。") == list("日本语のテキストカタカナ")
    assert tokenize("한국어 텍스트") == ["한국어", "텍스트"]
    assert tokenize("한국어 텍스트", token_classes(False)) == list("한국어텍스트")
    assert tokenize("𠀀𠀁x") == ["𠀀", "𠀁", "x"]  # CJK extension B (astral plane) too
    text = "宁德时代发布第二代钠离子电池，能量密度达到200Wh/kg。"
    assert len(shingles(text, 3)) == len(tokenize(text)) - 2
    assert token_hashes(text).tolist() == [token_hash64(t) for t in tokenize(text)]
    s = Signer(128)
    sh, sig = s.sign_text(text)
    assert len(sh) == len(tokenize(text)) - 2 and (sig != MAX32).all()
    # a near-copy with one character changed keeps most trigrams
    sh2, sig2 = s.sign_text(text.replace("第二代", "第三代"))
    assert 0.6 < jaccard(sh, sh2) < 1 and abs(np.mean(sig == sig2) - jaccard(sh, sh2)) < 0.2


@pytest.mark.parametrize(("text", "tokens"), [
    ("Ｔｅｓｌａ ＦＳＤ", ["tesla", "fsd"]),  # full-width
    ("Straße STRASSE", ["strasse", "strasse"]),  # casefold
    ("naïve cafe\u0301", ["naïve", "café"]),  # combining accent composed by NFKC
    ("ﬁnance x² Ⅻ", ["finance", "x2", "xii"]),  # compatibility forms
    ("Привет, мир", ["привет", "мир"]),
    ("٣ أرقام", ["٣", "أرقام"]),
    ("emoji 😀 ok", ["emoji", "ok"]),  # symbols separate
])
def test_other_scripts(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens
    assert token_hashes(text).tolist() == [token_hash64(t) for t in tokens]


def test_vectorised_path_equals_reference_on_mixed_text() -> None:
    text = "BYD’s Seal 06 — 比亚迪宣布 25 000 € à Zürich 𠀀 end\nZweite Zeile: Akku-Zellen, 200 Wh/kg."
    tok, starts = token_hashes_normalized(normalize(text))
    assert tok.tolist() == [token_hash64(t) for t in tokenize(text)]
    assert len(starts) == len(tok) and (np.diff(starts) > 0).all()
    for k in (1, 2, 3, 5):
        ref = [shingle_hash32(s) for s in shingles(text, k)]
        assert shingle_hashes(tok, k).tolist() == ref
        assert shingle_set(tok, k).tolist() == sorted(set(ref))


def test_sorted_unique() -> None:
    x = np.array([5, 1, 5, 3, 1], dtype=np.uint32)
    assert sorted_unique(x).tolist() == [1, 3, 5]
    assert sorted_unique(x[:1]).tolist() == [5] and sorted_unique(x[:0]).tolist() == []
    assert x.tolist() == [5, 1, 5, 3, 1]  # input untouched
