"""Queries against the real engine: collapsing by story, filters, aggregations, hostile input, the docs."""

from __future__ import annotations

import json
import re
import shlex
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from conftest import requires

from aggregator.search import indices, queries
from aggregator.search.indexer import Indexer
from aggregator.search.spool import Spool

#: every test on the search fixture runs on OpenSearch and on Elasticsearch (tests/conftest.py)
ENGINE_FLAVORS = ("opensearch", "elasticsearch")

QUERIES_MD = Path(queries.__file__).with_name("QUERIES.md")
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def _article(n: int, story: str, source: str, title: str, days_ago: float, body: str = "") -> dict:
    return {"id": f"a{n}", "url": f"https://{source}.example/{n}", "source": source, "title": title,
            "body": body or title, "lead": "", "language": "en", "story_id": story, "dup_id": f"d{n}",
            "published_at": (NOW - timedelta(days=days_ago)).isoformat().replace("+00:00", "Z"),
            "content_hash": f"h{n}", "version": 1}


CORPUS = [
    _article(1, "s-price", "electrek", "Tesla announces a Model Y price cut in Europe", 1),
    _article(2, "s-price", "insideevs", "Tesla cuts Model Y prices across Europe", 1.2),
    _article(3, "s-price", "cleantechnica", "Model Y price cut: Tesla moves again", 2),
    _article(4, "s-battery", "electrek", "Toyota solid-state battery pilot line opens", 3),
    _article(5, "s-battery", "insideevs", "Toyota opens its solid-state battery pilot line", 3.5),
    _article(6, "s-charging", "electrek", "Ionity adds 500 chargers", 20, body="Charging network news"),
    _article(7, "s-old", "cleantechnica", "An old Tesla price story", 60),
]


@pytest.fixture
def seeded(search, tmp_path):
    indices.ensure_indices(search)
    indexer = Indexer(search, Spool(tmp_path), refresh=True)
    assert indexer.index_articles(CORPUS).indexed == len(CORPUS)
    stories: dict[str, dict] = {}
    for art in CORPUS:
        s = stories.setdefault(art["story_id"], {"story_id": art["story_id"], "members": [], "merged_from": [],
                                                 "canonical_id": art["id"], "confirmed": False})
        s["members"].append({"article_id": art["id"], "source": art["source"], "title": art["title"],
                             "published_at": art["published_at"], "dup_id": art["dup_id"], "similarity": 0.9})
    indexer.upsert_stories(stories.values())
    yield search
    indices.drop_all(search)


@pytest.mark.engine
def test_search_collapses_articles_by_story(seeded):
    requires(seeded, "analysis")  # "price cut" finds "cuts ... prices" by stemming
    res = queries.run_search(seeded, "tesla price cut", since="7d")
    assert [h.story_id for h in res.stories] == ["s-price"]
    hit = res.stories[0]
    assert hit.member_count == 3 and hit.sources == ["cleantechnica", "electrek", "insideevs"]
    assert [m["id"] for m in hit.matching] == ["a3", "a2", "a1"]  # publication order
    assert res.total_articles == 3 and res.total_stories == 1
    # without the date filter the 60-day-old story shows up as its own result
    assert {h.story_id for h in queries.run_search(seeded, "tesla price").stories} == {"s-price", "s-old"}


@pytest.mark.engine
def test_story_totals_are_exact_or_a_lower_bound(seeded):
    page = queries.run_search(seeded, "", limit=2)
    assert (page.total_stories, page.stories_exact, page.stories_text) == (2, False, "2+")
    assert (page.total_articles, page.articles_text) == (7, "7")
    exact = queries.run_search(seeded, "", limit=2, count_stories=True)
    assert (exact.total_stories, exact.stories_text, len(exact.stories)) == (4, "4", 2)
    assert "aggs" not in queries.search_articles("x") and queries.search_articles("x")["track_total_hits"] == 1000


@pytest.mark.engine
def test_articles_with_most_words_rank_above_those_sharing_one(seeded):
    assert {h.story_id for h in queries.run_search(seeded, "toyota pilot line").stories} == {"s-battery"}
    assert queries.run_search(seeded, "toyota battery rivian").stories[0].story_id == "s-battery"
    # two of three words in one field rank first; an article sharing one word (often the subject in another
    # language, sharing a name) comes after them instead of being left out
    ranked = [h.story_id for h in queries.run_search(seeded, "tesla price ionity").stories]
    assert set(ranked[:2]) == {"s-price", "s-old"} and ranked[2:] == ["s-charging"]
    assert [h.story_id for h in queries.run_search(seeded, "toyota rivian lucid").stories] == ["s-battery"]
    assert queries.run_search(seeded, "rivian lucid").stories == []


@pytest.mark.engine
def test_filters_and_stemming(seeded):
    requires(seeded, "analysis")
    res = queries.run_search(seeded, "batteries", sources=["insideevs"], languages=["en"])
    assert [(h.story_id, h.best_article["id"]) for h in res.stories] == [("s-battery", "a5")]
    assert queries.run_search(seeded, "batteries", languages=["de"]).stories == []


@pytest.mark.engine
def test_phrase_queries_work_on_every_text_field(seeded, index_prefix):
    # REST users run phrase searches (over every language field of title or body, or one language's);
    # a mapping without term positions would make the engine refuse them
    for field, phrase, expected in [("body_*", "charging network", {"a6"}), ("title_*", "pilot line opens", {"a4"}),
                                    ("body_en", "charging network", {"a6"})]:
        res = seeded.search(f"{index_prefix}articles", {"query": {"multi_match": {
            "query": phrase, "type": "phrase", "fields": [field]}}})
        assert {h["_source"]["id"] for h in res["hits"]["hits"]} == expected


@pytest.mark.engine
@pytest.mark.parametrize("text", [
    '"unbalanced quote', "*:*", "tesla OR toyota", 'title:tesla AND body:(', '{"query": {"match_all": {}}}',
    "\\", "/regex.*/", "a" * 5000, "ümlaut ✓ 電気自動車", "price^100", "NOT tesla", "<script>", "",
])
def test_hostile_text_is_searched_literally(seeded, text):
    res = queries.run_search(seeded, text)  # never raises
    if text.startswith("*:*"):
        assert res.stories == []  # no wildcard expansion: nothing matches the characters themselves
    if text == "":
        assert len(res.stories) == 4  # empty box: newest stories


@pytest.mark.engine
def test_story_pages_lists_and_counts(seeded, index_prefix):
    assert [a["id"] for a in queries.run_story_members(seeded, "s-price")] == ["a3", "a2", "a1"]
    latest = seeded.search(f"{index_prefix}stories", queries.latest_stories(size=2))
    assert [h["_id"] for h in latest["hits"]["hits"]] == ["s-price", "s-battery"]
    assert "members" not in latest["hits"]["hits"][0]["_source"]
    by_source = seeded.search(f"{index_prefix}stories", queries.stories_by_source("electrek", since="10d"))
    assert {h["_id"] for h in by_source["hits"]["hits"]} == {"s-price", "s-battery"}
    assert queries.run_buckets(seeded, queries.counts_per_source()) == {
        "electrek": 3, "insideevs": 2, "cleantechnica": 2}
    per_day = queries.run_buckets(seeded, queries.counts_per_day("30d"))
    assert sum(per_day.values()) == 6 and len(per_day) >= 19  # empty days are there too


def test_date_bounds_are_validated():
    assert queries.date_bound("7d") == "now-7d"
    assert queries.date_bound("2025-01-31") == "2025-01-31"
    for bad in ["7 days", "now-7d||+1d", "yesterday", "7d; DROP"]:
        with pytest.raises(ValueError):
            queries.date_bound(bad)


def test_user_text_never_reaches_query_string():
    body = json.dumps([q[3] for q in queries.EXAMPLES] + [queries.search_articles("x OR y")])
    assert "query_string" not in body


def test_queries_md_is_generated_from_the_code():
    assert QUERIES_MD.read_text() == queries.queries_markdown(), \
        "run: python -m aggregator.search.queries > aggregator/search/QUERIES.md"


def _curl_lines() -> list[tuple[str, dict]]:
    out = []
    for line in QUERIES_MD.read_text().splitlines():
        if line.startswith("curl "):
            args = shlex.split(line)
            url = next(a for a in args if a.startswith("http"))
            body = json.loads(args[args.index("-d") + 1])
            out.append((url, body))
    return out


@pytest.mark.engine
def test_every_curl_line_in_queries_md_runs(seeded, index_prefix):
    lines = _curl_lines()
    assert len(lines) == len(queries.EXAMPLES)
    for url, body in lines:
        kind = re.match(r"https?://[^/]+/(\w+)/_search$", url).group(1)
        resp = seeded.search(f"{index_prefix}{kind}", body)
        assert "hits" in resp, url


def _crowded_corpus() -> list[dict]:
    """One big story whose 40 articles outrank everything, 15 two-article stories, 3 articles without a
    story (a collapse groups those as one), all at distinct times so no two hits tie on the sort."""
    arts, n = [], 0
    for i in range(40):
        n += 1
        arts.append(_article(n, "s-big", "electrek", f"Tesla price cut Tesla price cut, market {i}", 1 + n / 1000,
                             body="tesla price cut " * 3))
    for k in range(15):
        for j in range(2):
            n += 1
            arts.append(_article(n, f"s-{k}", ["insideevs", "reuters"][j], f"Tesla price news {k} {'x' * j}",
                                 1 + n / 1000, body="price cut " + "filler words " * (k + j)))
    for i in range(3):
        n += 1
        art = _article(n, "", "teslarati", f"Tesla price cut rumour {i}", 1 + n / 1000, body="tesla price")
        del art["story_id"]
        arts.append(art)
    return arts


@pytest.fixture
def crowded(search, tmp_path):
    indices.ensure_indices(search)
    assert Indexer(search, Spool(tmp_path), refresh=True).index_articles(_crowded_corpus()).indexed == 73
    yield search
    indices.drop_all(search)


def _collapsed_page(client, text: str, offset: int, limit: int, **filters) -> list[tuple]:
    resp = client.search(indices.alias_name("articles"),
                         queries.search_articles(text, size=limit, offset=offset, **filters))
    return [(h["_source"].get("story_id"), h["_id"], [m["_id"] for m in h["inner_hits"]["members"]["hits"]["hits"]])
            for h in resp["hits"]["hits"]]


def _story_articles(client, text: str, **filters) -> dict:
    """story_id -> ids of every article of the story that matches (no sampling): the members' oracle."""
    resp = client.search(indices.alias_name("articles"), {**queries.search_top_articles(text, size=1000, **filters),
                                                         "_source": ["story_id"]})
    out: dict = {}
    for h in resp["hits"]["hits"]:
        out.setdefault(h["_source"].get("story_id"), set()).add(h["_id"])
    return out


@pytest.mark.engine
def test_run_search_pages_equal_the_one_request_collapse(crowded):
    # the page (stories, their order, their best article) is the collapse's; the members are the story's
    # best-matching articles in publication order, not inner_hits' first matches by date
    for text in ["tesla price cut", "tesla price", "price cut", "price", "rumour"]:
        for filters in [{}, {"sources": ["insideevs", "teslarati"]}, {"since": "25h"}]:
            matches = _story_articles(crowded, text, **filters)
            for offset, limit in [(0, 10), (0, 3), (5, 5), (10, 10), (0, 1)]:
                res = queries.run_search(crowded, text, offset=offset, limit=limit, **filters)
                got = [(h.story_id, h.best_article["id"]) for h in res.stories]
                want = [(s, best) for s, best, _ in _collapsed_page(crowded, text, offset, limit, **filters)]
                assert got == want, (text, offset, limit, filters)
                for hit in res.stories:
                    ids = [m["id"] for m in hit.matching]
                    assert 1 <= len(ids) <= 3 and set(ids) <= matches[hit.story_id] and hit.best_article["id"] in ids
                    dates = [m["published_at"] for m in hit.matching]
                    assert dates == sorted(dates)
                    if hit.story_id is None:
                        assert hit.best_article.get("story_id") is None
    # the big story's 40 articles outrank everything: the page still has 10 stories
    page = queries.run_search(crowded, "tesla price cut")
    assert len(page.stories) == 10 and page.stories[0].story_id == "s-big" and len(page.stories[0].matching) == 3
    assert None in {h.story_id for h in page.stories}  # the articles without a story, as one hit


@pytest.mark.engine
@pytest.mark.parametrize("max_window", [queries.MAX_WINDOW, 30])
def test_an_empty_search_pages_newest_stories_like_the_collapse(crowded, monkeypatch, max_window):
    # no text: newest first, in windows of ranked articles (the engine's collapse when big stories crowd them)
    monkeypatch.setattr(queries, "MAX_WINDOW", max_window)
    for offset, limit in [(0, 10), (0, 3), (5, 5), (10, 10), (0, 1)]:
        for filters in [{}, {"sources": ["insideevs", "teslarati"]}, {"since": "25h"}]:
            res = queries.run_search(crowded, "", offset=offset, limit=limit, **filters)
            got = [(h.story_id, h.best_article["id"], [m["id"] for m in h.matching]) for h in res.stories]
            assert got == _collapsed_page(crowded, "", offset, limit, **filters), (offset, limit, filters)
