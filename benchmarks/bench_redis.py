"""The shared Redis dedup store under concurrency: 1, 2 and 4 writer processes beside the in-memory store.

Every writer is a separate process (as crawler hosts are) calling ``Deduplicator.add`` on its share of
one stream of 600-word articles (``benchmarks.corpus.generate``: singletons plus near-copy groups), all
against one ``redis-server`` started here on a free loopback port. Writer ``i`` of ``w`` takes articles
``i, i+w, ...`` so every copy group is split across writers. Each round runs the in-memory store, then 1,
2 and 4 writers back to back; three rounds, medians reported, with the ratio within each round.

Two rates per run. On the wall: articles over the time from the first writer's start to the last one's
end (each writer warms up -- imports, JIT kernels -- before the start signal). With a CPU each: the
machine is shared (2 cores, other sessions' tests and engines), so a process spends much of its wall
runnable without a CPU and the wall figures move with everyone else's load; this rate takes the CPU
time the writers and redis-server spent per add (the kernel's own accounting, /proc/<pid>/schedstat)
plus a loopback round trip (the fastest PING) per request, as if each process had a CPU of its own --
as on separate hosts -- (see ``run_writers``). Reruns, extra round trips and redis-server's serial work
all stay in; waiting in redis-server's queue behind other writers does not.

Equivalence: the dup and story partitions of each multi-writer run are compared with the one-writer
run of the same round (and that with the in-memory store). Cluster ids follow arrival order (a cluster is
named after the article that founded it), so only the partition is compared.

    python -m benchmarks.bench_redis [--quick]
"""

from __future__ import annotations

import multiprocessing as mp
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from benchmarks.common import Row, log


def _articles(n: int) -> list[dict]:
    from benchmarks.corpus import generate

    return list(generate(n, seed=11))


def _free_port() -> int:
    if os.environ.get("AGGREGATOR_BENCH_REDIS_PORT"):  # a shared machine may hand out port ranges
        return int(os.environ["AGGREGATOR_BENCH_REDIS_PORT"])
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def redis_server() -> Iterator[tuple[str, int]]:
    """A throwaway ``redis-server`` on a free loopback port: ``(url, pid)``."""
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
            yield f"redis://127.0.0.1:{port}/0", proc.pid
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _sched(path: str = "/proc/thread-self/schedstat") -> tuple[float, float, int]:
    """(CPU seconds, seconds spent runnable but waiting for a CPU, times run) of a thread, from the
    scheduler's own accounting; the wait is what other processes on a shared machine take from it."""
    try:
        with open(path) as fh:
            cpu, wait, slices = fh.read().split()
        return int(cpu) / 1e9, int(wait) / 1e9, int(slices)
    except (OSError, ValueError):  # no schedstat: no wait known
        return time.thread_time(), 0.0, 0


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
    t0, (c0, w0, _) = time.perf_counter(), _sched()
    res, order = {}, []
    for a in arts:
        res[a["id"]] = dd.add(a)
        order.append((getattr(dd.store, "last_epoch", 0), a["id"]))  # where its commit fell
    t1, (c1, w1, _) = time.perf_counter(), _sched()
    out.put({"start": t0, "end": t1, "cpu": c1 - c0, "wait": w1 - w0, "order": order,
             "ids": {k: (v.dup_id, v.story_id) for k, v in res.items()}, "stats": getattr(dd.store, "stats", {})})


@dataclass
class Run:
    """One timed pass over the articles."""

    rate: float  # articles / wall seconds
    model: float  # articles / second had every process a CPU of its own (see run_writers)
    cpu_ms: float  # CPU of the writers per article
    redis_cpu_ms: float  # CPU of redis-server per article
    wait_share: float  # share of the writers' wall spent runnable but without a CPU
    final: dict[str, tuple[str, str]]
    stats: dict[str, int]
    serial: tuple[int, int] = (0, 0)  # articles grouped otherwise than by one process adding them in commit order


def _rtt(url: str) -> float:
    """The fastest of 200 PINGs (seconds): a round trip on loopback when nothing else runs."""
    import redis

    r = redis.Redis.from_url(url)
    best = 1.0
    for _ in range(200):
        t0 = time.perf_counter()
        r.ping()
        best = min(best, time.perf_counter() - t0)
    r.close()
    return best


def run_writers(spec: str, arts: list[dict], writers: int, redis_pid: int, rtt: float) -> Run:
    """``writers`` processes over ``arts``, writer i taking articles i, i+w, ...; the final (dup_id,
    story_id) of every article as they stand at the end (merges re-point earlier ones)."""
    from aggregator.dedup import Deduplicator, open_store

    ctx = mp.get_context("spawn")
    ready, out, go = ctx.Queue(), ctx.Queue(), ctx.Event()
    procs = [ctx.Process(target=_writer, args=(spec, arts[i::writers], ready, go, out)) for i in range(writers)]
    for p in procs:
        p.start()
    for _ in procs:
        ready.get(timeout=300)
    rpath = f"/proc/{redis_pid}/schedstat"
    rc0, _, _ = _sched(rpath)
    go.set()
    results = [out.get(timeout=1200) for _ in procs]
    rc1, _, _ = _sched(rpath)
    for p in procs:
        p.join(timeout=60)
    start, end = min(r["start"] for r in results), max(r["end"] for r in results)
    stats: dict[str, int] = {}
    for r in results:
        for k, v in r["stats"].items():
            stats[k] = stats.get(k, 0) + v
    n = len(arts)
    cpu, redis_cpu = sum(r["cpu"] for r in results) / n, (rc1 - rc0) / n
    # The rate had every writer a CPU of its own and redis-server another (as on separate hosts): an
    # add costs its writer the writer's CPU per add (reruns and all), the redis-server CPU it asks for
    # and a loopback round trip per request; the writers run side by side, redis-server serves one
    # request at a time, so the rate is the lesser of w / that and 1 / redis-server's CPU per add.
    # Waiting in redis-server's queue behind other writers is left out (it grows with its load).
    per_add = cpu + redis_cpu + stats.get("round_trips", 0) / n * rtt
    model = min(writers / per_add, 1 / max(redis_cpu, 1e-9))
    walls = sum(r["end"] - r["start"] for r in results)
    log(f"[bench redis] {writers} writer(s): wall {_fmt([r['end'] - r['start'] for r in results], 2)} s, "
        f"CPU {_fmt([r['cpu'] for r in results], 2)} s, run-queue waits {_fmt([r['wait'] for r in results], 2)} s; "
        f"redis-server CPU {rc1 - rc0:.2f} s; round trip {1e6 * rtt:.0f} us")
    dd = Deduplicator(store=open_store(spec))
    final = {a["id"]: (dd.dup_of(a["id"]), dd.story_of(a["id"])) for a in arts}
    serial = (0, 0)
    if writers > 1:  # serialisable: the partition of one process adding the articles in the order they committed
        by_id = {a["id"]: a for a in arts}
        replay = Deduplicator(store=open_store("memory:"))
        for _epoch, aid in sorted(x for r in results for x in r["order"]):
            replay.add(by_id[aid])
        serial = differing(final, {a["id"]: (replay.dup_of(a["id"]), replay.story_of(a["id"])) for a in arts})
    return Run(n / (end - start), model, 1000 * cpu, 1000 * redis_cpu, sum(r["wait"] for r in results) / walls,
               final, stats, serial)


def memory_run(arts: list[dict]) -> Run:
    from aggregator.dedup import Deduplicator, open_store

    _warm()
    dd = Deduplicator(store=open_store("memory:"))
    t0, (c0, w0, _) = time.perf_counter(), _sched()
    for a in arts:
        dd.add(a)
    t1, (c1, w1, _) = time.perf_counter(), _sched()
    n = len(arts)
    return Run(n / (t1 - t0), n / (c1 - c0), 1000 * (c1 - c0) / n, 0.0, (w1 - w0) / (t1 - t0),
               {a["id"]: (dd.dup_of(a["id"]), dd.story_of(a["id"])) for a in arts}, {})


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


def _fmt(xs: list[float], digits: int = 0) -> str:
    return ", ".join(f"{x:,.{digits}f}" for x in xs)


def run(quick: bool) -> list[Row]:
    n = 600 if quick else 1500
    rounds = 1 if quick else 3  # the machine is shared: rounds interleave the variants, medians are reported
    arts = _articles(n)
    runs: dict[int, list[Run]] = {0: [], 1: [], 2: [], 4: []}  # 0: the in-memory store
    diffs: dict[int, list[tuple[int, int]]] = {1: [], 2: [], 4: []}
    with redis_server() as (url, pid):
        rtt = _rtt(url)
        for r in range(rounds):
            mem = memory_run(arts)
            runs[0].append(mem)
            log(f"[bench redis] round {r + 1}: in-memory store {mem.rate:,.0f} adds/s "
                f"({mem.model:,.0f} on its CPU time) over {n} articles")
            for w in (1, 2, 4):
                run_ = run_writers(f"{url}?prefix=r{r}w{w}", arts, w, pid, rtt)
                runs[w].append(run_)
                d = differing(run_.final, mem.final if w == 1 else runs[1][-1].final)
                diffs[w].append(d)
                log(f"[bench redis] round {r + 1}: {w} writer(s) {run_.rate:,.0f} adds/s "
                    f"({run_.model:,.0f} with a CPU each); CPU {run_.cpu_ms:.2f} ms/add writers, "
                    f"{run_.redis_cpu_ms:.2f} redis; run-queue waits {run_.wait_share:.0%}; partition differs for "
                    f"{d[0]} / {d[1]} articles (dup / story), from one process adding them in commit order for "
                    f"{run_.serial[0]} / {run_.serial[1]}; {run_.stats}")
    med = {w: statistics.median(x.rate for x in v) for w, v in runs.items()}
    adj = {w: statistics.median(x.model for x in v) for w, v in runs.items()}

    def per_add(w: int, key: str) -> float:
        return sum(x.stats.get(key, 0) for x in runs[w]) / (n * rounds)

    def note(w: int) -> str:
        base = runs[0] if w == 1 else runs[1]
        paired = [a.rate / b.rate for a, b in zip(runs[w], base, strict=True)]
        paired_adj = [a.model / b.model for a, b in zip(runs[w], base, strict=True)]
        ref = "the in-memory store" if w == 1 else "1 writer"
        same = ["the same" if all(d[t] == 0 for d in diffs[w]) else "another" for t in (0, 1)]
        return (f"{same[0]} dup partition and {same[1]} story partition as {ref} (articles in other dup / "
                f"story groups, per round: {', '.join(f'{a}/{b}' for a, b in diffs[w])})"
                + ("" if w == 1 else f"; and from one process adding the articles in the order they committed: "
                   f"{', '.join(f'{x.serial[0]}/{x.serial[1]}' for x in runs[w])}")
                + f"; ratio within each round {_fmt(paired, 2)} on the wall, {_fmt(paired_adj, 2)} with a CPU each; "
                f"rounds {_fmt([x.rate for x in runs[w]])} adds/s on the wall, "
                f"{_fmt([x.model for x in runs[w]])} with a CPU each; per add: "
                f"{per_add(w, 'round_trips'):.2f} round trips, "
                f"{per_add(w, 'conflicts'):.3f} reruns, writers' CPU "
                f"{statistics.median(x.cpu_ms for x in runs[w]):.2f} ms, redis-server's "
                f"{statistics.median(x.redis_cpu_ms for x in runs[w]):.2f} ms (in memory "
                f"{statistics.median(x.cpu_ms for x in runs[0]):.2f} ms); runnable without a CPU: "
                f"{_fmt([100 * x.wait_share for x in runs[w]])} % of the writers' wall (in memory "
                f"{_fmt([100 * x.wait_share for x in runs[0]])} %)")

    rows: list[Row] = []
    for w in (1, 2, 4):
        base_name = "in-memory store, 1 process" if w == 1 else "1 writer, Redis store"
        base, base_adj = (med[0], adj[0]) if w == 1 else (med[1], adj[1])
        factor = {1: 0.5, 2: 1.7}.get(w)
        text = {1: "≥ 0.5× in-memory", 2: "≥ 1.7× one writer"}.get(w, "")
        label = "1 writer" if w == 1 else f"{w} writers"
        rows.append(Row("dedup-redis", f"{label}, Redis store, wall ({n} articles, median of {rounds})", med[w],
                        base, "adds/s", base_name, target=factor * base if factor else None, target_text=text,
                        notes=note(w)))
        rows.append(Row("dedup-redis", f"{label}, Redis store, with a CPU each", adj[w], base_adj,
                        "adds/s", base_name + ", on its CPU time",
                        target=factor * base_adj if factor else None, target_text=text,
                        notes="from the same runs: the CPU time the writers and redis-server spent per add "
                              "(/proc/<pid>/schedstat) plus a loopback round trip per request, had each process "
                              "a CPU of its own (as on separate hosts); in memory: articles per CPU second"))
    return rows


if __name__ == "__main__":
    for row in run("--quick" in sys.argv):
        print(f"{row.metric}: {row.project:,.0f} {row.unit} vs {row.baseline:,.0f} ({row.baseline_name}) "
              f"ratio {row.ratio:.2f}; {row.notes}")
