"""LSH: insert rate, query latency, state size and candidate recall; project vs datasketch MinHashLSH.

Signatures come from the project's signer (its default one-permutation scheme); datasketch's
``MinHashLSH`` gets the same values wrapped in ``LeanMinHash`` (LSH only reads the hash values), so both
indexes see identical signatures; only the index differs. Recall is scored against exact Jaccard computed by
brute force (sparse matrix product of the shingle sets) on a sample.
"""

from __future__ import annotations

import gc
import random
import time
import tracemalloc

import numpy as np

from benchmarks.common import DATA, Row, log, pct
from benchmarks.corpus import ensure_corpus, read_corpus

THRESHOLD = 0.5
NUM_PERM = 128
PREFILTER = 0.15  # DedupConfig.dup_prefilter: estimates below it are not verified exactly


def _background(sets: list[np.ndarray], pairs: int = 2000) -> float:
    """Mean exact Jaccard of random pairs: how much unrelated articles share (real news: ~0.01)."""
    rng = random.Random(11)
    n = len(sets)
    return float(np.mean([_jaccard(*(sets[i] for i in rng.sample(range(n), 2))) for _ in range(pairs)]))


def _exact_pairs(sets: list[np.ndarray], threshold: float) -> tuple[set[tuple[int, int]], np.ndarray]:
    """All pairs i<j with exact Jaccard >= threshold (sparse X @ X.T over the shingle sets)."""
    from scipy import sparse

    lens = np.array([len(s) for s in sets], dtype=np.int64)
    allv = np.concatenate(sets)
    _, cols = np.unique(allv, return_inverse=True)
    rows = np.repeat(np.arange(len(sets)), lens)
    x = sparse.csr_matrix((np.ones(len(cols), dtype=np.int32), (rows, cols)), shape=(len(sets), cols.max() + 1))
    inter = sparse.triu(x @ x.T, k=1).tocoo()
    jac = inter.data / (lens[inter.row] + lens[inter.col] - inter.data)
    keep = jac >= threshold
    return set(zip(inter.row[keep].tolist(), inter.col[keep].tolist(), strict=True)), lens


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    inter = len(np.intersect1d(a, b, assume_unique=True))
    return inter / (len(a) + len(b) - inter)


def _recall_rows(size: int, sets: list[np.ndarray], sigs: np.ndarray, bands: tuple[int, int]) -> list[Row]:
    from datasketch import LeanMinHash, MinHashLSH

    from aggregator.dedup.lsh import BandIndex, band_keys

    t0 = time.perf_counter()
    truth, _ = _exact_pairs(sets, THRESHOLD)
    t_exact = time.perf_counter() - t0
    n = len(sets)
    # project: banded index with bands chosen for recall at the threshold, then exact verification
    idx = BandIndex()
    keys = [band_keys(sigs[i], *bands) for i in range(n)]
    for i in range(n):
        idx.insert(keys[i].tolist(), i)
    cand = {(min(i, j), max(i, j)) for i in range(n) for j in idx.query(keys[i]) if j != i}
    verified = {p for p in cand if _jaccard(sets[p[0]], sets[p[1]]) >= THRESHOLD}
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    for i in range(n):
        lsh.insert(i, LeanMinHash(seed=1, hashvalues=sigs[i], scheme="affine32"))
    dcand = {(min(i, j), max(i, j)) for i in range(n)
             for j in lsh.query(LeanMinHash(seed=1, hashvalues=sigs[i], scheme="affine32")) if j != i}
    dverified = {p for p in dcand if _jaccard(sets[p[0]], sets[p[1]]) >= THRESHOLD}

    def rec(c: set) -> float:
        return len(c & truth) / len(truth) if truth else float("nan")

    def prec(c: set) -> float:
        return len(c & truth) / len(c) if c else float("nan")

    note = (f"sample of {n} docs of the {size:,} corpus, {len(truth)} pairs with exact Jaccard ≥ {THRESHOLD} "
            f"(brute force {t_exact:.1f}s); project bands×rows={bands[0]}×{bands[1]}, datasketch "
            f"{lsh.b}×{lsh.r}; candidates: project {len(cand)}, datasketch {len(dcand)}")
    return [
        Row("lsh", f"candidate recall @J≥{THRESHOLD} ({size // 1000}k)", rec(cand), rec(dcand), "",
            "MinHashLSH(threshold=0.5)", target=0.98, target_text="≥ 0.98", notes=note),
        Row("lsh", f"precision after verification ({size // 1000}k)", prec(verified), prec(dverified), "",
            "MinHashLSH + same verification", target=1.0, target_text="= 1.0",
            notes=f"raw candidate precision: project {prec(cand):.3f}, datasketch {prec(dcand):.3f}"),
    ]


def _dedup_rows(size: int, path, budget: float, proc) -> list[Row]:
    """Deduplicator.add (query + verify + insert, the streaming decision) over the corpus."""
    from aggregator.dedup import Deduplicator, open_store

    dd = Deduplicator(store=open_store("memory:"))
    lat: list[float] = []
    groups: dict[str, str] = {}
    dup_of: dict[str, str] = {}
    rss0 = proc.memory_info().rss
    rss_quarter = None
    t_start = time.perf_counter()
    done = 0
    for art in read_corpus(path):
        if done == 1000:
            rss_quarter = (done, proc.memory_info().rss)
        t0 = time.perf_counter()
        a = dd.add(art)
        lat.append(time.perf_counter() - t0)
        groups[art["id"]] = art["group"]
        dup_of[art["id"]] = a.dup_id
        done += 1
        if time.perf_counter() - t_start > budget:
            break
    total = time.perf_counter() - t_start
    rate = done / total
    rss1 = proc.memory_info().rss
    if rss_quarter and done > rss_quarter[0]:
        slope = (rss1 - rss_quarter[1]) / (done - rss_quarter[0])
    else:
        slope = (rss1 - rss0) / max(done, 1)
    projected = rss1 + slope * (size - done)
    lsh_bytes = dd.store.lsh_bytes() if hasattr(dd.store, "lsh_bytes") else 0
    # pairwise agreement of dup clusters with the generator's known groups
    from collections import Counter

    def pairs(c: Counter) -> int:
        return sum(v * (v - 1) // 2 for v in c.values())

    same_pred = pairs(Counter(dup_of.values()))
    same_true = pairs(Counter(groups.values()))
    both = pairs(Counter((dup_of[k], groups[k]) for k in dup_of))
    capped = done < size
    scope = f"first {done:,} of {size:,} docs (time cap {budget:.0f}s)" if capped else f"all {size:,} docs"
    note = (f"{scope}; per-add p50 {pct(lat, 50) * 1e3:.2f} ms, p99 {pct(lat, 99) * 1e3:.2f} ms; includes "
            f"boilerplate learning, shingling, signing, story features, both LSH tiers, verification, story "
            f"scoring; dup clusters vs known groups: pairwise "
            f"precision {both / same_pred if same_pred else float('nan'):.3f}, recall "
            f"{both / same_true if same_true else float('nan'):.3f}")
    # the 20,000 docs/s target is the LSH decision (query + insert: the lsh rows); this row is the
    # whole per-article dedup step a crawl runs, Python-level features and story scoring included
    rows = [Row("dedup", f"whole dedup step Deduplicator.add ({size // 1000}k)", rate, None, "docs/s",
                notes=note)]
    rows.append(Row("memory", f"Python pipeline (dedup) RSS at {size // 1000}k docs", projected / 2**20, None,
                    "MB", higher_is_better=False, target=1536 if size >= 100_000 else None,
                    target_text="≤ 1.5 GB" if size >= 100_000 else "",
                    notes=(f"measured {rss1 / 2**20:.0f} MB after {done:,} docs (start {rss0 / 2**20:.0f} MB, "
                           f"{slope / 1024:.1f} KB/doc); " + ("projected linearly to the full corpus" if capped
                                                              else "whole corpus processed"))))
    if lsh_bytes:
        rows.append(Row("dedup", f"Deduplicator LSH state bytes/doc ({size // 1000}k)", lsh_bytes / done, None, "B/doc",
                        higher_is_better=False, notes=f"store.lsh_bytes() (dup + story spaces) over {done:,} docs"))
    return rows


def run_size(size: int, quick: bool, recall: bool) -> list[Row]:
    from datasketch import LeanMinHash, MinHashLSH

    from aggregator.dedup.lsh import BandIndex, NumpyBandIndex, band_keys, band_keys_numpy, choose_bands
    from aggregator.dedup.minhash import Signer

    path = ensure_corpus(DATA, size)
    signer = Signer(num_perm=NUM_PERM)
    sample_n = min(size, 1500 if quick else 4000)
    sigs = np.empty((size, NUM_PERM), dtype=np.uint32)
    sets: list[np.ndarray] = []
    t0 = time.perf_counter()
    all_sets: list[np.ndarray] = []
    for i, art in enumerate(read_corpus(path)):
        sh, sig = signer.sign_text(art["body"])
        sigs[i] = sig
        all_sets.append(sh)
        if i < sample_n:
            sets.append(sh)
    log(f"lsh {size}: signed in {time.perf_counter() - t0:.1f}s")
    bands = choose_bands(THRESHOLD, NUM_PERM, 0.98)
    background = _background(sets)
    rows: list[Row] = []
    rng = random.Random(7)
    queries = rng.sample(range(size), min(size, 3000))

    # --- project BandIndex: streaming query-then-insert (the dedup decision), then query latency
    def stream(cls: type, keys_fn) -> tuple[object, float, int]:  # noqa: ANN001
        index, n = cls(), 0
        t = time.perf_counter()
        for i in range(size):
            k = keys_fn(sigs[i], *bands)
            n += len(index.query_array(k))
            index.insert(k, i)
        return index, time.perf_counter() - t, n

    warm = BandIndex()  # compiled kernels load (or compile) on first call: not part of any timing
    warm.insert(band_keys(sigs[0], *bands), 0)
    warm.query_array(band_keys(sigs[0], *bands))
    idx, t_stream, n_cand = stream(BandIndex, band_keys)
    # the numpy reference index (what runs without numba), for the ratio the kernels buy
    t_numpy = stream(NumpyBandIndex, band_keys_numpy)[1] if BandIndex is not NumpyBandIndex else None
    gc.collect()
    # ... and with verification: MinHash estimate over the candidates' stored signatures, exact
    # Jaccard on the shingle sets of those above the prefilter (what Deduplicator.add does)
    idx_v = BandIndex()
    n_exact = n_dup = 0
    t0 = time.perf_counter()
    for i in range(size):
        k = band_keys(sigs[i], *bands)
        cand = idx_v.query_array(k)
        if len(cand):
            est = (sigs[cand] == sigs[i]).sum(axis=1) / NUM_PERM
            for j in cand[est >= PREFILTER].tolist():
                n_exact += 1
                n_dup += _jaccard(all_sets[i], all_sets[j]) >= THRESHOLD
        idx_v.insert(k, i)
    t_verify = time.perf_counter() - t0
    del idx_v
    # datasketch: the same streaming decision (query, then insert) on the same signatures
    lean_s = [LeanMinHash(seed=1, hashvalues=sigs[i], scheme="affine32") for i in range(size)]
    lsh_s = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    t0 = time.perf_counter()
    for i in range(size):
        lsh_s.query(lean_s[i])
        lsh_s.insert(i, lean_s[i])
    d_stream = time.perf_counter() - t0
    del lsh_s, lean_s
    gc.collect()
    t0 = time.perf_counter()
    idx2 = BandIndex()
    for i in range(size):
        idx2.insert(band_keys(sigs[i], *bands).tolist(), i)
    t_ins = time.perf_counter() - t0
    del idx2
    idx.compact()
    plat = []
    for q in queries:
        t1 = time.perf_counter()
        idx.query_array(band_keys(sigs[q], *bands))
        plat.append(time.perf_counter() - t1)
    p_bytes = idx.nbytes() / size
    del idx, all_sets
    gc.collect()

    # --- datasketch MinHashLSH, same signatures, same threshold
    lean = [LeanMinHash(seed=1, hashvalues=sigs[i], scheme="affine32") for i in range(size)]
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    t0 = time.perf_counter()
    for i in range(size):
        lsh.insert(i, lean[i])
    d_ins = time.perf_counter() - t0
    dlat = []
    for q in queries:
        t1 = time.perf_counter()
        lsh.query(lean[q])
        dlat.append(time.perf_counter() - t1)
    del lsh
    gc.collect()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    for i in range(size):
        lsh.insert(i, lean[i])
    d_bytes = (tracemalloc.get_traced_memory()[0] - base) / size
    tracemalloc.stop()
    del lsh, lean
    gc.collect()
    tag = f"({size // 1000}k)"
    lsh_note = (f"threshold {THRESHOLD}, num_perm {NUM_PERM}; project {BandIndex.__name__} "
                f"{bands[0]}×{bands[1]} bands (recall-driven)")
    rows += [
        Row("lsh", f"streaming dedup decision: query + insert {tag}", size / t_stream, size / d_stream, "docs/s",
            "MinHashLSH.query + insert", target=20_000 if size >= 100_000 else None,
            target_text="≥ 20,000 docs/s" if size >= 100_000 else "",
            notes=(f"{lsh_note}; band keys computed in the loop; {n_cand / size:.1f} candidates/doc; corpus "
                   f"background: mean Jaccard of unrelated pairs {background:.3f}")),
        *([Row("lsh", f"streaming dedup decision: query + insert, numpy reference index {tag}", size / t_numpy,
               size / d_stream, "docs/s", "MinHashLSH.query + insert",
               notes=("NumpyBandIndex + band_keys_numpy: the same index without the compiled kernels (what runs "
                      f"when numba is missing or AGGREGATOR_JIT=0); the kernels are {t_numpy / t_stream:.1f}x "
                      "faster"))] if t_numpy else []),
        Row("lsh", f"streaming dedup decision: query + verify + insert {tag}", size / t_verify, None, "docs/s",
            notes=(f"MinHash estimate over the candidates' signatures, exact Jaccard for estimates ≥ {PREFILTER}: "
                   f"{n_exact / size:.2f} exact checks/doc, {n_dup:,} pairs ≥ {THRESHOLD} confirmed")),
        Row("lsh", f"insert rate {tag}", size / t_ins, size / d_ins, "ins/s", "MinHashLSH.insert (memory)",
            notes=lsh_note),
        Row("lsh", f"query latency p50 {tag}", pct(plat, 50) * 1e6, pct(dlat, 50) * 1e6, "µs", "MinHashLSH.query",
            higher_is_better=False, notes=f"{len(queries)} queries on the full index"),
        Row("lsh", f"query latency p99 {tag}", pct(plat, 99) * 1e6, pct(dlat, 99) * 1e6, "µs", "MinHashLSH.query",
            higher_is_better=False),
        Row("lsh", f"LSH state bytes/doc {tag}", p_bytes, d_bytes, "B/doc", "MinHashLSH (tracemalloc delta)",
            higher_is_better=False, target=2048, target_text="≤ 2 KB/doc",
            notes="project: BandIndex.nbytes() (sorted uint64 keys + int32 ids + bucket directory) after compaction"),
    ]
    log(f"lsh {size}: project ins {size / t_ins:.0f}/s, datasketch {size / d_ins:.0f}/s")
    if recall:
        rows += _recall_rows(size, sets, sigs[:sample_n], bands)
    return rows


def run(quick: bool) -> list[Row]:
    sizes = [2_000, 5_000] if quick else [10_000, 100_000]
    rows: list[Row] = []
    for size in sizes:
        # corpora share their prefix (same seed), so the recall sample is scored once, at the largest size
        rows += run_size(size, quick, recall=size == sizes[-1])
    return rows


def run_dedup(quick: bool) -> list[Row]:
    """The project's streaming decision (Deduplicator.add) over the large corpus, under a time budget."""
    import psutil

    size = 5_000 if quick else 100_000
    path = ensure_corpus(DATA, size)
    # 150 s reaches about half the corpus (the rate falls as the story window fills), enough that the
    # memory figure at 100k is a short extrapolation; the whole corpus would take ~8 minutes
    budget = 15.0 if quick else 150.0
    return _dedup_rows(size, path, budget, psutil.Process())


# --- the whole dedup step against same-run baselines (issue 14) ------------------------------------------

def _cpu_rate(fn, docs: list[dict]) -> tuple[float, list[float]]:
    """docs/s of ``fn`` per document in CPU time of this process (other processes on the machine do not
    count: the rate one core gives), and the per-document latencies (CPU ms)."""
    lat: list[float] = []
    t0 = time.process_time()
    for art in docs:
        a = time.process_time()
        fn(art)
        lat.append((time.process_time() - a) * 1e3)
    total = time.process_time() - t0
    return len(docs) / total if total else float("nan"), lat


def run_dedup_baselines(quick: bool, warm: int | None = None, measure: int | None = None) -> list[Row]:
    """``Deduplicator.add`` beside two plain pipelines on the same documents, after the same warm-up:

    * datasketch: ``MinHash(num_perm=128)`` of the word 3-shingles, ``MinHashLSH(threshold=0.5)``
      query + insert (the dup tier's textbook form, no verification, no story tier);
    * TF-IDF window: hashed word counts (2**18 dims), idf from the running document frequencies, cosine
      against every document of the last 3 days (sparse product), link at 0.3 (the story tier's
      textbook form).

    Rates are per core (CPU time), since the machine is shared.
    """
    import re

    from datasketch import MinHash, MinHashLSH
    from scipy import sparse

    from aggregator.dedup import Deduplicator, open_store
    from aggregator.dedup.core import _parse_time

    warm = warm if warm is not None else (1_000 if quick else 20_000)
    measure = measure if measure is not None else (500 if quick else 2_000)
    docs = list(read_corpus(ensure_corpus(DATA, 100_000), limit=warm + measure))
    head, tail = docs[:warm], docs[warm:]
    rows: list[Row] = []

    dd = Deduplicator(store=open_store("memory:"))
    for art in head:
        dd.add(art)
    ours, lat = _cpu_rate(dd.add, tail)

    word = re.compile(r"\w+")
    lsh = MinHashLSH(threshold=0.5, num_perm=128)

    def ds_add(art: dict) -> None:
        toks = word.findall(str(art.get("body") or "").lower())
        m = MinHash(num_perm=128)
        m.update_batch([" ".join(toks[i:i + 3]).encode("utf-8") for i in range(max(1, len(toks) - 2))])
        lsh.query(m)
        lsh.insert(art["id"], m, check_duplication=False)

    for art in head:
        ds_add(art)
    ds_rate, _ = _cpu_rate(ds_add, tail)

    dim = 1 << 18
    df = np.zeros(dim)
    # the window as one CSR matrix rebuilt every 256 documents (dropping the expired) plus the rows since
    window: list[tuple[float, sparse.csr_matrix]] = []
    built: list[sparse.csr_matrix | None] = [None]
    pending: list[sparse.csr_matrix] = []
    n_seen = [0]

    def tfidf_add(art: dict) -> None:
        toks = word.findall(f"{art.get('title') or ''} {art.get('body') or ''}".lower())
        idx, counts = np.unique(np.array([hash(t) % dim for t in toks], dtype=np.int64), return_counts=True)
        df[idx] += 1
        n_seen[0] += 1
        w = (1 + np.log(counts)) * np.log((1 + n_seen[0]) / (1 + df[idx]))
        w /= np.linalg.norm(w) or 1.0
        v = sparse.csr_matrix((w, (np.zeros(len(idx), dtype=np.int64), idx)), shape=(1, dim))
        t = _parse_time(art.get("published_at") or art.get("published")) or 0.0
        if len(pending) >= 256:
            while window and window[0][0] < t - 3 * 86400:
                window.pop(0)
            built[0] = sparse.vstack([x for _, x in window]).tocsr() if window else None
            pending.clear()
        # cosine against the window (a link at >= 0.3 would be read off these); rows of documents older
        # than 3 days are still in the built matrix until the next rebuild, at most 256 adds later
        if built[0] is not None:
            (built[0] @ v.T).toarray()
        if pending:
            (sparse.vstack(pending) @ v.T).toarray()
        window.append((t, v))
        pending.append(v)

    for art in head:
        tfidf_add(art)
    tf_rate, _ = _cpu_rate(tfidf_add, tail)

    note = (f"{len(tail):,} documents after {len(head):,} (CPU time of one core); per-add p50 "
            f"{pct(lat, 50):.2f} ms, p99 {pct(lat, 99):.2f} ms")
    rows.append(Row("dedup", f"Deduplicator.add, both tiers (at {warm // 1000}k docs)", ours, ds_rate, "docs/s",
                    "datasketch MinHash + MinHashLSH query/insert (dup tier only)", target=3000,
                    target_text="≥ 3,000 docs/s", notes=note))
    rows.append(Row("dedup", f"Deduplicator.add vs the story baseline (at {warm // 1000}k docs)", ours, tf_rate,
                    "docs/s", "TF-IDF cosine against a 3-day window", notes="same documents and warm-up"))
    rows.append(Row("dedup", f"Deduplicator.add p99 latency (at {warm // 1000}k docs)", pct(lat, 99), None, "ms",
                    higher_is_better=False, target=5.0, target_text="≤ 5 ms", notes=note))
    return rows


# --- the story candidates as columns (issue 14, branch g14add) --------------------------------------------

def run_dedup_columns(quick: bool, warm: int | None = None, measure: int | None = None) -> list[Row]:
    """``Deduplicator.add`` reading story candidates from the column store (``store.DocColumns``) against the
    reference path (one record per candidate, ``use_columns = False``), as a same-run ratio: one state is
    warmed, copied, and the two copies are fed the same documents alternately (their decisions are identical,
    so the copies stay equal; the run checks it). The measured documents carry their embedding, as those of a
    crawl do (computed by the extraction workers: :func:`aggregator.dedup.core.carry_embedding`, before the
    clock). Before timing, ``measure // 2`` more documents warm each process's caches, as in a long crawl."""
    import pickle

    from aggregator.dedup import Deduplicator, open_store
    from aggregator.dedup.core import carry_embedding
    from aggregator.dedup.embed import CARRIED_FIELD

    warm = warm if warm is not None else (2_000 if quick else 10_000)
    measure = measure if measure is not None else (500 if quick else 1_000)
    docs = list(read_corpus(ensure_corpus(DATA, 100_000), limit=warm + measure // 2 + measure))
    head, tail = docs[:warm], docs[warm:]
    for art in tail:
        art[CARRIED_FIELD] = carry_embedding(art)
    dd = Deduplicator(store=open_store("memory:"))
    for art in head:
        dd.add(art)
    state = pickle.dumps(dd.store, protocol=5)
    ref, cols = (Deduplicator(store=pickle.loads(state)) for _ in range(2))
    ref.use_columns = False
    lat: dict[str, list[float]] = {"ref": [], "cols": []}
    cpu = {"ref": 0.0, "cols": 0.0}
    for i, art in enumerate(tail):
        out = []
        for name, d in (("ref", ref), ("cols", cols)) if i % 2 else (("cols", cols), ("ref", ref)):
            t0 = time.process_time()
            out.append(d.add(art))
            dt = time.process_time() - t0
            if i >= measure // 2:
                cpu[name] += dt
                lat[name].append(dt * 1e3)
        if out[0] != out[1]:
            raise AssertionError(f"column path and reference disagree on {art['id']}")
    rate = {k: len(v) / cpu[k] for k, v in lat.items()}
    note = (f"{measure:,} documents after {warm:,} (+{measure // 2:,} untimed), embedding carried, CPU time of one "
            f"core; per-add p50 {pct(lat['cols'], 50):.2f} / {pct(lat['ref'], 50):.2f} ms, p99 "
            f"{pct(lat['cols'], 99):.2f} / {pct(lat['ref'], 99):.2f} ms (columns / reference); same decisions")
    return [Row("dedup", f"Deduplicator.add, story candidates as columns (at {warm // 1000}k docs)", rate["cols"],
                rate["ref"], "docs/s", "the reference path (one record per candidate), same run", target=3000,
                target_text="≥ 3,000 docs/s", notes=note),
            Row("dedup", f"Deduplicator.add p99, columns (at {warm // 1000}k docs)", pct(lat["cols"], 99),
                pct(lat["ref"], 99), "ms", "the reference path, same run", higher_is_better=False, target=5.0,
                target_text="≤ 5 ms", notes="alternate adds of the same documents on two equal states")]
