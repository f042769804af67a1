"""Text normalisation, tokenisation and shingle hashing, vectorised with numpy.

Why numpy and not a regex + ``xxhash`` per shingle: at 600 words an article has ~600
shingles, and one Python-level call per shingle (build the string, hash it) already costs
more than the whole signing budget (10,000 docs/s). Instead the text is decoded once to a
UTF-32 code-point array and everything after that is array arithmetic:

1. *Normalise* with Unicode NFKC + ``casefold`` (full-width digits, ligatures, ``ß``,
   accented capitals all collapse to one form).
2. *Classify* every code point with a 64 Ki lookup table: separator (punctuation, space,
   symbols), word character (letters, digits, marks), or *ideograph* (CJK / kana /
   hangul). Ideographs are one token each, because Chinese and Japanese do not put
   spaces between words; a k-shingle of ideographs is then a character k-gram, the
   usual choice for those scripts.
3. *Hash tokens* with a polynomial hash ``h(t) = sum_i cp_i * B**i  (mod 2**64)``
   computed for all tokens at once from one prefix sum: with
   ``P[j] = sum_{i<j} cp_i * B**i`` the token ``[s, e)`` hashes to
   ``(P[e] - P[s]) * B**-s``; ``B`` is odd so ``B**-1`` exists modulo ``2**64``. numpy
   integer arithmetic wraps, which *is* the modulo. A MurmurHash3 finaliser (``fmix64``)
   then spreads the bits.
4. *Hash shingles* of ``k`` consecutive tokens as ``fmix64(sum_j t[i+j] * C_j)`` and keep
   the high 32 bits: the 32-bit set that verification compares and MinHash signs (it is also
   the input ``datasketch``'s default ``affine32`` MinHash scheme expects).

These hashes are persisted (shingle sets, boilerplate unit keys): they must not change.
:func:`shingle_hash32` is the same function written per shingle in plain Python; it is the
``hashfunc`` to give ``datasketch.MinHash`` to reproduce the ``kperm-affine32`` signatures bit
for bit, and the reference the vectorised path is tested against.
"""

from __future__ import annotations

import logging
import re
import sys
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from . import _jit

logger = logging.getLogger(__name__)

MASK64 = (1 << 64) - 1
_B = 0x9E3779B97F4A7C15 | 1  # odd: invertible modulo 2**64
_B_INV = pow(_B, -1, 1 << 64)
_SEED = 0x2545F4914F6CDD1D
# Per-position multipliers for combining token hashes into a shingle hash (odd constants).
_C = (0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5, 0x85EBCA77C2B2AE63,
      0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x9FB21C651E98DF25, 0xD6E8FEB86659FD93)
MAX_SHINGLE = len(_C)

SEP, WORD, IDEO = 0, 1, 2


def _build_classes() -> np.ndarray:
    """Code point (BMP) -> SEP / WORD / IDEO. Built once at import, ~20 ms."""
    table = np.zeros(0x10000, dtype=np.uint8)
    for cp in range(0x10000):
        ch = chr(cp)
        if 0x3040 <= cp <= 0x30FF or 0x3400 <= cp <= 0x4DBF or 0x4E00 <= cp <= 0x9FFF or 0xF900 <= cp <= 0xFAFF:
            table[cp] = IDEO
        elif ch.isalnum() or unicodedata.category(ch).startswith("M"):
            table[cp] = WORD
    return table


# Hangul syllables are word characters: Korean puts spaces between words, so a token is a word (with its
# particle) as in Latin scripts. Read one syllable at a time (the table states built before
# DedupConfig.dup_hangul_words keep, :data:`_CLASSES_HANGUL_SYLLABLES`), a 3-shingle is a syllable trigram,
# about one word: two Korean reports of one press release then share half their shingles or more (clusterset3:
# 617 Korean page pairs shared 8+ shingles, as words 36; the closest not-a-copy pair held 0.71 of the smaller
# text, as words 0.39, while the copies keep 0.83-0.89)
_HANGUL = slice(0xAC00, 0xD7B0)
_CLASSES = _build_classes()
_CLASSES_HANGUL_SYLLABLES = _CLASSES.copy()
_CLASSES_HANGUL_SYLLABLES[_HANGUL] = IDEO


def token_classes(hangul_words: bool = True) -> np.ndarray:
    """The code point class table: Hangul syllables as word characters (``hangul_words``, the default) or
    each one a token of its own, as ideographs (how states built before words were read)."""
    return _CLASSES if hangul_words else _CLASSES_HANGUL_SYLLABLES


def _u64(x: int) -> np.ndarray:
    """A 0-d uint64 array: as a ufunc operand it skips numpy's scalar conversion, ~0.3 µs of the
    ~0.9 µs an operation on ~600 elements costs (``np.uint64`` scalars pay it on every call)."""
    return np.array(x, dtype=np.uint64)


_S33, _S32, _S1 = _u64(33), _u64(32), _u64(1)
_FM1, _FM2 = _u64(0xFF51AFD7ED558CCD), _u64(0xC4CEB9FE1A85EC53)
_SEED64 = _u64(_SEED)
_C64 = tuple(_u64(c) for c in _C)
# the same constants for the compiled kernels (numba wants scalars / 1-d arrays, not 0-d arrays)
_C_U64 = np.array(_C, dtype=np.uint64)
_B_U64, _SEED_U64 = np.uint64(_B), np.uint64(_SEED)
# index of the high 32-bit half of a uint64 in its uint32 view
_HI32 = 1 if sys.byteorder == "little" else 0


def _fmix64(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 64-bit finaliser, element-wise (wrapping uint64 arithmetic; ``h`` is not modified)."""
    return _fmix64_(np.array(h, dtype=np.uint64))


def _fmix64_mul2(h: np.ndarray) -> np.ndarray:
    """fmix64 up to its second multiply, in place (what :func:`_fmix64_` and :func:`_fmix64_hi32` share)."""
    t = np.right_shift(h, _S33)
    np.bitwise_xor(h, t, out=h)
    np.multiply(h, _FM1, out=h)
    np.right_shift(h, _S33, out=t)
    np.bitwise_xor(h, t, out=h)
    np.multiply(h, _FM2, out=h)
    return h


def _fmix64_(h: np.ndarray) -> np.ndarray:
    """:func:`_fmix64` in place on a uint64 array the caller owns.

    Integer *array* arithmetic in numpy wraps silently (only scalar arithmetic warns), so no
    ``errstate`` is needed here; at ~600 elements the per-call overhead is the cost, not the maths.
    """
    _fmix64_mul2(h)
    h ^= np.right_shift(h, _S33)
    return h


def _hi(w: np.ndarray) -> np.ndarray:
    """The high 32-bit halves of a uint64 array (a strided view, along the last axis)."""
    return w.view(np.uint32)[..., _HI32::2]


def _fmix64_hi32(h: np.ndarray) -> np.ndarray:
    """``fmix64(h) >> 32`` as a uint32 array; ``h`` (uint64, owned by the caller) is overwritten.

    fmix64's last step ``h ^= h >> 33`` cannot change bits 32..63 (``h >> 33`` is below ``2**31``),
    so the high half is read off right after the second multiply: two operations fewer.
    """
    return _hi(_fmix64_mul2(h))


def _fmix64_int(h: int) -> int:
    h ^= h >> 33
    h = (h * 0xFF51AFD7ED558CCD) & MASK64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & MASK64
    return h ^ (h >> 33)


class _Powers:
    """Lazily grown tables of ``B**i`` and ``B**-i`` modulo 2**64."""

    def __init__(self) -> None:
        self.pow = np.ones(1, dtype=np.uint64)
        self.inv = np.ones(1, dtype=np.uint64)

    def ensure(self, n: int) -> None:
        if len(self.pow) > n:
            return
        size = max(n + 1, 2 * len(self.pow), 8192)
        with np.errstate(over="ignore"):
            p = np.full(size, _B, dtype=np.uint64)
            p[0] = 1
            self.pow = np.cumprod(p, dtype=np.uint64)
            q = np.full(size, _B_INV, dtype=np.uint64)
            q[0] = 1
            self.inv = np.cumprod(q, dtype=np.uint64)


_POW = _Powers()


def _t2s_table() -> dict[int, int]:
    """Traditional -> simplified Chinese, character by character, from OpenCC's table
    (``TSCharacters.txt``, shipped in the ``opencc-python-reimplemented`` package; first choice when a
    character has several). A Hong Kong or Taiwan edition of a mainland report is the same text."""
    try:
        from importlib.resources import files

        data = (files("opencc") / "dictionary" / "TSCharacters.txt").read_text(encoding="utf-8")
    except (ImportError, FileNotFoundError, OSError) as exc:  # a dependency; stay usable without it, but say so
        # (without the table a Taiwan or Hong Kong edition of a mainland report is no copy of it)
        logger.warning("traditional Chinese is not folded to simplified: OpenCC's TSCharacters.txt could not be "
                       "read (%s); install opencc-python-reimplemented", exc)
        return {}
    table: dict[int, int] = {}
    for line in data.splitlines():
        trad, _, simp = line.partition("\t")
        simp = simp.split(" ")[0] if simp else ""
        if len(trad) == 1 and len(simp) == 1 and trad != simp:
            table[ord(trad)] = ord(simp)
    return table


T2S = _t2s_table()


# A pinyin gloss in brackets right after an ideograph, as some mirror sites insert after every character
# they convert ("發(fā)布"): lower-case letters with at least one tone mark (so a ticker "(tsla)" stays)
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜ"
_PINYIN_GLOSS = re.compile(f"(?<=[\u3400-\u4dbf\u4e00-\u9fff])[(（](?=[a-zü]*[{_TONED}])[a-zü{_TONED}]{{1,6}}[)）]")


def fold_chinese(text: str) -> str:
    """``text`` with traditional Chinese characters replaced by their simplified forms, and pinyin glosses
    inserted after characters (``發(fā)``) dropped: a copy that gained them is still the same text."""
    if text.isascii():
        return text
    text = text.translate(T2S)
    return _PINYIN_GLOSS.sub("", text) if "(" in text or "（" in text else text


def normalize(text: str) -> str:
    """NFKC + casefold + simplified Chinese: the canonical form every later step sees (ASCII: ``lower()``)."""
    if text.isascii():
        return text.lower()
    return fold_chinese(unicodedata.normalize("NFKC", text).casefold())


def tokenize(text: str, classes: np.ndarray | None = None) -> list[str]:
    """Reference tokeniser (plain Python): word runs, and one token per ideograph (``classes``:
    :func:`token_classes`, Hangul as words by default)."""
    table = _CLASSES if classes is None else classes
    out: list[str] = []
    cur: list[str] = []
    for ch in normalize(text):
        cp = ord(ch)
        cls = table[cp] if cp < 0x10000 else (IDEO if 0x20000 <= cp < 0x32000 else SEP)
        if cls == WORD:
            cur.append(ch)
            continue
        if cur:
            out.append("".join(cur))
            cur = []
        if cls == IDEO:
            out.append(ch)
    if cur:
        out.append("".join(cur))
    return out


def normalized_words(text: str) -> str:
    """Tokens joined by single spaces: the human-readable normalised text."""
    return " ".join(tokenize(text))


def token_hash64(token: str) -> int:
    """Scalar reference of the vectorised token hash (see module docstring)."""
    h = 0
    p = 1
    for ch in token:
        h = (h + ord(ch) * p) & MASK64
        p = (p * _B) & MASK64
    return _fmix64_int((h + _SEED) & MASK64)


def shingle_hash32(tokens: Sequence[str]) -> int:
    """32-bit hash of one shingle (a sequence of ``<= 8`` tokens).

    Pass this as ``hashfunc`` to ``datasketch.MinHash`` (updating with token tuples) to get
    exactly the signature :func:`aggregator.dedup.minhash.Signer.sign` computes with
    ``scheme="kperm-affine32"``.
    """
    s = 0
    for j, tok in enumerate(tokens):
        s = (s + token_hash64(tok) * _C[j]) & MASK64
    return _fmix64_int(s) >> 32


_ASCII_CLASSES = _CLASSES[:128].copy()
assert _ASCII_CLASSES.max() < IDEO  # ASCII has no ideographs: tokens are word runs
_ASCII_TRANSLATE = bytes(_ASCII_CLASSES.tolist()) + bytes(128)


def _token_edges(norm: str, classes: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(code points, edges)`` of already-normalised text: ``edges`` interleaves the token starts
    and ends (char offsets ``s0, e0, s1, e1, ...``), so one gather reads both ends of every token."""
    if norm.isascii():  # the common case: 1 byte per code point, classes by bytes.translate (C speed)
        raw = norm.encode("ascii")
        # padded with a separator on both sides: a class change marks a token start, the next one its end
        pad = np.frombuffer(b"\0" + raw.translate(_ASCII_TRANSLATE) + b"\0", dtype=np.int8)
        return np.frombuffer(raw, dtype=np.uint8), np.not_equal(pad[1:], pad[:-1]).nonzero()[0]
    cp = np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32)
    cls = (_CLASSES if classes is None else classes)[np.minimum(cp, 0xFFFF)]
    if cp.max() > 0xFFFF:  # astral planes: CJK extension B+ are ideographs, the rest separators
        astral = cp > 0xFFFF
        cls = np.where(astral, np.where((cp >= 0x20000) & (cp < 0x32000), IDEO, SEP), cls).astype(np.uint8)
    if cls.max(initial=0) < IDEO:  # no ideographs: tokens are word runs, edges are class changes
        pad = np.zeros(len(cls) + 2, dtype=np.uint8)
        pad[1:-1] = cls
        return cp, np.not_equal(pad[1:], pad[:-1]).nonzero()[0]
    word = cls == WORD
    ideo = cls == IDEO
    # A word run starts where the previous character is not a word character.
    prev_word = np.empty_like(word)
    prev_word[0] = False
    prev_word[1:] = word[:-1]
    next_word = np.empty_like(word)
    next_word[-1] = False
    next_word[:-1] = word[1:]
    starts = np.flatnonzero(ideo | (word & ~prev_word))
    edges = np.empty(2 * len(starts), dtype=starts.dtype)
    edges[0::2] = starts
    edges[1::2] = np.flatnonzero(ideo | (word & ~next_word)) + 1
    return cp, edges


def _token_bounds(norm: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(code points, token starts, token ends)`` of already-normalised text (char offsets)."""
    cp, edges = _token_edges(norm)
    return cp, edges[0::2], edges[1::2]


def token_hashes_normalized(norm: str, classes: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(uint64 token hashes, token start offsets)`` of text already passed through :func:`normalize`
    (``classes``: :func:`token_classes`, Hangul as words by default).

    One compiled pass over the code points when the kernels are available (:mod:`._jit`), else
    :func:`_token_hashes_numpy`; the two agree bit for bit (the hashes are persisted).
    """
    if not _jit.ENABLED:
        return _token_hashes_numpy(norm, classes)
    cp = (np.frombuffer(norm.encode("ascii"), dtype=np.uint8) if norm.isascii()
          else np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32))
    out_h = np.empty(len(cp), dtype=np.uint64)
    out_s = np.empty(len(cp), dtype=np.int64)
    n = _jit.token_hashes(cp, _CLASSES if classes is None else classes, _B_U64, _SEED_U64, out_h, out_s)
    return out_h[:n], out_s[:n]


def _token_hashes_numpy(norm: str, classes: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """:func:`token_hashes_normalized` in numpy: ~15 operations per text whatever its length (at 600
    words each costs ~1 µs, mostly call overhead): one prefix sum of ``cp_i * B**i``, one gather of it
    at all token edges, and fmix64."""
    if not norm:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    cp, edges = _token_edges(norm, classes)
    if len(edges) == 0:
        return np.empty(0, dtype=np.uint64), edges
    n = len(cp)
    _POW.ensure(n)
    prefix = np.empty(n + 1, dtype=np.uint64)
    prefix[0] = 0
    body = prefix[1:]
    np.multiply(cp, _POW.pow[:n], out=body)
    np.add.accumulate(body, out=body)  # (np.cumsum: the same plus ~2 µs of Python wrapper)
    at = prefix.take(edges)  # P[s0], P[e0], P[s1], P[e1], ...
    starts = edges[0::2]
    h = np.subtract(at[1::2], at[0::2])
    np.multiply(h, _POW.inv[starts], out=h)
    np.add(h, _SEED64, out=h)
    return _fmix64_(h), starts


def token_hashes(text: str) -> np.ndarray:
    """uint64 hash of every token of ``text``, in order, without a per-token Python loop."""
    return token_hashes_normalized(normalize(text))[0]


def unit_keys_from_tokens(tok: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """:func:`unit_key` of every unit at once: unit ``i`` is tokens ``bounds[i]:bounds[i+1]``."""
    n = len(tok)
    _POW.ensure(n + 1)
    prefix = np.zeros(n + 1, dtype=np.uint64)
    np.cumsum(tok * _POW.pow[:n], out=prefix[1:])
    lo, hi = bounds[:-1], bounds[1:]
    h = prefix[hi]
    h -= prefix[lo]
    h *= _POW.inv[lo]
    return (_fmix64_(h) >> _S1).astype(np.int64)


def _shingle_hi32(tok: np.ndarray, k: int) -> np.ndarray:
    """:func:`shingle_hashes` as a strided uint32 view (no final copy: a sort copies it anyway)."""
    if not 1 <= k <= MAX_SHINGLE:
        raise ValueError(f"shingle size must be 1..{MAX_SHINGLE}")
    n = len(tok)
    if n == 0:
        return np.empty(0, dtype=np.uint32)
    if n < k:
        sh = np.zeros(1, dtype=np.uint64)
        for j in range(n):
            sh += tok[j : j + 1] * _C64[j]
    else:
        m = n - k + 1
        sh = np.multiply(tok[:m], _C64[0])
        if k > 1:
            t = np.empty(m, dtype=np.uint64)
            for j in range(1, k):
                np.multiply(tok[j : j + m], _C64[j], out=t)
                np.add(sh, t, out=sh)
    return _fmix64_hi32(sh)


def shingle_hashes(tok: np.ndarray, k: int) -> np.ndarray:
    """uint32 hashes of the k-token shingles of a token-hash array (``< k`` tokens: one shingle)."""
    return _shingle_hi32(tok, k).copy()


def shingle_set(tok: np.ndarray, k: int) -> np.ndarray:
    """Sorted unique uint32 hashes of the k-token shingles: ``sorted_unique(shingle_hashes(tok, k))``
    (the hashes in one compiled call when the kernels are available)."""
    if not _jit.ENABLED:
        return sorted_unique(_shingle_hi32(tok, k))
    if not 1 <= k <= MAX_SHINGLE:
        raise ValueError(f"shingle size must be 1..{MAX_SHINGLE}")
    if len(tok) == 0:
        return np.empty(0, dtype=np.uint32)
    out = np.empty(max(len(tok) - k + 1, 1), dtype=np.uint32)
    _jit.shingle_hi32(np.ascontiguousarray(tok, dtype=np.uint64), k, _C_U64, out)
    return _sort_unique_owned(out)


def sorted_unique(x: np.ndarray) -> np.ndarray:
    """``np.unique`` without its per-call overhead (which dominates at ~600 elements); always a new array."""
    return _sort_unique_owned(x.copy())


def _sort_unique_owned(x: np.ndarray) -> np.ndarray:
    """:func:`sorted_unique` of an array the caller owns (sorted in place)."""
    if len(x) < 2:
        return x
    x.sort()  # (np.sort: the same plus a Python wrapper)
    keep = np.empty(len(x), dtype=bool)
    keep[0] = True
    np.not_equal(x[1:], x[:-1], out=keep[1:])
    return x[keep]


def shingles(text: str, k: int) -> list[tuple[str, ...]]:
    """Reference: the k-token shingles as tuples (tests and datasketch compatibility)."""
    toks = tokenize(text)
    if not toks:
        return []
    if len(toks) < k:
        return [tuple(toks)]
    return [tuple(toks[i : i + k]) for i in range(len(toks) - k + 1)]


# --- boilerplate -------------------------------------------------------------------------

# Lines that are boilerplate on any site, in the four languages we crawl. Matching is on the
# normalised (casefolded) line; a line is dropped only if it is short (see strip_boilerplate),
# so a real paragraph that happens to mention a newsletter survives.
_GENERIC_BOILERPLATE = re.compile(
    r"subscribe|newsletter|sign up|follow us|all rights reserved|copyright|©|affiliate|"
    r"read more:|related:|click here|share this|advertisement|sponsored|cookie|"
    r"follow .{0,40}\b(?:on|auf|sur) (?:x|twitter|linkedin|facebook|youtube|instagram)|linkedin|youtube|"
    r"abonnieren|anmelden|folgen sie|alle rechte|werbung|weiterlesen|"
    r"abonnez|inscrivez|tous droits|publicité|lire aussi|à lire|"
    r"版权|转载|关注我们|订阅|免责声明|责任编辑|广告|原标题|来源[:：]"
)
_SENT_SPLIT = re.compile(r"(?<=[.!?。！？])\s+|(?<=[。！？])")
# the same split for a line without Chinese full stops (the second alternative cannot match there),
# written to start with the whitespace it consumes, so the engine skips to the next space
_SENT_SPLIT_LATIN = re.compile(r"\s(?<=[.!?]\s)\s*")


def units(body: str) -> list[str]:
    """Split a body into lines, and long lines into sentences: the boilerplate unit."""
    out: list[str] = []
    for line in body.splitlines():
        line = line.strip()
        if not line:
            continue
        if len(line) > 200:
            split = _SENT_SPLIT.split if "。" in line or "！" in line or "？" in line else _SENT_SPLIT_LATIN.split
            out.extend(s.strip() for s in split(line) if s.strip())
        else:
            out.append(line)
    return out


def unit_key(unit: str) -> int:
    """A stable 63-bit key of a line/sentence after normalisation (per-source frequency counts).

    A polynomial over the unit's token hashes (so punctuation and case do not matter), the scalar
    form of :func:`unit_keys_from_tokens`; unlike ``hash()`` it is the same in every process, and
    these keys are persisted and shared between crawler processes.
    """
    h = 0
    p = 1
    for t in tokenize(unit):
        h = (h + token_hash64(t) * p) & MASK64
        p = (p * _B) & MASK64
    return _fmix64_int(h) >> 1


def is_generic_boilerplate(unit: str) -> bool:
    """Short line that matches a site-independent boilerplate phrase."""
    return len(unit) < 240 and bool(_GENERIC_BOILERPLATE.search(normalize(unit)))


def _split_alternatives(pattern: str) -> tuple[tuple[str, ...], re.Pattern[str] | None]:
    """The top-level alternatives of ``pattern``: ``(plain literals, a regex of the others)``."""
    alts, depth, cur, esc = [], 0, "", False
    for ch in pattern:
        if esc:
            cur, esc = cur + ch, False
            continue
        if ch == "\\":
            esc = True
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "|" and depth == 0:
            alts.append(cur)
            cur = ""
            continue
        cur += ch
    alts.append(cur)
    plain = tuple(a for a in alts if not any(c in a for c in ".^$*+?{}[]\\()|"))
    rest = [a for a in alts if a not in plain]
    return plain, (re.compile("|".join(rest)) if rest else None)


# _GENERIC_BOILERPLATE as substring tests for its plain phrases plus one regex for the rest: the units it
# flags are the same (no phrase spans a line break; tested), at a fraction of a regex pass that tries
# every alternative at every position of the body
_BP_PLAIN, _BP_REST = _split_alternatives(_GENERIC_BOILERPLATE.pattern)
# the phrases an ASCII text can hold (the others have a character outside ASCII)
_BP_PLAIN_ASCII = tuple(p for p in _BP_PLAIN if p.isascii())


def generic_boilerplate_units(norm_units: Sequence[str]) -> set[int]:
    """Indices of the (already normalised) units :func:`is_generic_boilerplate` flags, in one pass."""
    joined = "\n".join(norm_units)
    hits = [m.start() for m in _BP_REST.finditer(joined)] if _BP_REST is not None else []
    for phrase in _BP_PLAIN_ASCII if joined.isascii() else _BP_PLAIN:
        i = joined.find(phrase)
        while i >= 0:
            hits.append(i)
            i = joined.find(phrase, i + 1)
    if not hits:
        return set()
    starts = np.cumsum([0] + [len(u) + 1 for u in norm_units[:-1]])
    idx = np.searchsorted(starts, hits, side="right") - 1
    return {i for i in set(idx.tolist()) if len(norm_units[i]) < 240}


# --- copy evidence beyond set overlap ---------------------------------------------------------


def _unit_norm(unit: str) -> str:
    """The normalised form of one body unit, exactly as the dedup step tokenises it."""
    return unit if unit.isascii() and unit.islower() else fold_chinese(unit.casefold())


def ordered_shingles(kept_units: Sequence[str], k: int, classes: np.ndarray | None = None,
                     ) -> tuple[np.ndarray, np.ndarray]:
    """``(shingle hashes in text order, token start offsets)`` of the kept body units: repeats kept;
    offsets in characters of the normalised text, one per token plus the text's length at the end.

    The same hashes as the sorted set the dedup step stores (units are tokenised one after the
    other and no token crosses a line), so ``sorted_unique(ordered_shingles(...)[0])`` is that set;
    the order is what tells a verbatim passage (a run of consecutive shared shingles) from words
    two texts share scattered about.
    """
    if not kept_units:
        return np.empty(0, dtype=np.uint32), np.zeros(1, dtype=np.int64)
    norm = "\n".join(_unit_norm(u) for u in kept_units)
    tok, starts = token_hashes_normalized(norm, classes)
    return shingle_hashes(tok, k), np.append(starts, len(norm)).astype(np.int64)


def _shared(seq: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Which of ``seq`` lie in ``members`` (sorted, unique, not empty)."""
    pos = np.searchsorted(members, seq)
    pos[pos == len(members)] = 0
    return members[pos] == seq


def _runs(hit: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(lo, hi)``: the maximal runs of ``True`` in ``hit`` as half-open bounds ``[lo, hi)``, one per gap
    between consecutive misses (so some are empty)."""
    miss = np.flatnonzero(~hit)
    return np.concatenate(([0], miss + 1)), np.concatenate((miss, [len(hit)]))


def longest_passage(seq: np.ndarray, offsets: np.ndarray, members: np.ndarray, k: int) -> int:
    """Length in characters of the longest stretch of consecutive ``seq`` shingles (``k`` tokens
    each) that all lie in ``members`` (sorted, unique): with ``seq``/``offsets`` from
    :func:`ordered_shingles` and ``members`` the shingles shared with another text, the longest
    passage the two have in common, from its first token to the start of the token after it.
    Characters rather than shingles, so one bar fits word scripts and ideographs alike (20 word
    shingles span ~130 characters, 20 ideograph shingles ~20)."""
    if not len(seq) or not len(members):
        return 0
    hit = _shared(seq, members)
    if not hit.any():
        return 0
    # shingles [s, e) cover tokens s .. e - 2 + k
    lo, hi = _runs(hit)
    keep = hi > lo
    n_tok = len(offsets) - 1
    end = np.minimum(hi[keep] - 1 + k, n_tok)
    return int((offsets[end] - offsets[lo[keep]]).max())


def leading_passage(seq: np.ndarray, offsets: np.ndarray, members: np.ndarray, k: int) -> int:
    """Length in characters of the run of ``seq`` shingles lying in ``members`` from the text's very
    start (the arguments of :func:`longest_passage`): the lead sentence two texts share, 0 if the first
    shingle is not shared."""
    if not len(seq) or not len(members):
        return 0
    miss = np.flatnonzero(~_shared(seq, members))
    run = int(miss[0]) if len(miss) else len(seq)
    if not run:
        return 0
    return int(offsets[min(run - 1 + k, len(offsets) - 1)] - offsets[0])


def in_runs(seq: np.ndarray, members: np.ndarray, min_run: int) -> int:
    """How many distinct shingles of ``members`` (sorted, unique) occur in ``seq`` (text order, as
    :func:`ordered_shingles`) inside a run of at least ``min_run`` consecutive shingles that all lie in
    ``members``: the shared text that two texts hold as whole verbatim passages, not as words and
    phrases scattered about (an edited rewrite keeps phrases, a copy keeps sentences)."""
    if not len(seq) or not len(members) or min_run < 1:
        return 0
    lo, hi = _runs(_shared(seq, members))
    long = (hi - lo) >= min_run
    if not long.any():
        return 0
    # mark the long runs with a +1/-1 difference array and keep the positions its running sum covers
    mark = np.zeros(len(seq) + 1, dtype=np.int64)
    np.add.at(mark, lo[long], 1)
    np.add.at(mark, hi[long], -1)
    return len(np.unique(seq[np.cumsum(mark[:-1]) > 0]))


def count_runs(seq: np.ndarray, members: np.ndarray, min_run: int) -> int:
    """How many maximal runs of at least ``min_run`` consecutive ``seq`` shingles (text order, as
    :func:`ordered_shingles`) lie wholly in ``members`` (sorted, unique): the verbatim passages two texts
    share, counted apart (a reprint keeps several paragraphs of its original, a photo caption is one)."""
    if not len(seq) or not len(members) or min_run < 1:
        return 0
    lo, hi = _runs(_shared(seq, members))
    return int(((hi - lo) >= min_run).sum())

# Version marks of one wire story, not its content: ``UPDATE 1-``, ``ROUNDUP:``, ``REFILE-``, a column
# label in lenticular brackets; ``(aktualisiert)``, ``, updated`` at the end (matched on casefolded text)
_TITLE_SLUG_HEAD = re.compile(
    r"^\s*(?:(?:update|roundup|wrapup|refile|corrected|correction|exclusive|breaking|eilmeldung|aktualisiert|"
    r"korrektur)(?:\s*\d+)?\s*[-:–—/]\s*|【[^】]*】\s*)+")
_TITLE_SLUG_TAIL = re.compile(
    r"\s*(?:,|\(|\[|\s[-–—])\s*(?:aktualisiert|korrigiert|update|updated|corrected)\s*[)\]]?\s*$")


_IDEO_CHARS = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TITLE_TOKEN = re.compile(f"[{_IDEO_CHARS}]|[^\\W_{_IDEO_CHARS}]+")


@lru_cache(maxsize=4096)
def title_grams(title: str) -> frozenset[int]:
    """Token bigrams of a headline without its version marks, as ``hash()`` values (compared within
    one process, never stored; cached: one article's headline is compared with every candidate's,
    and the same candidates come back for the next articles)."""
    t = normalize(title)
    t = _TITLE_SLUG_TAIL.sub("", _TITLE_SLUG_HEAD.sub("", t))
    toks = _TITLE_TOKEN.findall(t)  # word runs and single ideographs, as :func:`tokenize` (a regex: faster)
    if len(toks) < 2:
        return frozenset({hash(tuple(toks))} if toks else ())
    return frozenset(hash(g) for g in zip(toks, toks[1:], strict=False))


def title_overlap(a: str, b: str) -> float:
    """Share of the shorter headline's token bigrams found in the other headline (case, width and
    Chinese script folded; an ideograph is a token; wire version marks such as ``UPDATE 1-``,
    ``ROUNDUP:``, ``(aktualisiert)`` left out). A reprint keeps its headline or adds to it; 0.0 when
    either has no words."""
    ga, gb = title_grams(a), title_grams(b)
    if not ga or not gb:
        return 0.0
    return len(ga & gb) / min(len(ga), len(gb))
