"""Fit the story tier's link model (aggregator/dedup/story.py) on a development set, and cross-fit it.

    .venv/bin/python -m benchmarks.devsets.fit_story_weights /work/scratch/clusterset/part-*.jsonl --half all
    .venv/bin/python -m benchmarks.devsets.fit_story_weights /work/scratch/clusterset/part-*.jsonl --crossfit --orders 3

Every pair of pages is described by ``story.pair_features`` exactly as ``Deduplicator`` computes it
(after all pages are added, so name frequencies are those of the whole half); pairs of dated pages
further apart than the story window are left out (the tier never links them). ``--half`` fits on one
half (or ``all``: the weights shipped in ``story.py``) and prints the weights and the story-tier scores
of both halves. ``--crossfit`` is the honest estimate: fit on half a and score half b, fit on half b
and score half a, each clustered in ``--orders`` arrival orders (the published order, then shuffles of
the order among articles of one day and among undated ones), with the mean of the orders.

``--train-extra PART`` (repeatable) adds another labelled set as pure training material: its pairs
join every fit (both cross-fit folds and ``--half``), it is never scored, and it must share no page and
no event with the scored set (checked), so a cross-fit figure stays an honest held-out estimate:

    .venv/bin/python -m benchmarks.devsets.fit_story_weights /work/scratch/clusterset/part-*.jsonl \
        --crossfit --orders 3 --train-extra /work/scratch/clusterset3/part-D.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np

from aggregator.dedup.core import (
    DedupConfig,
    Deduplicator,
    _article_fields,
    cluster_story_and_dup,
)
from aggregator.dedup.devset import Devset, load_devset, score
from aggregator.dedup.story import time_gap_days


def pair_matrix(paths: list[Path], half: str, pages: list[dict] | None = None) -> tuple[np.ndarray, np.ndarray]:
    from aggregator.dedup import story as S

    ds = load_devset(paths, half) if pages is None else Devset(pages)
    dd = Deduplicator()
    for p in ds.pages:
        dd.add(_article_fields(p))
    docs = [dd._get_doc(p["id"]) for p in ds.pages]
    xs, ys = [], []
    for i, d in enumerate(docs):
        others = docs[i + 1:]
        if not others:
            continue
        keep = []
        for o in others:
            gap = time_gap_days(d.published, o.published, S.parse_extra(d.extra)[3], S.parse_extra(o.extra)[3])
            keep.append(gap is None or gap <= dd.config.story_window_days)
        cands = [o for o, k in zip(others, keep, strict=True) if k]
        if not cands:
            continue
        xs.append(dd._story_features(d, cands))
        ev = ds.pages[i]["event"]
        ys.extend(ds.pages[docs.index(o)]["event"] == ev for o in cands)
    return np.vstack(xs), np.array(ys, dtype=float)


def synthetic_pages() -> list[dict]:
    root = Path(__file__).resolve().parents[2] / "tests"
    pages = []
    for line in (root / "data" / "dedup_corpus.jsonl").read_text(encoding="utf-8").splitlines():
        r = json.loads(line)
        pages.append({**r, "event": r["story_label"], "published_at": r["published"]})
    clusters = json.loads((root / "fixtures" / "expected" / "clusters.json").read_text(encoding="utf-8"))
    labels = {u: v["story"] for u, v in clusters.items()}
    seen = set()
    for f in sorted((root / "fixtures" / "expected").glob("*/*.json")):
        d = json.loads(f.read_text(encoding="utf-8"))
        url = d.get("canonical_url") or d.get("url")
        if url in labels and url not in seen:
            seen.add(url)
            pages.append({**d, "id": url, "event": labels[url]})
    return pages


def cluster_in_order(pages: list[dict], cfg: DedupConfig, seed: int | None) -> tuple[dict[str, str], dict[str, str]]:
    """``cluster_story_and_dup`` with the input shuffled first (``seed``): articles still arrive by
    publication time, but those of one timestamp and the undated ones in another order."""
    if seed is None:
        return cluster_story_and_dup(pages, cfg)
    pages = pages[:]
    random.Random(seed).shuffle(pages)
    return cluster_story_and_dup(pages, cfg)


def story_scores(paths: list[Path], half: str, cfg: DedupConfig, orders: int) -> dict[str, float]:
    """Mean story-tier figures of ``half`` over ``orders`` arrival orders."""
    ds = load_devset(paths, half)
    keys = ("pairwise_precision", "pairwise_recall", "pairwise_f1", "cross_language_recall", "near_misses_merged")
    runs = []
    for k in range(orders):
        story, dup = cluster_in_order(ds.pages, cfg, None if k == 0 else k)
        runs.append(score(ds, story, dup)["story"])
    return {k: float(np.mean([r[k] for r in runs])) for k in keys}


def fmt(r: dict[str, float]) -> str:
    return (f"P {r['pairwise_precision']:.3f} R {r['pairwise_recall']:.3f} F1 {r['pairwise_f1']:.3f} "
            f"xlang {r['cross_language_recall']:.2f} near {r['near_misses_merged']:.1f}")


def extra_matrix(paths: list[Path], extra: list[Path]) -> tuple[np.ndarray, np.ndarray] | None:
    """The pairs of the ``--train-extra`` parts (one matrix over all of them), after checking that they
    share no page and no event with the scored set ``paths``: training on the test material would make
    the cross-fit figure a lie."""
    if not extra:
        return None
    scored, more = load_devset(paths, "all"), load_devset(extra, "all")
    urls = {p.get("url", "").rstrip("/") for p in scored.pages} - {""}
    clash_ids = {p["id"] for p in scored.pages} & {p["id"] for p in more.pages}
    clash_events = {p["event"] for p in scored.pages} & {p["event"] for p in more.pages}
    clash_urls = urls & {p.get("url", "").rstrip("/") for p in more.pages}
    if clash_ids or clash_events or clash_urls:
        raise SystemExit(f"--train-extra overlaps the scored set: ids {sorted(clash_ids)[:5]}, "
                         f"events {sorted(clash_events)[:5]}, urls {sorted(clash_urls)[:5]}")
    x, y = pair_matrix(extra, "all")
    print(f"train-extra: {len(more.pages)} pages, {len(y)} pairs ({int(y.sum())} same-event)", flush=True)
    return x, y


def fit(paths: list[Path], half: str, l2: float, synthetic: int,
        extra: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[dict[str, float], float]:
    from aggregator.dedup import story as S

    halves = ("a", "b") if half == "all" else (half,)
    parts = [pair_matrix(paths, h) for h in halves]
    if extra is not None:
        parts.append(extra)
    if synthetic:
        # our synthetic corpus and the fixture pages: same-week near misses (one maker, one model, other news)
        # (repeated ``synthetic`` times: the real halves hold ~5x as many pairs)
        parts += [pair_matrix([], "all", synthetic_pages())] * synthetic
    x = np.vstack([p[0] for p in parts])
    y = np.concatenate([p[1] for p in parts])
    return S.fit_weights(x, y, l2=l2)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("paths", nargs="+", type=Path)
    ap.add_argument("--half", default="all", help="a, b or all (the shipped weights)")
    ap.add_argument("--l2", type=float, default=1.0)
    ap.add_argument("--synthetic", type=int, default=2,
                    help="add the synthetic corpus and the fixture pages this many times (0: none)")
    ap.add_argument("--crossfit", action="store_true", help="fit on a and score b, fit on b and score a")
    ap.add_argument("--orders", type=int, default=1, help="arrival orders to average over")
    ap.add_argument("--train-extra", action="append", type=Path, default=[], metavar="PART",
                    help="a labelled part used only as training material in every fit, never scored "
                         "(repeatable; must share no page or event with PATHS)")
    args = ap.parse_args()
    extra = extra_matrix(args.paths, args.train_extra)
    fits = ("a", "b") if args.crossfit else (args.half,)
    for h in fits:
        weights, bias = fit(args.paths, h, args.l2, args.synthetic, extra)
        print(json.dumps({"fitted_on": h, "weights": weights, "bias": bias}))
        cfg = DedupConfig(story_weights=weights, story_bias=bias)
        targets = [t for t in ("a", "b") if not args.crossfit or t != h]
        for t in targets:
            tag = "held out" if args.crossfit or (h != "all" and h != t) else "fitted on"
            print(f"  fit {h} -> score {t} ({tag}, {args.orders} orders): "
                  f"{fmt(story_scores(args.paths, t, cfg, args.orders))}", flush=True)


if __name__ == "__main__":
    main()
