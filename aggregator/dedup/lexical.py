"""Lexical evidence for the story tier: same-language TF-IDF cosine over each article's top terms.

Two reports of one event in one language share their content words ("Kuga", "recall", "battery
fire", "Valencia") far above chance, and the fact features of :mod:`.story` (names, figures, kinds,
periods) miss part of that: a follow-up report states no figure the first one stated, names are
rewritten, a headline says it differently. Plain TF-IDF cosine keeps that recall.

The maths. Terms are casefolded words (no stop words, no bare numbers: the figures features weigh
those) and Chinese/Japanese character bigrams of the title, lead and first ~1,500 characters of
the body, each hashed to 32 bits. A running document-frequency table counts, per term bucket
``h mod 2**20`` (so it holds at most ~1M entries, whatever the vocabulary), how many articles used
it; with ``N`` articles seen, ``idf(t) = ln((1 + N) / (1 + df(t))) + 1`` (smooth idf). An article
keeps its :data:`TOP_TERMS` terms of largest ``(1 + ln tf) * idf`` at the time it arrives (ties by
hash: deterministic) as one fixed-width ``uint32`` vector in the store. The similarity of two
articles is the cosine of their truncated vectors

    ``cos(a, b) = sum_{t in a & b} wa(t) wb(t) / (|wa| |wb|)``,  ``w(t) = (1 + ln tf(t)) * idf(t)``

with ``idf`` read at query time for both sides (one count lookup over the union of the
candidates' terms), so early articles are not stuck with the idf of a cold table. Per candidate this
is a sparse dot product over at most :data:`TOP_TERMS` entries.

How it enters the decision (:meth:`LexicalIndex.boost`): as one more feature of the story tier's
logistic link model, with one weight ``w`` (``DedupConfig.story_lexical_weight``, fitted on half ``a``
of the development set alone) and only for two articles in the same language (across languages the
cosine is ~0 whatever the event):

    ``p' = 1 / (1 + exp(-(logit(p) + w * cos(a, b))))``

The cosine counts only where the link model sees no sign of another event: another kind of news,
other specific figures, another period, disjoint strong names (two makers), disjoint years. Templated
near misses (the same maker, the same wording, another recall) share most of their words, and one such
sign is what tells them apart. The model's hard rules stand too: a pair it set to 0 (two signs; no
shared strong name nor specific figure) or dated further apart than the story window stays unlinked.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter

import numpy as np
import regex
import xxhash

from . import features as F
from . import story as S
from .text import fold_chinese

#: terms kept per article (the vector is 2 * TOP_TERMS uint32: hashes, then term counts)
TOP_TERMS = 40
#: the document-frequency table's buckets (``hash mod DF_BUCKETS``): bounds its size
DF_BUCKETS = 1 << 20
#: the store's count space of the document frequencies, and its vector space of the term vectors
DF_SPACE, VEC_SPACE = "ldf", "lx"

_WORD_RE = re.compile(r"[^\W\d_][\w\-]*[^\W_]|[^\W\d_]", re.UNICODE)
# the same with `regex`'s Unicode \w, which holds combining marks: `re` cut Devanagari and Thai words at every
# vowel sign ("लिस्टिंग" into single letters, which the length bar then dropped); used where a mark occurs
_WORD_MARKS_RE = regex.compile(r"[^\W\d_][\w\-]*[^\W_]|[^\W\d_]")
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u9fff]+")
_STOP = F._STOP | set("""
electric battery batteries news via read more said says also will one two first new per cent
mit den dass eine einen einem werden zum zur des vom beim über
les est sur une pour dans plus qui avec été sont
""".split())


# _WORD_RE in ASCII text, where [^\W\d_] is [A-Za-z]: a plain class lets the engine skip to the next letter
_WORD_ASCII_RE = re.compile(r"[A-Za-z][\w\-]*[^\W_]|[A-Za-z]")
# term -> its hash: a feed's vocabulary repeats, and a dict probe is ~4x cheaper than encoding and hashing
# (bounded: past the bound new terms are hashed each time)
_HASHES: dict[str, int] = {}
_HASHES_MAX = 1 << 16


def terms(text: str) -> Counter[int]:
    """Term hash -> count of ``text`` (casefolded words without stop words; CJK character bigrams)."""
    h = xxhash.xxh32_intdigest
    bigrams: Counter[str] = Counter()
    if text.isascii():  # (no CJK run to cut out or to read bigrams from)
        words = Counter(_WORD_ASCII_RE.findall(text.lower()))
    else:
        t = fold_chinese(unicodedata.normalize("NFKC", text).casefold())
        word_re = _WORD_MARKS_RE if F.has_marks(t) else _WORD_RE
        words = Counter(word_re.findall(_CJK_RE.sub(" ", t)))  # count first: each distinct term hashed once
        for run in _CJK_RE.findall(t):
            bigrams.update(run[i:i + 2] for i in range(max(1, len(run) - 1)))
    for w in _STOP.intersection(words):
        del words[w]
    known = _HASHES
    if len(known) < _HASHES_MAX:
        for w in (*words, *bigrams):
            if w not in known:
                known[w] = h(w.encode("utf-8"))
    get = known.get
    out: Counter[int] = Counter({get(w) or h(w.encode("utf-8")): n for w, n in words.items() if len(w) > 1})
    for w, n in bigrams.items():
        out[get(w) or h(w.encode("utf-8"))] += n
    out.pop(0, None)  # 0 marks an empty slot of the stored vector
    return out


def _idf(df: np.ndarray, n_docs: int) -> np.ndarray:
    return np.log((1.0 + n_docs) / (1.0 + df)) + 1.0


class LexicalIndex:
    """Per-article top-term vectors and the running document frequencies, both kept in the ``store``."""

    def __init__(self, store, weight: float) -> None:  # noqa: ANN001 (a .store.Store)
        self.store = store
        self.weight = weight

    def _df(self, hashes: np.ndarray) -> np.ndarray:
        keys = (hashes.astype(np.uint64) % DF_BUCKETS).tolist()
        return np.asarray(self.store.count_get(DF_SPACE, keys, approx=True), dtype=np.float64)

    def _n_docs(self) -> int:
        return int(self.store.count_get(DF_SPACE, [DF_BUCKETS], approx=True)[0])

    def df_keys(self, tf: Counter[int]) -> list[int]:
        """The document-frequency counters :meth:`index` reads for terms ``tf`` (a shared store fetches
        them with its other reads, in one round trip); none while off."""
        return [h % DF_BUCKETS for h in tf] + [DF_BUCKETS] if self.weight else []

    def index(self, number: int, text: str, fresh: bool = False, tf: Counter[int] | None = None,
              df_keys: list[int] | None = None) -> None:
        """Keep the top terms of article ``number``; count its terms in the document frequencies the
        first time the number is seen (a re-evaluated article does not count twice). ``fresh``: the
        caller knows the number has no document yet, so no vector either (a shared store skips a read).
        ``tf``: ``terms(text)`` when the caller has it already; ``df_keys``: ``df_keys(tf)``, likewise."""
        if not self.weight:
            return  # off: no cost (articles indexed while off get no boost once it is on)
        if tf is None:
            tf, df_keys = terms(text), None
        if df_keys is None:
            df_keys = self.df_keys(tf)
        if fresh:
            stored = np.zeros(2 * TOP_TERMS, dtype=np.uint32)
        else:
            stored = self.store.vec_get(VEC_SPACE, np.array([number]), 2 * TOP_TERMS)[0]
        first = not stored[0]
        if not first and all(tf.get(int(h)) == int(c) for h, c in zip(stored[:TOP_TERMS], stored[TOP_TERMS:],
                                                                       strict=True) if h):
            return  # the same text again: keep the vector it got the first time (a rerun decides alike)
        if first:
            self.store.count_add(DF_SPACE, df_keys)
        vec = np.zeros(2 * TOP_TERMS, dtype=np.uint32)
        if tf:
            h = np.fromiter(tf.keys(), dtype=np.uint32, count=len(tf))
            c = np.fromiter(tf.values(), dtype=np.float64, count=len(tf))
            # (the terms' df buckets and the document count: df_keys, read in one step)
            counts = self.store.count_get(DF_SPACE, df_keys, approx=True)
            w = (1.0 + np.log(c)) * _idf(np.asarray(counts[:-1], dtype=np.float64), int(counts[-1]))
            top = np.lexsort((h, -w))[:TOP_TERMS]
            vec[:len(top)], vec[TOP_TERMS:TOP_TERMS + len(top)] = h[top], c[top].astype(np.uint32)
        if first or vec[0]:
            self.store.vec_put(VEC_SPACE, number, vec)

    def forget(self, number: int) -> None:
        self.store.vec_delete(VEC_SPACE, number)

    def cosine(self, number: int, others: list[int]) -> np.ndarray:
        """TF-IDF cosine of article ``number``'s top terms with each of ``others``' (0 where none kept)."""
        m = len(others)
        if not m:
            return np.empty(0)
        rows = self.store.vec_get(VEC_SPACE, np.array([number, *others]), 2 * TOP_TERMS)
        h, tf = rows[:, :TOP_TERMS], rows[:, TOP_TERMS:].astype(np.float64)
        uniq, inv = np.unique(h, return_inverse=True)
        idf = _idf(self._df(uniq), self._n_docs())[inv.reshape(h.shape)]
        w = np.where(h > 0, (1.0 + np.log(np.maximum(tf, 1.0))) * idf, 0.0)
        norm = np.sqrt((w * w).sum(axis=1))
        a_h, a_w = h[0], w[0]
        order = np.argsort(a_h)
        a_h, a_w = a_h[order], a_w[order]
        pos = np.minimum(np.searchsorted(a_h, h[1:]), TOP_TERMS - 1)
        hit = (a_h[pos] == h[1:]) & (h[1:] > 0)
        dot = (np.where(hit, a_w[pos], 0.0) * w[1:]).sum(axis=1)
        den = norm[0] * norm[1:]
        return np.where(den > 0, dot / np.where(den > 0, den, 1.0), 0.0)

    def boost(self, p: np.ndarray, x: np.ndarray, number: int, others: list[int],
              idx: np.ndarray | None = None) -> np.ndarray:
        """``p`` with the cosine added to the logit of each same-language pair the model did not rule out
        (``0 < p < 1``) and that shows no sign of another event (``x``: :func:`.story.pair_features`):
        ``p' = sigmoid(logit(p) + weight * cos)`` (module docstring). ``idx``: those pairs, if the caller has them
        (``core.Deduplicator._link_scores``)."""
        if not self.weight or not len(p):
            return p
        if idx is None:
            idx = S.open_to_wording(p, x, same_language=True)
        if not len(idx):
            return p
        return S.shift_logit(p, idx, self.weight * self.cosine(number, [others[i] for i in idx]))


def lead_text(title: str, lead: str, head: list[str]) -> str:
    """The text the terms are read from: title, lead and the body's first ~1,500 characters."""
    return "\n".join((title, lead, *head))


__all__ = ["DF_BUCKETS", "TOP_TERMS", "LexicalIndex", "lead_text", "terms"]
