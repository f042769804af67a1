"""Shared helpers: result rows, percentiles, peak RSS, paths."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
DATA = BENCH / "data"


@dataclass
class Row:
    """One line of the results table.

    ``project``/``baseline`` are numbers in ``unit``; ``higher_is_better`` says which way the ratio and
    the target go. ``ratio`` is always "how many times better the project is" (>1 = project better).
    """

    stage: str
    metric: str
    project: float | None = None
    baseline: float | None = None
    unit: str = ""
    baseline_name: str = ""
    higher_is_better: bool = True
    target: float | None = None
    target_text: str = ""
    notes: str = ""
    error: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.project in (None, 0) or self.baseline in (None, 0):
            return None
        return self.project / self.baseline if self.higher_is_better else self.baseline / self.project

    @property
    def ok(self) -> bool | None:
        if self.target is None or self.project is None:
            return None
        return self.project >= self.target if self.higher_is_better else self.project <= self.target

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def pct(values: list[float], q: float) -> float:
    """Percentile (nearest-rank on sorted data, q in 0..100)."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = min(len(s) - 1, max(0, int(round(q / 100.0 * (len(s) - 1)))))
    return s[k]


def peak_rss_bytes() -> int:
    """This process's peak resident set size (ru_maxrss is KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def children_peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def pin_one_core() -> str:
    """Pin this process to one CPU (for "one core" figures); returns a note."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
        os.sched_setaffinity(0, {cpus[-1]})
        return f"pinned to CPU {cpus[-1]}"
    except (AttributeError, OSError):  # pragma: no cover - non-Linux
        return "not pinned"


def write_result(path: Path, rows: list[Row], **extra: Any) -> None:
    payload = {"rows": [r.to_json() for r in rows], "peak_rss": peak_rss_bytes(),
               "children_peak_rss": children_peak_rss_bytes(), **extra}
    path.write_text(json.dumps(payload, indent=1, default=str))


def log(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)
