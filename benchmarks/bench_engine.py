"""Indexing and search against a dedicated local engine (OpenSearch node on port 9270, 1 GB heap).

Indexing: articles/s through the project's bulk path (``Indexer.index_articles``: create ops, a
realtime read and a guarded index op only for articles already stored, chunks of 500) vs one
``client.put`` per document, plus the client's raw ``bulk`` helper with plain index operations.
Search: p50/p95 client-side latency of the project's query bodies
(``aggregator.search.queries``) at the full corpus size, vs a plain ``match`` query on ``body``.
"""

from __future__ import annotations

import hashlib
import os
import random
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.common import DATA, ROOT, Row, log, pct
from benchmarks.corpus import ensure_corpus, read_corpus

PORT = 9270
PREFIX = "bench-"
TEXTS = ["tesla price cut", "byd seal deliveries", "solid-state battery", "nio battery swap stations",
         "xiaomi su7 orders", "catl sodium-ion cells", "tariffs chinese electric cars", "rivian r2 launch",
         "recall software issue", "lfp pack range", "fast charger kw", "gross margin quarter"]


def _doc(art: dict, now: str) -> dict:
    url = art["url"]
    return {
        "id": hashlib.sha1(url.encode()).hexdigest(), "url": url, "canonical_url": url, "source": art["source"],
        "title": art["title"], "body": art["body"], "lead": art["lead"], "authors": art["authors"],
        "published_at": art["published_at"], "language": "en", "tags": art["tags"],
        "word_count": art["body"].count(" ") + 1, "fetched_at": now,
        "content_hash": hashlib.sha1((art["title"] + art["body"]).encode()).hexdigest(),
        "dup_id": "d-" + art["group"], "story_id": "s-" + art["group"], "version": 1,
    }


def _batches(path: Path, limit: int, size: int, now: str, offset: int = 0):
    batch = []
    for i, art in enumerate(read_corpus(path, offset + limit)):
        if i < offset:
            continue
        batch.append(_doc(art, now))
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _query_set(stories: list[str]):
    rng = random.Random(5)
    try:
        from aggregator.search import queries as q
    except ImportError:
        q = None
    art, sto = PREFIX + "articles", PREFIX + "stories"
    if q is None:  # fallback bodies (the project's module is not there)
        return [("multi_match collapsed by story_id (fallback)", art, lambda: {
            "query": {"multi_match": {"query": rng.choice(TEXTS), "fields": ["title^3", "lead^2", "body"]}},
            "collapse": {"field": "story_id"}, "size": 10}),
            ("latest (fallback)", art,
             lambda: {"sort": [{"published_at": "desc"}], "collapse": {"field": "story_id"}, "size": 20}),
            ("terms agg per source (fallback)", art,
             lambda: {"size": 0, "aggs": {"s": {"terms": {"field": "source"}}}})]
    return [
        ("search_articles(text)", art, lambda: q.search_articles(rng.choice(TEXTS))),
        ("search_articles(text, since, sources, languages)", art,
         lambda: q.search_articles(rng.choice(TEXTS), since="2025-06-01", sources=["electrek", "insideevs"],
                                   languages=["en"])),
        ("latest_stories()", sto, lambda: q.latest_stories()),
        ("story_members(story_id)", art, lambda: q.story_members(rng.choice(stories))),
        ("stories_by_source(source, month)", sto,
         lambda: q.stories_by_source(rng.choice(["electrek", "cnevpost", "reuters"]), since="2025-03-01",
                                     until="2025-03-31")),
        ("counts_per_source()", art, lambda: q.counts_per_source()),
        ("counts_per_day(range)", art, lambda: q.counts_per_day(since="2025-10-01", until="2025-11-20")),
    ]


def _latency(client, index: str, make, n: int) -> tuple[list[float], list[float]]:
    for _ in range(10):
        client.search(index, make())
    lat, took = [], []
    for _ in range(n):
        body = make()
        t0 = time.perf_counter()
        resp = client.search(index, body)
        lat.append(time.perf_counter() - t0)
        took.append(resp.get("took", 0) / 1e3)
    return lat, took


def _jvm_rss(pid: int | None) -> tuple[float, float]:
    """(current RSS, peak RSS VmHWM) of the JVM in bytes."""
    if not pid:
        return 0.0, 0.0
    import psutil

    rss = psutil.Process(pid).memory_info().rss
    hwm = rss
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) * 1024
    except OSError:
        pass
    return rss, hwm


def run(quick: bool) -> list[Row]:
    os.environ["AGGREGATOR_INDEX_PREFIX"] = PREFIX
    from aggregator.engine import LocalEngine

    n = 5_000 if quick else 100_000
    n_put = 200 if quick else 500
    n_raw = 2_000 if quick else 5_000
    n_q = 50 if quick else 100
    budget = 30.0 if quick else 100.0  # seconds of project bulk indexing; the search runs on what got in
    path = ensure_corpus(DATA, n)
    engine = LocalEngine(home=DATA / "engine", port=PORT, heap="1g")
    engine.build_dir = (ROOT / "var" / "engine" / "build").resolve()
    t0 = time.perf_counter()
    status = engine.start()
    log(f"engine: {status.describe()} in {time.perf_counter() - t0:.0f}s")
    rows: list[Row] = []
    try:
        from aggregator.search import indices
        from aggregator.search.client import connect
        from aggregator.search.indexer import Indexer, story_document
        from aggregator.search.spool import Spool

        client = connect(engine.url)
        indices.drop_all(client, prefix=PREFIX)
        for idx in list(client.list_indices(PREFIX + "*")):
            client.delete_index(idx)
        indices.ensure_indices(client)
        now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        spool_dir = tempfile.mkdtemp(prefix="bench-spool-")
        indexer = Indexer(client, spool=Spool(spool_dir), chunk_size=500)
        alias = indices.alias_name("articles")
        # --- project bulk path
        done = failed = 0
        t0 = time.perf_counter()
        offered = 0
        for batch in _batches(path, n, 1000, now):
            res = indexer.index_articles(batch)
            offered += len(batch)
            done += res.indexed + res.updated + res.unchanged
            failed += res.failed + res.spooled
            if time.perf_counter() - t0 > budget:
                break
        t_bulk = time.perf_counter() - t0
        r_bulk = done / t_bulk
        log(f"indexing: Indexer {r_bulk:.0f} docs/s ({done} ok, {failed} failed)")
        # --- baseline: one document at a time
        docs = [d for b in _batches(path, n_put, n_put, now) for d in b]
        t0 = time.perf_counter()
        for d in docs:
            client.put(alias, "put-" + d["id"], d)
        r_put = n_put / (time.perf_counter() - t0)
        for d in docs:
            client.delete(alias, "put-" + d["id"])
        # --- reference: the client's bulk helper with plain index ops into a scratch index
        raw = PREFIX + "raw-articles"
        client.create_index(raw, {"settings": {"number_of_shards": 1, "number_of_replicas": 0},
                                  "mappings": indices.template_body("articles", PREFIX)["template"]["mappings"]})
        raw_docs = [d for b in _batches(path, n_raw, n_raw, now) for d in b]
        t0 = time.perf_counter()
        ok = sum(1 for good, _ in client.bulk(({"_index": raw, "_id": d["id"], "_source": d} for d in raw_docs),
                                            chunk_size=500) if good)
        r_raw = ok / (time.perf_counter() - t0)
        client.delete_index(raw)
        del raw_docs, docs
        # --- stories (one per known group) for the story queries
        groups: dict[str, list[dict]] = {}
        for art in read_corpus(path, offered):
            groups.setdefault(art["group"], []).append(
                {"article_id": hashlib.sha1(art["url"].encode()).hexdigest(), "source": art["source"],
                 "title": art["title"], "published_at": art["published_at"], "dup_id": "d-" + art["group"],
                 "similarity": 1.0, "url": art["url"], "language": "en"})
        story_ids = ["s-" + g for g in groups]
        t0 = time.perf_counter()
        sres = indexer.upsert_stories(
            story_document({"story_id": "s-" + g, "members": m, "canonical_id": m[0]["article_id"]})
            for g, m in groups.items())
        r_st = (sres.indexed + sres.updated + sres.unchanged) / (time.perf_counter() - t0)
        del groups
        client.refresh(alias)
        client.refresh(indices.alias_name("stories"))
        count = client.count(alias)
        jvm_after_index = _jvm_rss(engine._read_pid())
        scope = "" if offered >= n else f"time cap {budget:.0f}s reached: "
        note = (f"{scope}{count:,} of {n:,} articles indexed (600-word bodies), OpenSearch {status.version}, "
                f"heap 1g, chunks of 500; {failed} failed/spooled; stories: {r_st:,.0f} docs/s via upsert_stories")
        rows += [
            Row("indexing", "Indexer.index_articles docs/s", r_bulk, r_put, "docs/s",
                "client.put one at a time", target=3000, target_text="≥ 3,000 docs/s", notes=note),
            Row("indexing", "raw client.bulk (index op) docs/s", r_raw, r_put, "docs/s", "client.put one at a time",
                notes=f"{n_raw:,} docs into a scratch index: the cost of the idempotency checks is the difference"),
        ]
        # --- search
        base_lat, _ = _latency(client, alias, lambda: {"query": {"match": {"body": random.choice(TEXTS)}},
                                                       "size": 10}, n_q)
        for name, index, make in _query_set(story_ids):
            try:
                lat, took = _latency(client, index, make, n_q)
            except Exception as exc:  # noqa: BLE001 - one bad query is an error row
                rows.append(Row("search", f"{name}", error=repr(exc)[:300]))
                continue
            rows.append(Row("search", f"{name} p50", pct(lat, 50) * 1e3, pct(base_lat, 50) * 1e3, "ms",
                            "plain match on body", higher_is_better=False,
                            notes=f"{n_q} queries on {count:,} articles / {len(story_ids):,} stories, server 'took' "
                                  f"p50 {pct(took, 50) * 1e3:.1f} ms"))
            rows.append(Row("search", f"{name} p95", pct(lat, 95) * 1e3, pct(base_lat, 95) * 1e3, "ms",
                            "plain match on body", higher_is_better=False, target=50.0, target_text="≤ 50 ms",
                            notes="" if count >= 100_000 else "target is for 100k docs"))
        rss, hwm = _jvm_rss(engine._read_pid())
        rows.append(Row("memory", "JVM (OpenSearch) RSS", rss / 2**20, None, "MB", higher_is_better=False,
                        notes=f"peak (VmHWM) {hwm / 2**20:.0f} MB; after indexing {jvm_after_index[0] / 2**20:.0f} MB; "
                              "heap -Xmx1g"))
        indices.drop_all(client, prefix=PREFIX)
    finally:
        engine.stop()
    return rows
