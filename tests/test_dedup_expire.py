"""Retention: expired articles keep their clusters but stop matching new articles; state shrinks."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from aggregator.dedup import DedupConfig, Deduplicator, open_store

CORPUS = Path(__file__).parent / "data" / "dedup_corpus.jsonl"
DAY = 86400.0


def _iso(dt: datetime) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def _corpus(old_group: str = "D001", days_earlier: int = 400) -> tuple[list[dict], float]:
    """The labelled corpus with one copy group moved ``days_earlier`` back; and a "now" just after it."""
    rows = [json.loads(x) for x in CORPUS.read_text(encoding="utf-8").splitlines() if x.strip()]
    for r in rows:
        published = datetime.fromisoformat(r["published"].replace("Z", "+00:00"))
        if r["dup_label"] == old_group:
            published -= timedelta(days=days_earlier)
        r["published_at"] = _iso(published)
    rows.sort(key=lambda r: r["published_at"])
    latest = max(datetime.fromisoformat(r["published_at"].replace("Z", "+00:00")) for r in rows)
    return rows, (latest + timedelta(days=1)).timestamp()


def _copy_of(article: dict, new_id: str, now: float) -> dict:
    """A reprint under a new headline, published at ``now``."""
    return dict(article, id=new_id, url=f"https://reprints.example/{new_id}", source="reprints",
                title="Reprint: " + article["title"], published_at=_iso(datetime.fromtimestamp(now, timezone.utc)))


def _state_bytes(dd: Deduplicator) -> int:
    return sum(len(d.blob) for k, d in dd.store.kv.items() if k.startswith("doc:"))


def test_expired_articles_keep_their_story_but_stop_matching():
    rows, now = _corpus()
    old = [r for r in rows if r["dup_label"] == "D001"]
    recent = next(r for r in rows if r["dup_label"] == "D005")
    control, dd = Deduplicator(), Deduplicator()
    for r in rows:
        control.add(r)
        dd.add(r)
    old_story, old_dup = dd.story_of(old[0]["id"]), dd.dup_of(old[0]["id"])
    members_before = [m.article_id for m in dd.story(old_story).members]
    for index in dd.store.lsh.values():
        index.compact()  # pending entries are counted at an estimate; compare folded arrays
    before, lsh_before = _state_bytes(dd), dd.store.lsh_bytes()

    result = dd.expire(now=now)
    assert (result.expired, result.scanned) == (len(old), len(rows))
    assert result.freed_bytes == before - _state_bytes(dd) > 0
    assert result.lsh_entries > 0 and dd.store.lsh_bytes() < lsh_before

    # the story and copy clusters are as they were: story documents keep listing the expired articles
    assert [m.article_id for m in dd.story(old_story).members] == members_before
    assert (dd.story_of(old[0]["id"]), dd.dup_of(old[0]["id"])) == (old_story, old_dup)
    # re-crawling an expired article unchanged gives its clusters back
    again = dd.add(old[0])
    assert (again.story_id, again.dup_id, again.new_story) == (old_story, old_dup, False)
    # a new reprint of an expired article starts its own story; without expiring it would join
    assert control.add(_copy_of(old[0], "reprint-old", now)).dup_id == old_dup
    fresh = dd.add(_copy_of(old[0], "reprint-old", now))
    assert fresh.new_dup and fresh.new_story
    # articles inside the retention window still attract their copies
    joined = dd.add(_copy_of(recent, "reprint-recent", now))
    assert (joined.dup_id, joined.new_story) == (dd.dup_of(recent["id"]), False)


def test_expire_runs_once_a_day_and_honours_none():
    rows, now = _corpus()
    dd = Deduplicator()
    for r in rows:
        dd.add(r)
    assert dd.expire(now=now).expired == 3
    assert dd.expire(now=now + 3600).scanned == 0  # less than a day later: not even a scan
    assert dd.expire(now=now + 3600, force=True).expired == 0  # nothing new to expire
    keep_all = Deduplicator(DedupConfig(retention_days=None))
    for r in rows:
        keep_all.add(r)
    assert keep_all.expire(now=now + 1000 * DAY, force=True).expired == 0


def test_expired_state_survives_a_file_store_reload(tmp_path):
    rows, now = _corpus()
    with Deduplicator(store=open_store(f"file:{tmp_path}")) as dd:
        for r in rows:
            dd.add(r)
        story_id = dd.story_of("a0000")
        assert dd.expire(now=now).expired == 3
    reloaded = Deduplicator(store=open_store(f"file:{tmp_path}"))
    assert reloaded.store.get(f"doc:{reloaded.store.doc_number('a0000', create=False)}").expired
    assert {"a0000", "a0001", "a0002"} <= {m.article_id for m in reloaded.story(story_id).members}
    assert reloaded.expire(now=now + 3600).scanned == 0  # the time of the last run was saved too
    assert reloaded.add(_copy_of(next(r for r in rows if r["id"] == "a0000"), "late-copy", now)).new_story


def test_the_dedup_pipeline_expires_on_open(tmp_path):
    from scrapy.utils.test import get_crawler

    from pipelines.dedup import DedupPipeline

    rows, now = _corpus(days_earlier=0)
    shift = datetime.now(timezone.utc).timestamp() - now - 200 * DAY  # the whole corpus 200 days old
    for r in rows[:100]:
        published = datetime.fromisoformat(r["published_at"].replace("Z", "+00:00")).timestamp() + shift
        r["published_at"] = _iso(datetime.fromtimestamp(published, timezone.utc))
    with Deduplicator(store=open_store(f"file:{tmp_path}")) as dd:
        for r in rows[:100]:
            dd.add(r)
    crawler = get_crawler(settings_dict={"AGGREGATOR_DEDUP_STORE": f"file:{tmp_path}",
                                         "AGGREGATOR_INDEX_ENABLED": False,
                                         "AGGREGATOR_DEDUP_RETENTION_DAYS": 180})
    pipe = DedupPipeline.from_crawler(crawler)
    pipe.open_spider()
    assert crawler.stats.get_value("dedup/expired") == 100
    pipe.spider_closed()


@pytest.mark.redis
def test_expire_on_the_redis_store(redis_url):
    rows, now = _corpus()
    dd = Deduplicator(store=open_store(redis_url + "?prefix=expire-test"))
    for r in rows:
        dd.add(r)
    assert dd.expire(now=now, batch=50).expired == 3
    assert dd.add(_copy_of(next(r for r in rows if r["id"] == "a0000"), "late-copy", now)).new_story
    assert {"a0000", "a0001", "a0002"} <= {m.article_id for m in dd.story(dd.story_of("a0000")).members}
