"""``aggregator dedup`` and ``aggregator eval``: typer-annotated functions, mounted by aggregator.cli."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from .core import DedupConfig, cluster_articles
from .metrics import evaluate

_err = Console(stderr=True)
_out = Console()


def _read_articles(path: Path) -> tuple[list[dict[str, Any]], int]:
    """Articles from JSON lines; a bad line is reported (with its number) and skipped."""
    arts: list[dict[str, Any]] = []
    bad = 0
    seen: set[str] = set()
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                _err.print(f"[red]line {lineno}: invalid JSON ({exc.msg})[/red]", highlight=False)
                bad += 1
                continue
            if not isinstance(obj, dict):
                _err.print(f"[red]line {lineno}: not a JSON object[/red]", highlight=False)
                bad += 1
                continue
            missing = [k for k in ("id", "body") if not obj.get(k)]
            if missing:
                _err.print(f"[red]line {lineno}: missing {', '.join(missing)}[/red]", highlight=False)
                bad += 1
                continue
            obj["id"] = str(obj["id"])
            if obj["id"] in seen:  # later line wins, as a re-crawl would
                arts = [a for a in arts if a["id"] != obj["id"]]
            seen.add(obj["id"])
            arts.append(obj)
    return arts, bad


def dedup_command(
    input: Annotated[Path, typer.Argument(help="JSON lines: id, url, title, body, published, source")],
    out: Annotated[Path, typer.Option("--out", "-o", help="where to write {id: cluster id}")] = Path(
        "clusters.json"
    ),
    level: Annotated[str, typer.Option(help="dup (near-verbatim copies) or story (same event)")] = "story",
    threshold: Annotated[float | None, typer.Option(help="dup-tier Jaccard threshold (default 0.55)")] = None,
    num_perm: Annotated[int | None, typer.Option(help="MinHash permutations (default 128)")] = None,
    story_embedding_weight: Annotated[float | None, typer.Option(
        help="weight of the multilingual embedding evidence in the story tier (default 8, as chosen; 0: off, "
             "~8 ms per article faster; aggregator/dedup/embed.py)")] = None,
) -> None:
    """Cluster articles from a JSON-lines file and write ``{"<id>": "<cluster id>"}``."""
    if level not in ("dup", "story"):
        _err.print(f"[red]--level must be dup or story, not {level!r}[/red]")
        raise typer.Exit(2)
    if not input.exists():
        _err.print(f"[red]{input}: no such file[/red]")
        raise typer.Exit(2)
    cfg = DedupConfig()
    if story_embedding_weight is not None:
        cfg.story_embedding_weight = story_embedding_weight
    if threshold is not None:
        cfg.dup_threshold = threshold
    if num_perm is not None:
        cfg.num_perm = num_perm
    arts, bad = _read_articles(input)
    clusters = cluster_articles(arts, level=level, config=cfg) if arts else {}
    out.write_text(json.dumps(clusters, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    table = Table(title=f"dedup ({level})")
    for col in ("articles", "clusters", "multi-article clusters", "bad lines", "output"):
        table.add_column(col)
    sizes: dict[str, int] = {}
    for cid in clusters.values():
        sizes[cid] = sizes.get(cid, 0) + 1
    table.add_row(str(len(arts)), str(len(sizes)), str(sum(1 for v in sizes.values() if v > 1)), str(bad),
                  str(out))
    _out.print(table)
    if not arts:
        raise typer.Exit(1)


def _load_map(path: Path, label_keys: tuple[str, ...]) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    try:
        obj = json.loads(text)
    except json.JSONDecodeError:
        obj = None
    if isinstance(obj, dict):
        return {str(k): str(v) for k, v in obj.items()}
    # JSON lines corpus: id + a label key
    out: dict[str, str] = {}
    for line in text.splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        for k in label_keys:
            if k in row:
                out[str(row["id"])] = str(row[k])
                break
    return out


def _fmt(x: Any) -> str:
    if isinstance(x, float):
        return "-" if x != x else f"{x:.3f}"
    return str(x)


def _devset_report(paths: list[Path], half: str, with_baselines: bool, as_json: bool,
                   copies: bool = False, config: DedupConfig | None = None, no_dates: bool = False) -> None:
    from .devset import DevsetError, baselines, drop_dates, hard_copies, load_devset, ours

    try:
        ds = load_devset(paths, half)
    except DevsetError as exc:
        _err.print(f"[red]{exc}[/red] (a facts file has no text: see benchmarks/devsets/README.md)")
        raise typer.Exit(2) from None
    if no_dates:
        ds = drop_dates(ds)
    if copies:
        ds = hard_copies(ds)
    rows = [ours(ds, config)]
    if with_baselines:
        rows += baselines(ds)
    if as_json:
        sys.stdout.write(json.dumps({"half": half, "files": [str(p) for p in paths], "skipped_lines": ds.skipped,
                                     "dates_dropped": no_dates, "rows": rows}, indent=1) + "\n")
        return
    r0 = rows[0]
    out = Console(width=max(_out.width, 150))
    title = (f"clustering quality on {', '.join(p.name for p in paths)} (half {half}"
             f"{', with hard synthetic copies' if copies else ''}{', dates dropped' if no_dates else ''}): "
             f"{r0['pages']} pages, "
             f"{r0['events']} events, {r0['undated']} undated")
    out.print(title, highlight=False)
    for tier, label in (("story", "story tier (story_id vs event)"), ("dup", "dup tier (dup_id vs copy_of)")):
        table = Table(title=label)
        cols = ["method", "threshold", "pairwise P", "R", "F1", "B3 F1", "near misses merged"]
        if tier == "story":
            cols[-1:-1] = ["cross-lang R", "same-lang R"]
        for c in cols:
            table.add_column(c, justify="left" if c == "method" else "right")
        for r in rows:
            t = r[tier]
            th = f"oracle {t['threshold']:.2f}" if "threshold" in t else "fixed"
            cells = [r["method"], th, _fmt(t["pairwise_precision"]), _fmt(t["pairwise_recall"]),
                     _fmt(t["pairwise_f1"]), _fmt(t["bcubed_f1"])]
            if tier == "story":
                cells += [f"{_fmt(t['cross_language_recall'])} of {t['cross_language_pairs']}",
                          _fmt(t["same_language_recall"])]
            nm = f"{t['near_misses_merged']}" + (f" of {t['near_miss_pairs']}" if tier == "story" else "")
            table.add_row(*cells, nm)
        out.print(table)
    if with_baselines:
        out.print("baselines get an oracle threshold (the best F1 on this very data); ours does not",
                   highlight=False)
    if ds.skipped:
        out.print(f"{ds.skipped} lines skipped (no id, event or text)", highlight=False)


def eval_command(
    labels: Annotated[Path, typer.Argument(help="{id: cluster} JSON, a combined {labels, predicted} JSON, "
                                                "a JSONL corpus with a label key, or a labelled "
                                                "development set (JSONL with event/copy_of/text)")],
    predicted: Annotated[Path | None, typer.Argument(help="{id: cluster} JSON (omit for the combined form); "
                                                          "with a development set: a second part of it")] = None,
    label_key: Annotated[str, typer.Option(help="label key in a JSONL corpus")] = "story_label",
    as_json: Annotated[bool, typer.Option("--json", help="print the metrics as JSON")] = False,
    half: Annotated[str, typer.Option(help="development set: a, b (split by topic hash) or all")] = "all",
    with_baselines: Annotated[bool, typer.Option("--baselines", help="development set: also score exact "
                                                 "Jaccard and TF-IDF cosine at their oracle thresholds")] = False,
    hard_copies: Annotated[bool, typer.Option("--hard-copies", help="development set: add a wire update, a "
                                              "re-cased republication and an excerpt of every page")] = False,
    story_embedding_weight: Annotated[float | None, typer.Option(
        help="weight of the multilingual embedding evidence in the story tier (default 8, as chosen; 0: off, "
             "~8 ms per article faster; aggregator/dedup/embed.py)")] = None,
    no_dates: Annotated[bool, typer.Option("--drop-dates", help="development set: score as if no page stated "
                                           "its publication date (dates mostly missing)")] = False,
) -> None:
    """Pairwise P/R/F1, B-cubed P/R/F1 and Adjusted Rand Index of a clustering against labels.

    Given a labelled development set (pages with ``event``, ``copy_of`` and ``text``), clusters it
    with both tiers and scores them, with ``--baselines`` beside exact Jaccard and TF-IDF cosine.
    """
    from .devset import is_devset

    if not labels.exists():
        _err.print(f"[red]{labels}: no such file[/red]")
        raise typer.Exit(2)
    if is_devset(labels):
        paths = [labels] + ([predicted] if predicted is not None else [])
        if half not in ("a", "b", "all"):
            _err.print(f"[red]--half must be a, b or all, not {half!r}[/red]")
            raise typer.Exit(2)
        _devset_report(paths, half, with_baselines, as_json, hard_copies,
                       DedupConfig() if story_embedding_weight is None
                       else DedupConfig(story_embedding_weight=story_embedding_weight), no_dates)
        return
    keys = (label_key, "story_label", "dup_label", "label", "cluster")
    truth: dict[str, str]
    pred: dict[str, str]
    raw = None
    try:
        raw = json.loads(labels.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        pass
    if isinstance(raw, dict) and "labels" in raw and "predicted" in raw:
        truth = {str(k): str(v) for k, v in raw["labels"].items()}
        pred = {str(k): str(v) for k, v in raw["predicted"].items()}
    else:
        if predicted is None:
            _err.print("[red]give a predicted map, or one JSON with 'labels' and 'predicted'[/red]")
            raise typer.Exit(2)
        truth = _load_map(labels, keys)
        pred = _load_map(predicted, keys)
    m = evaluate(truth, pred)
    if as_json:
        sys.stdout.write(json.dumps(m, indent=1) + "\n")
        return
    table = Table(title=f"clustering quality ({int(m['n'])} articles scored)")
    table.add_column("metric")
    table.add_column("precision", justify="right")
    table.add_column("recall", justify="right")
    table.add_column("F1", justify="right")
    for name, key in (("pairwise", "pairwise"), ("B-cubed", "bcubed")):
        table.add_row(name, f"{m[key + '_precision']:.4f}", f"{m[key + '_recall']:.4f}", f"{m[key + '_f1']:.4f}")
    table.add_row("ARI", "", "", f"{m['ari']:.4f}")
    _out.print(table)


def app() -> typer.Typer:
    """A standalone typer app (the project CLI mounts the two functions itself)."""
    t = typer.Typer(add_completion=False)
    t.command("dedup")(dedup_command)
    t.command("eval")(eval_command)
    return t


if __name__ == "__main__":
    app()()
