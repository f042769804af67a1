"""RedisStore against a real redis-server (started here on a free port, in a temp dir)."""

from __future__ import annotations

import json
import multiprocessing as mp
from pathlib import Path

import pytest

from aggregator.dedup import Deduplicator, cluster_articles, open_store

pytestmark = pytest.mark.redis
CORPUS = Path(__file__).parent / "data" / "dedup_corpus.jsonl"


def _articles() -> list[dict]:
    rows = [json.loads(x) for x in CORPUS.read_text(encoding="utf-8").splitlines() if x.strip()]
    for r in rows:
        r["published_at"] = r["published"]
    return sorted(rows, key=lambda r: r["published"])


def test_redis_incremental_and_decisions(redis_url: str) -> None:
    spec = f"{redis_url}?prefix=t1"
    arts = _articles()[:60]
    dd = Deduplicator(store=open_store(spec))
    first = {a["id"]: dd.add(a) for a in arts[:30]}
    dd2 = Deduplicator(store=open_store(spec))  # another crawler process would do the same
    for a in arts[30:]:
        dd2.add(a)
    for aid in first:
        assert dd2.story_of(aid) == dd.story_of(aid)
    sid = dd.story_of(arts[0]["id"])
    dd.apply_decision({"action": "confirm", "story_id": sid})
    assert dd2.story(sid).confirmed


def _worker(url: str, arts: list[dict], q: mp.Queue) -> None:
    dd = Deduplicator(store=open_store(url))
    q.put({a["id"]: dd.add(a).story_id for a in arts})


def test_two_processes_share_one_index(redis_url: str) -> None:
    spec = f"{redis_url}?prefix=t2"
    arts = _articles()
    half_a, half_b = arts[0::2], arts[1::2]  # copies of one story land in both processes
    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(spec, part, q)) for part in (half_a, half_b)]
    for p in procs:
        p.start()
    results: dict[str, str] = {}
    for _ in procs:
        results.update(q.get(timeout=300))
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    dd = Deduplicator(store=open_store(spec))
    final = {a["id"]: dd.story_of(a["id"]) for a in arts}
    assert all(final.values())
    # consistency: one id per article, every story's member list agrees with the articles' ids
    for sid in set(final.values()):
        story = dd.story(sid)
        assert story is not None
        assert {m.article_id for m in story.members} == {i for i, s in final.items() if s == sid}
    # and concurrent insertion still separates the labeled stories (no hard negative merged)
    labels = {a["id"]: a["story_label"] for a in arts}
    by_story: dict[str, set[str]] = {}
    for i, s in final.items():
        by_story.setdefault(s, set()).add(labels[i])
    titles = {a["id"]: a["title"] for a in arts}
    mixed = [sorted((titles[i], [(titles[o], t, sc) for o, t, sc in dd.links_of(i)])
                    for i, s in final.items() if s == sid) for sid, v in by_story.items() if len(v) > 1]
    assert not mixed, mixed
    # quality close to the single-process batch
    single = cluster_articles(arts, "story")
    assert len(set(final.values())) <= len(set(single.values())) + 5
