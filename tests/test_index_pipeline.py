"""The index pipeline class with a real (unstarted) Scrapy crawler and the real engine."""

from __future__ import annotations

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from aggregator.dedup import Member, Story
from aggregator.items import article_id
from aggregator.search import indices
from aggregator.search.spool import Spool
from pipelines.index import IndexPipeline
from pipelines.signals import articles_indexed

#: the tests on the search fixture run on OpenSearch and on Elasticsearch (tests/conftest.py)
ENGINE_FLAVORS = ("opensearch", "elasticsearch")


def article(n: int, story_id: str = "s1") -> dict:
    url = f"https://electrek.co/a{n}"
    return {"id": article_id(url), "url": url, "source": "electrek", "title": f"Polestar news {n}",
            "body": "body", "published_at": f"2025-02-{n + 1:02d}T08:00:00Z", "content_hash": f"h{n}",
            "version": 1, "dup_id": f"d{n}", "story_id": story_id}


def crawler_for(url: str, tmp_path, **settings):
    return get_crawler(settings_dict={"AGGREGATOR_SEARCH_URL": url, "AGGREGATOR_VAR": str(tmp_path),
                                      "AGGREGATOR_INDEX_BATCH": 3, **settings})


def test_switched_off_by_setting(tmp_path):
    with pytest.raises(NotConfigured):
        IndexPipeline.from_crawler(crawler_for("http://127.0.0.1:1", tmp_path, AGGREGATOR_INDEX_ENABLED=False))


@pytest.mark.engine
def test_batches_stories_stats_and_signal(search, search_url, index_prefix, tmp_path):
    crawler = crawler_for(search_url, tmp_path)
    signalled: list[int] = []
    crawler.signals.connect(lambda items: signalled.append(len(items)), signal=articles_indexed, weak=False)
    pipe = IndexPipeline.from_crawler(crawler)
    pipe.open_spider()
    arts = [article(n) for n in range(5)]
    members: list[Member] = []
    for n, a in enumerate(arts):
        members.append(Member(a["id"], "electrek", a["title"], a["published_at"], a["dup_id"], 0.9))
        story = Story("s1", list(members), arts[0]["id"], [], False)
        item = dict(a, _story=story, _merged_story_ids=["s0"] if n == 4 else [])
        returned = pipe.process_item(item)
        assert "_story" not in returned
    assert signalled == [3]  # one batch of AGGREGATOR_INDEX_BATCH
    pipe.close_spider()
    assert signalled == [3, 2]

    stats = crawler.stats.get_stats()
    assert stats["index/indexed"] == 5 and "index/failed" not in stats
    search.refresh(f"{index_prefix}*")
    assert search.count(f"{index_prefix}articles") == 5
    story = search.get(f"{index_prefix}stories", "s1")["_source"]
    assert story["member_count"] == 5 and story["canonical_url"] == arts[0]["url"]

    # a second crawl of the same pages changes nothing
    again = crawler_for(search_url, tmp_path)
    pipe2 = IndexPipeline.from_crawler(again)
    pipe2.open_spider()
    for a in arts:
        pipe2.process_item(dict(a))
    pipe2.close_spider()
    assert again.stats.get_value("index/unchanged") == 5 and again.stats.get_value("index/indexed") is None
    indices.drop_all(search)


@pytest.mark.engine
def test_engine_away_spools_then_next_open_replays(search, search_url, index_prefix, tmp_path):
    down = crawler_for("http://127.0.0.1:9", tmp_path)  # nothing listens on the discard port
    pipe = IndexPipeline.from_crawler(down)
    pipe.open_spider()
    for n in range(4):
        pipe.process_item(article(n))
    pipe.close_spider()
    assert down.stats.get_value("index/spooled") == 4
    assert down.stats.get_value("index/engine_unavailable") == 1
    assert Spool(tmp_path / "spool").size().documents == 4

    up = crawler_for(search_url, tmp_path)
    pipe = IndexPipeline.from_crawler(up)
    pipe.open_spider()
    assert up.stats.get_value("index/replayed") == 4
    pipe.close_spider()
    search.refresh(f"{index_prefix}articles")
    assert search.count(f"{index_prefix}articles") == 4
    assert not Spool(tmp_path / "spool").segments()
    indices.drop_all(search)


@pytest.mark.engine
def test_story_reference_is_read_when_the_batch_is_written(search, search_url, index_prefix, tmp_path):
    from aggregator.dedup import Deduplicator, open_store
    from pipelines.dedup import StoryRef

    body = ("CATL said on Tuesday its second-generation sodium-ion cell reaches 175 Wh/kg and keeps 90 percent "
            "of its capacity at minus 20 degrees Celsius, with mass production planned for 2027 in Ningde. ") * 4
    dd = Deduplicator(store=open_store("memory:"))
    crawler = crawler_for(search_url, tmp_path, AGGREGATOR_INDEX_BATCH=10)
    pipe = IndexPipeline.from_crawler(crawler)
    pipe.open_spider()
    copies = [dict(article(n), title="CATL sodium-ion cell reaches 175 Wh/kg", body=body, language="en")
              for n in range(4)]
    for a in copies[:2]:
        placed = dd.add(a)
        item = dict(a, dup_id=placed.dup_id, story_id=placed.story_id, _story=StoryRef(dd, placed.story_id))
        assert "_story" not in pipe.process_item(item)
    for a in copies[2:]:  # placed after the items went by, before their batch is written
        dd.add(a)
    pipe.close_spider()
    search.refresh(f"{index_prefix}*")
    story = search.get(f"{index_prefix}stories", placed.story_id)["_source"]
    assert story["member_count"] == 4
    assert {m["article_id"] for m in story["members"]} == {a["id"] for a in copies}
    indices.drop_all(search)
