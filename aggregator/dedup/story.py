"""The story tier's evidence: is a candidate the same event as the new article?

Two reports of one event share *facts*, not wording: specific figures, names (through the
multilingual table in ``names.json``), the kind of news (recall, sales, results...), the period
reported on (``Q3 2024``, ``2023年11月``) and, when both carry one, a publication time within days.
Near misses -- the same maker, the same kind of news, another event -- share the names and the kind
but not the figures or the period, and are weeks apart when dated.

Per candidate pair the evidence is a small vector (:data:`FEATURES`), and the link probability is a
logistic model over it: ``p = 1 / (1 + exp(-(w . x + b)))``. The weights (:data:`WEIGHTS`) were fitted
on both halves of the real development set plus the synthetic corpus counted twice
(``benchmarks/devsets/fit_story_weights.py --half all --synthetic 2``) and rounded; the honest estimate
is the cross-fit (``--crossfit``: fit on one half, score the other), in ``benchmarks/results.md``. Two
dated articles within the window are far likelier one event than a pair where one has no date
(``both_dated``); within the 3-day window the number of days apart carried no weight in either half's
fit, so there is no decay term. Some rules are
not learned but hard:

* dated articles published more than ``story_window_days`` apart (less the uncertainty of a date
  known only to the month) are never linked by the story tier (p = 0);
* an article without a date links with ``p >= story_link_undated`` (a bar of its own, 0.6 where
  the dated one is 0.65: chosen on the cross-fit), joins at most one story and never merges two: it cannot glue
  unrelated stories together, and still joins its story when the evidence (shared figures, names,
  kind, period) is strong. It joins only a story whose scored members agree with it on average
  (``story_undated_join_mean``) or one of which shares a specific figure with it: an undated saga stage
  or follow-up links to one member of the earlier event, not to the rest.
* a link needs a shared strong name or a shared specific figure, and two independent signs of another
  event (another kind of news, other figures, another period, other model codes) veto it.
* a joiner whose headline names a stage of a saga (:func:`stages`: the talks' end, the apology, the probe,
  the halt, the expansion...) that no headline of a story's members names does not join that story
  (``story_stage_members``, in :meth:`.core.Deduplicator._place`): the stages link as strongly as two
  reports of one event, and the headline is where the stage shows. The stages include the action itself (a
  proposal and the vote on it, a lawsuit and the ruling, pre-orders, a site chosen).
* a joiner whose headline names makers (:func:`headline_objects`, with their owners) none of which the headlines of
  a story's members name does not join that story (``story_object_members``): the same action done by or to
  another maker (the union's deal with Ford against its deal with GM).

The extra features that are not in the packed document (periods, years mentioned, kinds of news,
date precision) travel as one short string per document (:func:`pack_extra`), a few dozen bytes.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

import numpy as np
import regex

from . import features as F

#: the evidence, in the column order of :func:`pair_features`
FEATURES = (
    "names",  # idf-weighted shared names, /10, capped at 2
    "strong_names",  # shared strong names (acronyms, codes, known makers), /5, capped at 1
    "figures",  # shared specific figures (14,881; 41.2万), /4, capped at 1
    "round_figures",  # shared round figures (300,000; 2.3%), /4, capped at 1
    "keywords",  # Jaccard of headline/lead words that are not names (same language mostly)
    "figures_conflict",  # both state specific figures, none shared
    "all_figures_conflict",  # both state 2+ figures, none shared
    "kinds_shared",  # kinds of news in common (recall, sales, ...), /2
    "kinds_conflict",  # both name a kind, none in common
    "periods_conflict",  # both name the month/quarter reported on, none matches
    "periods_shared",  # a period in common
    "years_disjoint",  # both mention years, none in common
    "latest_year_differs",  # the latest year each mentions differs
    "same_language",
    "names_disjoint",  # both name strong names (makers, models, acronyms), none in common
    "names_coverage",  # shared strong names / the fewer strong names of the two
    "headlines_unrelated",  # same language, yet the headlines/leads share no keyword
    "both_dated",  # both carry a publication date (so they lie within the story window of each other)
    "codes_conflict",  # both name model codes (G6, ID.3, SU7) near the top, none in common
)

#: logistic weights over :data:`FEATURES` (fitted on both halves of clusterset, all of clusterset3 and the synthetic
#: corpus twice, rounded; see the module docstring)
WEIGHTS = {
    "names": 3.45, "strong_names": 1.84, "figures": 2.75, "round_figures": 1.95, "keywords": 0.66,
    "figures_conflict": -1.29, "all_figures_conflict": -1.25, "kinds_shared": 1.12, "kinds_conflict": -1.39,
    "periods_conflict": -0.62, "periods_shared": 0.56, "years_disjoint": -0.59, "latest_year_differs": 0.14,
    "same_language": 0.56, "names_disjoint": -2.6, "names_coverage": 1.2, "headlines_unrelated": -1.05,
    "both_dated": 1.86, "codes_conflict": -0.56,
}
BIAS = -3.36


def weight_vector(weights: dict[str, float] | None = None) -> np.ndarray:
    w = weights or WEIGHTS
    return np.array([w.get(k, 0.0) for k in FEATURES])


_YEAR_RE = re.compile(r"((?:19|20)(?<!\d..)\d\d)(?!\d)")  # (?<!\d)(?:19|20)\d\d(?!\d): see features._NUM_RE


def pack_extra(text: str, lang: str, date_uncertainty_days: float = 0.0) -> str:
    """Periods, years, kinds of news and the date's uncertainty of one article, as a short string."""
    items = set(F.periods(text))
    items |= {f"y:{y}" for y in _YEAR_RE.findall(text) if 2000 <= int(y) <= 2040}
    items |= {f"c:{c}" for c in F.concepts(text[:600], lang)}
    # (model codes under their own prefix: periods write a year-less month as "m:11" ("11月"), which parse_extra read
    # as a model code "11", so such a month was no period and conflicted with every page naming a code: y17models)
    items |= {f"md:{c}" for c in model_codes(text[:600])}
    if date_uncertainty_days:
        items.add(f"t:{date_uncertainty_days:g}")
    return " ".join(sorted(items))


# letters of codes that name a period or a filing, not a model (Q3, H1, FY24)
_NOT_MODEL = {"q", "h", "fy", "cy", "covid", "co", "no", "nr", "s", "p"}


def model_codes(text: str) -> set[str]:
    """Model and product codes (``G6``, ``ID.3``, ``SU7``, ``M03``) in ``text``, normalised."""
    out = set()
    for code in F.codes(text):
        code = code.lower().replace("-", "").replace(".", "")
        letters = "".join(c for c in code if c.isalpha())
        if letters not in _NOT_MODEL:
            out.add(code)
    return out


@lru_cache(maxsize=65536)
def parse_extra(extra: str) -> tuple[frozenset[str], frozenset[int], frozenset[str], float, frozenset[str]]:
    """``(periods, years, kinds, date uncertainty in days, model codes)`` of :func:`pack_extra`'s string."""
    periods, years, kinds, codes = set(), set(), set(), set()
    unc = 0.0
    for x in extra.split():
        if x.startswith("md:"):
            codes.add(x[3:])
        elif x.startswith("m:") and not x[2:].isdigit():
            # a code as recipes before 19 wrote it ("m:id4"): a shared store keeps such strings until they expire,
            # and a year-less month is always digits ("m:11")
            codes.add(x[2:])
        elif x.startswith("y:"):
            years.add(int(x[2:]))
        elif x.startswith("c:"):
            kinds.add(x[2:])
        elif x.startswith("t:"):
            unc = float(x[2:])
        elif x.startswith(("e:", "l:")):  # days read from the text (textdates.token): not periods
            continue
        else:
            periods.add(x)
    return frozenset(periods), frozenset(years), frozenset(kinds), unc, frozenset(codes)


def pair_features(ev: np.ndarray, lens: np.ndarray, n_numbers: int, n_specific: int, n_strong: int,
                  n_keywords: int, extra_a: str, extras: list[str], days_apart: np.ndarray,
                  same_language: np.ndarray) -> np.ndarray:
    """The evidence matrix (candidates x :data:`FEATURES`).

    ``ev``/``lens``: the per-candidate sums of :func:`.core._story_evidence` (numbers score, shared
    specific figures, the candidate's specific figures, name weight, its strong names, shared strong
    names, shared keywords; counts of numbers, names, keywords); ``n_*``: the new article's counts.
    """
    m = len(extras)
    x = np.zeros((m, len(FEATURES)))
    if not m:
        return x
    nums, spec_shared, spec_b, _name_w, strong_b, strong_shared, _kinter = ev.T
    _shared_columns(x, ev, lens, n_keywords)
    x[:, 5] = (n_specific > 0) & (spec_b > 0) & (spec_shared == 0)
    x[:, 6] = (n_numbers >= 2) & (lens[:, 0] >= 2) & (nums == 0)
    pa, ya, ka, _, ma = parse_extra(extra_a)
    if not (pa or ya or ka or ma):
        return _finish(x, n_strong, strong_b, strong_shared, same_language, days_apart)
    if not _extra_columns(x, extra_a, extras):
        _extra_features_loop(x, extra_a, extras)
    return _finish(x, n_strong, strong_b, strong_shared, same_language, days_apart)


def _shared_columns(x: np.ndarray, ev: np.ndarray, lens: np.ndarray, n_keywords: int) -> None:
    """Columns 0-4 of :func:`pair_features` (names, strong names, figures, round figures, keywords: what the two
    share) into ``x``, from the evidence kernel's sums alone."""
    nums, spec_shared, name_w, strong_shared, kinter = ev[:, 0], ev[:, 1], ev[:, 3], ev[:, 5], ev[:, 6]
    round_shared = np.maximum(0.0, 2.0 * (nums - spec_shared))
    klen = lens[:, 2]
    kunion = n_keywords + klen - kinter
    x[:, 0] = np.minimum(name_w, 20.0) / 10
    x[:, 1] = np.minimum(strong_shared, 5) / 5
    x[:, 2] = figures_column(spec_shared)
    x[:, 3] = np.minimum(round_shared, 4) / 4
    x[:, 4] = np.where((klen > 0) & (n_keywords > 0), kinter / np.maximum(kunion, 1), 0.0)


def figures_column(spec_shared: np.ndarray) -> np.ndarray:
    """The ``figures`` feature (column 2 of :func:`pair_features`) from the count of shared specific figures."""
    return np.minimum(spec_shared, 4) / 4


def shared_evidence(ev: np.ndarray, lens: np.ndarray, n_keywords: int,
                    weights: dict[str, float] | None = None) -> np.ndarray:
    """Per candidate, the part of the link model's logit that what the pair shares carries (names, strong names,
    specific and round figures, headline keywords: :func:`pair_features`' columns 0-4 times their weights), from
    the evidence kernel's sums alone. The rest of the logit is conflicts (which only lower it) and a few
    pair-level facts (language, dates) shared by most candidates of one window, so this orders the candidates
    about as the model would, at a fraction of its cost: the blocking step of the placement
    (``DedupConfig.story_candidates``)."""
    x = np.zeros((len(ev), 5))
    _shared_columns(x, ev, lens, n_keywords)
    return x @ weight_vector(weights)[:5]


def _extra_features_loop(x: np.ndarray, extra_a: str, extras: list[str]) -> None:
    """Columns 7-12 and 18 (kinds, periods, years, model codes) one candidate at a time: the reference of
    :func:`_extra_columns`."""
    pa, ya, ka, _, ma = parse_extra(extra_a)
    for i, e in enumerate(extras):
        if not e:
            continue
        pb, yb, kb, _, mb = parse_extra(e)
        x[i, 18] = bool(ma) and bool(mb) and not (ma & mb)
        shared_k = len(ka & kb)
        x[i, 7] = shared_k / 2
        x[i, 8] = bool(ka) and bool(kb) and not shared_k
        if pa and pb:
            x[i, 9] = F.periods_conflict_cached(pa, pb)
            x[i, 10] = bool(pa & pb)
        x[i, 11] = bool(ya) and bool(yb) and not (ya & yb)
        x[i, 12] = bool(ya) and bool(yb) and max(ya) != max(yb)


def days_between(ta: float | None, extra_a: str, others: list[tuple[float | None, str]]) -> np.ndarray:
    """Per candidate, the least distance in days between its publication time and ``ta`` (NaN when
    either has no date): the time evidence of :func:`pair_features`."""
    if ta is None:
        return np.full(len(others), np.nan)
    unc_a = parse_extra(extra_a)[3]
    out = [time_gap_days(ta, tb, unc_a, parse_extra(eb)[3]) for tb, eb in others]
    return np.array([np.nan if g is None else g for g in out], dtype=float)


_KIND_BIT: dict[str, int] = {}  # kind of news -> its bit in a kinds mask (assigned as kinds are first seen)


@lru_cache(maxsize=65536)
def _extra_code(extra: str) -> tuple[int, int, int, frozenset[str], frozenset[str]] | None:
    """``(kinds mask, years mask, latest year, periods, model codes)`` of :func:`pack_extra`'s string: sets
    as bit masks (bit ``y - 2000`` for a year), so a candidate's kinds and years compare with one AND; None
    when a kind or year does not fit 64 bits."""
    periods, years, kinds, _, codes = parse_extra(extra)
    km = ym = 0
    for k in kinds:
        b = _KIND_BIT.setdefault(k, len(_KIND_BIT))
        if b >= 64:
            return None
        km |= 1 << b
    for y in years:
        if not 2000 <= y < 2064:
            return None
        ym |= 1 << (y - 2000)
    return km, ym, max(years) if years else 0, periods, codes


def _extra_columns(x: np.ndarray, extra_a: str, extras: list[str]) -> bool:
    """Columns 7-12 and 18 of :func:`pair_features` for all candidates at once (the same values as
    :func:`_extra_features_loop`); False (nothing written) when some set does not fit the masks."""
    code_a = _extra_code(extra_a)
    codes = [_extra_code(e) for e in extras]
    if code_a is None or None in codes:
        return False
    ka, ya, ymax_a, pa, ma = code_a
    kms, yms, ymaxs, pbs, mbs = zip(*codes, strict=True)
    km = np.array(kms, dtype=np.uint64)
    ym = np.array(yms, dtype=np.uint64)
    shared_k = np.bitwise_count(km & np.uint64(ka))
    x[:, 7] = shared_k / 2
    x[:, 8] = (ka != 0) & (km != 0) & (shared_k == 0)
    if ya:
        both = ym != 0
        x[:, 11] = both & ((ym & np.uint64(ya)) == 0)
        x[:, 12] = both & (np.array(ymaxs, dtype=np.int64) != ymax_a)
    if pa:
        seen: dict[frozenset[str], tuple[bool, bool]] = {}
        for i, pb in enumerate(pbs):
            if pb:
                v = seen.get(pb)
                if v is None:
                    v = seen[pb] = (F.periods_conflict_cached(pa, pb), bool(pa & pb))
                x[i, 9], x[i, 10] = v
    if ma:
        for i, mb in enumerate(mbs):
            if mb and not (ma & mb):
                x[i, 18] = 1.0
    return True


def _finish(x: np.ndarray, n_strong: int, strong_b: np.ndarray, strong_shared: np.ndarray,
            same_language: np.ndarray, days: np.ndarray | None = None) -> np.ndarray:
    if days is not None and len(days) == len(x):
        dated = ~np.isnan(days)
        x[:, 17] = dated
    x[:, 13] = same_language
    x[:, 14] = (n_strong > 0) & (strong_b > 0) & (strong_shared == 0)
    x[:, 15] = np.where((n_strong > 0) & (strong_b > 0),
                        strong_shared / np.maximum(1, np.minimum(n_strong, strong_b)), 0.0)
    x[:, 16] = same_language & (x[:, 4] == 0)
    return x


_KC, _FC, _AFC, _PC, _SN, _SF, _CC = (FEATURES.index(k) for k in (
    "kinds_conflict", "figures_conflict", "all_figures_conflict", "periods_conflict", "strong_names", "figures",
    "codes_conflict"))


def link_probability(x: np.ndarray, weights: dict[str, float] | None = None, bias: float | None = None
                     ) -> np.ndarray:
    """``1 / (1 + exp(-(x . w + b)))`` per row, and 0 where two independent signs say the events differ.

    The signs: another kind of news (a recall against a launch), other figures (none shared where both
    state some), another period (Q2 against Q3), other model codes near the top (G6 against M03). Any
    two are a near miss however much else is shared.
    """
    z = x @ weight_vector(weights) + (BIAS if bias is None else bias)
    p = 1.0 / (1.0 + np.exp(-z))
    signs = (x[:, _KC] > 0).astype(int) + ((x[:, _FC] > 0) | (x[:, _AFC] > 0)) + (x[:, _PC] > 0) + (x[:, _CC] > 0)
    p[signs >= 2] = 0.0
    p[(x[:, _SN] == 0) & (x[:, _SF] == 0)] = 0.0  # no shared strong name nor specific figure: no evidence
    return p


#: the signs of another event that no evidence from wording (:mod:`.lexical`, :mod:`.embed`) may override
_OTHER_EVENT = [FEATURES.index(k) for k in ("kinds_conflict", "figures_conflict", "all_figures_conflict",
                                            "periods_conflict", "names_disjoint", "years_disjoint")]
_SAME = FEATURES.index("same_language")


def open_to_wording(p: np.ndarray, x: np.ndarray, same_language: bool,
                    vetoes: list[int] | None = None) -> np.ndarray:
    """Indices of the pairs a wording evidence may move: in one language (``same_language``) or in two, not
    ruled out by the model (``0 < p < 1``) and with no sign of another event in ``x`` (:func:`pair_features`;
    ``vetoes``: the columns of :data:`FEATURES` that count as such signs, all of them by default)."""
    lang = x[:, _SAME] > 0 if same_language else x[:, _SAME] == 0
    vetoed = x[:, _OTHER_EVENT if vetoes is None else vetoes] > 0
    return np.flatnonzero(lang & ~vetoed.any(axis=1) & (p > 0.0) & (p < 1.0))


def shift_logit(p: np.ndarray, idx: np.ndarray, delta: np.ndarray | float) -> np.ndarray:
    """``p`` with ``delta`` added to the logit of rows ``idx``: ``sigmoid(logit(p) + delta)``."""
    q = p[idx]
    out = p.copy()
    out[idx] = 1.0 / (1.0 + np.exp(-(np.log(q / (1.0 - q)) + delta)))
    return out


def fit_weights(x: np.ndarray, y: np.ndarray, l2: float = 1.0, steps: int = 4000, rate: float = 1.0,
                sample_weight: np.ndarray | None = None) -> tuple[dict[str, float], float]:
    """Logistic regression by gradient descent (L2 on the weights, not the bias); for the fitting script.

    ``sample_weight`` (one per row; ``None``: all 1) lets a small labelled set count as much as a large
    one; the L2 term is divided by the weights' sum as by the row count, so its strength stays the same
    when the weights sum to the row count."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    w = np.zeros(xb.shape[1])
    total = float(len(y)) if sample_weight is None else float(np.sum(sample_weight))
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(xb @ w)))
        r = p - y if sample_weight is None else sample_weight * (p - y)
        g = xb.T @ r / total
        g[:-1] += l2 * w[:-1] / total
        w -= rate * g
    return {k: round(float(v), 2) for k, v in zip(FEATURES, w[:-1], strict=True)}, round(float(w[-1]), 2)


def _stage_patterns() -> tuple[frozenset[str], list[tuple[re.Pattern[str], regex.Pattern[str], dict[str, str]]],
                                 re.Pattern[str] | None, dict[str, str]]:
    """``(minor stages, [(pattern in ASCII text, pattern in any text, form -> stage)], unspaced pattern,
    unspaced form -> stage)`` of the ``stages`` table in ``names.json``: whole words and phrases, word
    prefixes (a form ending in ``*``, a phrase's last word too) and forms in an unspaced script (Chinese,
    Japanese, Korean, Thai...: :data:`.features._UNSPACED_RE`) found inside runs, a simplified Chinese form in
    its traditional spellings too (:func:`.features.spellings`). A word is bounded by Unicode's word
    characters (with combining marks, so a Thai or Devanagari word is not cut at a vowel sign): ``regex``'s
    \\w in a text with marks, ``re``'s in the rest (the same words there)."""
    table = F._TABLE.get("stages", {})
    words: dict[str, str] = {}
    prefixes: dict[str, str] = {}
    unspaced: dict[str, str] = {}
    for stage, per in table.items():
        if stage.startswith("_"):
            continue
        for forms in per.values():
            for f in forms:
                f = F.form_key(f)
                if F._UNSPACED_RE.search(f):
                    unspaced.update((spelling, stage) for spelling in F.spellings(f.rstrip("*")))
                elif f.endswith("*"):
                    prefixes[f[:-1]] = stage
                else:
                    words[f] = stage

    def alt(forms: dict[str, str]) -> str:
        return "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True))

    out = []
    for pattern, forms in ((rf"(?<!\w)({alt(words)})(?!\w)", words), (rf"(?<!\w)({alt(prefixes)})", prefixes)):
        if forms:
            out.append((re.compile(pattern), regex.compile(pattern), forms))
    return (frozenset(table.get("_minor", ())), out, re.compile(f"({alt(unspaced)})") if unspaced else None,
            unspaced)


_STAGE_MINOR, _STAGE_PATTERNS, _STAGE_UNSPACED_RE, _STAGE_UNSPACED = _stage_patterns()


def stages_named(text: str) -> frozenset[str]:
    """Every stage of a saga (``names.json`` ``stages``) that ``text`` names."""
    t = F.reader_text(text)
    if t.isascii():
        return frozenset(table[m.group(1)] for ascii_re, _, table in _STAGE_PATTERNS for m in ascii_re.finditer(t))
    marks = F.has_marks(t)
    # a Latin form inside a Chinese or Japanese run is bounded by the run (see features.concepts)
    words = F._UNSPACED_RE.sub(" ", t)
    found = {table[m.group(1)] for plain_re, any_re, table in _STAGE_PATTERNS
             for m in (any_re if marks else plain_re).finditer(words)}
    if _STAGE_UNSPACED_RE is not None:
        found.update(_STAGE_UNSPACED[m.group(1)] for m in _STAGE_UNSPACED_RE.finditer(t))
    return frozenset(found)


@lru_cache(maxsize=65536)
def stages(headline: str) -> frozenset[str]:
    """The stages of a saga (``names.json`` ``stages``: the talks, their end, the apology, the probe, the halt,
    the expansion, the release...) that ``headline`` names; a minor stage (talks) only when it names no other."""
    found = stages_named(headline)
    major = found - _STAGE_MINOR
    return major or found


def stages_new(joiner: frozenset[str], members: list[frozenset[str]]) -> frozenset[str]:
    """The stages ``joiner``'s headline names that no member of a story names (``members``: their
    :func:`stages`): a joiner naming the apology, the probe or the talks' end where no report in the story
    did reports a later stage of the saga, not the story's event. A minor stage (talks) is new only against a
    story whose headlines name a major one (the talks' end, the deal completed)."""
    if not joiner:
        return joiner
    named: set[str] = set()
    for m in members:
        named |= m
    new = joiner - named
    if new <= _STAGE_MINOR and not named - _STAGE_MINOR:
        return frozenset()  # talks are the background of any deal story: new only against a story at a later stage
    return new


_OWNERS: dict[str, str] = {k: v for k, v in F._TABLE.get("owners", {}).items() if not k.startswith("_")}
_OBJECT_NAMES = frozenset(F.KNOWN_NAMES - F.PLACES)


@lru_cache(maxsize=65536)
def headline_objects(headline: str, lang: str = "") -> frozenset[str]:
    """The makers ``headline`` names (known names that are no place), each with its owner (``names.json``
    ``owners``: a brand's group, a chief executive's company): what the headline's action is done by or to.
    Two headlines of one event may name one maker each of a pair (Hyundai and Kia); the owner makes them one."""
    found = {k for k in F.names(headline, lang) if k in _OBJECT_NAMES}
    return frozenset(found | {_OWNERS[k] for k in found if k in _OWNERS})


def objects_apart(joiner: frozenset[str], members: Iterable[frozenset[str]]) -> bool:
    """``joiner``'s headline names makers and the headlines of a story's members name makers too, none of them
    the joiner's: the same action (a tentative deal, monthly deliveries) done by or to another maker. Members
    whose headline names no maker say nothing either way. ``members`` is read only until one shares a maker with
    the joiner (a lazy iterable spares reading the other headlines: the answer is then False whatever they name)."""
    if not joiner:
        return False
    named = False
    for m in members:
        if joiner & m:
            return False
        named = named or bool(m)
    return named


def time_gap_days(ta: float | None, tb: float | None, unc_a: float, unc_b: float) -> float | None:
    """Least possible distance in days between two publication times known to ``± unc`` days."""
    if ta is None or tb is None:
        return None
    return max(0.0, abs(ta - tb) / 86400.0 - unc_a - unc_b)


__all__ = ["BIAS", "FEATURES", "WEIGHTS", "days_between", "fit_weights", "headline_objects", "link_probability",
           "objects_apart", "pack_extra", "pair_features", "parse_extra", "stages", "stages_named", "stages_new",
           "time_gap_days"]
