"""``aggregator index check`` at 100k articles, against a plain scroll of the same indices.

A dedicated engine (OpenSearch node, port ``AGGREGATOR_BENCH_CHECK_PORT``, default 9271) holds 100k
articles (2k in ``--quick``) in ~47k stories (sizes drawn like the generated web's crawl: about 2.1
articles a story, a few large ones) and a dedup state (a file store) that places them the same way.
Clustering 100k articles for real costs ~10 ms each on this machine (15+ minutes), so the state is written
directly through the store's own records (documents, clusters, aliases of merged ids): the check reads
exactly those, and nothing else of the state.

Measured, each the median of three runs:

* baseline: a plain scroll of both indices (every ``_source``, 5,000 hits a page), the least any
  comparison of the indices must read;
* ``Consistency.check()`` on the consistent indices (what a nightly ``aggregator index check`` does);
* ``Consistency.check(repair=True)`` after drift is injected (1 % of the articles moved to a merged-away
  or wrong story id, 0.5 % of the story documents deleted, 0.5 % orphan story documents), once.
"""

from __future__ import annotations

import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.common import DATA, ROOT, Row, log

PORT = int(os.environ.get("AGGREGATOR_BENCH_CHECK_PORT", "9271"))
PREFIX = "bench-check-"


def _story_sizes(rng: random.Random, n: int) -> list[int]:
    sizes, left = [], n
    while left > 0:
        size = 1 if rng.random() < 0.6 else min(left, 2 + int(rng.expovariate(1 / 2.5)))
        size = min(size, left)
        sizes.append(size)
        left -= size
    return sizes


def build_state(path: Path, n: int, seed: int = 7):
    """A file-store dedup state of ``n`` articles; returns (Deduplicator, list of (id, story, dup))."""
    import hashlib

    from aggregator.dedup import Deduplicator, open_store
    from aggregator.dedup.core import _EMPTY_BLOB, Cluster, Doc

    rng = random.Random(seed)
    store = open_store(f"file:{path}")
    placed = []
    i = 0
    for s, size in enumerate(_story_sizes(rng, n)):
        sid = f"s-{s:07d}"
        story = Cluster(sid, [], float(s), i + 1)
        dup = None
        for _ in range(size):
            aid = hashlib.sha1(f"article-{i}".encode()).hexdigest()
            num = store.doc_number(aid)
            if dup is None or rng.random() < 0.5:
                dup = Cluster(f"d-{i:07d}", [], float(s), num)
                store.put(f"c:{dup.cid}", dup)
            dup.members.append(num)
            story.members.append(num)
            store.put(f"doc:{num}", Doc(num, aid, "electrek" if i % 2 else "cnevpost", f"title {i}",
                                        1.7e9 + i * 60.0, "en", aid.encode()[:20], _EMPTY_BLOB, dup.cid, sid))
            placed.append((aid, sid, dup.cid))
            i += 1
        if size > 1 and rng.random() < 0.1:  # a story that absorbed another: its old id is an alias
            store.put(f"alias:m-{s:07d}", sid)
            story.merged_from.append(f"m-{s:07d}")
        store.put(f"c:{sid}", story)
    store.flush()
    return Deduplicator(store=store), placed


def load_indices(client, dd, placed) -> None:
    from aggregator.search import indices
    from aggregator.search.indexer import Indexer, story_document
    from aggregator.search.spool import Spool

    indices.ensure_indices(client)
    indexer = Indexer(client, Spool(tempfile.mkdtemp(prefix="bench-check-spool-")), chunk_size=2000)
    docs = ({"id": aid, "url": f"https://electrek.co/{aid}/", "source": "electrek", "title": f"title {aid[:8]}",
             "content_hash": aid, "story_id": sid, "dup_id": did, "version": 1} for aid, sid, did in placed)
    with indexer.bulk_load(("articles", "stories")):
        indexer.index_articles(docs)
        alias = indices.alias_name("stories")
        live = sorted({sid for _, sid, _ in placed})
        actions = ({"_op_type": "index", "_index": alias, "_id": sid, "_source": story_document(dd.story(sid))}
                   for sid in live)
        for ok, info in client.bulk(actions, chunk_size=2000):
            if not ok:
                raise RuntimeError(f"story not loaded: {info}")


def inject_drift(client, placed, rng: random.Random) -> dict[str, int]:
    from aggregator.search import indices

    articles, stories = indices.alias_name("articles"), indices.alias_name("stories")
    moved = rng.sample(placed, len(placed) // 100)
    live = sorted({sid for _, sid, _ in placed})
    gone = rng.sample(live, len(live) // 200)
    actions = [{"_op_type": "update", "_index": articles, "_id": aid,
                "_source": {"doc": {"story_id": f"m-{sid[2:]}" if k % 2 else "s-9999999"}}}
               for k, (aid, sid, _) in enumerate(moved)]
    actions += [{"_op_type": "delete", "_index": stories, "_id": sid} for sid in gone]
    actions += [{"_op_type": "index", "_index": stories, "_id": f"orphan-{k}",
                 "_source": {"story_id": f"orphan-{k}", "status": "auto", "member_count": 1,
                             "members": [{"article_id": placed[k * 7][0]}]}} for k in range(len(live) // 200)]
    for ok, info in client.bulk(actions, chunk_size=2000, refresh=True):
        if not ok:
            raise RuntimeError(f"drift not injected: {info}")
    return {"articles moved": len(moved), "stories deleted": len(gone), "orphans": len(live) // 200}


def run(quick: bool) -> list[Row]:
    os.environ["AGGREGATOR_INDEX_PREFIX"] = PREFIX
    from aggregator.engine import LocalEngine
    from aggregator.search import indices
    from aggregator.search.client import connect
    from aggregator.search.consistency import Consistency, scroll

    n = 2_000 if quick else 100_000
    engine = LocalEngine(home=DATA / "engine-check", port=PORT, heap="1g")
    engine.build_dir = (ROOT / "var" / "engine" / "build").resolve()
    status = engine.start()
    log(f"engine: {status.describe()}")
    rows: list[Row] = []
    try:
        client = connect(engine.url)
        indices.drop_all(client, prefix=PREFIX)
        with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
            t0 = time.perf_counter()
            dd, placed = build_state(Path(tmp) / "dedup", n)
            log(f"state of {n} articles in {time.perf_counter() - t0:.0f}s")
            t0 = time.perf_counter()
            load_indices(client, dd, placed)
            log(f"indices loaded in {time.perf_counter() - t0:.0f}s")
            for alias in (indices.alias_name("articles"), indices.alias_name("stories")):
                client.refresh(alias)
            n_stories = client.count(indices.alias_name("stories"))

            def plain_scroll() -> int:
                got = 0
                for alias in (indices.alias_name("articles"), indices.alias_name("stories")):
                    got += sum(1 for _ in scroll(client, alias, {"query": {"match_all": {}}}))
                return got

            checker = Consistency(dd, client)
            base_t, check_t = [], []
            for _ in range(3):  # interleaved: the shared machine's speed drifts within minutes
                t0 = time.perf_counter()
                read = plain_scroll()
                base_t.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                report = checker.check()
                check_t.append(time.perf_counter() - t0)
                if report.drift:
                    raise RuntimeError(f"drift on consistent indices: {report.summary()}")
            base, check = statistics.median(base_t), statistics.median(check_t)
            log(f"plain scroll {base:.2f}s ({read} docs), check {check:.2f}s")
            injected = inject_drift(client, placed, random.Random(3))
            found = checker.check()
            t0 = time.perf_counter()
            repaired = checker.check(repair=True)
            repair_t = time.perf_counter() - t0
            if repaired.drift:
                raise RuntimeError(f"drift left after repair: {repaired.summary()}")
            log(f"repair {repair_t:.2f}s: {found.summary()} -> {dict(repaired.repaired)}")
        size = f"{n:,} articles, {n_stories:,} story documents"
        rows.append(Row("index check", f"full check, {size} (s)", check, base, "s", "plain scroll of both indices",
                        higher_is_better=False,
                        notes=f"median of 3 interleaved runs; check {'/'.join(f'{t:.2f}' for t in check_t)}s, "
                              f"scroll {'/'.join(f'{t:.2f}' for t in base_t)}s; the check reads doc values of "
                              f"articles (no _source) and members of stories, plus one pass over the state; "
                              f"linear: ~{check * 1_000_000 / n / 60:.1f} min at 1M"))
        rows.append(Row("index check", f"check --repair after injected drift, {size} (s)", repair_t, check, "s",
                        "the same check with no drift", higher_is_better=False,
                        notes=f"injected {injected}; found {found.summary()}; wrote {dict(repaired.repaired)}; "
                              "three reads (check, repair's re-read, verification) plus the writes"))
    finally:
        try:
            indices.drop_all(connect(engine.url), prefix=PREFIX)
        finally:
            engine.stop()
    return rows
