"""Search quality in the languages we crawl: nDCG@10 and recall@10 of the project's full-text search on
real EV news pages, before (the ``english`` analyzer on every language, as on main until the language
fields) and after (each article analysed by its language; and the ``standard`` fallback of clusters
without the analysis modules).

    python -m benchmarks.search_quality [--texts /work/scratch/searchset/pages.jsonl] [--url URL] [--json]

``benchmarks/devsets/searchset.jsonl`` holds only facts: the pages (URL, title, language, date, and the
search that found each one again) and the queries with their judged relevant pages (2 relevant, 1 partly
relevant; judged within the query's language, since no analyzer matches a German word in an English
page). The page texts are other people's sentences and stay outside the repository (``--texts``, one
JSON object per line with ``url``, ``title`` and ``text``). Without ``--url`` a dedicated local engine is
started on ``AGGREGATOR_BENCH_ENGINE_PORT`` (default 9270) like ``bench_engine``.

Every configuration indexes the same pages into its own indices and runs the same request per query:
:func:`aggregator.search.queries.search_top_articles` (the ranking ``aggregator search`` and the
one-request collapse share), ten hits. The language of each page is what the extractor decides for a
page that declares none (:func:`aggregator.extract.language.detect_language` over title and text); its
agreement with the set's labels is reported too.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
import math
import os
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

DEVSET = ROOT / "benchmarks" / "devsets" / "searchset.jsonl"
TEXTS = Path("/work/scratch/searchset/pages.jsonl")
PREFIX = "sq-"
K = 10


def load(devset: Path, texts: Path) -> tuple[list[dict], list[dict]]:
    """(pages with their text, queries); pages whose text is missing are left out (and said so)."""
    facts = [json.loads(line) for line in devset.read_text(encoding="utf-8").splitlines() if line.strip()]
    by_url = {}
    for line in texts.read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            by_url[row["url"]] = row
    pages, missing = [], 0
    for fact in facts:
        if fact["kind"] != "page":
            continue
        text = by_url.get(fact["url"])
        if text is None:
            missing += 1
            continue
        pages.append({**fact, "text": text["text"]})
    if missing:
        print(f"warning: {missing} pages of the set have no text in {texts}; they cannot be found", file=sys.stderr)
    return pages, [f for f in facts if f["kind"] == "query"]


def ndcg(ranked: list[str], relevant: dict[str, int], k: int = K) -> float:
    """Graded nDCG@k, gain 2^grade - 1, log2 position discount; the ideal ranks every judged page."""
    dcg = sum((2 ** relevant.get(doc, 0) - 1) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall(ranked: list[str], relevant: dict[str, int], k: int = K) -> float:
    """Share of the relevant (grade >= 1) pages in the top k."""
    wanted = {doc for doc, g in relevant.items() if g > 0}
    return len(wanted & set(ranked[:k])) / len(wanted) if wanted else 0.0


def _before_mapping() -> dict[str, Any]:
    """The articles mapping of main before the language fields: ``english`` on title, lead and body."""
    from aggregator.search import mapping

    body = copy.deepcopy(mapping.articles_mapping())
    props = body["properties"]
    for name in mapping.LANGUAGE_FIELD_NAMES:
        props.pop(name, None)
    for name in mapping.TEXT_FIELDS:
        props[name] = {"type": "text", "analyzer": "english"}
    return body


def split_halves(queries_: list[dict]) -> dict[str, str]:
    """Query id -> ``"a"`` or ``"b"``: within each language the queries in order of the SHA-1 of their id,
    alternately a and b. Fixed by the ids alone, so tuning on half a and reporting half b stays honest."""
    by_lang: dict[str, list[dict]] = defaultdict(list)
    for q in queries_:
        by_lang[q["language"]].append(q)
    half = {}
    for group in by_lang.values():
        group.sort(key=lambda q: hashlib.sha1(q["id"].encode()).hexdigest())
        for i, q in enumerate(group):
            half[q["id"]] = "ab"[i % 2]
    return half


def _main_mapping(analysis: str) -> dict[str, Any]:
    """The articles mapping of main 7757e85: the language fields, no shared ``.all`` sub-fields."""
    from aggregator.search import mapping

    body = copy.deepcopy(mapping.articles_mapping(analysis=analysis))
    for name in mapping.TEXT_FIELDS:
        body["properties"][name].pop("fields", None)
    return body


def _main_request(text: str) -> dict[str, Any]:
    """main 7757e85's request: the language fields only, most of the words in one field."""
    from aggregator.search import queries

    body = queries.search_top_articles(text, size=K)
    body["query"]["bool"]["must"] = [queries.text_clauses(text)[0]]
    return body


def _no_shared_request(text: str) -> dict[str, Any]:
    """This branch's request without the shared-vocabulary part: what an index of main's shape answers
    before ``aggregator index migrate`` (its articles have no ``.all`` sub-fields)."""
    from aggregator.search import queries

    body = queries.search_top_articles(text, size=K)
    body["query"]["bool"]["must"] = [{"bool": {"should": queries.text_clauses(text)[:2], "minimum_should_match": 1}}]
    return body


def _branch_request(text: str) -> dict[str, Any]:
    from aggregator.search import queries

    return queries.search_top_articles(text, size=K)


def _before_request(text: str) -> dict[str, Any]:
    """main's request before the language fields: most of the words in ``title``/``lead``/``body``."""
    body = _main_request(text)
    for clause in body["query"]["bool"]["must"]:
        clause["multi_match"]["fields"] = ["title^3", "lead^2", "body"]
    return body


def run_configs(client, pages: list[dict], queries_: list[dict]) -> dict[str, dict[str, float]]:
    from aggregator.extract.language import detect_language
    from aggregator.search import mapping
    from aggregator.search.indexer import article_document

    detected = {p["id"]: detect_language(f"{p['title']}\n{p['text']}") for p in pages}
    agree = sum(detected[p["id"]] == p["language"] for p in pages) / len(pages)
    docs = [{"id": p["id"], "url": p["url"], "title": p["title"], "body": p["text"], "language": detected[p["id"]],
             "source": "searchset", "story_id": "s-" + p["id"]} for p in pages]
    half = split_halves(queries_)
    # name -> (index tag, mapping, request)
    configs = {
        "before: english analyzer on every language": ("before", _before_mapping(), _before_request),
        "main 7757e85: language fields, most words": ("main", _main_mapping(mapping.PER_LANGUAGE), _main_request),
        "main's index, this branch's query (before migrate)": ("nomig", _main_mapping(mapping.PER_LANGUAGE),
                                                               _no_shared_request),
        "this branch: + partial matches, shared vocabulary, names": ("after", mapping.articles_mapping(),
                                                                     _branch_request),
        "main 7757e85, standard fallback": ("mainfb", _main_mapping(mapping.STANDARD_FALLBACK), _main_request),
        "this branch, standard fallback": ("fallback", mapping.articles_mapping(analysis=mapping.STANDARD_FALLBACK),
                                           _branch_request),
    }
    results: dict[str, dict[str, float]] = {}
    for name, (tag, body, request_of) in configs.items():
        index = f"{PREFIX}{tag}-articles"
        if client.index_exists(index):
            client.delete_index(index)
        client.create_index(index, {"settings": {"number_of_shards": 1, "number_of_replicas": 0}, "mappings": body})
        actions = []
        for doc in docs:
            source = dict(doc) if tag == "before" else article_document(doc)
            actions.append({"_index": index, "_id": doc["id"], "_source": source})
        failed = [info for ok, info in client.bulk(actions, chunk_size=200) if not ok]
        if failed:
            raise RuntimeError(f"{len(failed)} pages failed to index into {index}: {failed[:2]}")
        client.refresh(index)
        per_lang: dict[str, list[tuple[float, float]]] = defaultdict(list)
        per_half: dict[str, list[tuple[float, float]]] = defaultdict(list)
        t0 = time.perf_counter()
        for q in queries_:
            request = request_of(q["query"])
            hits = client.search(index, request)["hits"]["hits"]
            ranked = [h["_id"] for h in hits]
            scored = (ndcg(ranked, q["relevant"]), recall(ranked, q["relevant"]))
            per_lang[q["language"]].append(scored)
            per_half[half[q["id"]]].append(scored)
        elapsed = time.perf_counter() - t0
        row: dict[str, float] = {}
        every = [v for values in per_lang.values() for v in values]
        row["ndcg"] = sum(v[0] for v in every) / len(every)
        row["recall"] = sum(v[1] for v in every) / len(every)
        for lang, values in per_lang.items():
            row[f"ndcg_{lang}"] = sum(v[0] for v in values) / len(values)
            row[f"recall_{lang}"] = sum(v[1] for v in values) / len(values)
        for part, values in per_half.items():
            row[f"ndcg_half_{part}"] = sum(v[0] for v in values) / len(values)
            row[f"recall_half_{part}"] = sum(v[1] for v in values) / len(values)
        nonen = [v for lang, values in per_lang.items() if lang != "en" for v in values]
        row["ndcg_non_en"] = sum(v[0] for v in nonen) / len(nonen)
        row["recall_non_en"] = sum(v[1] for v in nonen) / len(nonen)
        row["ms_per_query"] = elapsed / len(queries_) * 1e3
        results[name] = row
        client.delete_index(index)
    results["_meta"] = {"pages": len(pages), "queries": len(queries_), "detector_agreement": agree,
                        "half_a": sorted(q for q, h in half.items() if h == "a")}
    return results


def markdown(results: dict[str, dict[str, float]], queries_: list[dict]) -> str:
    meta = results["_meta"]
    langs = sorted({q["language"] for q in queries_}, key=lambda lang: (lang != "en", lang))
    counts = {lang: sum(q["language"] == lang for q in queries_) for lang in langs}
    head = ["configuration", "half a (tuned)", "half b", "all: nDCG@10", "recall@10", "non-English"] + [
        f"{lang} ({counts[lang]}) nDCG / recall" for lang in langs]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, row in results.items():
        if name.startswith("_"):
            continue
        cells = [name, f"{row['ndcg_half_a']:.3f} / {row['recall_half_a']:.3f}",
                 f"{row['ndcg_half_b']:.3f} / {row['recall_half_b']:.3f}", f"{row['ndcg']:.3f}", f"{row['recall']:.3f}",
                 f"{row['ndcg_non_en']:.3f} / {row['recall_non_en']:.3f}"]
        cells += [f"{row[f'ndcg_{lang}']:.3f} / {row[f'recall_{lang}']:.3f}" for lang in langs]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"Cells: nDCG@10 / recall@10. Half a (the weights were chosen on it): {', '.join(meta['half_a'])}.")
    lines.append(f"{meta['queries']} queries ({', '.join(f'{counts[lang]} {lang}' for lang in langs)}) over "
                 f"{meta['pages']} real pages; page languages by the detector (py3langid), which agrees with "
                 f"the set's labels on {meta['detector_agreement']:.1%} of them.")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=Path, default=Path(os.environ.get("AGGREGATOR_SEARCHSET_TEXTS", TEXTS)))
    parser.add_argument("--devset", type=Path, default=DEVSET)
    parser.add_argument("--url", help="a running engine (default: start a dedicated local one)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not args.texts.exists():
        print(f"no page texts at {args.texts}: build them from the set's URLs (see the module docstring)",
              file=sys.stderr)
        return 2
    pages, queries_ = load(args.devset, args.texts)
    from aggregator.search.client import connect

    engine = None
    url = args.url
    if url is None:
        from aggregator.engine import LocalEngine
        from benchmarks.bench_engine import PORT
        from benchmarks.common import DATA

        engine = LocalEngine(home=DATA / "engine", port=PORT, heap="1g")
        engine.build_dir = (ROOT / "var" / "engine" / "build").resolve()
        url = engine.start().url
    try:
        results = run_configs(connect(url), pages, queries_)
    finally:
        if engine is not None:
            engine.stop()
    print(json.dumps(results, indent=2) if args.json else markdown(results, queries_))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
