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

``--loso`` is the leave-one-set-out estimate over several labelled sets: the groups are the halves a and b
of PATHS (as ``--crossfit`` splits them) and every ``--set NAME=PART``; each group in turn is left out, the
model is fitted on the other groups' pairs (each group's pairs built alone: no pair joins two groups) plus
the synthetic corpus, and the left-out group is clustered in ``--orders`` orders with its dates and with
its dates dropped. ``--balance`` weights every real group's pairs to the same total, ``--never-train NAME``
keeps a group out of every fit (it is still scored), ``--drop-flipping`` zeroes the features whose sign
differs between the fits of an inner leave-one-out over the fold's own training groups:

    .venv/bin/python -m benchmarks.devsets.fit_story_weights /work/scratch/clusterset/part-*.jsonl --loso \
        --set D=/work/scratch/clusterset3/part-D.jsonl --set E=/work/scratch/clusterset4/part-E.jsonl --orders 3
"""

from __future__ import annotations

import argparse
import json
import random
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from aggregator.dedup.core import (
    DedupConfig,
    Deduplicator,
    _article_fields,
    cluster_story_and_dup,
)
from aggregator.dedup.devset import Devset, drop_dates, load_devset, score
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
    return devset_scores(load_devset(paths, half), cfg, orders)


def devset_scores(ds: Devset, cfg: DedupConfig, orders: int) -> dict[str, float]:
    """Mean story-tier figures of ``ds`` over ``orders`` arrival orders."""
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
    halves = ("a", "b") if half == "all" else (half,)
    parts = [pair_matrix(paths, h) for h in halves]
    if extra is not None:
        parts.append(extra)
    # our synthetic corpus and the fixture pages: same-week near misses (one maker, one model, other news)
    # (repeated ``synthetic`` times: the real halves hold ~5x as many pairs)
    synth = pair_matrix([], "all", synthetic_pages()) if synthetic else None
    return fit_parts(parts, synth, Recipe(synthetic=synthetic, l2=l2))


# -- leave one set out ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipe:
    """How a fold's training material becomes weights."""

    synthetic: int = 2  # copies of the synthetic corpus's pairs
    l2: float = 1.0
    balance: bool = False  # every real group's pairs carry the same total weight
    drop_flipping: bool = False  # zero the features whose sign flips between inner leave-one-out fits
    never_train: frozenset[str] = field(default_factory=frozenset)  # groups scored but never fitted on


def loso_groups(paths: list[Path], sets: list[tuple[str, Path]]) -> dict[str, Devset]:
    """The groups of ``--loso``: halves a and b of ``paths`` and every named set, after checking that no
    two share a page or an event (a shared event would let a fold train on the set it scores)."""
    groups = {"a": load_devset(paths, "a"), "b": load_devset(paths, "b")}
    for name, path in sets:
        if name in groups:
            raise SystemExit(f"--set {name}: the name is taken")
        groups[name] = load_devset([path], "all")
    seen_ids: dict[str, str] = {}
    seen_events: dict[str, str] = {}
    for name, ds in groups.items():
        for p in ds.pages:
            for seen, key in ((seen_ids, p["id"]), (seen_events, p["event"])):
                if seen.setdefault(key, name) != name:
                    raise SystemExit(f"groups {seen[key]} and {name} share {key!r}")
    return groups


def fit_parts(parts: list[tuple[np.ndarray, np.ndarray]], synth: tuple[np.ndarray, np.ndarray] | None,
              recipe: Recipe, dropped: frozenset[str] = frozenset()) -> tuple[dict[str, float], float]:
    """Weights fitted on the real groups' pair matrices ``parts`` and ``recipe.synthetic`` copies of ``synth``.
    With ``recipe.balance`` each real group's pairs share the same total weight (the real pairs' total is
    kept, so the synthetic corpus's share and the L2 strength stay as without it); ``dropped`` features are
    zeroed (a zero column keeps a zero weight under L2)."""
    from aggregator.dedup import story as S

    xs = [p[0] for p in parts]
    ys = [p[1] for p in parts]
    ws = [np.ones(len(p[1])) for p in parts]
    if recipe.balance:
        real = sum(len(y) for y in ys)
        ws = [np.full(len(y), real / len(ys) / len(y)) for y in ys]
    if synth is not None:
        for _ in range(recipe.synthetic):
            xs.append(synth[0])
            ys.append(synth[1])
            ws.append(np.ones(len(synth[1])))
    x = np.vstack(xs)
    if dropped:
        x = x.copy()
        x[:, [S.FEATURES.index(f) for f in dropped]] = 0.0
    return S.fit_weights(x, np.concatenate(ys), l2=recipe.l2,
                         sample_weight=np.concatenate(ws) if recipe.balance else None)


def flipping_features(parts: list[tuple[np.ndarray, np.ndarray]], synth: tuple[np.ndarray, np.ndarray] | None,
                      recipe: Recipe) -> frozenset[str]:
    """Features whose fitted weight is positive in one and negative in another of the fits that leave out
    one of ``parts`` each: evidence whose direction depends on which set it is read on. Only the fold's own
    training groups are used, so the scored group never chooses what is dropped."""
    if len(parts) < 2:
        return frozenset()
    fits = [fit_parts(parts[:i] + parts[i + 1:], synth, recipe)[0] for i in range(len(parts))]
    return frozenset(k for k in fits[0] if min(f[k] for f in fits) < 0 < max(f[k] for f in fits))


def loso(groups: dict[str, Devset], mats: dict[str, tuple[np.ndarray, np.ndarray]],
         synth: tuple[np.ndarray, np.ndarray] | None, recipe: Recipe, orders: int,
         cfg: DedupConfig | None = None) -> list[dict]:
    """One fold per group: fitted on the other groups (less ``recipe.never_train``), scored on the group
    with its dates and with them dropped. ``mats``: each group's pair matrix, built from that group alone."""
    base = cfg or DedupConfig()
    folds = []
    for name, ds in groups.items():
        train = [g for g in groups if g != name and g not in recipe.never_train]
        parts = [mats[g] for g in train]
        dropped = flipping_features(parts, synth, recipe) if recipe.drop_flipping else frozenset()
        weights, bias = fit_parts(parts, synth, recipe, dropped)
        c = replace(base, story_weights=weights, story_bias=bias)
        folds.append({"scored": name, "trained_on": train, "dropped": sorted(dropped), "weights": weights,
                      "bias": bias, "dated": devset_scores(ds, c, orders),
                      "undated": devset_scores(drop_dates(ds), c, orders)})
    return folds


def loso_means(folds: list[dict]) -> dict[str, float]:
    """Mean story F1 (and precision) over the folds, with dates and with dates dropped."""
    return {f"{k}_{m}": float(np.mean([f[k][f"pairwise_{m}"] for f in folds]))
            for k in ("dated", "undated") for m in ("f1", "precision", "recall")}


def print_loso(folds: list[dict]) -> None:
    for f in folds:
        drop = f" (dropped {', '.join(f['dropped'])})" if f["dropped"] else ""
        print(f"  fold {f['scored']} (fitted on {'+'.join(f['trained_on'])}{drop}):\n"
              f"    dated   {fmt(f['dated'])}\n    undated {fmt(f['undated'])}", flush=True)
    m = loso_means(folds)
    print(f"  mean F1 dated {m['dated_f1']:.4f} (P {m['dated_precision']:.3f}) undated {m['undated_f1']:.4f} "
          f"(P {m['undated_precision']:.3f})", flush=True)


def parse_set(arg: str) -> tuple[str, Path]:
    name, sep, path = arg.partition("=")
    if not sep or not name or not path:
        raise argparse.ArgumentTypeError(f"--set wants NAME=PART, not {arg!r}")
    return name, Path(path)


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
    ap.add_argument("--loso", action="store_true",
                    help="leave one set out over halves a, b and every --set (see the module docstring)")
    ap.add_argument("--set", action="append", type=parse_set, default=[], metavar="NAME=PART", dest="sets",
                    help="a labelled part as a group of its own for --loso (repeatable)")
    ap.add_argument("--balance", action="store_true", help="--loso: every group's pairs weigh the same in total")
    ap.add_argument("--never-train", action="append", default=[], metavar="NAME",
                    help="--loso: score this group but fit on it in no fold")
    ap.add_argument("--drop-flipping", action="store_true",
                    help="--loso: zero the features whose sign flips between inner leave-one-out fits")
    args = ap.parse_args()
    if args.loso:
        groups = loso_groups(args.paths, args.sets)
        mats = {g: pair_matrix([], "all", ds.pages) for g, ds in groups.items()}
        for g, (_, y) in mats.items():
            print(f"group {g}: {len(groups[g].pages)} pages, {len(y)} pairs ({int(y.sum())} same-event)", flush=True)
        synth = pair_matrix([], "all", synthetic_pages()) if args.synthetic else None
        recipe = Recipe(synthetic=args.synthetic, l2=args.l2, balance=args.balance,
                        drop_flipping=args.drop_flipping, never_train=frozenset(args.never_train))
        print(f"recipe {recipe}", flush=True)
        print_loso(loso(groups, mats, synth, recipe, args.orders))
        return
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
