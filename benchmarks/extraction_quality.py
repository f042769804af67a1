"""Extraction quality: our chain vs. trafilatura alone, on the fixture web or on real pages.

    python benchmarks/extraction_quality.py [--json] [--verbose]
    python benchmarks/extraction_quality.py --devset [--dir /work/scratch/extractset] [--verbose]

Fixture web: every ``tests/fixtures/expected/<source>/<slug>.json`` names a fixture page, its
production URL and the text we wrote for it. Body quality is token F1 (bag of words, CJK per
character) because that is what matters downstream (dedup shingles, search), and it is indifferent
to paragraph breaks.

``--devset``: the real pages listed in ``benchmarks/devsets/extractset.jsonl`` (rebuilt into a
scratch folder by ``benchmarks/devsets/build_extractset.py``), per collection: word-level
bag-of-words precision, recall and F1 of the body against the expected text (the mean over pages)
where a collection gives one (newspaper4k, Readability), the snippet precision/recall/F1 of
go-trafilatura's comparison (expected snippets found, unwanted snippets found, summed over pages)
for trafilatura's evaluation pages, title/date/author accuracy where labelled, and the
not-an-article decisions; our chain beside trafilatura's default and ``favor_precision`` runs, over
the whole set and over its two halves (half A, the one tuning looked at, and half B), split by a
hash of the id. A refused article scores as an empty body. The not-an-article decisions get their own
table: pages that are not articles refused (right: our ExtractionError, trafilatura's None or empty
text) or extracted (wrong; with the median length of those bodies), per ``page_kind`` (home_page,
tag_page, video_page, live_blog, ...), and articles refused (wrong). ``--non-articles`` scores only
those pages (a quick check of an article gate); ``--verbose`` lists each page's decision.
``--collection``/``--half`` narrow the run, ``--jobs 2`` spreads it over processes (times are CPU
time per page either way).
"""

from __future__ import annotations

import argparse
import hashlib
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


# -- the real-page development set -----------------------------------------------------------------

DEVSET_FACTS = ROOT / "benchmarks" / "devsets" / "extractset.jsonl"
DEVSET_DIR = Path("/work/scratch/extractset")


def prf(got: str | None, want: str | None) -> tuple[float, float, float]:
    """Word-level bag-of-words precision, recall, F1 (CJK per character)."""
    g, w = Counter(tokens(got)), Counter(tokens(want))
    if not g and not w:
        return 1.0, 1.0, 1.0
    common = sum((g & w).values())
    if not common:
        return 0.0, 0.0, 0.0
    p, r = common / sum(g.values()), common / sum(w.values())
    return p, r, 2 * p * r / (p + r)


def half(case_id: str) -> str:
    """"A" or "B", fixed by the id alone so the split never moves when pages are added."""
    return "A" if hashlib.sha1(case_id.encode()).digest()[0] % 2 == 0 else "B"


def load_devset(folder: Path = DEVSET_DIR, facts: Path = DEVSET_FACTS) -> list[dict]:
    from benchmarks.devsets.build_extractset import collection_of

    cases = []
    for line in facts.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        fact = json.loads(line)
        page = folder / "pages" / f"{fact['id']}.html"
        if not page.exists():
            raise SystemExit(f"{page} is missing: run benchmarks/devsets/build_extractset.py --dir {folder}")
        text, snippets = folder / "expected" / f"{fact['id']}.txt", folder / "expected" / f"{fact['id']}.json"
        cases.append({**fact, "name": fact["id"], "html": page.read_bytes(), "collection": collection_of(fact),
                      "url": fact.get("url") or f"https://devset.invalid/{fact['id']}",
                      "body": text.read_text(encoding="utf-8") if text.exists() else None,
                      "snippets": json.loads(snippets.read_text(encoding="utf-8")) if snippets.exists() else None,
                      "headers": {"Content-Type": "text/html"}, "half": half(fact["id"])})
    return cases


def _traf_runner(**options):
    def run(case: dict) -> dict[str, Any]:
        import trafilatura

        doc = trafilatura.bare_extraction(case["html"], url=case["url"], with_metadata=True, **options)
        if doc is None or not (doc.text or "").strip():
            # trafilatura's way of saying "no main text here": None, or a document without text
            return {"error": "none" if doc is None else "empty"}
        return {"title": doc.title, "body": doc.text, "published_at": doc.date or None,
                "authors": [a.strip() for a in (doc.author or "").split(";") if a.strip()]}
    return run


run_traf_default = _traf_runner()
run_traf_precision = _traf_runner(favor_precision=True)


def _norm_title(t: str | None) -> str:
    return re.sub(r"\W+", " ", (t or "")).strip().casefold()


def _norm_author(names: list[str] | str | None) -> list[str]:
    if isinstance(names, str):
        names = re.split(r"\s*(?:;|,|\band\b|\bund\b|&)\s*", names)
    return sorted(n for n in (_norm_title(re.sub(r"(?i)^(by|von)\s+", "", x)) for x in names or []) if n)


def _local_day(value: str | None, offset: str | None) -> str:
    """The day of ``value`` where it was published (labels give the day the page shows)."""
    if not value:
        return ""
    dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if offset and dt.tzinfo is not None:
        dt = dt.astimezone(datetime.strptime(offset.replace(":", ""), "%z").tzinfo)
    return dt.date().isoformat()


def snippet_counts(body: str | None, snippets: dict) -> tuple[int, int, int, int]:
    """(tp, fn, fp, tn) as go-trafilatura's comparison scores a page: each expected snippet found in the
    body is a true positive, each unwanted snippet found is a false positive. Whitespace runs are
    folded to one space on both sides so no extractor is judged on its line breaks."""
    fold = lambda t: re.sub(r"\s+", " ", t or "").strip()  # noqa: E731
    text = fold(body)
    if not text:
        return 0, len(snippets["with"]), 0, len(snippets["without"])
    found = [fold(s) in text for s in snippets["with"]]
    unwanted = [fold(s) in text for s in snippets["without"]]
    return sum(found), len(found) - sum(found), sum(unwanted), len(unwanted) - sum(unwanted)


def score_case(case: dict, runner) -> dict:
    start = time.process_time()  # CPU time: the machine's other load does not count
    got = runner(case)
    seconds = time.process_time() - start
    row = {"page": case["name"], "kind": case["kind"], "half": case["half"], "lang": case.get("language"),
           "collection": case["collection"], "seconds": seconds, "error": got.get("error"),
           "refused": bool(got.get("error"))}
    if case["kind"] != "article":
        row["page_kind"] = case.get("page_kind") or "other"
        row["body_words"] = len(tokens(got.get("body")))
    if case["kind"] == "article":
        if case.get("snippets"):
            row["tp"], row["fn"], row["fp"], row["tn"] = snippet_counts(got.get("body"), case["snippets"])
        elif case.get("body") is not None:
            row["p"], row["r"], row["f1"] = prf(got.get("body"), case["body"])
        if case.get("title"):
            row["title"] = _norm_title(got.get("title")) == _norm_title(case["title"])
        if case.get("date"):
            row["date"] = _local_day(got.get("published_at"), got.get("published_offset")) == case["date"]
        if case.get("author"):
            row["author"] = _norm_author(got.get("authors")) == _norm_author(case["author"])
    return row


def score_devset(cases: list[dict], runner) -> list[dict]:
    return [score_case(case, runner) for case in cases]


def summarize(rows: list[dict]) -> dict[str, Any]:
    arts = [r for r in rows if r["kind"] == "article"]
    words = [r for r in arts if "f1" in r]
    snips = [r for r in arts if "tp" in r]
    non = [r for r in rows if r["kind"] != "article"]
    n = max(1, len(words))

    def rate(key: str) -> str:
        labelled = [r[key] for r in arts if key in r]
        return f"{sum(labelled) / len(labelled):.3f} ({len(labelled)})" if labelled else "-"

    tp, fn, fp = (sum(r[k] for r in snips) for k in ("tp", "fn", "fp"))
    return {
        "articles": len(arts),
        "word_pages": len(words),
        "precision": round(sum(r["p"] for r in words) / n, 4) if words else "-",
        "recall": round(sum(r["r"] for r in words) / n, 4) if words else "-",
        "f1": round(sum(r["f1"] for r in words) / n, 4) if words else "-",
        "snippet_pages": len(snips),
        "snippet_precision": round(tp / max(1, tp + fp), 4) if snips else "-",
        "snippet_recall": round(tp / max(1, tp + fn), 4) if snips else "-",
        "snippet_f1": round(2 * tp / max(1, 2 * tp + fp + fn), 4) if snips else "-",
        "title": rate("title"),
        "date": rate("date"),
        "author": rate("author"),
        "articles_refused": sum(r["refused"] for r in arts),
        "non_articles_refused": f"{sum(r['refused'] for r in non)}/{len(non)}" if non else "-",
        "cpu_ms_per_page": round(1000 * sum(r["seconds"] for r in rows) / max(1, len(rows)), 1),
    }


def decisions(rows: list[dict]) -> dict[str, Any]:
    """The not-an-article decisions of one extractor: on pages that are not articles a refusal (our
    ExtractionError, trafilatura's None or empty text) is right and a body is wrong; on articles a
    refusal is wrong. ``by_kind`` gives refused/pages per page_kind, ``reasons`` why pages were refused."""
    non = [r for r in rows if r["kind"] != "article"]
    arts = [r for r in rows if r["kind"] == "article"]
    kept = sorted(r["body_words"] for r in non if not r["refused"])
    by_kind: dict[str, list[int]] = {}
    for r in non:
        refused_total = by_kind.setdefault(r["page_kind"], [0, 0])
        refused_total[0] += r["refused"]
        refused_total[1] += 1
    return {
        "non_articles": len(non),
        "non_articles_refused": sum(r["refused"] for r in non),
        "non_articles_extracted": len(kept),
        "median_words_extracted": kept[len(kept) // 2] if kept else 0,
        "articles": len(arts),
        "articles_refused": sum(r["refused"] for r in arts),
        "by_kind": {k: f"{v[0]}/{v[1]}" for k, v in sorted(by_kind.items())},
        "reasons_non_articles": dict(Counter(r["error"] for r in non if r["refused"]).most_common()),
        "reasons_articles": dict(Counter(r["error"] for r in arts if r["refused"]).most_common()),
    }


def print_decisions(rows: dict[str, list[dict]], part: str = "all") -> None:
    picked = {name: [r for r in rs if part == "all" or r["half"] == part] for name, rs in rows.items()}
    dec = {name: decisions(rs) for name, rs in picked.items()}
    label = {"all": "both halves", "A": "half A (tuned on)", "B": "half B (held out)"}[part]
    print(f"\nnot-an-article decisions, {label}")
    print(f"{'':<34}" + "".join(f"{n:>16}" for n in dec))

    def line(label: str, values: list) -> None:
        print(f"{label:<34}" + "".join(f"{v!s:>16}" for v in values))

    line("non-articles refused (right)", [f"{d['non_articles_refused']}/{d['non_articles']}" for d in dec.values()])
    line("non-articles extracted (wrong)", [f"{d['non_articles_extracted']}/{d['non_articles']}" for d in dec.values()])
    line("  median words of those bodies", [d["median_words_extracted"] for d in dec.values()])
    line("articles refused (wrong)", [f"{d['articles_refused']}/{d['articles']}" for d in dec.values()])
    kinds = sorted({k for d in dec.values() for k in d["by_kind"]})
    for kind in kinds:
        line(f"  refused: {kind}", [d["by_kind"].get(kind, "-") for d in dec.values()])
    for name, d in dec.items():
        if d["reasons_non_articles"] or d["reasons_articles"]:
            print(f"  {name}: why non-articles were refused {d['reasons_non_articles']}; "
                  f"why articles were {d['reasons_articles']}")


RUNNERS = {"ours": run_ours, "traf default": run_traf_default, "traf precision": run_traf_precision}


def _score_page(args: tuple[dict, str]) -> dict:
    case, name = args
    return score_case(case, RUNNERS[name])


def main_devset(args) -> int:
    cases = load_devset(args.dir)
    if args.collection:
        cases = [c for c in cases if c["collection"] in args.collection]
    if args.half:
        cases = [c for c in cases if c["half"] == args.half]
    if args.non_articles:
        cases = [c for c in cases if c["kind"] != "article"]
    for runner in RUNNERS.values():  # warm imports and caches outside the timed runs
        runner(cases[0])
    rows: dict[str, list[dict]] = {}
    if args.jobs > 1:
        from multiprocessing import Pool

        with Pool(args.jobs) as pool:
            for name in RUNNERS:
                rows[name] = pool.map(_score_page, [(c, name) for c in cases], chunksize=8)
    else:
        rows = {name: score_devset(cases, runner) for name, runner in RUNNERS.items()}
    collections = sorted({c["collection"] for c in cases})
    table: dict[str, dict[str, dict]] = {}
    for part in ("all", "A", "B"):
        for coll in ["all", *collections]:
            table[f"{coll}/{part}"] = {
                name: summarize([r for r in rs if (part == "all" or r["half"] == part)
                                 and (coll == "all" or r["collection"] == coll)])
                for name, rs in rows.items()}
    parts = ["all", "A", "B"] if not args.half else [args.half]
    if args.json:
        print(json.dumps({"table": table, "decisions": {
            part: {name: decisions([r for r in rs if part == "all" or r["half"] == part]) for name, rs in rows.items()}
            for part in parts}, "rows": rows if args.verbose else None}, indent=1))
        return 0
    metrics = ["articles", "word_pages", "precision", "recall", "f1", "snippet_pages", "snippet_precision",
               "snippet_recall", "snippet_f1", "title", "date", "author", "articles_refused",
               "non_articles_refused", "cpu_ms_per_page"]
    for key, results in table.items():
        coll, part = key.split("/")
        label = {"all": "both halves", "A": "half A (tuned on)", "B": "half B (held out)"}[part]
        print(f"\n{'all collections' if coll == 'all' else coll}, {label}")
        print(f"{'metric':<20}" + "".join(f"{n:>16}" for n in results))
        for m in metrics:
            values = [results[n][m] for n in results]
            if all(v in ("-", 0) for v in values) and m not in ("articles", "articles_refused"):
                continue
            print(f"{m:<20}" + "".join(f"{v!s:>16}" for v in values))
    for part in parts:
        print_decisions(rows, part)
    ratio = table["all/all"]["ours"]["cpu_ms_per_page"] / max(1e-9, table["all/all"]["traf default"]["cpu_ms_per_page"])
    print(f"\nCPU time per page, ours / trafilatura default: {ratio:.2f}")
    if args.verbose:
        print(f"\n  {'page':<48} h lang {'kind':<14}" + "  ".join(f"{n:>22}" for n in RUNNERS))
        by_name = {name: {r["page"]: r for r in rs} for name, rs in rows.items()}
        for case in cases:
            cells = []
            for name in RUNNERS:
                r = by_name[name][case["name"]]
                if "f1" in r:
                    cells.append(f"{r['f1']:.3f}")
                elif "tp" in r:
                    cells.append(f"+{r['tp']}/-{r['fn']} x{r['fp']}")
                elif r["kind"] != "article":
                    cells.append(f"no ({r['error']})" if r["refused"] else f"{r['body_words']} words")
                else:
                    cells.append("refused" if r["refused"] else "kept")
            kind = case["kind"] if case["kind"] == "article" else case.get("page_kind") or "other"
            print(f"  {case['name']:<48} {case['half']} {case.get('language')!s:<4} {kind:<14}"
                  + "  ".join(f"{c:>22}" for c in cells))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print machine-readable results")
    parser.add_argument("--verbose", action="store_true", help="per-page rows")
    parser.add_argument("--no-baseline", action="store_true", help="skip trafilatura alone")
    parser.add_argument("--devset", action="store_true", help="score the real-page development set")
    parser.add_argument("--dir", type=Path, default=DEVSET_DIR, help="the development set's scratch folder")
    parser.add_argument("--collection", action="append", help="only this collection (repeatable)")
    parser.add_argument("--half", choices=["A", "B"], help="only this half of the set")
    parser.add_argument("--non-articles", action="store_true", help="only the pages that are not articles")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (CPU time is per page either way)")
    args = parser.parse_args(argv)
    if args.devset:
        return main_devset(args)
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
