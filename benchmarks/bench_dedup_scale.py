"""``Deduplicator.add`` at 20k, 50k and 100k documents in the state (issue 14 item 5), opt-in stage ``dedup-scale``.

    python -m benchmarks.run --only dedup-scale          # 20k / 50k / 100k (builds the states once)
    python -m benchmarks.run --quick --only dedup-scale  # 2k / 5k

The cost of an add grows with the state (the story window holds more candidates), so the rate that counts
is the one at 100k documents; building that state one plain add after the other takes over an hour on a
loaded 2-core machine. The states are built here as a crawl builds them: each article's own features
(:func:`aggregator.dedup.prepared.prepare`) and its embedding (:func:`aggregator.dedup.core.carry_embedding`)
are computed in a worker process while the main process adds the articles before them. ``add`` uses a
carried value only when it is the one it would compute itself (the tag of the exact inputs and config; no
unit of the article learned as boilerplate), so the state is the one plain adds build. Each size's state is
pickled under ``benchmarks/data`` with a digest of the dedup sources in its name: a later run with the same
code starts from it (and extends the largest one it has to the next size).

Each size then times ``measure`` adds of the documents that follow (after ``warm`` untimed adds, as in a
long crawl), in CPU time of this process: the article's features computed inside ``add`` (as ``aggregator
dedup`` and ``aggregator eval`` do), the embedding carried (as in a crawl; the encoder is not what this
measures).
"""

from __future__ import annotations

import hashlib
import pickle
import threading
import time
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from benchmarks.common import DATA, Row, log, pct
from benchmarks.corpus import ensure_corpus, read_corpus


def code_tag() -> str:
    """A digest of the dedup library's sources: a state built by other code is not reused."""
    import aggregator.dedup as pkg

    h = hashlib.blake2b(digest_size=6)
    root = Path(pkg.__file__).parent
    for p in sorted(root.glob("*.py")) + [root / "names.json"]:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _prepare(art: dict[str, Any]) -> dict[str, Any]:
    """What a crawl's extraction worker attaches to an article (runs in the worker process)."""
    from aggregator.dedup import prepared
    from aggregator.dedup.core import carry_embedding
    from aggregator.dedup.embed import CARRIED_FIELD

    art[CARRIED_FIELD] = carry_embedding(art)
    art[prepared.FIELD] = prepared.prepare(art)
    return art


def _load(path: Path) -> Any:
    store = pickle.loads(path.read_bytes())
    store._lock = threading.RLock()  # (a lock does not pickle)
    return store


def _save(store: Any, path: Path) -> None:
    lock, store._lock = store._lock, None
    try:
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(pickle.dumps(store, protocol=5))
        tmp.rename(path)
    finally:
        store._lock = lock


def build_states(sizes: list[int], corpus: Path, data: Path = DATA) -> dict[int, Path]:
    """Pickled memory stores of the first ``n`` corpus documents for each ``n`` in ``sizes`` (cached)."""
    from aggregator.dedup import Deduplicator, open_store

    tag = code_tag()
    paths = {n: data / f"dedup-state-{n}-{tag}.pkl" for n in sizes}
    missing = [n for n in sorted(sizes) if not paths[n].exists()]
    if not missing:
        return paths
    have = [n for n in sorted(sizes) if paths[n].exists() and n < missing[0]]
    start = have[-1] if have else 0
    dd = Deduplicator(store=_load(paths[start]) if start else open_store("memory:"))
    docs = list(read_corpus(corpus, limit=missing[-1]))[start:]
    t0 = time.perf_counter()
    done = start
    with get_context("fork").Pool(1) as pool:
        for art in pool.imap(_prepare, docs, chunksize=8):
            dd.add(art)
            done += 1
            if done in paths and done in missing:
                _save(dd.store, paths[done])
                log(f"dedup-scale: state of {done:,} documents saved ({time.perf_counter() - t0:.0f} s)")
            elif done % 5000 == 0:
                log(f"dedup-scale: {done:,} documents ({time.perf_counter() - t0:.0f} s)")
    return paths


def time_adds(state: Path, docs: list[dict[str, Any]], warm: int) -> tuple[float, list[float]]:
    """``(docs/s, per-add CPU ms)`` of ``docs[warm:]`` added to the pickled state after ``docs[:warm]``."""
    from aggregator.dedup import Deduplicator
    from aggregator.dedup.core import carry_embedding
    from aggregator.dedup.embed import CARRIED_FIELD

    for art in docs:
        art[CARRIED_FIELD] = carry_embedding(art)
    dd = Deduplicator(store=_load(state))
    for art in docs[:warm]:
        dd.add(art)
    lat: list[float] = []
    t0 = time.process_time()
    for art in docs[warm:]:
        s = time.process_time()
        dd.add(art)
        lat.append((time.process_time() - s) * 1e3)
    total = time.process_time() - t0
    return (len(lat) / total if total else float("nan")), lat


def run(quick: bool) -> list[Row]:
    sizes = [2_000, 5_000] if quick else [20_000, 50_000, 100_000]
    warm, measure = (100, 300) if quick else (300, 1_000)
    corpus = ensure_corpus(DATA, 100_000)
    paths = build_states(sizes, corpus)
    # the documents after the largest state: the generator's next ones (its first 100,000 are the corpus)
    tail_corpus = corpus if sizes[-1] + warm + measure <= 100_000 else \
        ensure_corpus(DATA, sizes[-1] + warm + measure)
    rows: list[Row] = []
    for n in sizes:
        docs = list(read_corpus(tail_corpus, limit=n + warm + measure))[n:]
        rate, lat = time_adds(paths[n], docs, warm)
        rows.append(Row("dedup", f"Deduplicator.add at {n // 1000}k documents (features inside add)", rate, None,
                        "docs/s", target=3000 if n >= 100_000 else None,
                        target_text="≥ 3,000 docs/s" if n >= 100_000 else "",
                        notes=f"{len(lat):,} adds after {warm} untimed, CPU time of one core, embeddings carried; "
                              f"p50 {pct(lat, 50):.2f} ms, p99 {pct(lat, 99):.2f} ms"))
        rows.append(Row("dedup", f"Deduplicator.add p99 at {n // 1000}k documents", pct(lat, 99), None, "ms",
                        higher_is_better=False, target=5.0 if n >= 100_000 else None,
                        target_text="≤ 5 ms" if n >= 100_000 else ""))
    return rows
