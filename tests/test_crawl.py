"""End to end with the real Scrapy engine and the real local search engine, on the offline fixture web.

Each crawl runs the production spiders, pipelines and settings in a child process (tests/crawling.py);
the outlets' hosts are mapped to the local fixture server, so no test touches the internet.
"""

from __future__ import annotations

import itertools
import json
import shutil
from pathlib import Path

import pytest
from crawling import crawl

from aggregator.fixtureweb import FixtureWeb

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = ROOT / "tests" / "fixtures" / "expected" / "clusters.json"
pytestmark = pytest.mark.engine


def _sources() -> list[str]:
    from aggregator.sources import load_sources

    return [s.name for s in load_sources() if (ROOT / "tests" / "fixtures" / "web" / s.name).is_dir()]


def _overrides(web: FixtureWeb, var: Path, engine: str, **extra) -> dict:
    from aggregator.cli import offline_overrides

    return {**offline_overrides(web.host_map()), "AGGREGATOR_VAR": str(var), "AGGREGATOR_SEARCH_URL": engine,
            "LOG_LEVEL": "INFO", **extra}


def _env(var: Path, engine: str, prefix: str) -> dict[str, str]:
    return {"AGGREGATOR_VAR": str(var), "AGGREGATOR_SEARCH_URL": engine, "AGGREGATOR_INDEX_PREFIX": prefix}


def _articles(search) -> dict[str, dict]:
    from aggregator.search.indices import alias_name

    search.refresh(alias_name("articles"))
    return {d["_source"]["canonical_url"]: d["_source"] for d in search.scan(alias_name("articles"))}


@pytest.fixture(scope="module")
def first_crawl(engine, tmp_path_factory):
    """One full crawl of every fixture source, shared by the read-only tests of this module."""
    import uuid

    var = tmp_path_factory.mktemp("var")
    prefix = f"t{uuid.uuid4().hex[:10]}-"
    with FixtureWeb() as web:
        stats = crawl(_sources(), _overrides(web, var, engine), _env(var, engine, prefix))
    return {"var": var, "prefix": prefix, "stats": stats}


@pytest.fixture
def crawled(first_crawl, search, monkeypatch):
    monkeypatch.setenv("AGGREGATOR_INDEX_PREFIX", first_crawl["prefix"])
    return first_crawl


def _total(stats: dict, key: str) -> int:
    return sum(int(s.get(key, 0) or 0) for s in stats.values())


def test_every_source_yields_articles_and_they_are_indexed(crawled, search):
    stats = crawled["stats"]
    assert set(stats) == set(_sources())
    for name, s in stats.items():
        assert s.get("item_scraped_count", 0) >= 1, f"{name} yielded no article: {s}"
    articles = _articles(search)
    assert len(articles) == _total(stats, "item_scraped_count")
    assert _total(stats, "index/indexed") == len(articles)
    one = next(iter(articles.values()))
    for field in ("id", "title", "body", "source", "canonical_url", "dup_id", "story_id", "version", "fetched_at"):
        assert one.get(field), field
    assert one["version"] == 1


def test_every_article_page_is_archived(crawled, search):
    from aggregator.archive import iter_archive

    stats = crawled["stats"]
    archived = {p.url for p in iter_archive(crawled["var"] / "archive")}
    assert _total(stats, "archive/pages") == len(archived) and not _total(stats, "archive/failed")
    assert {a["url"] for a in _articles(search).values()} <= archived


def test_bad_input_is_dropped_with_a_named_reason(crawled):
    stats = crawled["stats"]
    reasons = {k for s in stats.values() for k in s if "/dropped/" in k}
    # the fixture web carries a broken feed, a non-article page, an over-sized page and an off-site redirect
    assert any(k.startswith("crawl/dropped/malformed") for k in reasons), reasons
    assert any(k.startswith("extract/dropped/") for k in reasons), reasons
    assert "crawl/dropped/too_large" in reasons, reasons
    assert _total(stats, "offsite/filtered") >= 1


def test_copies_share_a_dup_id_and_coverage_shares_a_story_id(crawled, search):
    labels = json.loads(EXPECTED.read_text())
    articles = _articles(search)
    found = {url: articles[url] for url in labels if url in articles}
    assert len(found) >= 0.9 * len(labels), sorted(set(labels) - set(articles))
    for tier, field in (("dup", "dup_id"), ("story", "story_id")):
        same = diff = cross = cross_linked = 0
        for (u1, a1), (u2, a2) in itertools.combinations(found.items(), 2):
            if labels[u1][tier] == labels[u2][tier]:
                if a1["language"] != a2["language"]:
                    # linking reports across languages is best effort; merging different events never is
                    cross += 1
                    cross_linked += a1[field] == a2[field]
                    continue
                same += 1
                assert a1[field] == a2[field], f"{tier}: {u1} and {u2} should share {field}"
            elif labels[u1]["story"] != labels[u2]["story"]:
                diff += 1
                assert a1[field] != a2[field], f"{tier}: {u1} and {u2} must not share {field}"
        assert same >= 1 and diff >= 1
        assert cross == 0 or cross_linked >= 1, f"{tier}: no report linked across languages"


def test_stories_index_has_one_doc_per_story(crawled, search):
    from aggregator.search.indices import alias_name

    articles = _articles(search)
    search.refresh(alias_name("stories"))
    stories = {d["_id"]: d["_source"] for d in search.scan(alias_name("stories"))}
    live = {sid: s for sid, s in stories.items() if s.get("status") != "merged"}
    assert set(live) == {a["story_id"] for a in articles.values()}
    for sid, story in live.items():
        members = [a for a in articles.values() if a["story_id"] == sid]
        assert story["member_count"] == len(members)
        assert set(story["sources"]) == {a["source"] for a in members}
        # members crawled by other spiders of the same run are linked too
        assert all(m.get("url") for m in story["members"]), story["members"]


def test_recrawl_of_unchanged_web_adds_and_updates_nothing(crawled, search, engine):
    before = _articles(search)
    var = crawled["var"]
    with FixtureWeb() as web:
        stats = crawl(_sources(), _overrides(web, var, engine, AGGREGATOR_RECRAWL_AFTER=0),
                      _env(var, engine, crawled["prefix"]))
    assert _total(stats, "crawl/not_modified") >= len(before) * 0.8
    assert _total(stats, "normalize/new") == 0 and _total(stats, "normalize/updated") == 0
    after = _articles(search)
    assert set(after) == set(before)
    assert all(a["version"] == 1 for a in after.values())


def test_changed_article_is_an_update_not_a_new_article(engine, search, index_prefix, tmp_path):
    web_root = tmp_path / "web"
    shutil.copytree(ROOT / "tests" / "fixtures" / "web" / "electrek", web_root / "electrek")
    var = tmp_path / "var"
    with FixtureWeb(root=web_root) as web:
        crawl(["electrek"], _overrides(web, var, engine), _env(var, engine, index_prefix))
        before = _articles(search)
        page = next(p for p in sorted((web_root / "electrek").rglob("*.html"))
                    if "<p>" in p.read_text(errors="ignore") and any(
                        a["url"].rstrip("/").endswith(p.parent.name) for a in before.values()))
        html = page.read_text()
        page.write_text(html.replace("<p>", "<p>Update: the company confirmed the figures on Tuesday. ", 1))
        stats = crawl(["electrek"], _overrides(web, var, engine, AGGREGATOR_RECRAWL_AFTER=0),
                      _env(var, engine, index_prefix))
    after = _articles(search)
    assert set(after) == set(before)
    assert stats["electrek"].get("normalize/updated") == 1
    changed = [a for a in after.values() if a["version"] == 2]
    assert len(changed) == 1 and "confirmed the figures" in changed[0]["body"]
    assert changed[0]["updated_at"]


def test_engine_down_spools_and_next_crawl_replays(engine, search, index_prefix, tmp_path):
    var = tmp_path / "var"
    dead = "http://127.0.0.1:9"  # discard port: nothing answers
    with FixtureWeb() as web:
        stats = crawl(["electrek"], _overrides(web, var, dead), _env(var, dead, index_prefix))
        scraped = stats["electrek"]["item_scraped_count"]
        assert stats["electrek"].get("index/spooled") == scraped
        assert (var / "spool").exists()
        stats2 = crawl(["electrek"], _overrides(web, var, engine, AGGREGATOR_RECRAWL_AFTER=0),
                       _env(var, engine, index_prefix))
    assert stats2["electrek"].get("index/replayed", 0) >= scraped
    assert len(_articles(search)) == scraped


def test_review_page_renders_every_crawled_story(crawled, search):
    from starlette.testclient import TestClient

    from aggregator.review.app import Settings, create_app
    from aggregator.search.indices import alias_name

    client = TestClient(create_app(search, Settings(secret="s" * 40, public=True)))
    assert client.get("/").status_code == 200
    story_ids = {d["_id"] for d in search.scan(alias_name("stories"))}
    assert story_ids
    for story_id in story_ids:
        page = client.get(f"/story/{story_id}")
        assert page.status_code == 200, (story_id, page.text[:500])
        assert story_id in page.text
