"""Index mappings: the articles mapping is derived from :data:`aggregator.items.FIELDS`, never hand-kept.

A field added to ``FIELDS`` shows up in the next template (``ensure_indices`` applies additive changes to
the live index; anything else needs ``aggregator index migrate``). The stories and reviews documents
are written only by this package, so their mappings are declared here.

Every mapping is ``dynamic: strict``: a misspelt or unexpected field fails that one document (which goes
to the dead-letter file, see :mod:`aggregator.search.indexer`) instead of silently growing the mapping.
The engines only differ in features we avoid (``flattened`` is Elasticsearch's, ``flat_object``
OpenSearch's), so ``extracted_by`` is stored but not indexed (``enabled: false``).
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
KEYWORD: dict[str, Any] = {"type": "keyword", "ignore_above": 1024}
DATE: dict[str, Any] = {"type": "date", "format": "strict_date_optional_time||epoch_millis"}


def _field_mapping(field: items.Field) -> dict[str, Any]:
    kind = field.kind
    if kind == "text":
        return dict(ENGLISH_TEXT)
    if kind == "keywords":
        if field.name in _TEXT_WITH_KEYWORD:
            return {**ENGLISH_TEXT, "fields": {"keyword": dict(KEYWORD)}}
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


def articles_mapping(fields: Iterable[items.Field] | None = None) -> dict[str, Any]:
    """The ``mappings`` of the articles index, one property per :data:`items.FIELDS` entry + ``indexed_at``.

    ``fields`` defaults to ``items.FIELDS`` read at call time, so a test (or a plugin) that extends the
    schema sees its field in the mapping without reloading modules.
    """
    properties = {f.name: _field_mapping(f) for f in (items.FIELDS if fields is None else fields)}
    properties[INDEXED_AT] = dict(DATE)
    return _with_meta({"dynamic": "strict", "properties": properties})


def stories_mapping() -> dict[str, Any]:
    """A story document (id = story_id): what the story list, the review app and the search results show."""
    member = {
        "properties": {
            "article_id": dict(KEYWORD),
            "source": dict(KEYWORD),
            "title": dict(ENGLISH_TEXT),
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
            "headline": {**ENGLISH_TEXT, "fields": {"keyword": dict(KEYWORD)}},
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


def reviews_mapping() -> dict[str, Any]:
    """An editor's decision: the audit trail of confirm/split/merge/not_duplicate actions."""
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
            "note": dict(ENGLISH_TEXT),
        },
    })


def schema_hash(mapping: dict[str, Any]) -> str:
    """A short fingerprint of a mapping's properties, stored in ``_meta`` to tell stale indices apart."""
    core = {k: v for k, v in mapping.items() if k != "_meta"}
    return hashlib.sha1(json.dumps(core, sort_keys=True).encode()).hexdigest()[:12]


def _with_meta(mapping: dict[str, Any]) -> dict[str, Any]:
    mapping["_meta"] = {"schema": schema_hash(mapping), "owner": "ev-news-aggregator"}
    return mapping
