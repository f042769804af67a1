"""Index mappings: the articles mapping is derived from :data:`aggregator.items.FIELDS`, never hand-kept.

A field added to ``FIELDS`` shows up in the next template (``ensure_indices`` applies additive changes to
the live index; anything else needs ``aggregator index migrate``). The stories and reviews documents
are written only by this package, so their mappings are declared here.

Every mapping is ``dynamic: strict``: a misspelt or unexpected field fails that one document (which goes
to the dead-letter file, see :mod:`aggregator.search.indexer`) instead of silently growing the mapping.
The engines only differ in features we avoid (``flattened`` is Elasticsearch's, ``flat_object``
OpenSearch's), so ``extracted_by`` is stored but not indexed (``enabled: false``).

Languages: ``title``, ``lead`` and ``body`` are kept in ``_source`` but not indexed themselves; the indexer
(:func:`language_fields`) writes each article's text a second time into the fields of its ``language``
(``title_de``, ``lead_de``, ``body_de``), which the analyzer of that language indexes. Every article's
text is so inverted exactly once, by the right stemmer, and one ``multi_match`` over all the language
fields (:data:`SEARCH_FIELDS`) searches every language: a field holds only articles of its language, so
a German query meets German stems, and the empty fields of other languages cost a dictionary miss each.
No ingest pipeline is needed (the minimal Elasticsearch build has none), and a ``_reindex`` copies the
language fields with the rest of ``_source``. Chinese, Japanese and Korean go to ``*_cjk`` (the ``cjk``
analyzer: overlapping bigrams, so 电池 is one token rather than two characters); languages without an
analyzer of their own to ``*_std`` (the ``standard`` analyzer: Unicode words, lowercased, no stemming).

Every article's text is indexed once more, whatever its language, in the sub-fields ``title.all``,
``lead.all`` and ``body.all`` (the ``standard`` analyzer: Unicode words, lowercased, no stemming; Chinese as
single characters): one vocabulary, so one IDF, over every language. A word's own spelling finds its own
language first there ("recharge rapide" is French words, where the ``english`` field stems "rapide" to
"rapid" and ranks English pages first), and single characters find the Chinese pages the bigrams of
``*_cjk`` miss. :mod:`aggregator.search.queries` adds it to the language fields with the weight measured
in ``benchmarks/search_quality.py``. A multi-field is an additive change: an index of the previous shape
gets it in place (``ensure_indices``) and searches on; its older articles join the sub-fields when
``aggregator index migrate`` copies them (``_reindex`` indexes every multi-field again).

A cluster without the analysis modules (the minimal Elasticsearch build has no ``analysis-common``,
hence no ``english``/``german``/``cjk``) gets the same fields, all with the ``standard`` analyzer:
:func:`probe_analysis` decides, ``aggregator index status`` shows which is in force.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from typing import Any

from aggregator import items

#: Fields people filter and aggregate on that hold free text too: searchable, plus an exact sub-field.
_TEXT_WITH_KEYWORD = {"authors", "tags"}

#: Keywords unique per article, looked up exactly (``term``/``terms``, the indexer's idempotency read) but
#: never sorted or aggregated on: no doc values, which are column storage for sorting and aggregations
#: and cost every indexed article a few percent of the engine's CPU for nothing. ``id`` keeps them: it is
#: the tie-breaker of the story-member sort.
_LOOKUP_ONLY = {"content_hash"}

#: Written by the indexer, not by the crawler.
INDEXED_AT = "indexed_at"

ENGLISH_TEXT: dict[str, Any] = {"type": "text", "analyzer": "english"}
STANDARD_TEXT: dict[str, Any] = {"type": "text", "analyzer": "standard"}

#: :func:`probe_analysis` answers: the languages' own analyzers, or ``standard`` everywhere
PER_LANGUAGE = "per-language"
STANDARD_FALLBACK = "standard fallback"
ANALYSIS_LEVELS = (PER_LANGUAGE, STANDARD_FALLBACK)

#: the article fields analysed per language; kept in _source under their own name, indexed as ``{field}_{suffix}``
TEXT_FIELDS = ("title", "lead", "body")
#: ISO 639-1 code -> suffix of the fields that analyse it; every other language (and none) -> NEUTRAL
LANGUAGE_SUFFIX: dict[str, str] = {"en": "en", "de": "de", "fr": "fr", "es": "es", "it": "it", "nl": "nl",
                                   "pt": "pt", "zh": "cjk", "ja": "cjk", "ko": "cjk"}
NEUTRAL = "std"
#: suffix -> built-in analyzer (analysis-common), used when the cluster has it
ANALYZERS: dict[str, str] = {"en": "english", "de": "german", "fr": "french", "es": "spanish", "it": "italian",
                             "nl": "dutch", "pt": "portuguese", "cjk": "cjk", NEUTRAL: "standard"}
SUFFIXES: tuple[str, ...] = tuple(ANALYZERS)
LANGUAGE_FIELD_NAMES: tuple[str, ...] = tuple(f"{field}_{suffix}" for field in TEXT_FIELDS for suffix in SUFFIXES)
#: the sub-field of each of TEXT_FIELDS that indexes every language with one analyzer (``title.all``)
SHARED = "all"
SHARED_ANALYZER = "standard"  # core in every engine: the same on a cluster without analysis-common
#: boosts of the full-text search: a word in the title counts 3x, in the lead 2x
BOOSTS = {"title": 3, "lead": 2, "body": 1}
#: what one multi_match searches: every language field of title, lead and body
SEARCH_FIELDS: list[str] = [f"{field}_{suffix}" + (f"^{BOOSTS[field]}" if BOOSTS[field] != 1 else "")
                            for field in TEXT_FIELDS for suffix in SUFFIXES]
#: what the shared-vocabulary part of the search reads: ``title.all^3``, ``lead.all^2``, ``body.all``
SHARED_FIELDS: list[str] = [f"{field}.{SHARED}" + (f"^{BOOSTS[field]}" if BOOSTS[field] != 1 else "")
                            for field in TEXT_FIELDS]


def language_suffix(language: str | None) -> str:
    """``'de'``/``'de-AT'`` -> ``'de'``, ``'zh-Hans'`` -> ``'cjk'``, ``'ro'``/``None`` -> :data:`NEUTRAL`."""
    code = (language or "").strip().lower().replace("_", "-").split("-", 1)[0]
    return LANGUAGE_SUFFIX.get(code, NEUTRAL)


def language_fields(doc: dict[str, Any]) -> dict[str, Any]:
    """The language copies of ``doc``'s text fields (``{"title_de": ..., "body_de": ...}``) to index with it."""
    suffix = language_suffix(doc.get("language"))
    return {f"{field}_{suffix}": doc[field] for field in TEXT_FIELDS if doc.get(field) is not None}


def probe_analysis(client: Any) -> str:
    """:data:`PER_LANGUAGE` when the cluster has every analyzer of :data:`ANALYZERS`, else
    :data:`STANDARD_FALLBACK` (the minimal Elasticsearch build: no ``analysis-common``).

    Asks ``_analyze`` (core in both engines, no index needed) for each; the answer is cached per client.
    """
    cached = getattr(client, "_aggregator_analysis", None)
    if cached:
        return cached
    level = PER_LANGUAGE
    has_modules = getattr(client, "analysis_available", None)
    if callable(has_modules) and not has_modules():  # the node's module list says so (needs only `monitor`)
        level = STANDARD_FALLBACK
    for analyzer in set(ANALYZERS.values()) - {"standard"}:
        if level == STANDARD_FALLBACK:
            break
        try:
            client.raw.indices.analyze(**client._body({"analyzer": analyzer, "text": "probe"}))
        except client.ApiError as exc:
            status = client.error_status(exc)
            if status in (401, 403):  # may not ask (indexless _analyze needs `manage`): trust the module list
                break
            if status != 400:  # 400: unknown analyzer; anything else is a real problem
                raise
            level = STANDARD_FALLBACK
    try:
        client._aggregator_analysis = level
    except AttributeError:  # a client object that takes no attributes: probe again next time
        pass
    return level


def language_fields_script() -> dict[str, Any]:
    """A ``_reindex`` script (painless) doing what :func:`language_fields` does, for ``aggregator index
    migrate``: articles written before the language fields existed get them in the new index."""
    return {"lang": "painless",
            "params": {"suffixes": LANGUAGE_SUFFIX, "neutral": NEUTRAL, "fields": list(TEXT_FIELDS)},
            "source": ("def s = ctx._source; def lang = s.language == null ? '' : s.language.toString().toLowerCase();"
                       " int cut = lang.indexOf('-'); if (cut < 0) { cut = lang.indexOf('_'); }"
                       " if (cut >= 0) { lang = lang.substring(0, cut); }"
                       " def suffix = params.suffixes.getOrDefault(lang, params.neutral);"
                       " for (f in params.fields) { if (s[f] != null) { s[f + '_' + suffix] = s[f]; } }")}


def _analyzed(suffix: str, analysis: str) -> dict[str, Any]:
    analyzer = ANALYZERS[suffix] if analysis == PER_LANGUAGE else "standard"
    return {"type": "text", "analyzer": analyzer}


def _default_text(analysis: str) -> dict[str, Any]:
    """Free text that is not per-language (headlines, tags, notes): English where the cluster has it."""
    return dict(ENGLISH_TEXT) if analysis == PER_LANGUAGE else dict(STANDARD_TEXT)
KEYWORD: dict[str, Any] = {"type": "keyword", "ignore_above": 1024}
DATE: dict[str, Any] = {"type": "date", "format": "strict_date_optional_time||epoch_millis"}


def _field_mapping(field: items.Field, analysis: str = PER_LANGUAGE) -> dict[str, Any]:
    kind = field.kind
    if kind == "text":
        if field.name in TEXT_FIELDS:  # searched through its language fields and its shared sub-field
            return {"type": "text", "index": False,
                    "fields": {SHARED: {"type": "text", "analyzer": SHARED_ANALYZER}}}
        return _default_text(analysis)
    if kind == "keywords":
        if field.name in _TEXT_WITH_KEYWORD:
            return {**_default_text(analysis), "fields": {"keyword": dict(KEYWORD)}}
        return dict(KEYWORD)
    if kind == "keyword":
        return {**KEYWORD, "doc_values": False} if field.name in _LOOKUP_ONLY else dict(KEYWORD)
    if kind == "url":
        # URLs are looked up exactly, never searched, sorted or aggregated on; long ones are kept in
        # _source but not indexed
        return {"type": "keyword", "ignore_above": 2048, "doc_values": False}
    if kind == "date":
        return dict(DATE)
    if kind == "integer":
        return {"type": "integer"}
    if kind == "boolean":
        return {"type": "boolean"}
    if kind == "object":
        return {"type": "object", "enabled": False}
    raise ValueError(f"items.FIELDS: field {field.name!r} has unknown kind {kind!r}")


def articles_mapping(fields: Iterable[items.Field] | None = None, analysis: str = PER_LANGUAGE) -> dict[str, Any]:
    """The ``mappings`` of the articles index, one property per :data:`items.FIELDS` entry + ``indexed_at``,
    plus the language fields of ``title``/``lead``/``body`` (:data:`SUFFIXES`).

    ``fields`` defaults to ``items.FIELDS`` read at call time, so a test (or a plugin) that extends the
    schema sees its field in the mapping without reloading modules. ``analysis`` is what
    :func:`probe_analysis` found on the cluster.
    """
    _check_level(analysis)
    fields = list(items.FIELDS if fields is None else fields)
    properties = {f.name: _field_mapping(f, analysis) for f in fields}
    for f in fields:
        if f.name in TEXT_FIELDS:
            for suffix in SUFFIXES:
                properties[f"{f.name}_{suffix}"] = _analyzed(suffix, analysis)
    properties[INDEXED_AT] = dict(DATE)
    return _with_meta({"dynamic": "strict", "properties": properties})


def stories_mapping(analysis: str = PER_LANGUAGE) -> dict[str, Any]:
    """A story document (id = story_id): what the story list, the review app and the search results show."""
    _check_level(analysis)
    member = {
        "properties": {
            "article_id": dict(KEYWORD),
            "source": dict(KEYWORD),
            "title": _default_text(analysis),
            "url": {"type": "keyword", "index": False},
            "published_at": dict(DATE),
            "dup_id": dict(KEYWORD),
            "similarity": {"type": "float"},
        }
    }
    return _with_meta({
        "dynamic": "strict",
        "properties": {
            "story_id": dict(KEYWORD),
            "headline": {**_default_text(analysis), "fields": {"keyword": dict(KEYWORD)}},
            "canonical_id": dict(KEYWORD),
            "canonical_url": {"type": "keyword", "ignore_above": 2048},
            "member_count": {"type": "integer"},
            "sources": dict(KEYWORD),
            "languages": dict(KEYWORD),
            "first_seen": dict(DATE),
            "last_seen": dict(DATE),
            "updated_at": dict(DATE),
            "status": dict(KEYWORD),  # auto | confirmed | edited | merged
            "merged_into": dict(KEYWORD),  # set on a story an editor merged into another
            "confidence": {"type": "float"},
            "needs_review": {"type": "boolean"},
            "merged_from": dict(KEYWORD),
            # plain objects, not nested: "stories containing article X" is a term query on
            # members.article_id, and nobody needs per-member cross-field matching
            "members": member,
        },
    })


def reviews_mapping(analysis: str = PER_LANGUAGE) -> dict[str, Any]:
    """An editor's decision: the audit trail of confirm/split/merge/not_duplicate actions."""
    _check_level(analysis)
    return _with_meta({
        "dynamic": "strict",
        "properties": {
            "review_id": dict(KEYWORD),
            "action": dict(KEYWORD),  # confirm | split | merge | not_duplicate
            "story_id": dict(KEYWORD),
            "article_id": dict(KEYWORD),
            "other_story_id": dict(KEYWORD),
            "other_article_id": dict(KEYWORD),
            "editor": dict(KEYWORD),
            "at": dict(DATE),
            "note": _default_text(analysis),
        },
    })


def _check_level(analysis: str) -> None:
    if analysis not in ANALYSIS_LEVELS:
        raise ValueError(f"analysis must be one of {ANALYSIS_LEVELS}, not {analysis!r}")


def schema_hash(mapping: dict[str, Any]) -> str:
    """A short fingerprint of a mapping's properties, stored in ``_meta`` to tell stale indices apart."""
    core = {k: v for k, v in mapping.items() if k != "_meta"}
    return hashlib.sha1(json.dumps(core, sort_keys=True).encode()).hexdigest()[:12]


def _with_meta(mapping: dict[str, Any]) -> dict[str, Any]:
    mapping["_meta"] = {"schema": schema_hash(mapping), "owner": "ev-news-aggregator"}
    return mapping
