"""MinHash: shingling + signing, docs/s on one core, project signer vs datasketch on the same texts;
and the quality of the default signature scheme against datasketch's k-permutation scheme.

Speeds are the best of several passes, interleaved (project and baselines alike): the machine is
shared, and the best pass is the one least disturbed by other processes.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import numpy as np

from benchmarks.common import DATA, Row, log, pin_one_core
from benchmarks.corpus import ensure_corpus, read_corpus

NUM_PERM = 128


def _py_shingles(text: str, k: int = 3) -> list[bytes]:
    """The baseline's shingler: lower-case whitespace tokens, k-token shingles as UTF-8 bytes."""
    toks = text.lower().split()
    return [" ".join(toks[i:i + k]).encode("utf-8") for i in range(max(1, len(toks) - k + 1))]


def _best_rates(cases: dict[str, tuple[int, Callable[[], object]]], passes: int) -> dict[str, float]:
    """items/s of each case: the best of ``passes`` passes, the cases interleaved within a pass."""
    best = {name: float("inf") for name in cases}
    for _ in range(passes):
        for name, (_, fn) in cases.items():
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return {name: cases[name][0] / best[name] for name in cases}


Pairs = list[tuple[np.ndarray, np.ndarray, float]]


def _article_pairs(texts: list[str], n_pairs: int, signer, rng: random.Random) -> Pairs:
    """Pairs (article, edited copy) whose exact shingle Jaccard is in 0.2-0.9: a random share of the
    words replaced by words of another article (what a rewrite or a partial copy looks like)."""
    from aggregator.dedup.minhash import jaccard

    out: Pairs = []
    for _ in range(n_pairs * 20):
        if len(out) >= n_pairs:
            break
        words = rng.choice(texts).split()
        donor = rng.choice(texts).split()
        p = rng.uniform(0.02, 0.4)
        edited = [rng.choice(donor) if rng.random() < p else w for w in words]
        a, b = signer.shingle_set(" ".join(words)), signer.shingle_set(" ".join(edited))
        j = jaccard(a, b)
        if 0.2 <= j <= 0.9:
            out.append((a, b, j))
    return out


def _set_pairs(n_pairs: int, sizes: tuple[int, int], rng: np.random.Generator,
               j_range: tuple[float, float] = (0.2, 0.9)) -> Pairs:
    """Pairs of random 32-bit hash sets of ``sizes`` elements with Jaccard drawn from ``j_range``."""
    from aggregator.dedup.minhash import jaccard

    out = []
    for _ in range(n_pairs):
        n = int(rng.integers(sizes[0], sizes[1] + 1))
        j = rng.uniform(*j_range)
        c = max(1, round(n * 2 * j / (1 + j)))
        d = max(0, n - c)
        u = np.unique(rng.integers(0, 2**32, c + 2 * d + 16, dtype=np.uint64).astype(np.uint32))
        u = rng.permutation(u)[: c + 2 * d]
        a, b = np.sort(np.concatenate([u[:c], u[c:c + d]])), np.sort(np.concatenate([u[:c], u[c + d:]]))
        out.append((a, b, jaccard(a, b)))
    return out


def _mae(signer, pairs) -> float:
    return float(np.mean([abs(float((signer.sign(a) == signer.sign(b)).mean()) - j) for a, b, j in pairs]))


def run(quick: bool) -> list[Row]:
    pin = pin_one_core()
    texts = [a["body"] for a in read_corpus(ensure_corpus(DATA, 10_000), 3000 if not quick else 600)]
    words = sum(len(t.split()) for t in texts) / len(texts)
    from datasketch import MinHash

    from aggregator.dedup.minhash import KPERM, Signer

    signer = Signer(num_perm=NUM_PERM)
    kperm = Signer(num_perm=NUM_PERM, scheme=KPERM)
    sign = getattr(signer, "sign_text", None)
    if sign is None:
        raise RuntimeError("aggregator.dedup.minhash.Signer has no sign_text()")
    sign(texts[0])  # warm-up (numpy power tables)
    kperm.sign_text(texts[0])
    n_proj = len(texts)
    sets = [signer.shingle_set(t) for t in texts]
    n_plain = 150 if quick else 400
    n_bulk = min(len(texts), 600 if quick else 2000)
    import xxhash

    from aggregator.dedup import _jit
    from aggregator.dedup.text import _shingle_hi32, _token_hashes_numpy, normalize, sorted_unique

    def numpy_path(t: str) -> object:  # what Signer.sign_text runs without the compiled kernels
        return signer._sign_oph_numpy(sorted_unique(_shingle_hi32(_token_hashes_numpy(normalize(t))[0], 3)))

    def plain():
        for t in texts[:n_plain]:
            m = MinHash(num_perm=NUM_PERM)
            for sh in _py_shingles(t):
                m.update(sh)

    rates = _best_rates({
        "project": (n_proj, lambda: [sign(t) for t in texts]),
        "shingle": (n_proj, lambda: [signer.shingle_set(t) for t in texts]),
        "sign": (n_proj, lambda: [signer.sign(s) for s in sets]),
        "kperm": (n_proj, lambda: [kperm.sign_text(t) for t in texts]),
        "kperm_sign": (n_proj, lambda: [kperm.sign(s) for s in sets]),
        "numpy": (n_proj, lambda: [numpy_path(t) for t in texts]),
    }, 3 if quick else 5)
    rates |= _best_rates({
        "plain": (n_plain, plain),
        "bulk": (n_bulk, lambda: MinHash.bulk([_py_shingles(t) for t in texts[:n_bulk]], num_perm=NUM_PERM)),
        "bulk_xx": (n_bulk, lambda: MinHash.bulk([_py_shingles(t) for t in texts[:n_bulk]], num_perm=NUM_PERM,
                                                 hashfunc=xxhash.xxh32_intdigest)),
    }, 2 if quick else 3)
    r_proj = rates["project"]
    # equivalence: the k-permutation scheme equals datasketch's with the project's shingle hash
    equal = "n/a"
    try:
        from aggregator.dedup.text import shingle_hash32, shingles

        same = 0
        for t in texts[:10]:
            m = MinHash(num_perm=NUM_PERM, hashfunc=shingle_hash32)
            for sh in shingles(t, 3):
                m.update(sh)
            same += bool(np.array_equal(m.hashvalues.astype(np.uint32), kperm.sign_text(t)[1]))
        equal = (f"{same}/10 {KPERM} signatures identical to datasketch's (same shingle hash); "
                 f"the default scheme is {signer.scheme} (not datasketch's)")
    except Exception as exc:  # noqa: BLE001
        equal = f"equivalence check failed: {exc!r}"
    log(f"minhash: project {r_proj:.0f}/s ({signer.scheme}), {KPERM} {rates['kperm']:.0f}/s, "
        f"plain {rates['plain']:.0f}/s, bulk {rates['bulk']:.0f}/s, bulk+xx {rates['bulk_xx']:.0f}/s")

    # estimator quality: mean |estimate - exact Jaccard| over pairs with J in 0.2-0.9
    n_pairs = 200 if quick else 600
    art_pairs = _article_pairs(texts, n_pairs, signer, random.Random(7))
    mae_art = (_mae(signer, art_pairs), _mae(kperm, art_pairs))
    from aggregator.dedup.core import DedupConfig
    from aggregator.dedup.lsh import band_keys, choose_bands

    cfg = DedupConfig()
    k_story = cfg.story_num_perm
    s_oph, s_kp = Signer(k_story, cfg.seed + 1, 1), Signer(k_story, cfg.seed + 1, 1, scheme=KPERM)
    small = _set_pairs(n_pairs, (8, 30), np.random.default_rng(11))
    mae_small = (_mae(s_oph, small), _mae(s_kp, small))
    # story-tier LSH (1-row bands) on small feature sets at its recall point
    b, r = choose_bands(cfg.story_lsh_threshold, k_story, cfg.min_recall)
    at_t = _set_pairs(1000 if quick else 3000, (8, 30), np.random.default_rng(12),
                      (cfg.story_lsh_threshold, cfg.story_lsh_threshold))

    def recall(sg) -> float:
        return float(np.mean([bool(np.any(band_keys(sg.sign(a), b, r) == band_keys(sg.sign(c), b, r)))
                              for a, c, _ in at_t]))

    rec = (recall(s_oph), recall(s_kp))
    mean_j = float(np.mean([j for *_, j in at_t]))
    log(f"minhash: MAE articles {mae_art[0]:.4f} vs {mae_art[1]:.4f}, small sets {mae_small[0]:.4f} vs "
        f"{mae_small[1]:.4f}; story recall {rec[0]:.3f} vs {rec[1]:.3f}")

    common = (f"{words:.0f}-word articles, num_perm={NUM_PERM}, 3-word shingles, one core ({pin}), "
              f"best of several interleaved passes")
    shingle_us = 1e6 / rates["shingle"]
    return [
        Row("minhash", "shingle+sign docs/s vs datasketch update loop", r_proj, rates["plain"], "docs/s",
            "MinHash.update per shingle", target=10_000, target_text="≥ 10,000 docs/s",
            notes=f"{common}; scheme {signer.scheme}; {equal}"),
        Row("minhash", "shingle+sign docs/s vs MinHash.bulk", r_proj, rates["bulk"], "docs/s", "MinHash.bulk (sha1)"),
        Row("minhash", "shingle+sign docs/s vs MinHash.bulk+xxhash", r_proj, rates["bulk_xx"], "docs/s",
            "MinHash.bulk (xxh32)"),
        Row("minhash", f"shingle+sign docs/s vs the {KPERM} scheme", r_proj, rates["kperm"], "docs/s",
            f"Signer(scheme={KPERM!r})", notes="same tokeniser and shingle sets; only the signing differs"),
        Row("minhash", "shingle+sign docs/s vs the numpy reference path", r_proj, rates["numpy"], "docs/s",
            "numpy tokeniser + OPH (no numba)",
            notes=("compiled kernels " + ("on" if _jit.ENABLED else "OFF (AGGREGATOR_JIT=0 or no numba)")
                   + "; the numpy path is what runs without numba; both give identical shingle sets "
                   "and signatures")),
        Row("minhash", "shingle only (Signer.shingle_set) docs/s", rates["shingle"], None, "docs/s",
            notes=f"tokenise + 3-word shingle hashes + sorted unique set: {shingle_us:.0f} µs/doc"),
        Row("minhash", "sign only (shingle hashes given) docs/s", rates["sign"], rates["kperm_sign"], "docs/s",
            f"{KPERM} sign only", notes="Signer.sign on precomputed shingle sets"),
        Row("minhash", "Jaccard estimate mean abs. error, article pairs", mae_art[0], mae_art[1], "",
            f"{KPERM}", higher_is_better=False,
            notes=f"{len(art_pairs)} pairs (article, copy with 2-40% of its words replaced), exact J 0.2-0.9, "
                  f"num_perm={NUM_PERM}; error = |(sig_a == sig_b).mean() - J|"),
        Row("minhash", "Jaccard estimate mean abs. error, 8-30 element sets", mae_small[0], mae_small[1], "",
            f"{KPERM}", higher_is_better=False,
            notes=f"{len(small)} pairs of random hash sets (story-feature size), J 0.2-0.9, num_perm={k_story}"),
        Row("minhash", "story-tier band recall at its threshold, 8-30 element sets", rec[0], rec[1], "",
            f"{KPERM}",
            notes=f"{len(at_t)} pairs at J≈{mean_j:.3f} (the threshold {cfg.story_lsh_threshold}, rounded to what "
                  f"8-30 elements allow), num_perm={k_story}, {b}×{r} bands (chosen for {cfg.min_recall} recall "
                  "with independent positions): share of pairs sharing a band key"),
    ]
