"""Extraction: ms per page of the project's extract_article vs trafilatura.bare_extraction, same pages."""

from __future__ import annotations

import time

from benchmarks.common import Row, log, pct
from benchmarks.web import ensure_web, load_manifest


def run(quick: bool) -> list[Row]:
    import trafilatura

    from aggregator.extract import extract_article

    n_web = 300 if quick else 2000  # the crawl stage's fixture web, generated once
    root = ensure_web(n_web)
    pages = load_manifest(root)[: 40 if quick else 200]
    docs = [((root / p["path"]).read_bytes(), p["url"]) for p in pages]
    extract_article(*docs[0])
    trafilatura.bare_extraction(docs[0][0], url=docs[0][1])
    proj: list[float] = []
    traf: list[float] = []
    failures = 0
    ld_body = 0
    for i, (body, url) in enumerate(docs):
        # alternate which one goes first so cache effects do not favour either
        order = (0, 1) if i % 2 == 0 else (1, 0)
        for which in order:
            t0 = time.perf_counter()
            if which == 0:
                try:
                    art = extract_article(body, url)
                    ld_body += (art.get("extracted_by") or {}).get("body", "") not in ("", "trafilatura")
                except Exception:  # noqa: BLE001 - counted
                    failures += 1
                proj.append(time.perf_counter() - t0)
            else:
                trafilatura.bare_extraction(body, url=url)
                traf.append(time.perf_counter() - t0)
    size = sum(len(b) for b, _ in docs) / len(docs) / 1024
    log(f"extraction: project median {pct(proj, 50) * 1e3:.1f} ms, trafilatura {pct(traf, 50) * 1e3:.1f} ms")
    note = (f"{len(docs)} fixture pages, mean {size:.0f} KB; project failures {failures}; "
            f"body taken from JSON-LD/other than trafilatura on {ld_body}")
    rows = [
        Row("extraction", "ms/page median", pct(proj, 50) * 1e3, pct(traf, 50) * 1e3, "ms",
            "trafilatura.bare_extraction", higher_is_better=False, notes=note),
        Row("extraction", "ms/page p95", pct(proj, 95) * 1e3, pct(traf, 95) * 1e3, "ms",
            "trafilatura.bare_extraction", higher_is_better=False),
    ]
    return rows + _real_pages()


def _real_pages() -> list[Row]:
    """The same comparison on the real-page set, when its scratch folder has been built."""
    import json

    import trafilatura

    from aggregator.extract import extract_article
    from benchmarks.extraction_quality import DEVSET_DIR, DEVSET_FACTS

    facts = [json.loads(line) for line in DEVSET_FACTS.read_text(encoding="utf-8").splitlines() if line.strip()]
    pages = [((DEVSET_DIR / "pages" / f"{f['id']}.html"), f.get("url") or f"https://devset.invalid/{f['id']}")
             for f in facts]
    if not pages or not all(p.exists() for p, _ in pages):
        log("extraction: real-page set not built (benchmarks/devsets/build_extractset.py); skipped")
        return []
    docs = [(p.read_bytes(), url) for p, url in pages]
    proj: list[float] = []
    traf: list[float] = []
    for i, (body, url) in enumerate(docs):
        for which in ((0, 1) if i % 2 == 0 else (1, 0)):
            t0 = time.perf_counter()
            if which == 0:
                try:
                    extract_article(body, url)
                except Exception:  # noqa: BLE001 - refusals (not_article) take time too
                    pass
                proj.append(time.perf_counter() - t0)
            else:
                trafilatura.bare_extraction(body, url=url)
                traf.append(time.perf_counter() - t0)
    mean_p, mean_t = sum(proj) / len(proj) * 1e3, sum(traf) / len(traf) * 1e3
    return [Row("extraction", "ms/page mean, real pages", mean_p, mean_t, "ms", "trafilatura.bare_extraction",
                higher_is_better=False,
                notes=f"{len(docs)} saved pages of the extractset (benchmarks/devsets), interleaved")]
