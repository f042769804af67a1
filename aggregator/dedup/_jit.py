"""Compiled kernels (numba) for the per-document hot loops of dedup: token and shingle hashes, the
one-permutation MinHash, LSH band keys, index insert/query, and the story tier's per-candidate evidence.

Why compiled code at all: a streaming dedup decision is one document at a time, and at that size numpy
is all call overhead (~1 µs a call, ~40 calls to key, query and insert one document) rather than
arithmetic. These loops do the same work in one call each, with results identical to the numpy code in
``text``, ``minhash``, ``lsh`` and ``core``, which stays the reference (tests compare the two).

numba is a regular dependency; the kernels are used only when it imports and ``AGGREGATOR_JIT`` is not
``0`` (so a platform without numba wheels still works, on the numpy path). Compiled code is cached
next to this file (``__pycache__``), so only the first process after an install pays the ~2 s of
compilation. Every kernel trusts its caller for bounds (numba does not check them): the Python side
sizes every array before the call.
"""

from __future__ import annotations

import os
import sys

import numpy as np

try:  # pragma: no cover - exercised by whichever environment runs the tests
    import numba
except ImportError:  # pragma: no cover
    numba = None

#: True when the compiled kernels are in use (numba importable and ``AGGREGATOR_JIT`` not ``0``).
ENABLED: bool = numba is not None and os.environ.get("AGGREGATOR_JIT", "1") != "0"


# numba caches compiled kernels beside the source file; imported from a zip (a scrapyd egg) there is no
# such file and cache=True raises, so such processes compile on first use instead
_CACHE = os.path.isfile(__file__)


def _njit(fn):  # noqa: ANN001, ANN202 - a decorator over numba's
    if not ENABLED:
        return fn
    return numba.njit(cache=_CACHE, nogil=True)(fn)


_BLAS = "scipy.linalg.cython_blas"
_HIDDEN = (_BLAS, "cffi")  # imported by numba's library only for what no kernel here uses (load())


def load() -> None:
    """Load numba's library of implementations now, as the first kernel call would, without scipy.linalg.

    The first kernel a process calls (even from the cache) makes numba import all its implementation modules;
    one of them imports ``scipy.linalg`` only to learn whether BLAS is there for ``np.dot`` (~0.25 s of CPU and
    ~10 MB, half of a crawl's pre-fork warm-up). No kernel here uses BLAS: the import is made to fail
    while numba looks (it then takes BLAS as absent for kernels compiled in this process; a later
    ``import scipy.linalg`` works as usual). A process that has scipy.linalg already, or whose numba library
    is loaded, is left as it is. Called when a :class:`~.core.Deduplicator` is made.
    """
    if not ENABLED or "numba.np.arraymath" in sys.modules:
        return
    from numba.core.registry import cpu_target

    # (the same for cffi: numba's typing imports it, and pycparser with it, ~35 ms of CPU, only to type cffi
    # functions, which no kernel here calls; numba then leaves its cffi support off in this process)
    hidden = [name for name in _HIDDEN
              if name not in sys.modules and (name != _BLAS or "scipy.linalg" not in sys.modules)]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # (importing it raises ImportError, parents untouched)
    try:
        cpu_target.target_context.refresh()
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]


_U33 = np.uint64(33)
_FM1 = np.uint64(0xFF51AFD7ED558CCD)
_FM2 = np.uint64(0xC4CEB9FE1A85EC53)


@_njit
def fmix64(h):  # noqa: ANN001, ANN201
    """MurmurHash3's 64-bit finaliser on one uint64 (wrapping arithmetic, like ``text._fmix64_``)."""
    h ^= h >> _U33
    h *= _FM1
    h ^= h >> _U33
    h *= _FM2
    h ^= h >> _U33
    return h


@_njit
def band_keys(sig, rows, mult, add, salt_term, out):  # noqa: ANN001, ANN201
    """``out[b] = fmix64(sum_j sig[b*rows + j] * mult[j] + add[b] + salt_term)`` for every band ``b``."""
    for b in range(len(out)):
        h = add[b] + salt_term
        base = b * rows
        for j in range(rows):
            h += np.uint64(sig[base + j]) * mult[j]
        out[b] = fmix64(h)


@_njit
def index_insert(keys, doc, pk, pi, pnext, phead, pshift, n):  # noqa: ANN001, ANN201
    """Append ``(key, doc)`` for every key to the pending arrays at ``n`` and chain each into its
    hash slot (the key's top bits); returns the new count. Capacity is the caller's job."""
    for t in range(len(keys)):
        k = keys[t]
        s = k >> pshift
        pk[n] = k
        pi[n] = doc
        pnext[n] = phead[s]
        phead[s] = n
        n += 1
    return n


@_njit
def index_rechain(pk, pnext, phead, pshift, n):  # noqa: ANN001, ANN201
    """Rebuild the chains of the first ``n`` pending entries into an all ``-1`` ``phead`` (after a resize)."""
    for e in range(n):
        s = pk[e] >> pshift
        pnext[e] = phead[s]
        phead[s] = e


@_njit
def index_query(q, keys, ids, directory, shift, one_bucket, pk, pi, pnext, phead, pshift, mark, stamp, out):  # noqa: ANN001, ANN201, PLR0913
    """Documents sharing a key with ``q``, each once, written to ``out``; returns how many there are.

    Main part: bucket ``key >> shift`` (or bucket 0 if ``one_bucket``) of the sorted ``keys``, scanned
    until a larger key. Pending part: the chain of slot ``key >> pshift``. ``mark[d] == stamp`` means
    ``d`` was already reported in this query (the caller uses a fresh stamp per query). If the count
    exceeds ``len(out)`` only the first ``len(out)`` are written: the caller grows ``out`` and asks again.
    """
    c = 0
    cap = len(out)
    n_main = len(keys)
    for t in range(len(q)):
        key = q[t]
        if n_main:
            b = 0 if one_bucket else np.int64(key >> shift)
            i = directory[b]
            end = directory[b + 1]
            while i < end:
                kk = keys[i]
                if kk == key:
                    d = ids[i]
                    if mark[d] != stamp:
                        mark[d] = stamp
                        if c < cap:
                            out[c] = d
                        c += 1
                elif kk > key:
                    break
                i += 1
        e = phead[key >> pshift]
        while e >= 0:
            if pk[e] == key:
                d = pi[e]
                if mark[d] != stamp:
                    mark[d] = stamp
                    if c < cap:
                        out[c] = d
                    c += 1
            e = pnext[e]
    return c


# --- text: token and shingle hashes (the same values as aggregator.dedup.text's numpy code) -----------

_SEP, _WORD, _IDEO = 0, 1, 2


@_njit
def token_hashes(cp, classes, base, seed, out_h, out_s):  # noqa: ANN001, ANN201
    """Hash every token of the code points ``cp``; returns the token count.

    Tokens are maximal runs of word characters and single ideographs (class from ``classes`` for the
    BMP; CJK extension planes are ideographs, other astral code points separators). A token
    ``cp[s:e]`` hashes to ``fmix64(sum_j cp[s + j] * base**j + seed)`` (mod 2**64), which is what the
    numpy prefix-sum formula ``(P[e] - P[s]) * base**-s`` computes. ``out_s`` gets each token's start.
    """
    n = 0
    h = np.uint64(0)
    p = np.uint64(1)
    start = -1
    for i in range(len(cp)):
        c = np.uint64(cp[i])
        if c < 0x10000:
            cls = classes[c]
        elif c >= 0x20000 and c < 0x32000:
            cls = _IDEO
        else:
            cls = _SEP
        if cls == _WORD:
            if start < 0:
                start = i
                h = np.uint64(0)
                p = np.uint64(1)
            h += c * p
            p *= base
            continue
        if start >= 0:
            out_h[n] = fmix64(h + seed)
            out_s[n] = start
            n += 1
            start = -1
        if cls == _IDEO:
            out_h[n] = fmix64(c + seed)
            out_s[n] = i
            n += 1
    if start >= 0:
        out_h[n] = fmix64(h + seed)
        out_s[n] = start
        n += 1
    return n


@_njit
def shingle_hi32(tok, k, mult, out):  # noqa: ANN001, ANN201
    """``out[i] = high32(fmix64(sum_j tok[i + j] * mult[j]))`` over the k-token windows of ``tok`` (fewer
    than ``k`` tokens: one shingle of them all); ``out`` holds ``max(len(tok) - k + 1, 1)`` values.
    (Sorting stays with numpy: its vectorised sort is several times faster than a compiled loop.)"""
    n = len(tok)
    m = n - k + 1 if n >= k else 1
    w = min(k, n)
    for i in range(m):
        s = np.uint64(0)
        for j in range(w):
            s += tok[i + j] * mult[j]
        out[i] = np.uint32(fmix64(s) >> np.uint64(32))


# --- MinHash: one-permutation hashing with re-hashing rounds (minhash.OPH) -----------------------------

_U32 = np.uint64(32)
_NO_VALUE = np.uint64(0xFFFFFFFFFFFFFFFF)


@_njit
def oph_sign(hashes, mul1, add1, mul2, round_add, k, sig):  # noqa: ANN001, ANN201, PLR0912
    """Fill ``sig`` (uint32[k]) with the ``oph-rehash-v1`` signature of the (non-empty) hash set.

    Round ``r`` maps ``x`` to ``w = g(x * mul1 + add1 + round_add[r]) * mul2`` (``g(y) = y ^ (y >> 32)``),
    value ``v = w >> 32`` and bin ``v * k >> 32`` (rounds ``>= k``: the round-0 bin plus ``r``, mod ``k``).
    A bin keeps the smallest value of the first round that reaches it; rounds go on until every bin
    holds one. The numpy code (``Signer._sign_oph``) batches rounds differently; the result is the same.
    """
    n = len(hashes)
    kk = np.uint64(k)
    filled = np.zeros(k, dtype=np.bool_)
    best = np.empty(k, dtype=np.uint64)
    b0 = np.empty(n, dtype=np.int64)
    empty = k
    r = 0
    while empty:
        best[:] = _NO_VALUE
        ra = round_add[r] if r < len(round_add) else np.uint64(0)
        for t in range(n):
            z = np.uint64(hashes[t]) * mul1 + add1
            y = z + ra
            w = (y ^ (y >> _U32)) * mul2
            v = w >> _U32
            if r == 0:
                b = np.int64((v * kk) >> _U32)
                b0[t] = b
            elif r < k:
                b = np.int64((v * kk) >> _U32)
            else:
                b = (b0[t] + r) % k
            if not filled[b] and v < best[b]:
                best[b] = v
        for b in range(k):
            if not filled[b] and best[b] != _NO_VALUE:
                sig[b] = np.uint32(best[b])
                filled[b] = True
                empty -= 1
        r += 1


# --- story tier: per-candidate evidence read straight from the feature records -----------------------


_M21 = np.uint64(0x1FFFFF)


@_njit
def story_evidence(buf64, buf8, starts, na, names_a, wa, idf_a, ka, strong, out, lens):  # noqa: ANN001, ANN201, PLR0913
    """Per-candidate sums the story score is made of, read from the candidates' feature records
    (``core.Doc.fb``): one uint64 word ``nn | nm << 21 | nk << 42``, the ``nn`` number, ``nm`` name and
    ``nk`` keyword hashes, then the ``nm`` name weights (uint8, tenths) padded to a word; record ``i`` is
    words ``starts[i]:starts[i+1]`` of ``buf64`` (``buf8``: the same buffer as bytes).

    ``out[i]`` gets: numbers score (1 per shared specific figure, 0.5 per shared round one), shared
    specific figures, the candidate's specific figures, name weight (``sum min(w_a, w_b) / 10 * idf``),
    the candidate's strong names, shared strong names, shared keywords; ``lens[i]`` its ``(nn, nm, nk)``.
    Each candidate array and the new article's are sorted, so shared items are found by one merge pass;
    the candidate's items are visited in array order, as the numpy version's ``bincount`` does, so the
    floats are the same.
    """
    one = np.uint64(1)
    n_a, m_a, k_a = len(na), len(names_a), len(ka)
    for i in range(len(starts) - 1):
        s = starts[i]
        h = buf64[s]
        nn = np.int64(h & _M21)
        nm = np.int64((h >> np.uint64(21)) & _M21)
        nk = np.int64(h >> np.uint64(42))
        lens[i, 0] = nn
        lens[i, 1] = nm
        lens[i, 2] = nk
        o = s + 1
        nums = 0.0
        spec_shared = 0.0
        spec_b = 0.0
        p = 0
        for j in range(nn):
            v = buf64[o + j]
            spec = (v & one) == one
            while p < n_a and na[p] < v:
                p += 1
            if spec:
                spec_b += 1.0
            if p < n_a and na[p] == v:
                nums += 1.0 if spec else 0.5
                if spec:
                    spec_shared += 1.0
        o += nn
        wbase = 8 * (o + nm + nk)
        name_w = 0.0
        strong_b = 0.0
        strong_shared = 0.0
        p = 0
        for j in range(nm):
            v = buf64[o + j]
            wb = np.int64(buf8[wbase + j])
            if wb >= strong:
                strong_b += 1.0
            while p < m_a and names_a[p] < v:
                p += 1
            if p < m_a and names_a[p] == v:
                w = np.int64(wa[p])
                name_w += (min(wb, w) / 10) * idf_a[p]
                if wb >= strong and w >= strong:
                    strong_shared += 1.0
        o += nm
        kinter = 0.0
        p = 0
        for j in range(nk):
            v = buf64[o + j]
            while p < k_a and ka[p] < v:
                p += 1
            if p < k_a and ka[p] == v:
                kinter += 1.0
        out[i, 0] = nums
        out[i, 1] = spec_shared
        out[i, 2] = spec_b
        out[i, 3] = name_w
        out[i, 4] = strong_b
        out[i, 5] = strong_shared
        out[i, 6] = kinter


@_njit
def _pair_row(ev, lens, i, n_numbers, n_specific, n_strong, n_keywords, same, dated, x):  # noqa: ANN001, ANN201, PLR0913
    """Row ``i`` of :func:`pair_columns` (``same``: one language; ``dated``: both dated)."""
    nums = ev[i, 0]
    spec_shared = ev[i, 1]
    spec_b = ev[i, 2]
    strong_b = ev[i, 4]
    strong_shared = ev[i, 5]
    kinter = ev[i, 6]
    round_shared = max(0.0, 2.0 * (nums - spec_shared))
    klen = lens[i, 2]
    kunion = (n_keywords + klen) - kinter
    x[i, 0] = min(ev[i, 3], 20.0) / 10
    x[i, 1] = min(strong_shared, 5.0) / 5
    x[i, 2] = min(spec_shared, 4.0) / 4
    x[i, 3] = min(round_shared, 4.0) / 4
    x[i, 4] = kinter / max(kunion, 1.0) if klen > 0 and n_keywords > 0 else 0.0
    x[i, 5] = 1.0 if n_specific > 0 and spec_b > 0 and spec_shared == 0 else 0.0
    x[i, 6] = 1.0 if n_numbers >= 2 and lens[i, 0] >= 2 and nums == 0 else 0.0
    x[i, 17] = 1.0 if dated else 0.0
    x[i, 13] = 1.0 if same else 0.0
    x[i, 14] = 1.0 if n_strong > 0 and strong_b > 0 and strong_shared == 0 else 0.0
    x[i, 15] = strong_shared / max(1.0, min(np.float64(n_strong), strong_b)) if n_strong > 0 and strong_b > 0 \
        else 0.0
    x[i, 16] = 1.0 if same and x[i, 4] == 0 else 0.0


@_njit
def pair_columns(ev, lens, n_numbers, n_specific, n_strong, n_keywords, same, days, x):  # noqa: ANN001, ANN201, PLR0913
    """Columns 0-6 and 13-17 of ``story.pair_features`` (what the pair shares, the figures conflicts, language,
    strong-name coverage, unrelated headlines, both dated) into ``x`` (zeros), row by row from the evidence kernel's
    sums ``ev``/``lens``, ``same`` (same language) and ``days`` (NaN: either undated). Elementwise only, the same
    IEEE operations on the same values as the numpy code (``story._shared_columns``, ``pair_features``,
    ``story._finish``), which stays the reference: one call instead of ~35 numpy calls, whose fixed cost is most of
    a fragment merge's cross test. Columns 7-12 and 18 (kinds, periods, years, codes) are left to the caller."""
    for i in range(ev.shape[0]):
        _pair_row(ev, lens, i, n_numbers, n_specific, n_strong, n_keywords, same[i], not np.isnan(days[i]), x)


@_njit
def _popcount(v):  # noqa: ANN001, ANN202
    one = np.uint64(1)
    c = 0
    while v:
        v &= v - one
        c += 1
    return c


@_njit
def story_rows(ev, lens, nums, flags, coded, pub, unc, lang, lang_a, ta, unc_a, dated_a, km, ym, ymax,  # noqa: ANN001, ANN201, PLR0913
               ka, ya, ymax_a, n_numbers, n_specific, n_strong, n_keywords, x):
    """The evidence matrix ``x`` (zeros) of one article against the candidates ``nums`` (document numbers, rows of
    the column store's arrays ``flags``/``pub``/``unc``/``lang``/``km``/``ym``/``ymax``) from the evidence
    kernel's sums ``ev``/``lens``: :func:`pair_columns` plus what ``core._evidence_rows`` computes around it in
    numpy (the time gaps' both-dated flag, the same-language test against ``lang_a``, -1: none; the kinds and years
    columns 7, 8, 11 and 12 from the masks ``ka``/``ya`` and latest year ``ymax_a``), in one call instead of ~25
    array steps. Columns 9, 10 and 18 (periods, model codes: sets) are left to the caller. False (``x``
    untouched) when a candidate's row carries no such masks (``coded`` not in its ``flags``): the caller then
    takes the path through the extra strings."""
    for i in range(len(nums)):
        if not flags[nums[i]] & coded:
            return False
    zero = np.uint64(0)
    for i in range(len(nums)):
        n = nums[i]
        dated = False
        if dated_a:
            # story.time_gap_days' arithmetic, as core._gaps does it (NaN: the candidate has no date)
            dated = not np.isnan(abs(ta - pub[n]) / 86400.0 - unc_a - unc[n])
        _pair_row(ev, lens, i, n_numbers, n_specific, n_strong, n_keywords, lang_a >= 0 and lang[n] == lang_a,
                  dated, x)
        k = km[n]
        shared_k = _popcount(k & ka)
        x[i, 7] = shared_k / 2
        x[i, 8] = 1.0 if ka != zero and k != zero and shared_k == 0 else 0.0
        if ya != zero:
            y = ym[n]
            x[i, 11] = 1.0 if y != zero and (y & ya) == zero else 0.0
            x[i, 12] = 1.0 if y != zero and ymax[n] != ymax_a else 0.0
    return True


@_njit
def _any_over(x, i, cols):  # noqa: ANN001, ANN202
    """Any of the columns ``cols`` of row ``i`` of ``x`` above 0 (a sign of another event the wording evidence
    heeds)."""
    for c in cols:
        if x[i, c] > 0:
            return True
    return False


@_njit
def link_scores(x, w, bias, left, signs, same_col, lex_veto, emb_veto, p, open_lex, open_emb):  # noqa: ANN001, ANN201, PLR0913
    """``story.link_probability`` of each row of ``x`` into ``p`` (weights ``w``, ``bias``; ``signs``: the columns
    kinds, figures, all figures, periods and codes conflict, strong names, figures), 0 for the rows ``left`` (the
    blocking step's), and the rows each wording evidence may move (``story.open_to_wording``: ``0 < p < 1``, one
    language (``same_col`` > 0) with none of the columns ``lex_veto`` > 0 into ``open_lex``, two languages with none
    of ``emb_veto`` into ``open_emb``); returns how many of each. One call instead of ~30 numpy calls. The logit's
    sum runs in column order, not BLAS's, and ``exp`` is LLVM's: ``p`` may differ from numpy's by an ulp or so
    (the reference path stays numpy; tests hold the two within 1e-9 and to the same decisions)."""
    m, f = x.shape
    for i in range(m):
        z = 0.0
        for j in range(f):
            z += x[i, j] * w[j]
        z += bias
        q = 1.0 / (1.0 + np.exp(-z))
        n_signs = (1 if x[i, signs[0]] > 0 else 0) + (1 if x[i, signs[1]] > 0 or x[i, signs[2]] > 0 else 0) \
            + (1 if x[i, signs[3]] > 0 else 0) + (1 if x[i, signs[4]] > 0 else 0)
        if n_signs >= 2 or (x[i, signs[5]] == 0 and x[i, signs[6]] == 0):
            q = 0.0
        p[i] = q
    for j in range(len(left)):
        p[left[j]] = 0.0
    n_lex = 0
    n_emb = 0
    for i in range(m):
        if not (p[i] > 0.0 and p[i] < 1.0):
            continue
        if x[i, same_col] > 0:
            if not _any_over(x, i, lex_veto):
                open_lex[n_lex] = i
                n_lex += 1
        elif not _any_over(x, i, emb_veto):
            open_emb[n_emb] = i
            n_emb += 1
    return n_lex, n_emb


@_njit
def sig_agreement(mat, docs, sig, out):  # noqa: ANN001, ANN201
    """``out[i]`` = how many of ``sig``'s values row ``docs[i]`` of ``mat`` shares (position by position), or -1
    when the row is missing (past the matrix or all zero: a signature the store does not hold)."""
    n_rows = mat.shape[0]
    width = mat.shape[1]
    for i in range(len(docs)):
        r = docs[i]
        if r >= n_rows:
            out[i] = -1
            continue
        eq = 0
        nz = False
        for j in range(width):
            v = mat[r, j]
            if v != 0:
                nz = True
            if v == sig[j]:
                eq += 1
        out[i] = eq if nz else -1


@_njit
def sorted_hits(arena, starts, lens, mine, out):  # noqa: ANN001, ANN201
    """``out[i]`` = how many of ``arena[starts[i] : starts[i] + lens[i]]`` (sorted, distinct) are in ``mine``
    (sorted, distinct): the shared headline bigrams of each story candidate (``core.Doc.tg``), by one merge
    pass per candidate instead of a search per bigram; counts, so the same as any other way of counting."""
    n_a = len(mine)
    for i in range(len(starts)):
        s = starts[i]
        p = 0
        c = 0
        for j in range(lens[i]):
            v = arena[s + j]
            while p < n_a and mine[p] < v:
                p += 1
            if p < n_a and mine[p] == v:
                c += 1
        out[i] = c
