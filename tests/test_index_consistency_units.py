"""The pieces that keep the indices in line with the dedup state, each on the real engine, no crawl."""

from __future__ import annotations

import pytest

from aggregator.dedup import Deduplicator, open_store
from aggregator.items import article_id
from aggregator.search.consistency import Consistency, Scope
from aggregator.search.indexer import Indexer, story_document
from aggregator.search.spool import Spool

pytestmark = pytest.mark.engine
#: nothing here needs a script or _update_by_query: where the suite has an Elasticsearch node
#: (tests/conftest.py parametrizes ``search`` by this), these run on it as well as on OpenSearch
ENGINE_FLAVORS = ("opensearch", "elasticsearch")

# a wire report long enough to be judged as a copy (the copy tier needs 40 distinct shingles per side)
CATL = ("CATL said on Tuesday its second-generation sodium-ion cell reaches 175 Wh/kg and keeps 90 percent "
        "of its capacity at minus 20 degrees Celsius, with mass production planned for 2027 in Ningde. "
        "The battery maker told analysts that the new chemistry avoids lithium and cobalt entirely, which "
        "lowers the cost of a pack by roughly a fifth compared with its lithium iron phosphate products. "
        "Chief technology officer Gao Huan said the first customers would be two domestic carmakers building "
        "small city cars, and that energy storage projects in Inner Mongolia would follow later that year. "
        "Shares of the Shenzhen-listed company rose 3.2 percent in afternoon trading after the announcement.")
RIVIAN = ("Rivian opened orders for the R2 crossover in Europe on Monday, priced from 45,000 euros, with "
          "deliveries from Normal, Illinois, starting in the first half of next year. ") * 4


def article(n: int, body: str, **over) -> dict:
    url = f"https://electrek.co/2025/01/{n:02d}/story-{n}/"
    doc = {"id": article_id(url), "url": url, "source": "electrek" if n % 2 else "cnevpost",
           "title": body[:40], "body": body, "language": "en", "published_at": "2025-01-02T10:00:00Z",
           "content_hash": f"hash-{n}", "version": 1}
    doc.update(over)
    return doc


def test_label_only_change_updates_an_unchanged_article(client, tmp_path, index_prefix):
    indexer = Indexer(client, Spool(tmp_path / "spool"), refresh=True)
    a = article(1, CATL, story_id="s-old", dup_id="d-old")
    indexer.index_articles([a])
    result = indexer.index_articles([dict(a, story_id="s-new", dup_id="d-new")])
    assert (result.updated, result.unchanged) == (1, 0)
    stored = client.get(f"{index_prefix}articles", a["id"])["_source"]
    assert (stored["story_id"], stored["dup_id"], stored["body"]) == ("s-new", "d-new", CATL)
    assert indexer.index_articles([dict(a, story_id="s-new", dup_id="d-new")]).unchanged == 1


def test_relabels_wait_in_the_spool_while_the_engine_is_away(client, tmp_path, index_prefix):
    spool = Spool(tmp_path / "spool")
    Indexer(client, spool, refresh=True).index_articles([article(1, CATL, story_id="s1", dup_id="d1")])
    away = Indexer(None, spool)  # no client: the engine is down
    result = away.relabel_articles([{"id": article(1, CATL)["id"], "story_id": "s2", "dup_id": "d2"}])
    assert result.spooled == 1
    replay = Indexer(client, spool, refresh=True).replay()
    assert replay.replayed == 1 and not spool.segments()
    stored = client.get(f"{index_prefix}articles", article(1, CATL)["id"])["_source"]
    assert (stored["story_id"], stored["dup_id"]) == ("s2", "d2")


def test_check_counts_each_kind_of_drift_and_repair_removes_it(client, tmp_path, index_prefix):
    dd = Deduplicator(store=open_store("memory:"))
    arts = [article(n, CATL if n < 3 else RIVIAN) for n in range(5)]
    placed = {a["id"]: dd.add(a) for a in arts}
    catl = placed[arts[0]["id"]].story_id
    assert len({placed[a["id"]].story_id for a in arts[:3]}) == 1, "the copies must form one story"
    indexer = Indexer(client, Spool(tmp_path / "spool"), refresh=True)
    docs = [dict(a, story_id=placed[a["id"]].story_id, dup_id=placed[a["id"]].dup_id) for a in arts]
    docs[1]["story_id"] = "s-gone"  # an id the state does not hold
    docs[4]["dup_id"] = "d-stale"
    stray = article(9, "An article indexed after the last checkpoint of a crawl that was then killed. " * 6)
    indexer.index_articles([*docs, dict(stray, story_id="s-lost", dup_id="d-lost")])
    rivian = placed[arts[3]["id"]].story_id
    indexer.upsert_stories([story_document(dd.story(catl))])  # the Rivian story has no document
    indexer.upsert_stories([{**story_document(dd.story(catl)), "story_id": "s-lost"}])  # lists CATL's members

    report = Consistency(dd, client, indexer).check()
    assert report.counts["article_story_stale"] == 1
    assert report.counts["article_dup_stale"] == 1
    assert report.counts["article_unknown"] == 1
    assert report.counts["story_missing"] == 1 and rivian in report.examples["story_missing"]
    assert report.counts["story_orphan"] == 1
    assert report.counts["article_listed_twice"] == 3
    # a scoped check around the stray article sees the same story-level drift
    scoped = Consistency(dd, client, indexer).check(scope=Scope(article_ids={stray["id"]}))
    assert scoped.counts["article_unknown"] == 1 and scoped.counts["story_orphan"] == 1

    repaired = Consistency(dd, client, indexer).check(repair=True)
    assert repaired.drift == 0, repaired.summary()
    assert repaired.clustered == 1  # the stray article joined the state from its indexed text
    assert dd.story_of(stray["id"]) is not None
    assert client.get(f"{index_prefix}stories", "s-lost") is None
    assert Consistency(dd, client, indexer).check().drift == 0


def test_story_documents_are_written_without_scripts(client, tmp_path, index_prefix):
    """Plain create/index ops (a minimal Elasticsearch has no painless): an older state never overwrites
    a newer one, and an editor's status survives an automatic rebuild."""
    dd = Deduplicator(store=open_store("memory:"))
    sid = dd.add(article(1, CATL)).story_id
    indexer = Indexer(client, Spool(tmp_path / "spool"), refresh=True)
    newer = story_document(dd.story(sid), updated_at="2026-01-02T00:00:00.000Z")
    older = story_document(dd.story(sid), updated_at="2026-01-01T00:00:00.000Z")
    assert indexer.upsert_stories([newer]).indexed == 1
    assert indexer.upsert_stories([older]).unchanged == 1
    alias = f"{index_prefix}stories"
    assert client.get(alias, sid)["_source"]["updated_at"] == newer["updated_at"]
    client.put(alias, sid, {**client.get(alias, sid)["_source"], "status": "edited"}, refresh=True)
    later = story_document(dd.story(sid), updated_at="2026-01-03T00:00:00.000Z")
    assert indexer.upsert_stories([later]).updated == 1
    stored = client.get(alias, sid)["_source"]
    assert (stored["status"], stored["updated_at"]) == ("edited", later["updated_at"])


def test_scoped_check_follows_a_long_chain_of_stale_documents(client, tmp_path, index_prefix):
    """A scoped check (a crawl's reconcile after a crash) grows its scope until it is closed: stale story
    documents each listing a member of the next reach drift far from the article it started from."""
    import random

    dd = Deduplicator(store=open_store("memory:"))
    arts = []
    for n in range(1, 10):
        rng = random.Random(n)  # texts of their own: nine stories of one article each
        arts.append(article(n, f"Note {n}. " + " ".join(f"w{rng.randrange(10**6)}" for _ in range(150)) + "."))
    placed = [dd.add(a) for a in arts]
    assert len({p.story_id for p in placed}) == len(arts)
    indexer = Indexer(client, Spool(tmp_path / "spool"), refresh=True)
    indexer.index_articles([dict(a, story_id=p.story_id, dup_id=p.dup_id) for a, p in zip(arts, placed, strict=True)])
    indexer.upsert_stories([story_document(dd.story(p.story_id)) for p in placed])
    # a crawl killed before its checkpoint wrote documents of clusters the state never kept: each lists
    # two neighbours, a chain of eight from the first article to the last
    stale = [{**story_document(dd.story(placed[i].story_id)), "story_id": f"s-lost-{i}",
              "members": [story_document(dd.story(placed[j].story_id))["members"][0] for j in (i, i + 1)]}
             for i in range(len(arts) - 1)]
    indexer.upsert_stories(stale)
    report = Consistency(dd, client, indexer).check(repair=True, scope=Scope(article_ids={arts[0]["id"]}))
    assert report.drift == 0, report.summary()
    assert report.repaired["stories_deleted"] == len(stale)
    assert Consistency(dd, client, indexer).check().drift == 0


def test_a_merge_made_while_the_engine_is_away_reaches_every_article_through_the_spool(
        search, search_url, index_prefix, tmp_path):
    """The dedup and index pipelines of a real (unstarted) crawler, the engine away: a wire text merges
    the stories of two excerpts of it placed before (benchmarks.web.bridge_articles); every write, the
    relabel of the earlier articles and the delete of the absorbed story included, waits in the spool. The
    next open replays it in order and the indices agree with the state."""
    import sys
    from pathlib import Path

    from scrapy.utils.test import get_crawler

    from pipelines.dedup import DedupPipeline
    from pipelines.index import IndexPipeline

    root = str(Path(__file__).resolve().parents[1])
    if root not in sys.path:  # the benchmarks package sits beside the installed one
        sys.path.insert(0, root)
    from benchmarks.web import bridge_articles

    items = []
    for n, a in enumerate(bridge_articles(1)):  # head, tail, then the full text
        url = f"https://{'electrek.co' if a['source'] == 'electrek' else 'cnevpost.com'}/2025/10/{n + 1}/bridge/"
        items.append({"id": article_id(url), "url": url, "source": a["source"], "title": a["title"],
                      "body": a["body"], "language": "en", "published_at": a["published_at"],
                      "content_hash": f"hash-{n}", "version": 1})
    settings = {"AGGREGATOR_VAR": str(tmp_path), "AGGREGATOR_INDEX_BATCH": 1}
    down = get_crawler(settings_dict={**settings, "AGGREGATOR_SEARCH_URL": "http://127.0.0.1:9"})
    dedup, index = DedupPipeline.from_crawler(down), IndexPipeline.from_crawler(down)
    dedup.open_spider()
    index.open_spider()
    try:
        placed = [dict(index.process_item(dedup.process_item(dict(item)))) for item in items]
        index.close_spider()
        dd = dedup.dd
        survivor = dd.story_of(items[0]["id"])
        merged_away = {p["story_id"] for p in placed} - {survivor}
        assert down.stats.get_value("dedup/merged_stories") == 1 and len(merged_away) == 1, placed
        assert dd.story_of(items[1]["id"]) == dd.story_of(items[2]["id"]) == survivor
        assert down.stats.get_value("index/spooled") >= 3 and not down.stats.get_value("index/indexed")

        up = get_crawler(settings_dict={**settings, "AGGREGATOR_SEARCH_URL": search_url})
        replaying = IndexPipeline.from_crawler(up)
        replaying.open_spider()  # replays the spool, in order
        replaying.close_spider()
        assert up.stats.get_value("index/replayed") >= 3
        report = Consistency(dd, search).check()
        assert report.drift == 0 and not report.counts["article_not_indexed"], report.summary()
        for item in items:
            stored = search.get(f"{index_prefix}articles", item["id"])["_source"]
            assert (stored["story_id"], stored["dup_id"]) == (survivor, dd.dup_of(item["id"]))
        assert search.get(f"{index_prefix}stories", merged_away.pop()) is None
        assert search.get(f"{index_prefix}stories", survivor)["_source"]["member_count"] == 3
    finally:
        dedup.spider_closed()
