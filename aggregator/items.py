"""The Article: one schema, one name per field, shared by every stage.

The spiders fill it, the pipelines enrich it, the index mapping is derived from it
(`aggregator.search.mapping`), and the dedup CLI reads the same names from JSON lines.
An article is a plain ``dict`` everywhere, Scrapy items included: keys starting with ``_`` travel
between pipelines (``_fetch``, ``_story``) and are never indexed.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text | keyword | keywords | date | integer | boolean | object | url
    doc: str


FIELDS: tuple[Field, ...] = (
    Field("id", "keyword", "sha1 of canonical_url: re-crawling a URL updates, never duplicates"),
    Field("url", "url", "the URL the page was fetched from"),
    Field("canonical_url", "url", "rel=canonical / og:url / JSON-LD url, normalised (tracking params dropped)"),
    Field("source", "keyword", "the registry name of the outlet, e.g. `electrek`"),
    Field("title", "text", "headline"),
    Field("body", "text", "main text, paragraphs joined by blank lines, boilerplate removed"),
    Field("lead", "text", "summary / standfirst"),
    Field("authors", "keywords", "bylines"),
    Field("published_at", "date", "publication time in UTC (ISO 8601)"),
    Field("published_offset", "keyword", "the UTC offset the page stated, e.g. +08:00"),
    Field("updated_at", "date", "last modification in UTC"),
    Field("language", "keyword", "ISO 639-1 code"),
    Field("section", "keyword", "site section"),
    Field("tags", "keywords", "tags / keywords"),
    Field("image", "url", "lead image URL"),
    Field("word_count", "integer", "words in body"),
    Field("fetched_at", "date", "when the page was downloaded (UTC)"),
    Field("content_hash", "keyword", "sha1 of the normalised title+body: equal hash = unchanged article"),
    Field("flags", "keywords", "quality flags, e.g. `date_missing`, `paywall_teaser`"),
    Field("extracted_by", "object", "field -> extractor that supplied it (jsonld, opengraph, trafilatura, ...)"),
    Field("dup_id", "keyword", "near-verbatim copy cluster"),
    Field("story_id", "keyword", "same-event cluster"),
    Field("version", "integer", "1 on first crawl, +1 each time the content at this URL changes"),
)

FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in FIELDS)


def article_id(canonical_url: str) -> str:
    """The document id of an article: a hash of its canonical URL."""
    return hashlib.sha1(canonical_url.encode("utf-8")).hexdigest()
