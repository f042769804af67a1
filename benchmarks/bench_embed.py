"""The cost of the story tier's embedding evidence (aggregator/dedup/embed.py): ``Deduplicator.add`` docs/s
with ``story_embedding_weight`` on against off, on the same documents after the same warm-up, in one run.

    OPENBLAS_NUM_THREADS=1 .venv/bin/python -m benchmarks.bench_embed [--warm 4000] [--measure 1000]

Rates are per core (CPU time of this process, pinned to one CPU), since the machine is shared; the
encoder is loaded before the clock starts (its load time and memory are reported apart). Vectors are made
only when a pair in two languages needs them (embed.py): on this corpus (English only) "on" encodes nothing,
and the rows measure what the evidence costs a crawl in one language.
"""

from __future__ import annotations

import argparse
import resource
import time

from benchmarks.bench_lsh import _cpu_rate
from benchmarks.common import DATA, Row, pct, pin_one_core
from benchmarks.corpus import ensure_corpus, read_corpus


def run(quick: bool = True, warm: int | None = None, measure: int | None = None) -> list[Row]:
    from aggregator.dedup import DedupConfig, Deduplicator, open_store
    from aggregator.dedup import embed as E

    warm = warm if warm is not None else (4_000 if quick else 20_000)
    measure = measure if measure is not None else (1_000 if quick else 2_000)
    docs = list(read_corpus(ensure_corpus(DATA, 100_000), limit=warm + measure))
    head, tail = docs[:warm], docs[warm:]
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    E.encoder().encode("warm up")
    load_s = time.perf_counter() - t0
    model_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss0) / 1024
    rates, lats = {}, {}
    for name, weight in (("off", 0.0), ("on", E.WEIGHT)):
        dd = Deduplicator(DedupConfig(story_embedding_weight=weight), store=open_store("memory:"))
        for art in head:
            dd.add(art)
        rates[name], lats[name] = _cpu_rate(dd.add, tail)
    stage = f"dedup+embedding ({warm:,} warm, {measure:,} measured)"
    return [
        Row(stage, "Deduplicator.add docs/s, embedding on vs off", rates["on"], rates["off"], "docs/s",
            "same Deduplicator, story_embedding_weight=0"),
        Row(stage, "add p50 latency (CPU ms)", pct(lats["on"], 50), pct(lats["off"], 50), "ms", "off",
            higher_is_better=False),
        Row(stage, "add p99 latency (CPU ms)", pct(lats["on"], 99), pct(lats["off"], 99), "ms", "off",
            higher_is_better=False),
        Row(stage, "encoder load (s) / memory (MB)", load_s, model_mb, "", "(load s, MB)"),
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--warm", type=int, default=4_000)
    ap.add_argument("--measure", type=int, default=1_000)
    a = ap.parse_args()
    print(pin_one_core())
    for r in run(True, a.warm, a.measure):
        ratio = r.project / r.baseline if r.project and r.baseline else float("nan")
        print(f"{r.metric:48s} on {r.project:10.2f}  {r.baseline_name} {r.baseline:10.2f}  ratio {ratio:.3f}")


if __name__ == "__main__":
    main()
