"""MinHash: shingling + signing, docs/s on one core, project signer vs datasketch on the same texts."""

from __future__ import annotations

import time

import numpy as np

from benchmarks.common import DATA, Row, log, pin_one_core
from benchmarks.corpus import ensure_corpus, read_corpus

NUM_PERM = 128


def _py_shingles(text: str, k: int = 3) -> list[bytes]:
    """The baseline's shingler: lower-case whitespace tokens, k-token shingles as UTF-8 bytes."""
    toks = text.lower().split()
    return [" ".join(toks[i:i + k]).encode("utf-8") for i in range(max(1, len(toks) - k + 1))]


def _rate(n: int, fn) -> float:
    t0 = time.perf_counter()
    fn()
    return n / (time.perf_counter() - t0)


def run(quick: bool) -> list[Row]:
    pin = pin_one_core()
    texts = [a["body"] for a in read_corpus(ensure_corpus(DATA, 10_000), 3000 if not quick else 600)]
    words = sum(len(t.split()) for t in texts) / len(texts)
    from datasketch import MinHash

    from aggregator.dedup.minhash import Signer

    signer = Signer(num_perm=NUM_PERM)
    sign = getattr(signer, "sign_text", None)
    if sign is None:
        raise RuntimeError("aggregator.dedup.minhash.Signer has no sign_text()")
    sign(texts[0])  # warm-up (numpy power tables)
    n_proj = len(texts)
    r_proj = _rate(n_proj, lambda: [sign(t) for t in texts])
    # signing alone (shingle hashes precomputed): where the time goes
    sets = [signer.shingle_set(t) for t in texts]
    r_sign_only = _rate(n_proj, lambda: [signer.sign(s) for s in sets])

    n_plain = 150 if quick else 400

    def plain():
        for t in texts[:n_plain]:
            m = MinHash(num_perm=NUM_PERM)
            for sh in _py_shingles(t):
                m.update(sh)

    r_plain = _rate(n_plain, plain)
    n_bulk = min(len(texts), 600 if quick else 2000)
    r_bulk = _rate(n_bulk, lambda: MinHash.bulk([_py_shingles(t) for t in texts[:n_bulk]], num_perm=NUM_PERM))
    import xxhash

    r_bulk_xx = _rate(n_bulk, lambda: MinHash.bulk([_py_shingles(t) for t in texts[:n_bulk]], num_perm=NUM_PERM,
                                                   hashfunc=xxhash.xxh32_intdigest))
    # equivalence: the project's signature equals datasketch's with the project's shingle hash
    equal = "n/a"
    try:
        from aggregator.dedup.text import shingle_hash32, shingles

        same = 0
        for t in texts[:10]:
            m = MinHash(num_perm=NUM_PERM, hashfunc=shingle_hash32)
            for sh in shingles(t, 3):
                m.update(sh)
            same += bool(np.array_equal(m.hashvalues.astype(np.uint32), sign(t)[1]))
        equal = f"{same}/10 signatures identical to datasketch's (same shingle hash)"
    except Exception as exc:  # noqa: BLE001
        equal = f"equivalence check failed: {exc!r}"
    log(f"minhash: project {r_proj:.0f}/s, plain {r_plain:.0f}/s, bulk {r_bulk:.0f}/s, bulk+xx {r_bulk_xx:.0f}/s")
    common = f"{words:.0f}-word articles, num_perm={NUM_PERM}, 3-word shingles, one core ({pin})"
    return [
        Row("minhash", "shingle+sign docs/s vs datasketch update loop", r_proj, r_plain, "docs/s",
            "MinHash.update per shingle", target=10_000, target_text="≥ 10,000 docs/s",
            notes=f"{common}; {equal}"),
        Row("minhash", "shingle+sign docs/s vs MinHash.bulk", r_proj, r_bulk, "docs/s", "MinHash.bulk (sha1)"),
        Row("minhash", "shingle+sign docs/s vs MinHash.bulk+xxhash", r_proj, r_bulk_xx, "docs/s",
            "MinHash.bulk (xxh32)"),
        Row("minhash", "sign only (shingle hashes given) docs/s", r_sign_only, None, "docs/s",
            notes="Signer.sign on precomputed shingle sets: the tokeniser's share is the difference"),
    ]
