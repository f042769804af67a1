"""Run the benchmarks and write ``benchmarks/results.md``.

    python -m benchmarks.run                 # everything (< 15 min on 2 cores)
    python -m benchmarks.run --quick         # small sizes, ~2-3 minutes: a smoke run
    python -m benchmarks.run --only lsh,minhash

Every stage runs in its own child process (``--child STAGE``), so its peak RSS is its own, a Twisted
reactor is fresh, and a stage that fails (an API not there yet, a missing engine) becomes an error row
instead of stopping the run.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import BENCH, DATA, ROOT, Row, log, write_result

# name -> (module, function, timeout seconds full / quick)
STAGES: dict[str, tuple[str, str, int, int]] = {
    "minhash": ("benchmarks.bench_minhash", "run", 240, 90),
    "lsh": ("benchmarks.bench_lsh", "run", 420, 120),
    "dedup": ("benchmarks.bench_lsh", "run_dedup", 420, 90),
    "dedup-columns": ("benchmarks.bench_lsh", "run_dedup_columns", 1200, 420),  # column store vs reference
    "dedup-redis": ("benchmarks.bench_redis", "run", 420, 180),  # 1, 2, 4 writers on one redis-server
    "extraction": ("benchmarks.bench_extract", "run", 240, 90),
    "crawl": ("benchmarks.bench_crawl", "run", 600, 180),
    "indexing": ("benchmarks.bench_engine", "run", 600, 240),
    "consistency": ("benchmarks.bench_index_check", "run", 600, 180),
    # opt-in (--only): Deduplicator.add at 20k/50k/100k; builds and caches its states the first time (~1 h)
    "dedup-scale": ("benchmarks.bench_dedup_scale", "run", 5400, 900),
}
ORDER = ["minhash", "lsh", "dedup", "dedup-columns", "dedup-redis", "extraction", "crawl", "indexing", "consistency"]
ALIASES = {"search": "indexing", "engine": "indexing", "extract": "extraction", "memory": "dedup",
           "redis": "dedup-redis", "check": "consistency"}


# --- machine --------------------------------------------------------------------------------------
def _version(pkg: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(pkg)
    except PackageNotFoundError:
        return "—"


def _cmd_version(cmd: list[str]) -> str:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=20)
        out = (p.stdout + p.stderr).strip().splitlines()
        return out[0] if out else "—"
    except (OSError, subprocess.TimeoutExpired):
        return "not installed"


def machine() -> dict[str, str]:
    import psutil

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    pkgs = ["scrapy", "twisted", "datasketch", "numpy", "scipy", "xxhash", "trafilatura", "lxml", "opensearch-py",
            "elasticsearch", "psutil"]
    return {
        "CPU": f"{cpu} — {os.cpu_count()} logical cores ({usable} usable)",
        "RAM": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "OS": f"{platform.system()} {platform.release()} ({platform.machine()})",
        "Python": f"{platform.python_implementation()} {platform.python_version()}",
        "Packages": ", ".join(f"{p} {_version(p)}" for p in pkgs),
        "Java": _cmd_version(["java", "-version"]),
        "nginx": _cmd_version(["nginx", "-v"]),
    }


# --- formatting -----------------------------------------------------------------------------------
def fmt(v: float | None, unit: str = "") -> str:
    if v is None:
        return "—"
    if isinstance(v, float) and v != v:
        return "n/a"
    a = abs(v)
    if unit == "" and a <= 1.0:
        s = f"{v:.3f}"
    elif a >= 100:
        s = f"{v:,.0f}"
    elif a >= 10:
        s = f"{v:.1f}"
    else:
        s = f"{v:.2f}"
    return f"{s} {unit}".strip()


def render(rows: list[Row], info: dict[str, str], meta: dict) -> str:
    out = ["# Benchmark results", ""]
    out.append(f"Run {meta['when']} · mode: {'quick (small sizes)' if meta['quick'] else 'full'} · "
               f"stages: {', '.join(meta['stages'])} · wall time {meta['wall']:.0f} s")
    out.append("")
    for k, v in info.items():
        out.append(f"- **{k}**: {v}")
    out.append("")
    out.append("Ratio = how many times better the project is than the baseline measured in the same run "
               "(speeds: project/baseline; latencies and memory: baseline/project). ✓/✗ only where a target is set.")
    out.append("")
    out.append("| Stage | Metric | Project | Baseline | Ratio | Target | ✓/✗ | Notes |")
    out.append("|---|---|---:|---:|---:|---|:-:|---|")
    for r in rows:
        if r.error:
            out.append(f"| {r.stage} | {r.metric} | **error** | — | — | {r.target_text} | ✗ | "
                       f"{_cell(r.error)} |")
            continue
        base = fmt(r.baseline, r.unit) + (f" ({r.baseline_name})" if r.baseline_name and r.baseline is not None else "")
        ratio = f"{r.ratio:.2f}×" if r.ratio is not None else "—"
        ok = {True: "✓", False: "✗", None: ""}[r.ok]
        out.append(f"| {r.stage} | {r.metric} | {fmt(r.project, r.unit)} | {base} | {ratio} | {r.target_text} | "
                   f"{ok} | {_cell(r.notes)} |")
    out.append("")
    if meta.get("notes"):
        out.append("Notes:")
        out.extend(f"- {n}" for n in meta["notes"])
        out.append("")
    return "\n".join(out)


def _cell(text: str) -> str:
    return " ".join(str(text).replace("|", "\\|").split())


# --- child ----------------------------------------------------------------------------------------
def child(stage: str, quick: bool, out: Path) -> int:
    module, func, _, _ = STAGES[stage]
    rows = getattr(importlib.import_module(module), func)(quick)
    write_result(out, rows)
    return 0


def run_stage(stage: str, quick: bool) -> tuple[list[Row], dict]:
    module, func, t_full, t_quick = STAGES[stage]
    timeout = t_quick if quick else t_full
    with tempfile.TemporaryDirectory(prefix=f"bench-{stage}-") as tmp:
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, "-m", "benchmarks.run", "--child", stage, "--out", str(out)]
        if quick:
            cmd.append("--quick")
        t0 = time.perf_counter()
        err_tail = ""
        try:
            proc = subprocess.Popen(cmd, cwd=ROOT, stderr=subprocess.PIPE, text=True, start_new_session=True)
            lines: list[str] = []
            assert proc.stderr is not None
            deadline = time.monotonic() + timeout
            import selectors

            sel = selectors.DefaultSelector()
            sel.register(proc.stderr, selectors.EVENT_READ)
            while True:
                if time.monotonic() > deadline:
                    os.killpg(proc.pid, 9)  # our own child's session only
                    proc.wait()
                    raise subprocess.TimeoutExpired(cmd, timeout)
                if sel.select(timeout=1.0):
                    line = proc.stderr.readline()
                    if not line:
                        break
                    lines.append(line)
                    if line.startswith("[bench"):
                        sys.stderr.write(line)
            rc = proc.wait()
            err_tail = "".join(lines[-15:])
        except subprocess.TimeoutExpired:
            rc = -1
            err_tail = f"timed out after {timeout}s"
        wall = time.perf_counter() - t0
        if rc == 0 and out.exists():
            data = json.loads(out.read_text())
            rows = [Row(**r) for r in data["rows"]]
            return rows, {"wall": wall, "peak_rss": data["peak_rss"]}
        last = [ln for ln in err_tail.strip().splitlines() if ln.strip()][-3:]
        msg = " / ".join(last) or f"exit code {rc}"
        log(f"stage {stage} failed: {msg}")
        return [Row(stage, "stage failed", error=msg[-600:])], {"wall": wall, "peak_rss": None}


def keep_sections(table: str, old: str) -> str:
    """The run's ``table`` (:func:`render`: one ``#`` heading, no ``##``) followed by the ``##`` sections of
    the ``old`` file: those are written by hand (what each branch measured, and why), and a run, even of one
    stage (``--only``), replaces only the table above them."""
    at = old.find("\n## ")
    return table if at < 0 else table.rstrip("\n") + "\n" + old[at:]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, ~2-3 minutes")
    ap.add_argument("--only", default="", help="comma-separated stages: " + ",".join(ORDER))
    ap.add_argument("--output", default=str(BENCH / "results.md"))
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child(args.child, args.quick, Path(args.out))
    stages = ORDER
    if args.only:
        wanted = [ALIASES.get(s.strip(), s.strip()) for s in args.only.split(",") if s.strip()]
        unknown = [s for s in wanted if s not in STAGES]
        if unknown:
            ap.error(f"unknown stage(s) {unknown}; choose from {ORDER}")
        stages = [s for s in ORDER if s in wanted] + [s for s in STAGES if s not in ORDER and s in wanted]
    DATA.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    info = machine()
    rows: list[Row] = []
    mem_rows: list[Row] = []
    for stage in stages:
        log(f"stage {stage} ...")
        stage_rows, meta = run_stage(stage, args.quick)
        log(f"stage {stage} done in {meta['wall']:.0f}s")
        rows.extend(r for r in stage_rows if r.stage != "memory")
        mem_rows.extend(r for r in stage_rows if r.stage == "memory")
        if meta["peak_rss"]:
            what = "the crawl orchestrator (crawls: rows above)" if stage == "crawl" else f"the {stage} process"
            mem_rows.append(Row("memory", f"peak RSS of {what}", meta["peak_rss"] / 2**20, None, "MB",
                                higher_is_better=False,
                                notes=f"ru_maxrss of the stage's child; wall {meta['wall']:.0f}s"))
    rows.extend(mem_rows)
    meta = {"when": time.strftime("%Y-%m-%d %H:%M %Z"), "quick": args.quick, "stages": stages,
            "wall": time.perf_counter() - t0, "notes": []}
    out = Path(args.output)
    text = render(rows, info, meta)
    out.write_text(keep_sections(text, out.read_text(encoding="utf-8") if out.exists() else ""), encoding="utf-8")
    print(text)
    log(f"wrote {args.output} in {meta['wall']:.0f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
