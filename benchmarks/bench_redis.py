"""The shared Redis dedup store under concurrency: 1, 2 and 4 writer processes beside the in-memory store.

Every writer is a separate process (as crawler hosts are) calling ``Deduplicator.add`` on its share of
one stream of 600-word articles (``benchmarks.corpus.generate``: singletons plus near-copy groups), all
against one ``redis-server`` started here on a free loopback port. Writer ``i`` of ``w`` takes articles
``i, i+w, ...`` so every copy group is split across writers. The rate is articles over the wall time
from the first writer's start to the last writer's end; each writer warms up (imports, JIT kernels) on
a throwaway in-memory state before the start signal.

Equivalence: the dup and story partitions of each multi-writer run are compared with the one-writer
run over the same input. Cluster ids follow arrival order (a cluster is named after the article that
founded it), so only the partition is compared.

    python -m benchmarks.bench_redis [--quick]
"""

from __future__ import annotations

import multiprocessing as mp
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager

from benchmarks.common import Row, log


def _articles(n: int) -> list[dict]:
    from benchmarks.corpus import generate

    return list(generate(n, seed=11))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def redis_server() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not installed (apt-get install -y redis-server)")
    import redis

    port = _free_port()
    with tempfile.TemporaryDirectory(prefix="bench-redis-") as tmp:
        proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", tmp, "--save", "",
                                 "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            client = redis.Redis(port=port)
            for _ in range(200):
                try:
                    client.ping()
                    break
                except redis.ConnectionError:
                    time.sleep(0.05)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _warm() -> None:
    from aggregator.dedup import Deduplicator, open_store

    dd = Deduplicator(store=open_store("memory:"))
    for art in _articles(40):
        dd.add(art)


def _writer(spec: str, arts: list[dict], ready, go, out) -> None:  # noqa: ANN001 - mp primitives
    from aggregator.dedup import Deduplicator, open_store

    _warm()
    dd = Deduplicator(store=open_store(spec))
    ready.put(1)
    go.wait()
    t0 = time.perf_counter()
    res = {a["id"]: dd.add(a) for a in arts}
    t1 = time.perf_counter()
    out.put((t0, t1, {k: (v.dup_id, v.story_id) for k, v in res.items()},
             getattr(dd.store, "stats", {})))


def run_writers(spec: str, arts: list[dict], writers: int) -> tuple[float, dict[str, tuple[str, str]], dict]:
    """Adds/s of ``writers`` processes over ``arts``; the final (dup_id, story_id) of every article."""
    from aggregator.dedup import Deduplicator, open_store

    ctx = mp.get_context("spawn")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=_writer, args=(spec, arts[i::writers], ready, go, out)) for i in range(writers)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=300)
    go.set()
    results = [out.get(timeout=1200) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    start, end = min(r[0] for r in results), max(r[1] for r in results)
    stats: dict[str, int] = {}
    for r in results:
        for k, v in r[3].items():
            stats[k] = stats.get(k, 0) + v
    dd = Deduplicator(store=open_store(spec))  # ids as they stand at the end (merges re-point earlier ones)
    final = {a["id"]: (dd.dup_of(a["id"]), dd.story_of(a["id"])) for a in arts}
    return len(arts) / (end - start), final, stats


def memory_rate(arts: list[dict]) -> tuple[float, dict[str, tuple[str, str]]]:
    from aggregator.dedup import Deduplicator, open_store

    _warm()
    dd = Deduplicator(store=open_store("memory:"))
    t0 = time.perf_counter()
    for a in arts:
        dd.add(a)
    rate = len(arts) / (time.perf_counter() - t0)
    return rate, {a["id"]: (dd.dup_of(a["id"]), dd.story_of(a["id"])) for a in arts}


def partition(ids: dict[str, tuple[str, str]], tier: int) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for aid, pair in ids.items():
        groups.setdefault(pair[tier], set()).add(aid)
    return {frozenset(g) for g in groups.values()}


def differing(a: dict[str, tuple[str, str]], b: dict[str, tuple[str, str]]) -> tuple[int, int]:
    """Articles whose dup / story group differs between two runs (0, 0: the same partition)."""
    out = []
    for tier in (0, 1):
        pa, pb = partition(a, tier), partition(b, tier)
        out.append(sum(len(g) for g in pa - pb))
    return out[0], out[1]


def run(quick: bool) -> list[Row]:
    n = 600 if quick else 1500
    rounds = 1 if quick else 3  # the machine is shared: rounds interleave the variants, medians are reported
    arts = _articles(n)
    rows: list[Row] = []
    mems: list[float] = []
    rates: dict[int, list[float]] = {1: [], 2: [], 4: []}
    ids: dict[int, dict[str, tuple[str, str]]] = {}
    stats_all: dict[int, dict[str, int]] = {1: {}, 2: {}, 4: {}}
    diffs: dict[int, tuple[int, int]] = {}
    with redis_server() as url:
        for r in range(rounds):
            mem, mem_ids = memory_rate(arts)
            mems.append(mem)
            log(f"[bench redis] round {r + 1}: in-memory store {mem:,.0f} adds/s over {n} articles")
            for w in (1, 2, 4):
                rate, final, stats = run_writers(f"{url}?prefix=r{r}w{w}", arts, w)
                rates[w].append(rate)
                ids.setdefault(w, final)
                for k, v in stats.items():
                    stats_all[w][k] = stats_all[w].get(k, 0) + v
                ref = mem_ids if w == 1 else ids[1]
                d = differing(final, ref)
                diffs[w] = (max(diffs.get(w, (0, 0))[0], d[0]), max(diffs.get(w, (0, 0))[1], d[1]))
                log(f"[bench redis] round {r + 1}: {w} writer(s) {rate:,.0f} adds/s; partition differs for "
                    f"{d[0]} / {d[1]} articles (dup / story); {stats}")
    mem = statistics.median(mems)
    med = {w: statistics.median(v) for w, v in rates.items()}

    def note(w: int) -> str:
        st = stats_all[w]
        base = mems if w == 1 else rates[1]
        paired = [a / b for a, b in zip(rates[w], base, strict=True)]
        return (f"ratio within each round {', '.join(f'{x:.2f}' for x in paired)} (median "
                f"{statistics.median(paired):.2f}); "
                f"median of {rounds} interleaved rounds ({', '.join(f'{x:,.0f}' for x in rates[w])}); "
                f"in-memory {', '.join(f'{x:,.0f}' for x in mems)}; per add: "
                f"{st.get('round_trips', 0) / (n * rounds):.1f} round trips, "
                f"{st.get('conflicts', 0) / (n * rounds):.2f} conflicts (reruns)")

    rows.append(Row("dedup-redis", f"1 writer, Redis store ({n} articles)", med[1], mem, "adds/s",
                    "in-memory store, 1 process", target=0.5 * mem, target_text="≥ 0.5× in-memory",
                    notes=f"partition vs in-memory: {diffs[1][0]} / {diffs[1][1]} articles in other dup / story "
                          f"groups; {note(1)}"))
    for w in (2, 4):
        target = 1.7 * med[1] if w == 2 else None
        rows.append(Row("dedup-redis", f"{w} writers, Redis store ({n} articles)", med[w], med[1], "adds/s",
                        "1 writer, Redis store", target=target, target_text="≥ 1.7× one writer" if target else "",
                        notes=f"partition vs 1 writer: {diffs[w][0]} / {diffs[w][1]} articles in other dup / story "
                              f"groups (ids follow arrival order); {med[w] / mem:.2f}× in-memory; {note(w)}"))
    return rows


if __name__ == "__main__":
    for r in run("--quick" in sys.argv):
        print(f"{r.metric}: {r.project:,.0f} {r.unit} vs {r.baseline:,.0f} ({r.baseline_name}) "
              f"ratio {r.ratio:.2f}; {r.notes}")
