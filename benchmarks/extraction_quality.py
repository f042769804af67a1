"""Extraction quality on the offline fixture web: our chain vs. trafilatura alone.

    python benchmarks/extraction_quality.py [--json] [--verbose]

Every ``tests/fixtures/expected/<source>/<slug>.json`` names a fixture page, its production URL and
the text we wrote for it. Body quality is token F1 (bag of words, CJK per character) because that
is what matters downstream (dedup shingles, search), and it is indifferent to paragraph breaks.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from aggregator.extract import ExtractionError, extract_article  # noqa: E402

FIXTURES = ROOT / "tests" / "fixtures"
FETCHED_AT = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")


def tokens(text: str | None) -> list[str]:
    if not text:
        return []
    text = text.lower()
    return _CJK.findall(text) + re.findall(r"[^\W_]+", _CJK.sub(" ", text))


def token_f1(got: str | None, want: str | None) -> float:
    g, w = Counter(tokens(got)), Counter(tokens(want))
    if not g and not w:
        return 1.0
    common = sum((g & w).values())
    if not common:
        return 0.0
    precision, recall = common / sum(g.values()), common / sum(w.values())
    return 2 * precision * recall / (precision + recall)


def same_minute(got: str | None, want: str | None) -> bool:
    if not got or not want:
        return got is None and want is None
    def parse(s: str) -> datetime:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
        return (dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    return parse(got).replace(second=0, microsecond=0) == parse(want).replace(second=0, microsecond=0)


def same_authors(got: list[str] | None, want: list[str]) -> bool:
    norm = lambda names: sorted(re.sub(r"\s+", " ", n).strip().casefold() for n in names or [])  # noqa: E731
    return norm(got) == norm(want)


def load_cases(root: Path = FIXTURES) -> list[dict]:
    """Expected records with the fixture bytes and sidecar headers attached."""
    cases = []
    for path in sorted((root / "expected").glob("*/*.json")):
        exp = json.loads(path.read_text(encoding="utf-8"))
        page = root / "web" / exp["fixture"]
        sidecar = Path(str(page) + ".headers.json")
        headers = {"Content-Type": "text/html"}
        if sidecar.exists():
            headers.update(json.loads(sidecar.read_text()).get("headers", {}))
        cases.append({**exp, "name": f"{path.parent.name}/{path.stem}", "html": page.read_bytes(),
                      "headers": headers})
    return cases


def run_ours(case: dict) -> dict[str, Any]:
    try:
        return extract_article(case["html"], case["url"], headers=case["headers"], fetched_at=FETCHED_AT)
    except ExtractionError as exc:
        return {"error": exc.reason}


def run_trafilatura(case: dict) -> dict[str, Any]:
    import trafilatura

    doc = trafilatura.bare_extraction(case["html"], url=case["url"], with_metadata=True, include_comments=False)
    if doc is None:
        return {"error": "none"}
    author = doc.author or ""
    return {"title": doc.title, "body": doc.text, "published_at": doc.date or None,
            "authors": [a.strip() for a in author.split(";") if a.strip()], "language": doc.language}


def score(cases: list[dict], runner) -> dict[str, Any]:
    rows = []
    start = time.perf_counter()
    for case in cases:
        got = runner(case)
        rows.append({
            "page": case["name"],
            "body_f1": round(token_f1(got.get("body"), case["body"]), 4),
            "title": (got.get("title") or "").strip() == case["title"],
            "date": same_minute(got.get("published_at"), case["published_at"]),
            "authors": same_authors(got.get("authors"), case["authors"]),
            "language": got.get("language") == case["language"],
            "error": got.get("error"),
        })
    elapsed = time.perf_counter() - start
    n = max(1, len(rows))
    f1s = [r["body_f1"] for r in rows]
    return {
        "pages": len(rows),
        "body_f1_mean": round(sum(f1s) / n, 4),
        "body_f1_min": round(min(f1s, default=0.0), 4),
        "title_exact": round(sum(r["title"] for r in rows) / n, 4),
        "date_accuracy": round(sum(r["date"] for r in rows) / n, 4),
        "author_accuracy": round(sum(r["authors"] for r in rows) / n, 4),
        "language_accuracy": round(sum(r["language"] for r in rows) / n, 4),
        "errors": sum(1 for r in rows if r["error"]),
        "seconds": round(elapsed, 2),
        "rows": rows,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    parser.add_argument("--verbose", action="store_true", help="per-page rows")
    parser.add_argument("--no-baseline", action="store_true", help="skip trafilatura alone")
    args = parser.parse_args(argv)
    cases = load_cases()
    results = {"ours": score(cases, run_ours)}
    if not args.no_baseline:
        results["trafilatura"] = score(cases, run_trafilatura)
    if args.json:
        if not args.verbose:
            for r in results.values():
                r.pop("rows")
        print(json.dumps(results, indent=1))
        return 0
    metrics = ["pages", "body_f1_mean", "body_f1_min", "title_exact", "date_accuracy", "author_accuracy",
               "language_accuracy", "errors", "seconds"]
    names = list(results)
    print(f"{'metric':<20}" + "".join(f"{n:>14}" for n in names))
    for m in metrics:
        print(f"{m:<20}" + "".join(f"{results[n][m]:>14}" for n in names))
    if args.verbose:
        print()
        for n in names:
            print(f"[{n}] pages below perfect:")
            for row in results[n]["rows"]:
                if row["body_f1"] < 0.99 or not (row["title"] and row["date"] and row["authors"]):
                    print("  ", {k: v for k, v in row.items() if v is not True})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
