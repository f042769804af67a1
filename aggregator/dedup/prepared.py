"""Per-article dedup features computed where the article is extracted, carried to :meth:`Deduplicator.add`.

Of the CPU an ``add`` spends, most goes to what the article alone determines: tokenising the body into
units, shingles and unit keys, the story features (names, figures, kinds), the extra (periods, days the
text names) and the lexical terms (:meth:`~.core.Deduplicator._prepare`). A crawl extracts articles in a
pool of worker processes (:mod:`aggregator.extract.pool`); computing these there, in parallel, leaves the
crawl's own thread (which also downloads) only the part that reads and writes the state.

One input of ``_prepare`` is state: the boilerplate lines the source's state has learned are dropped from
the body. The worker computes the features with none learned and carries every unit's key; they are
used only when no unit of the article is learned boilerplate (then dropping it changes nothing), and
only when the carried :func:`tag` (the recipe's version, the config it read and a digest of the exact
inputs) matches the article ``add`` sees. Otherwise ``add`` computes them itself, as it does for an
article carrying none. Either way the result is the same features, so the clustering is identical.

The carried value lives in the item field :data:`FIELD` (``_``-prefixed: never indexed or exported); the
dedup pipeline removes it once used.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

#: the item field that carries the features computed in the extraction worker: ``(tag, unit keys, features)``
FIELD = "_dedup_features"
#: the recipe's version: bump it with any change to what ``Deduplicator._prepare`` computes or reads
# 8: kinds, stages and names read as p14words and p14xlang do (7 was the reverted o14kinds); 9: Hangul shingled by
# words (DedupConfig.dup_hangul_words); 10: names may start with any Latin capital (Škoda); 11: figures in thousands
# groups and counts of people are no years, the cancellation kind, KI/IA = AI, Lion Electric, LACC = CCAA (t15xl);
# 12: WM Motor's Chinese names, Jidu = Jiyue, thousands as mila / Tsd. / tys., a plain word before a bare number
# is no strong model name (u15recall); 13: "administration" an insolvency form only after into/enters/placed in
# (the NHTSA, a government), English "sell" forms whole words (Spanish "sellado", sealed, read as sales), a Roman
# numeral after a name ("MOVES III") no name of its own, Spanish, Italian and Portuguese articles, prepositions,
# months and days no names, a known name's genitive or plural ("BYDs", "Teslas") that name (u15near); 14: the
# headline's action as more stages of a saga: a proposal, a vote, a lawsuit, a ruling, pre-orders, a site chosen
# (v16stage; the makers a headline names, with names.json "owners", are read at placing, not carried); 15: makers
# in Telugu and Devanagari, Subaru Solterra and Daihatsu in kana and hangul, the European Parliament's
# German and French inflected forms, a percent written as a word after the figure in Hindi, Telugu, Thai, Arabic and
# Vietnamese (w16names); 16: a count in 만/万 with its remainder is one figure
# ("20만8000대" 208,000, not 8,000; x17prec)
# 17: a name before a year or a figure read ("BYD 2025"), a Roman numeral alone no name,
# Arabic forms only as words; makers, people and bodies in more scripts: Cyrillic case forms, Devanagari, Telugu,
# Thai, hangul and kana forms of Chinese, Japanese and Indian makers, Vietnamese ơ and ư inside names (x17names)
# 18: days after a publication label are no plans, d/m/y with a day over 12, "28 Jun, 2023", no
# lead day on the last day of a quarter or half the text reports on (x17undated)
# 19: an acronym suffix that is a common word ("EV" of "Kona EV", "CEO" of "Tesla CEO") no name; models and
# battery products in more scripts (Blade, Qilin, Shenxing, Atto 3, Ariya, Lyriq, ID. Buzz...) with their makers
# as owners; model codes under their own prefix in pack_extra (a year-less month was read as a code); short
# katakana forms only as runs of their own, "キア" (y17models)
RECIPE = 19
#: per-process counts: ``carried`` (used), ``stale`` (present, tag differs), ``boilerplate`` (a unit of the
#: article is learned boilerplate), read by the dedup pipeline for its stats
counts: Counter[str] = Counter()

_worker_dd: Any = None


def tag(config: Any, title: str, lead: str, body: str, lang: str, source: str, published: float | None,
        uncertainty: float, hangul_words: bool = True) -> str:
    """The digest of everything ``_prepare`` reads besides learned boilerplate: inputs, config, recipe, and how
    the state tokenises Hangul (``Deduplicator.hangul_words``)."""
    h = hashlib.blake2b(digest_size=16)
    for part in (str(RECIPE), str(config.shingle_size), str(hangul_words), title, lead, body, lang, source,
                 repr(published), repr(uncertainty)):
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x00")
    return h.hexdigest()


def fields(art: dict[str, Any]) -> tuple[str, str, str, str, str, float | None, float]:
    """``(title, lead, body, language, source, published, uncertainty)`` as ``add`` reads them; with no date
    stated, the day the URL names (:func:`url_day`)."""
    from .core import _parse_time_unc

    published, uncertainty = _parse_time_unc(art.get("published_at", art.get("published")))
    if published is None:
        published = url_day(art)
    return (str(art.get("title") or ""), str(art.get("lead") or ""), str(art.get("body") or ""),
            str(art.get("language") or ""), str(art.get("source") or "").lower(), published, uncertainty)


def url_day(art: dict[str, Any]) -> float | None:
    """The day an article's URL names (``/2026/11/18/``, a Reuters-style ``-2026-11-18`` suffix), as a time,
    for an article that states no date: the extraction step falls back to the same day
    (:func:`aggregator.extract.dates.url_date`), so an article handed to ``add`` without its date is read as
    the crawl would have read it. On the development sets the URL's day equals the stated day on 139 of 140
    pages that have both."""
    url = str(art.get("url") or art.get("canonical_url") or "")
    if not url:
        return None
    from ..extract.dates import url_date  # not at import: the extraction package loads trafilatura

    found = url_date(url)
    return found.value.timestamp() if found is not None else None


def prepare(art: dict[str, Any], config: Any = None) -> tuple[str, list[int], tuple[Any, ...]]:
    """The :data:`FIELD` value for ``art`` (computed with no boilerplate learned; ``config``: a
    :class:`~.core.DedupConfig`, the defaults by default)."""
    global _worker_dd
    from .core import DedupConfig, Deduplicator, Doc, pack_features

    if config is None:
        if _worker_dd is None:  # no embedding, no lexical index: only _prepare's own config is read
            _worker_dd = Deduplicator(DedupConfig(story_embedding_weight=0))
        dd = _worker_dd
    else:
        dd = Deduplicator(config)
    f = fields(art)
    keys: list[int] = []
    pre = dd._prepare(*f, set(), lexical=True, unit_keys=keys)
    _kept, shingles, _keys, edge, feats = pre[:5]
    # what _doc_from_article and _place derive from these alone: the packed record and the two signatures,
    # tagged with what signing depends on (the state's MinHash scheme may differ: then they are not used)
    packed = (dd._signing(), Doc.pack(shingles, edge, pack_features(feats)), dd.signer.sign(shingles),
              dd._story_signature(feats))
    return tag(dd.config, *f, dd.hangul_words), keys, (*pre, packed)


def usable(art: dict[str, Any], config: Any, f: tuple[Any, ...], learned: set[int],
           hangul_words: bool = True) -> tuple[Any, ...] | None:
    """The features ``art`` carries if they are those ``add`` would compute now (``f``: :func:`fields`
    as ``add`` read them; ``learned``: the source's learned boilerplate unit keys; ``hangul_words``: the
    state's tokenisation), else None."""
    value = art.get(FIELD)
    if value is None:
        return None
    try:
        carried_tag, keys, pre = value
    except (TypeError, ValueError):
        counts["stale"] += 1
        return None
    if carried_tag != tag(config, *f, hangul_words):
        counts["stale"] += 1
        return None
    if learned and not learned.isdisjoint(keys):
        counts["boilerplate"] += 1
        return None
    counts["carried"] += 1
    return pre


def warm() -> None:
    """Import the dedup modules and load their compiled kernels now (~1 s of CPU once per process), e.g.
    before the extraction workers are forked: they and the crawl's dedup step then start warm rather than
    paying it on their first article."""
    from .core import DedupConfig, Deduplicator

    dd = Deduplicator(DedupConfig(story_embedding_weight=0))
    body = "\n\n".join(f"Line {i} of a warm-up text about a battery plant that opens in 2026 with 4 GWh."
                       for i in range(6))
    for i in range(2):
        art = {"id": f"warm-{i}", "title": "Warm-up battery plant opens", "body": body, "source": "warm",
               "language": "en", "published_at": f"2026-01-0{i + 1}T00:00:00Z"}
        art[FIELD] = prepare(art)
        dd.add(art)
