"""Indexing and search against a dedicated local engine (OpenSearch node on port 9270, 1 GB heap).

Indexing: articles/s through the project's bulk path (one ``Indexer.index_articles`` call streaming the
corpus, inside ``Indexer.bulk_load``: create ops, a realtime read and a guarded index op only for articles
already stored, chunks of 500 with two requests in flight, refresh off until the end) vs one
``client.put`` per document, plus the client's raw ``bulk`` helper with plain index operations. The engine
is warmed up first (its JIT compiles the indexing code over the first hundred thousand documents or so,
which a long-running engine has done long ago); the cold rate of that warm-up is in the notes. The corpus
is read by a read-ahead thread, so the timed loop is the indexer's.
Search: p50/p95 client-side latency of the project's searches (``aggregator.search.queries``) at the full
corpus size, vs a plain ``match`` query on ``body`` (``body_en``, where an English body is indexed); the
full-text search as ``run_search`` does it (one ``search_stories`` request, then the story documents),
the ``search_stories`` body the README shows, and, for reference, the collapse with inner hits. All
searches are measured interleaved (round-robin), after unmeasured rounds that warm the engine's JIT and caches up.
"""

from __future__ import annotations

import hashlib
import os
import queue
import random
import tempfile
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.common import DATA, ROOT, Row, log, pct
from benchmarks.corpus import ensure_corpus, read_corpus

#: its own port, not the developer's engine; AGGREGATOR_BENCH_ENGINE_PORT moves it (parallel checkouts)
PORT = int(os.environ.get("AGGREGATOR_BENCH_ENGINE_PORT", "9270"))
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
        # the language fields the indexer adds (article_document), so the raw-bulk reference does that work too
        "title_en": art["title"], "body_en": art["body"], "lead_en": art["lead"],
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


def _read_ahead(batches, depth: int = 3):
    """``batches`` produced by a thread, ``depth`` ahead: reading and parsing the corpus happens while the
    engine indexes (the reader runs when the indexer waits on the socket), not between bulk calls."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    done = object()
    stop = threading.Event()

    def fill():
        try:
            for batch in batches:
                while not stop.is_set():
                    try:
                        q.put(batch, timeout=0.5)
                        break
                    except queue.Full:
                        continue
                if stop.is_set():
                    return
        finally:
            if not stop.is_set():  # else the consumer is gone: nobody waits for the end mark
                q.put(done)

    thread = threading.Thread(target=fill, daemon=True, name="corpus-read-ahead")
    thread.start()
    try:
        while (batch := q.get()) is not done:
            yield batch
    finally:
        stop.set()


class _Took:
    """A client proxy that adds up the engine's own ``took`` of every search a runner sends."""

    def __init__(self, client):
        self._client = client
        self.took = 0

    def search(self, index, body, **params):
        resp = self._client.search(index, body, **params)
        self.took += resp.get("took", 0)
        return resp

    def __getattr__(self, name):
        return getattr(self._client, name)


def _query_set(client, stories: list[str]):
    """(name, callable returning the engine's took in ms) for each measured search."""
    rng = random.Random(5)
    art, sto = PREFIX + "articles", PREFIX + "stories"

    def body(index, make):
        return lambda: client.search(index, make()).get("took", 0)

    try:
        from aggregator.search import queries as q
    except ImportError:
        q = None
    if q is None:  # fallback bodies (the project's module is not there)
        return [("multi_match collapsed by story_id (fallback)", body(art, lambda: {
            "query": {"multi_match": {"query": rng.choice(TEXTS), "fields": ["title^3", "lead^2", "body"]}},
            "collapse": {"field": "story_id"}, "size": 10})),
            ("latest (fallback)", body(art, lambda: {"sort": [{"published_at": "desc"}],
                                                     "collapse": {"field": "story_id"}, "size": 20})),
            ("terms agg per source (fallback)", body(art, lambda: {"size": 0,
                                                                   "aggs": {"s": {"terms": {"field": "source"}}}}))]
    took = _Took(client)

    def runner(run):
        def go():
            took.took = 0
            run(took)
            return took.took
        return go

    filters = {"since": "2025-06-01", "sources": ["electrek", "insideevs"], "languages": ["en"]}

    def most_words_only(text):  # main 7757e85's scoring: no partial matches, no shared vocabulary
        body = q.search_stories(text)
        body["query"]["bool"]["must"] = [q.text_clauses(text)[0]]
        return body

    return [
        ("run_search(text)", runner(lambda c: q.run_search(c, rng.choice(TEXTS)))),
        ("run_search(text, since, sources, languages)", runner(lambda c: q.run_search(c, rng.choice(TEXTS),
                                                                                      **filters))),
        ("search_stories(text) one request (README, demo)", body(art, lambda: q.search_stories(rng.choice(TEXTS)))),
        ("search_stories(text, since, sources, languages) one request",
         body(art, lambda: q.search_stories(rng.choice(TEXTS), **filters))),
        ("search_stories(text), most words only: main 7757e85's query (reference)",
         body(art, lambda: most_words_only(rng.choice(TEXTS)))),
        ("search_articles(text) collapse + inner_hits (reference)",
         body(art, lambda: q.search_articles(rng.choice(TEXTS)))),
        ("search_articles(text, since, sources, languages) collapse (reference)",
         body(art, lambda: q.search_articles(rng.choice(TEXTS), **filters))),
        ("latest_stories()", body(sto, lambda: q.latest_stories())),
        ("story_members(story_id)", body(art, lambda: q.story_members(rng.choice(stories)))),
        ("stories_by_source(source, month)", body(sto, lambda: q.stories_by_source(
            rng.choice(["electrek", "cnevpost", "reuters"]), since="2025-03-01", until="2025-03-31"))),
        ("counts_per_source()", body(art, lambda: q.counts_per_source())),
        ("counts_per_day(range)", body(art, lambda: q.counts_per_day(since="2025-10-01", until="2025-11-20"))),
    ]


def _latencies(runs: list[tuple[str, object]], n: int, warm_rounds: int) -> dict[str, tuple[list, list]]:
    """Client-side latency and server ``took`` of each run, ``n`` times, interleaved round-robin so that a
    merge or a neighbour's load at some moment hits every query alike, after ``warm_rounds`` rounds that
    are not measured (the engine's JIT, caches and global ordinals warm up over the first few hundred
    searches after a start). A run that raises is reported as the exception instead."""
    out: dict[str, tuple[list, list] | Exception] = {name: ([], []) for name, _ in runs}
    for rnd in range(warm_rounds + n):
        for name, run in runs:
            if isinstance(out[name], Exception):
                continue
            t0 = time.perf_counter()
            try:
                took_ms = run()
            except Exception as exc:  # noqa: BLE001 - one bad query is an error row
                out[name] = exc
                continue
            if rnd >= warm_rounds:
                out[name][0].append(time.perf_counter() - t0)
                out[name][1].append(took_ms / 1e3)
    return out


def _cpu_seconds(pid: int | None) -> float:
    """User+system CPU seconds of process ``pid`` (all threads), 0.0 when unknown."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, TypeError):
        return 0.0


def _own_cpu_seconds() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _segments(client, alias: str) -> int:
    resp = client.raw.indices.segments(index=alias)
    resp = getattr(resp, "body", resp)
    return sum(len(copy["segments"]) for index in resp["indices"].values()
               for shard in index["shards"].values() for copy in shard)


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
    n_warm = 2_000 if quick else 60_000
    n_put = 200 if quick else 500
    n_raw = 2_000 if quick else 5_000
    n_q = 50 if quick else 100
    # seconds of project bulk indexing; the search runs on what got in (a loaded machine needs more)
    budget = float(os.environ.get("AGGREGATOR_BENCH_INDEX_BUDGET", 30.0 if quick else 100.0))
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
        now = datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
        spool_dir = tempfile.mkdtemp(prefix="bench-spool-")
        alias = indices.alias_name("articles")
        # --- warm-up: the same path into a scratch deployment (prefix), dropped afterwards
        warm_prefix = PREFIX + "warmup-"
        os.environ["AGGREGATOR_INDEX_PREFIX"] = warm_prefix
        warm = Indexer(client, spool=Spool(tempfile.mkdtemp(prefix="bench-spool-")), chunk_size=500)
        t0 = time.perf_counter()
        with warm.bulk_load():
            warmed = warm.index_articles(d for b in _read_ahead(_batches(path, n_warm, 1000, now)) for d in b).indexed
        r_cold = warmed / (time.perf_counter() - t0)
        indices.drop_all(client, prefix=warm_prefix)
        os.environ["AGGREGATOR_INDEX_PREFIX"] = PREFIX
        log(f"warm-up: {warmed} docs at {r_cold:.0f} docs/s on the cold engine")
        indices.ensure_indices(client)
        indexer = Indexer(client, spool=Spool(spool_dir), chunk_size=500)
        # --- project bulk path
        done = failed = 0
        jvm_pid = engine._read_pid()
        cpu0 = (_cpu_seconds(jvm_pid), _own_cpu_seconds())
        t0 = time.perf_counter()
        offered = 0

        def stream():  # one index_articles call over the whole corpus, as a backfill from a file runs
            nonlocal offered
            for batch in _read_ahead(_batches(path, n, 1000, now)):
                yield from batch
                offered += len(batch)
                if time.perf_counter() - t0 > budget:
                    return

        with indexer.bulk_load():
            res = indexer.index_articles(stream())
            done = res.indexed + res.updated + res.unchanged
            failed = res.failed + res.spooled
            t_load = time.perf_counter() - t0
        t_bulk = time.perf_counter() - t0  # the final refresh included
        r_bulk = done / t_bulk
        # CPU per article does not depend on what else runs on the machine, unlike docs/s
        cpu_jvm = (_cpu_seconds(jvm_pid) - cpu0[0]) / max(done, 1) * 1e3
        cpu_own = (_own_cpu_seconds() - cpu0[1]) / max(done, 1) * 1e3
        log(f"indexing: Indexer {r_bulk:.0f} docs/s ({done} ok, {failed} failed; {t_bulk - t_load:.1f}s "
            "in the final refresh)")
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
        segments = _segments(client, alias)
        jvm_after_index = _jvm_rss(engine._read_pid())
        scope = "" if offered >= n else f"time cap {budget:.0f}s reached: "
        note = (f"{scope}{count:,} of {n:,} articles indexed (600-word bodies), OpenSearch {status.version}, "
                f"heap 1g, one index_articles call streaming the corpus in chunks of 500, two in flight, inside "
                f"bulk_load (refresh off, one refresh at the end, included); engine warmed up by {warmed:,} "
                f"articles first (cold engine: {r_cold:,.0f} docs/s); CPU per article: engine {cpu_jvm:.2f} ms, "
                f"indexing process {cpu_own:.2f} ms; {failed} failed/spooled; stories: {r_st:,.0f} docs/s via "
                "upsert_stories")
        rows += [
            Row("indexing", "Indexer.index_articles docs/s", r_bulk, r_put, "docs/s",
                "client.put one at a time", target=3000, target_text="≥ 3,000 docs/s", notes=note),
            Row("indexing", "raw client.bulk (index op) docs/s", r_raw, r_put, "docs/s", "client.put one at a time",
                notes=f"{n_raw:,} docs into a scratch index (refresh on): the cost of the idempotency checks "
                      "and of refreshing is the difference"),
        ]
        # --- search
        base = "plain match on body (body_en)"
        # body_en: where an English article's body is indexed (the `body` field itself is not)
        runs = [(base, lambda: client.search(alias, {"query": {"match": {"body_en": random.choice(TEXTS)}},
                                                     "size": 10}).get("took", 0))]
        runs += _query_set(client, story_ids)
        warm_rounds = 5 if quick else 20
        measured = _latencies(runs, n_q, warm_rounds)
        base_lat = measured[base][0]
        for name, _ in runs[1:]:
            if isinstance(measured[name], Exception):
                rows.append(Row("search", f"{name}", error=repr(measured[name])[:300]))
                continue
            lat, took = measured[name]
            reference = "(reference)" in name  # the collapse: kept for exact inner hits, not what we send
            rows.append(Row("search", f"{name} p50", pct(lat, 50) * 1e3, pct(base_lat, 50) * 1e3, "ms",
                            base, higher_is_better=False,
                            notes=f"{n_q} queries each, interleaved, after {warm_rounds} unmeasured "
                                  f"rounds, on {count:,} articles ({segments} segments) / {len(story_ids):,} "
                                  f"stories; server 'took' p50 {pct(took, 50) * 1e3:.1f} ms"))
            rows.append(Row("search", f"{name} p95", pct(lat, 95) * 1e3, pct(base_lat, 95) * 1e3, "ms",
                            base, higher_is_better=False,
                            target=None if reference else 50.0, target_text="" if reference else "≤ 50 ms",
                            notes="" if count >= 100_000 else "target is for 100k docs"))
        rss, hwm = _jvm_rss(engine._read_pid())
        rows.append(Row("memory", "JVM (OpenSearch) RSS", rss / 2**20, None, "MB", higher_is_better=False,
                        notes=f"peak (VmHWM) {hwm / 2**20:.0f} MB; after indexing {jvm_after_index[0] / 2**20:.0f} MB; "
                              "heap -Xmx1g"))
        indices.drop_all(client, prefix=PREFIX)
    finally:
        engine.stop()
    return rows
