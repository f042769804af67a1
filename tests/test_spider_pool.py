"""Extraction through the spider's process pool: results, dropped reasons and dead workers.

The spider is built by Scrapy (``from_crawler`` with the project's settings) and its article callback
is driven on an asyncio loop with hand-made responses, so no crawl or server is needed.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import pickle
import subprocess
import sys
from pathlib import Path

import pytest
from scrapy.http import HtmlResponse, Request
from scrapy.utils.test import get_crawler

from aggregator.extract import ExtractionError, extract_article
from aggregator.extract import pool as extract_pool
from spiders.outlets import ElectrekSpider

ROOT = Path(__file__).resolve().parents[1]
EXPECTED = ROOT / "tests" / "fixtures" / "expected"
WEB = ROOT / "tests" / "fixtures" / "web"
NOT_AN_ARTICLE = (b"<html><head><title>Electrek</title></head><body>" + b"<a href='/x'>link</a>" * 30
                  + b"</body></html>")


def _spider(tmp_path: Path, workers: int):
    crawler = get_crawler(ElectrekSpider, {"AGGREGATOR_VAR": str(tmp_path), "AGGREGATOR_EXTRACT_WORKERS": workers})
    spider = ElectrekSpider.from_crawler(crawler)
    crawler.spider = spider
    return crawler, spider


def _stop(spider) -> None:
    spider._engine_stopped()
    spider._closed()


def _response(url: str, body: bytes) -> HtmlResponse:
    request = Request(url, meta={"article": True, "hint_published": None})
    return HtmlResponse(url, body=body, headers={"Content-Type": "text/html; charset=utf-8"}, request=request)


def _fixture(slug: str) -> tuple[str, bytes]:
    exp = json.loads((EXPECTED / "electrek" / f"{slug}.json").read_text())
    return exp["url"], (WEB / exp["fixture"]).read_bytes()


def _parse(spider, response) -> list[dict]:
    async def collect():
        return [item async for item in spider.parse_article(response)]

    return asyncio.run(collect())


def _crash_on_marker(html, url, kwargs):  # runs in the worker: dies like a segfault would
    if "crash-me" in url:
        os._exit(3)
    return extract_pool.run_extract(html, url, kwargs)


def test_extraction_error_keeps_its_reason_through_pickle():
    exc = pickle.loads(pickle.dumps(ExtractionError("not_article", "home page, not an article")))
    assert exc.reason == "not_article" and str(exc) == "home page, not an article"


def test_spider_uses_a_shared_pool_and_releases_it_when_the_engine_stops(tmp_path):
    (_, first), (_, second) = _spider(tmp_path / "a", 1), _spider(tmp_path / "b", 1)
    try:
        assert first._pool is not None and first._pool is second._pool
        assert gc.get_freeze_count() > 0  # what the process held before the fork is out of the collector's passes
        _stop(first)
        assert second._pool._executor is not None  # still in use by the other crawler
    finally:
        pool = second._pool
        _stop(second)
    assert pool._closed and extract_pool._shared is None
    assert gc.get_freeze_count() == 0  # the last release gives them back to it
    _, in_thread = _spider(tmp_path / "c", 0)
    assert in_thread._pool is None
    _stop(in_thread)


def test_extraction_error_in_the_worker_is_counted_under_its_reason(tmp_path):
    crawler, spider = _spider(tmp_path, 1)
    try:
        items = _parse(spider, _response("https://electrek.co/guides/tesla/", NOT_AN_ARTICLE))
    finally:
        _stop(spider)
    assert items == []
    stats = crawler.stats.get_stats()
    assert stats.get("extract/dropped/not_article") == 1 and stats.get("extract/dropped") == 1
    assert "extract/articles" not in stats


def test_article_through_the_pool_equals_the_in_thread_result(tmp_path):
    url, body = _fixture("catl-sodium-ion-battery-200-wh-kg-2027")
    results = {}
    for workers in (1, 0):
        crawler, spider = _spider(tmp_path / str(workers), workers)
        try:
            assert (spider._pool is not None) == (workers > 0)
            items = _parse(spider, _response(url, body))
        finally:
            _stop(spider)
        assert len(items) == 1
        stats = crawler.stats.get_stats()
        assert stats["extract/articles"] == 1 and stats["extract/articles/electrek"] == 1
        # the story embedding only once the crawl mixes languages (tests/test_dedup_embed_workers.py): not here
        assert "_embedding" not in items[0]
        # the pool carries the article's own dedup features (tests/test_dedup_prepared.py); the thread does not
        assert ("_dedup_features" in items[0]) == (workers > 0)
        results[workers] = {k: v for k, v in items[0].items()
                            if k not in ("fetched_at", "_embedding", "_dedup_features")}
        results[workers, "fields"] = {k: v for k, v in stats.items() if k.startswith("extract/fields/")}
    assert results[1] == results[0]
    assert results[1, "fields"] == results[0, "fields"] and results[1, "fields"]
    assert results[1]["title"] and results[1]["body"].startswith("CATL has pulled the wraps off")


def test_dead_worker_is_replaced_and_the_page_counted_as_worker_crashed(tmp_path):
    crawler, spider = _spider(tmp_path, 0)
    spider._pool = pool = extract_pool.ExtractPool(1, func=_crash_on_marker)
    url, body = _fixture("catl-sodium-ion-battery-200-wh-kg-2027")
    try:
        assert _parse(spider, _response("https://electrek.co/2026/11/20/crash-me/", body)) == []
        items = _parse(spider, _response(url, body))  # the crawl goes on with a new pool
    finally:
        pool.shutdown()
        spider._closed()
    stats = crawler.stats.get_stats()
    assert stats.get("extract/dropped/worker_crashed") == 1
    assert pool.restarts == 2  # the page was tried once more on a fresh pool
    assert len(items) == 1 and stats["extract/articles"] == 1


def test_pool_returns_what_extract_article_returns(tmp_path):
    url, body = _fixture("tesla-fsd-supervised-approval-netherlands-rdw")
    pool = extract_pool.ExtractPool(2)
    try:
        async def both():
            return await asyncio.gather(pool.extract(body, url, source="electrek"),
                                        pool.extract(NOT_AN_ARTICLE, "https://electrek.co/", source="electrek"),
                                        return_exceptions=True)

        article, error = asyncio.run(both())
    finally:
        pool.shutdown()
    local = extract_article(body, url, source="electrek")
    assert {k: v for k, v in article.items() if k != "fetched_at"} == {
        k: v for k, v in local.items() if k != "fetched_at"}
    assert isinstance(error, ExtractionError) and error.reason == "not_article"


@pytest.mark.parametrize("value, expected", [("0", 0), (3, 3)])
def test_worker_setting(tmp_path, value, expected):
    _, spider = _spider(tmp_path, value)
    try:
        assert (spider._pool.workers if spider._pool else 0) == expected
    finally:
        _stop(spider)


def test_workers_exit_when_the_crawl_process_is_killed():
    import subprocess
    import sys
    import time

    code = ("import os; from aggregator.extract import pool; p = pool.acquire(2); "
            "print(*[w.pid for w in p._executor._processes.values()], flush=True); os.kill(os.getpid(), 9)")
    # communicate() returning at all means no orphaned worker kept the output pipe open
    out, _ = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT, stdout=subprocess.PIPE,
                              text=True).communicate(timeout=60)
    pids = [int(p) for p in out.split()]
    assert len(pids) == 2
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(Path(f"/proc/{pid}").exists() for pid in pids):
        time.sleep(0.2)
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)


_PROBE = """
import asyncio, json, sys
from aggregator.extract import pool

def probe(html, url, kwargs):  # runs in the worker: what its first page makes it import
    before = set(sys.modules)
    pool.run_extract(html, url, kwargs)
    return sorted(set(sys.modules) - before)

url, path = sys.argv[1], sys.argv[2]
p = pool.ExtractPool(1, func=probe)
try:
    print(json.dumps(asyncio.run(p.extract(open(path, "rb").read(), url, source="electrek"))))
finally:
    p.shutdown()
"""


def test_workers_start_with_the_extraction_chain_imported(tmp_path):
    # A fresh interpreter, so that nothing this test session imported hides a lazy import: a worker
    # that imports extruct & co. on its first page pays that (a third of a second) once per worker
    # and per crawl, where the parent's import is shared by every forked worker.
    exp = json.loads((EXPECTED / "electrek" / "tesla-fsd-supervised-approval-netherlands-rdw.json").read_text())
    assert b"application/ld+json" in (WEB / exp["fixture"]).read_bytes()  # the page takes the extruct path
    out = subprocess.run([sys.executable, "-c", _PROBE, exp["url"], str(WEB / exp["fixture"])], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []
