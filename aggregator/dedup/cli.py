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
) -> None:
    """Cluster articles from a JSON-lines file and write ``{"<id>": "<cluster id>"}``."""
    if level not in ("dup", "story"):
        _err.print(f"[red]--level must be dup or story, not {level!r}[/red]")
        raise typer.Exit(2)
    if not input.exists():
        _err.print(f"[red]{input}: no such file[/red]")
        raise typer.Exit(2)
    cfg = DedupConfig()
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


def eval_command(
    labels: Annotated[Path, typer.Argument(help="{id: cluster} JSON, a combined {labels, predicted} JSON, "
                                                "or a JSONL corpus with a label key")],
    predicted: Annotated[Path | None, typer.Argument(help="{id: cluster} JSON (omit for the combined form)")] = None,
    label_key: Annotated[str, typer.Option(help="label key in a JSONL corpus")] = "story_label",
    as_json: Annotated[bool, typer.Option("--json", help="print the metrics as JSON")] = False,
) -> None:
    """Pairwise P/R/F1, B-cubed P/R/F1 and Adjusted Rand Index of a clustering against labels."""
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
