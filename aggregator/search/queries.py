"""Search requests as plain REST bodies, and the small runners the CLI and the review app use.

Every builder returns the exact JSON a ``curl`` would send (``QUERIES.md`` lists them and a test runs
each one), so a query can be tried by hand, pasted into Dashboards/Kibana, or changed here once.

Rules kept by every builder:

* user text only ever goes into ``multi_match`` (analysed as plain words), never into ``query_string``,
  whose syntax (``AND``, ``field:``, ``*``, unbalanced quotes) would let a search box error or widen;
* the features used exist with the same syntax in Elasticsearch 8/9 and OpenSearch 2/3: ``bool``
  filters, ``collapse`` with ``inner_hits``, ``terms``/``date_histogram`` (``calendar_interval``),
  ``cardinality``, and date math (``now-7d``).

The full-text search is the expensive one. :func:`search_stories` is the whole search in one request
and one pass over the matches (what ``QUERIES.md``, the README and the demo show, and what
:func:`run_search` sends for a text): a ``diversified_sampler`` keeps the best-scoring articles, at most
``members`` per story, and a ``terms`` + ``top_hits`` aggregation groups them by story; the buckets ordered
by best score are the page a collapse on ``story_id`` gives. :func:`search_articles` is that collapse, with
each story's first matching articles by date as ``inner_hits``: exact, but the engine runs one more search
per story for them (11x a plain match at 100k articles, vs 0.72x). Without text (newest first),
:func:`run_search` ranks by date in cheaper steps:

1. :func:`search_top_articles`: the newest ``OVERFETCH`` articles per story on the page; the first article
   of each story in this list is the article the collapse would pick, so the page is the distinct stories
   in order of first appearance. Too few stories in the window (big stories crowding the top) -> a window
   4x as big, up to :data:`MAX_WINDOW`, then the one-request collapse;
2. :func:`story_matches`: the page's stories' first ``members`` articles by publication date (a ``terms``
   aggregation restricted to those story ids with ``top_hits``): what ``inner_hits`` returns, in one search.

Articles are counted exactly up to :data:`TRACK_TOTAL_HITS` (then "1000+"), and the number of matching
stories (a ``cardinality`` aggregation over every match, about a third of the cost) only when
``count_stories=True`` (``aggregator search --exact``); otherwise a full page reads "10+ stories".
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from typing import Any

from aggregator.search import indices, mapping
from aggregator.search.client import SearchClient

#: every language field of title (x3), lead (x2) and body: each article's text sits in the fields of its
#: language (``title_de``, ``body_cjk``, ...; see :mod:`aggregator.search.mapping`), so one multi_match
#: searches all languages, each word analysed by every language's analyzer
SEARCH_FIELDS = ["title_*^3", "lead_*^2", "body_*"]
ARTICLE_SOURCE = ["id", "title", "url", "source", "published_at", "story_id", "dup_id", "language"]
#: what an inner hit (a story's other matching article) carries; its story_id is the hit's
MEMBER_SOURCE = ["id", "title", "url", "source", "published_at", "dup_id"]
#: what a search result shows of its story document (not the member list, which can be long)
STORY_FIELDS = ["headline", "member_count", "sources", "first_seen"]
#: what the shared-vocabulary part reads: every article's text in one field per title/lead/body, one
#: analyzer (``standard``) for every language, so one IDF (``title.all``; see :mod:`aggregator.search.mapping`)
SHARED_FIELDS = mapping.SHARED_FIELDS
#: the first part of a search ranks articles with most of the words (in one field): all of 1-2 words, 75 %
#: (rounded down) of more; the other two parts let the rest in below them
MINIMUM_SHOULD_MATCH = "2<75%"
#: weight of the partial matches in the language fields: any of the words. Tiny, so an article with most
#: words stays above, but pages of other languages that share only a name ("Northvolt faillite" finding the
#: English and German Northvolt pages) come next rather than not at all
PARTIAL_BOOST = 0.1
#: weight of the shared-vocabulary part (any of the words, as spelt): same-language pages first, since a
#: word's own spelling is found in its own language; single CJK characters where bigrams miss
SHARED_BOOST = 1.0
#: articles are counted exactly up to here; above it the engine reports a lower bound ("1000+")
TRACK_TOTAL_HITS = 1000
#: run_search's first window: this many ranked articles per story on the page
OVERFETCH = 3
#: the largest window run_search ranks itself; a page that needs more is collapsed by the engine
MAX_WINDOW = 1000
#: the terms-aggregation key of articles without a story_id (the collapse groups them as one null story)
NO_STORY = "(no story)"
_RELATIVE = re.compile(r"^\d+[mhdwMy]$")
_ABSOLUTE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ][0-9:.]+(Z|[+-]\d{2}:?\d{2})?)?$")


def date_bound(value: str) -> str:
    """``7d``/``12h``/``2w`` -> ``now-7d`` date math; ISO dates pass through; anything else is refused.

    Validating here keeps user input out of the engine's date-math parser, whose errors are unfriendly.
    """
    value = value.strip()
    if _RELATIVE.match(value):
        return f"now-{value}"
    if value == "now" or value.startswith("now-") and _RELATIVE.match(value[4:]):
        return value
    if _ABSOLUTE.match(value):
        return value.replace(" ", "T")
    raise ValueError(f"not a date or a period like 7d, 12h, 2w: {value!r}")


def _range(field_name: str, since: str | None, until: str | None) -> list[dict[str, Any]]:
    bounds = {}
    if since:
        bounds["gte"] = date_bound(since)
    if until:
        bounds["lte"] = date_bound(until)
    return [{"range": {field_name: bounds}}] if bounds else []


def article_filters(since: str | None = None, until: str | None = None, sources: Sequence[str] | None = None,
                    languages: Sequence[str] | None = None) -> list[dict[str, Any]]:
    """Filters (no scoring, cached by the engine) shared by every article query."""
    filters = _range("published_at", since, until)
    if sources:
        filters.append({"terms": {"source": list(sources)}})
    if languages:
        filters.append({"terms": {"language": list(languages)}})
    return filters


#: weight of the query's names in their Latin spelling (特斯拉 -> tesla), from the names table of the
#: story tier (``aggregator/dedup/names.json``): the subject in the languages written in Latin script
NAMES_BOOST = 2.0
_NON_LATIN = re.compile(r"[^\x00-\u024f]")


@lru_cache(maxsize=1)
def _non_latin_names() -> tuple[tuple[str, str], ...]:
    """(spelling, Latin name) for every spelling of names.json in another script (Chinese, Korean,
    Japanese, Cyrillic, ...), longest first; Latin spellings are matched by the query's own words."""
    # importlib.resources, not a path: under scrapyd the package is a zipped egg (as features.py reads it)
    table = json.loads(resources.files("aggregator.dedup").joinpath("names.json").read_text(encoding="utf-8"))["names"]
    pairs = [(form, name) for form, name in table.items() if len(form) >= 2 and _NON_LATIN.search(form)]
    return tuple(sorted(pairs, key=lambda pair: -len(pair[0])))


def latin_names(text: str) -> list[str]:
    """The Latin names of the makers and bodies ``text`` names in another script: ``特斯拉 交付`` ->
    ``["tesla"]``; names already in the text in Latin letters are left out."""
    lowered = text.lower()
    found: list[str] = []
    for form, name in _non_latin_names():
        if form in text and name.lower() not in lowered and name not in found:
            found.append(name)
    return found


def text_clauses(text: str) -> list[dict[str, Any]]:
    """The three scoring parts of a full-text search; an article matches when any does, its score is their sum.

    1. the language fields (each article analysed by its language's stemmer), most of the words
       (:data:`MINIMUM_SHOULD_MATCH`) in one field: the ranking of the articles that answer the query;
    2. the same fields, any word, x :data:`PARTIAL_BOOST`: articles sharing a name or a word come after
       them (often the same subject in another language) instead of being left out;
    3. the shared vocabulary (``title.all``...), any word, x :data:`SHARED_BOOST`: one IDF over every
       language, where a word is found as spelt, so the query's own language ranks first.

    A fourth part, when the text names a maker in another script (特斯拉, 蔚来): those names in Latin
    letters (:func:`latin_names`) in the shared vocabulary, x :data:`NAMES_BOOST`, so the subject's pages
    in English, German... follow the Chinese ones.

    ``benchmarks/search_quality.py`` chose the weights on one half of its queries and reports the other.
    """
    clauses = [
        {"multi_match": {"query": text, "fields": SEARCH_FIELDS, "type": "best_fields",
                         "minimum_should_match": MINIMUM_SHOULD_MATCH}},
        {"multi_match": {"query": text, "fields": SEARCH_FIELDS, "type": "best_fields", "boost": PARTIAL_BOOST}},
        {"multi_match": {"query": text, "fields": SHARED_FIELDS, "type": "best_fields", "boost": SHARED_BOOST}},
    ]
    names = latin_names(text)
    if names:
        clauses.append({"multi_match": {"query": " ".join(names), "fields": SHARED_FIELDS, "type": "best_fields",
                                        "boost": NAMES_BOOST}})
    return clauses


def _text_query(text: str) -> tuple[list[dict[str, Any]], list[Any]]:
    """The scoring part (``must``) of an article search and its sort: best match first, newer first on ties."""
    text = text.strip()
    if text:
        must = [{"bool": {"should": text_clauses(text), "minimum_should_match": 1}}]
        return must, ["_score", {"published_at": {"order": "desc", "missing": "_last"}}]
    return [{"match_all": {}}], [{"published_at": {"order": "desc", "missing": "_last"}}]


def _ranked_articles(text: str, filters: list[dict[str, Any]], size: int, count_stories: bool,
                     collapse: dict[str, Any] | None = None, offset: int | None = None) -> dict[str, Any]:
    """The article search both full-text bodies share; ``collapse``/``offset`` make it the one-request page."""
    must, sort = _text_query(text)
    body: dict[str, Any] = {"query": {"bool": {"must": must, "filter": filters}}}
    if collapse is not None:
        body["collapse"] = collapse
    body.update({"_source": ARTICLE_SOURCE, "sort": sort, "size": size})
    if offset is not None:
        body["from"] = offset
    body["track_total_hits"] = True if count_stories else TRACK_TOTAL_HITS
    if count_stories:
        body["aggs"] = {"stories": {"cardinality": {"field": "story_id"}}}
    return body


def search_top_articles(text: str, since: str | None = None, until: str | None = None,
                        sources: Sequence[str] | None = None, languages: Sequence[str] | None = None,
                        size: int = 30, count_stories: bool = False) -> dict[str, Any]:
    """The best ``size`` articles for ``text``, ranked exactly like :func:`search_articles` but not collapsed.

    Without a collapse the engine ranks with block-max WAND: it skips articles that cannot reach the
    top ``size`` instead of scoring every match. :func:`run_search` groups the list by story.
    """
    return _ranked_articles(text, article_filters(since, until, sources, languages), size, count_stories)


def search_articles(text: str, since: str | None = None, until: str | None = None,
                    sources: Sequence[str] | None = None, languages: Sequence[str] | None = None,
                    size: int = 10, offset: int = 0, members: int = 3,
                    count_stories: bool = False) -> dict[str, Any]:
    """Full-text search over ``articles``, one hit per story (the best-scoring article), with the story's
    other matching articles as ``inner_hits.members`` in publication order: the whole search in one request.

    ``count_stories`` adds the exact article count and a ``stories`` cardinality aggregation (the number
    of matching stories); without it articles are counted up to :data:`TRACK_TOTAL_HITS`.
    :func:`run_search` returns the same page with :func:`search_top_articles` and :func:`story_matches`.
    """
    collapse = {
        "field": "story_id",
        "inner_hits": {"name": "members", "size": members, "_source": MEMBER_SOURCE,
                       "sort": [{"published_at": {"order": "asc", "missing": "_last"}}]},
    }
    return _ranked_articles(text, article_filters(since, until, sources, languages), size, count_stories,
                            collapse=collapse, offset=offset)


def search_stories(text: str, since: str | None = None, until: str | None = None,
                   sources: Sequence[str] | None = None, languages: Sequence[str] | None = None,
                   size: int = 10, offset: int = 0, members: int = 3, count_stories: bool = False) -> dict[str, Any]:
    """The page of stories for ``text`` in one request and one pass over the matches, without collapse.

    A ``diversified_sampler`` keeps the ``members x (offset + size)`` best-scoring articles with at most
    ``members`` per story; a ``terms`` aggregation groups them by story, ``top_hits`` returns each story's
    best-matching articles, best first. The page is the buckets ordered by their best score
    (``members.hits.max_score``; ties: the newer best article first), from ``offset``: exactly the stories
    a collapse on ``story_id`` ranks there, because a story's best article is outscored only by articles of
    better stories, at most ``members`` of each. Each story shows its best-matching articles (up to
    ``members``, fewer for a story whose other matches fall outside the sample), where a collapse's
    ``inner_hits`` runs one more search per story for its first matches by date: that costs ~11x a plain
    match, this about one plain match (``make bench``). Articles without a story_id come in the ``no_story``
    aggregation, as one story (a collapse groups them too). :func:`run_search` reads this with
    :func:`story_page`; :func:`search_articles` is the collapse.
    """
    per = max(members, 1)
    sample = per * max(offset + size, 1)
    must, _ = _text_query(text)
    members_agg = {"top_hits": {"size": per, "_source": ARTICLE_SOURCE, "track_scores": True,
                                "sort": ["_score", {"published_at": {"order": "desc", "missing": "_last"}}]}}
    body: dict[str, Any] = {
        "size": 0,
        "query": {"bool": {"must": must, "filter": article_filters(since, until, sources, languages)}},
        "track_total_hits": True if count_stories else TRACK_TOTAL_HITS,
        "aggs": {
            # only articles with a story_id reach the sampler: it files those without one under another
            # story's key (OpenSearch 2.19 drops that story from the page), whichever execution_hint
            "page": {"filter": {"exists": {"field": "story_id"}}, "aggs": {"sample": {
                "diversified_sampler": {"shard_size": sample, "field": "story_id", "max_docs_per_value": per},
                "aggs": {"stories": {"terms": {"field": "story_id", "size": sample},
                                     "aggs": {"members": members_agg}}}}}},
            # the sampler leaves articles without a story_id out; they are one more "story" (like a collapse)
            "no_story": {"filter": {"bool": {"must_not": [{"exists": {"field": "story_id"}}]}},
                         "aggs": {"members": members_agg}},
        },
    }
    if count_stories:
        body["aggs"]["stories"] = {"cardinality": {"field": "story_id"}}
    return body


def story_page(resp: dict[str, Any], offset: int = 0, size: int = 10) -> list[dict[str, Any]]:
    """The page of a :func:`search_stories` answer: ``{"story_id", "score", "best", "members"}`` per story,
    best story first; ``members`` are the story's sampled matching articles in publication order."""
    aggs = resp["aggregations"]
    buckets = list(aggs["page"]["sample"]["stories"]["buckets"])
    if aggs["no_story"]["doc_count"]:
        buckets.append({"key": NO_STORY, "members": aggs["no_story"]["members"]})
    stories = []
    for bucket in buckets:
        hits = bucket["members"]["hits"]["hits"]
        if not hits:
            continue
        best = hits[0]
        stories.append({"story_id": None if bucket["key"] == NO_STORY else bucket["key"],
                        "score": best.get("_score") or bucket["members"]["hits"].get("max_score"),
                        "best": best,
                        "members": sorted((h["_source"] for h in hits),
                                          key=lambda a: (a.get("published_at") is None, a.get("published_at") or ""))})
    stories.sort(key=lambda st: st["best"]["_source"].get("published_at") or "", reverse=True)
    stories.sort(key=lambda st: st["score"] or 0.0, reverse=True)  # stable: newer first among equal scores
    return stories[offset:offset + size]


def story_matches(text: str, story_ids: Sequence[str | None], since: str | None = None,
                  until: str | None = None, sources: Sequence[str] | None = None,
                  languages: Sequence[str] | None = None, members: int = 3) -> dict[str, Any]:
    """The first ``members`` matching articles (publication order) of each story in ``story_ids``.

    What ``inner_hits`` of :func:`search_articles` returns, as one search: the same query and filters,
    restricted to those stories, a ``terms`` aggregation per story with ``top_hits``. ``None`` stands for
    the articles without a story_id (bucket :data:`NO_STORY`), which a collapse groups together.
    """
    must, _ = _text_query(text)
    ids = [s for s in dict.fromkeys(story_ids) if s is not None]
    scope: dict[str, Any] = {"terms": {"story_id": ids}}
    if None in story_ids:
        scope = {"bool": {"should": [scope, {"bool": {"must_not": [{"exists": {"field": "story_id"}}]}}],
                          "minimum_should_match": 1}}
    return {
        "size": 0,
        "track_total_hits": False,
        "query": {"bool": {"must": must, "filter": [*article_filters(since, until, sources, languages), scope]}},
        "aggs": {"stories": {
            "terms": {"field": "story_id", "size": len(ids) + 1, "missing": NO_STORY},
            "aggs": {"members": {"top_hits": {
                "size": members, "_source": MEMBER_SOURCE,
                "sort": [{"published_at": {"order": "asc", "missing": "_last"}}]}}},
        }},
    }


def latest_stories(size: int = 20, since: str | None = None, sources: Sequence[str] | None = None,
                   needs_review: bool | None = None) -> dict[str, Any]:
    """The story list: most recently active stories first."""
    filters = _range("last_seen", since, None)
    if sources:
        filters.append({"terms": {"sources": list(sources)}})
    if needs_review is not None:
        filters.append({"term": {"needs_review": needs_review}})
    return {
        "query": {"bool": {"filter": filters}},
        "sort": [{"last_seen": {"order": "desc", "missing": "_last"}}, {"story_id": "asc"}],
        "_source": {"excludes": ["members"]},
        "size": size,
    }


def story_members(story_id: str, size: int = 200) -> dict[str, Any]:
    """A story's articles (over ``articles``) in publication order: the story page."""
    return {
        "query": {"bool": {"filter": [{"term": {"story_id": story_id}}]}},
        "sort": [{"published_at": {"order": "asc", "missing": "_last"}}, {"id": "asc"}],
        "_source": ARTICLE_SOURCE,
        "size": size,
    }


def stories_by_source(source: str, since: str | None = None, until: str | None = None,
                      size: int = 50) -> dict[str, Any]:
    """Stories an outlet took part in, first seen within a date range (over ``stories``)."""
    return {
        "query": {"bool": {"filter": [{"term": {"sources": source}}, *_range("first_seen", since, until)]}},
        "sort": [{"first_seen": {"order": "desc"}}],
        "_source": {"excludes": ["members"]},
        "size": size,
    }


def counts_per_source(since: str | None = None, until: str | None = None, size: int = 100) -> dict[str, Any]:
    """Articles per outlet (``terms`` aggregation over ``articles``)."""
    return {
        "size": 0,
        "query": {"bool": {"filter": article_filters(since, until)}},
        "aggs": {"per_source": {"terms": {"field": "source", "size": size}}},
    }


def counts_per_day(since: str | None = "30d", until: str | None = None,
                   sources: Sequence[str] | None = None) -> dict[str, Any]:
    """Articles per UTC day (``date_histogram`` over ``articles``), empty days included."""
    return {
        "size": 0,
        "query": {"bool": {"filter": article_filters(since, until, sources)}},
        "aggs": {"per_day": {"date_histogram": {"field": "published_at", "calendar_interval": "day",
                                                "format": "yyyy-MM-dd", "min_doc_count": 0}}},
    }


# -- runners ------------------------------------------------------------------------------------------------
@dataclass
class StoryHit:
    """One line of the search results: a story, represented by its best matching article."""

    story_id: str | None
    headline: str
    member_count: int
    sources: list[str]
    first_seen: str | None
    best_article: dict[str, Any]
    matching: list[dict[str, Any]] = field(default_factory=list)
    score: float | None = None


@dataclass
class SearchResults:
    """A page of results; a total whose ``*_exact`` is False is a lower bound ("10+ stories")."""

    stories: list[StoryHit]
    total_articles: int
    total_stories: int
    articles_exact: bool = True
    stories_exact: bool = True

    @property
    def articles_text(self) -> str:
        return f"{self.total_articles}{'' if self.articles_exact else '+'}"

    @property
    def stories_text(self) -> str:
        return f"{self.total_stories}{'' if self.stories_exact else '+'}"


def run_search(client: SearchClient, text: str, since: str | None = None, until: str | None = None,
               sources: Sequence[str] | None = None, languages: Sequence[str] | None = None,
               limit: int = 10, count_stories: bool = False, offset: int = 0,
               members: int = 3) -> SearchResults:
    """One page of stories for ``text``: what :func:`search_articles` answers, in cheaper steps (see the
    module docstring), then the story documents for headline and size.

    Without ``count_stories`` the number of stories is exact only when it fits on the page; a full page
    gives a lower bound (``stories_exact`` False).
    """
    articles = indices.alias_name("articles")
    wanted = offset + limit
    window = max(OVERFETCH * wanted, 1)
    while text.strip():  # ranked by score: one search_stories request
        resp = client.search(articles, search_stories(text, since, until, sources, languages, size=limit,
                                                      offset=offset, members=members, count_stories=count_stories))
        page = story_page(resp, offset, limit)
        hits = [dict(st["best"], _source=dict(st["best"]["_source"], story_id=st["story_id"])) for st in page]
        matching = {st["story_id"]: st["members"][:members] for st in page} if members > 0 else {}
        break
    while not text.strip():  # newest first: ranked articles grouped by story (see the module docstring)
        resp = client.search(articles, search_top_articles(text, since, until, sources, languages, size=window,
                                                           count_stories=count_stories))
        ranked = resp["hits"]["hits"]
        best: dict[str | None, dict] = {}  # story -> its best article, in rank order: the collapse's page
        for hit in ranked:
            best.setdefault(hit["_source"].get("story_id"), hit)
            if len(best) >= wanted:
                break
        if len(best) >= wanted or len(ranked) < window:  # the page is complete, or every match was read
            hits = list(best.values())[offset:]
            matching = _story_matches(client, text, [h["_source"].get("story_id") for h in hits], since, until,
                                      sources, languages, members)
            break
        if window >= MAX_WINDOW:  # big stories crowd the top: let the engine collapse
            resp = client.search(articles, search_articles(text, since, until, sources, languages, size=limit,
                                                           offset=offset, members=members,
                                                           count_stories=count_stories))
            hits = resp["hits"]["hits"]
            matching = {h["_source"].get("story_id"): [m["_source"] for m in ((h.get("inner_hits") or {})
                        .get("members") or {}).get("hits", {}).get("hits", [])] for h in hits}
            break
        window = min(window * 4, MAX_WINDOW)
    story_ids = [h["_source"].get("story_id") for h in hits if h["_source"].get("story_id")]
    stories = client.mget(indices.alias_name("stories"), story_ids, fields=STORY_FIELDS) if story_ids else {}
    out = []
    for hit in hits:
        art = hit["_source"]
        story = stories.get(art.get("story_id") or "", {})
        found = matching.get(art.get("story_id"), [])
        out.append(StoryHit(
            story_id=art.get("story_id"),
            headline=story.get("headline") or art.get("title") or "",
            member_count=int(story.get("member_count") or max(len(found), 1)),
            sources=list(story.get("sources") or sorted({m.get("source") for m in found or [art]} - {None})),
            first_seen=story.get("first_seen") or art.get("published_at"),
            best_article=art,
            matching=found,
            score=hit.get("_score"),
        ))
    total = resp["hits"]["total"]
    total_articles = total["value"] if isinstance(total, dict) else int(total)
    articles_exact = not isinstance(total, dict) or total.get("relation", "eq") == "eq"
    counted = (resp.get("aggregations") or {}).get("stories")
    if counted is not None:
        total_stories, stories_exact = int(counted["value"]), True
    else:  # a page that is not full holds every matching story
        total_stories, stories_exact = offset + len(out), len(out) < limit
    return SearchResults(out, total_articles, total_stories, articles_exact, stories_exact)


def _story_matches(client: SearchClient, text: str, story_ids: list[str | None], since: str | None,
                   until: str | None, sources: Sequence[str] | None, languages: Sequence[str] | None,
                   members: int) -> dict[str | None, list[dict[str, Any]]]:
    """Story id -> its first ``members`` matching articles, from one :func:`story_matches` search."""
    if not story_ids or members <= 0:
        return {}
    resp = client.search(indices.alias_name("articles"),
                         story_matches(text, story_ids, since, until, sources, languages, members))
    out: dict[str | None, list[dict[str, Any]]] = {}
    for bucket in resp["aggregations"]["stories"]["buckets"]:
        key = None if bucket["key"] == NO_STORY else bucket["key"]
        out[key] = [m["_source"] for m in bucket["members"]["hits"]["hits"]]
    return out


def run_story_members(client: SearchClient, story_id: str) -> list[dict[str, Any]]:
    resp = client.search(indices.alias_name("articles"), story_members(story_id))
    return [h["_source"] for h in resp["hits"]["hits"]]


def run_buckets(client: SearchClient, body: dict[str, Any]) -> dict[str, int]:
    """Key -> doc count of the single aggregation in ``body`` (counts per source or per day)."""
    resp = client.search(indices.alias_name("articles"), body)
    (agg,) = resp["aggregations"].values()
    return {b.get("key_as_string", b["key"]): b["doc_count"] for b in agg["buckets"]}


# -- documentation --------------------------------------------------------------------------------------------
#: (title, index kind, body) for QUERIES.md; ``tests/test_search_queries.py`` runs each line it contains
EXAMPLES: list[tuple[str, str, str, dict[str, Any]]] = [
    ("Full-text search", "articles",
     "`tesla price cut` in title (x3), lead (x2) and body in every language (`title_*` are `title_en`, "
     "`title_de`, ...: each article's text sits in the fields of its language), last 7 days, one entry per "
     "story: the whole search in one request and one pass over the matches. "
     "`aggregations.page.sample.stories.buckets` are the page's stories (`key` = story_id), each with "
     "its best-matching articles, best first (`members.hits`); order the buckets by "
     "`members.hits.max_score`. Articles without a story_id are in `aggregations.no_story`",
     search_stories("tesla price cut", since="7d")),
    ("Full-text search as a collapse", "articles",
     "the same page as hits collapsed on story_id, each story's first three matching articles by date as "
     "inner hits: exact, but every inner hit is one more search (~11x a plain match at 100k articles)",
     search_articles("tesla price cut", since="7d")),
    ("The best articles, not grouped", "articles",
     "the same query and sort without grouping: the engine can skip hits that cannot make the page",
     search_top_articles("tesla price cut", since="7d")),
    ("Given stories' matching articles", "articles",
     "the first three matching articles of each story by publication date (replace the story_ids)",
     story_matches("tesla price cut", ["s-0001", "s-0002"], since="7d")),
    ("Search one outlet and language", "articles",
     "the same search restricted to electrek and insideevs articles in English since 1 January 2025",
     search_stories("solid-state battery", since="2025-01-01", sources=["electrek", "insideevs"],
                    languages=["en"])),
    ("Latest stories", "stories", "the 20 most recently active stories, without their member lists",
     latest_stories()),
    ("Stories waiting for an editor", "stories", "automatic stories whose weakest member is doubtful",
     latest_stories(needs_review=True)),
    ("A story's articles", "articles", "every article of one story, oldest first (replace the story_id)",
     story_members("s-0001")),
    ("Stories by outlet and date range", "stories", "stories electrek took part in, first seen in January 2025",
     stories_by_source("electrek", since="2025-01-01", until="2025-01-31")),
    ("Articles per outlet", "articles", "a terms aggregation over the last 30 days", counts_per_source("30d")),
    ("Articles per day", "articles", "a date histogram over the last 30 days, empty days included",
     counts_per_day("30d")),
]

CURL_BASE = "http://127.0.0.1:9200"


def curl_line(kind: str, body: dict[str, Any], base: str = CURL_BASE) -> str:
    import json

    payload = json.dumps(body, separators=(",", ":"))
    if "'" in payload:
        raise ValueError("a single quote in an example body would break the shell quoting")
    return f"curl -s '{base}/{kind}/_search' -H 'content-type: application/json' -d '{payload}'"


def queries_markdown() -> str:
    """The text of ``QUERIES.md``; ``python -m aggregator.search.queries > aggregator/search/QUERIES.md``."""
    lines = [
        "# Search queries",
        "",
        "Every query the aggregator sends, as a `curl` line against the local engine "
        f"(`{CURL_BASE}`; put your index prefix in front of `articles`/`stories` if you set "
        "`AGGREGATOR_INDEX_PREFIX`). They work unchanged on Elasticsearch 8/9 and OpenSearch 2/3.",
        "Generated from `aggregator/search/queries.py`; `tests/test_search_queries.py` runs each line.",
        "",
    ]
    for title, kind, explanation, body in EXAMPLES:
        lines += [f"## {title}", "", f"{explanation[0].upper()}{explanation[1:]}.", "", "```sh",
                  curl_line(kind, body), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(queries_markdown(), end="")
