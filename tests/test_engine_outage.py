"""The engine goes away in the middle of a crawl: nothing is lost, nothing is indexed twice."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from crawling import crawl

from aggregator.engine import LocalEngine
from aggregator.fixtureweb import FixtureWeb

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.engine


def _ids(client) -> list[str]:
    from aggregator.search.indices import alias_name

    if not client.index_exists(alias_name("articles")):
        return []
    client.refresh(alias_name("articles"))
    return [d["_id"] for d in client.scan(alias_name("articles"))]


def test_engine_stopped_mid_crawl_then_replayed(engine, index_prefix, tmp_path):
    from aggregator.cli import offline_overrides
    from aggregator.search.client import connect

    # a node of our own: the shared test engine must stay up for the other tests
    own = LocalEngine(home=tmp_path / "engine", port=9261, heap="512m")
    own.build_dir = ROOT / "var" / "engine" / "build"
    own.start(timeout=180)
    var = tmp_path / "var"
    env = {"AGGREGATOR_VAR": str(var), "AGGREGATOR_SEARCH_URL": own.url, "AGGREGATOR_INDEX_PREFIX": index_prefix}
    result: dict = {}
    try:
        with FixtureWeb() as web:
            overrides = {**offline_overrides(web.host_map()), "AGGREGATOR_VAR": str(var),
                         "AGGREGATOR_SEARCH_URL": own.url, "AGGREGATOR_INDEX_BATCH": 1,
                         "CONCURRENT_REQUESTS": 1, "DOWNLOAD_DELAY": 1.0}
            sources = ["reuters", "electrek", "cnevpost", "carnewschina", "cleantechnica", "d1ev"]
            worker = threading.Thread(target=lambda: result.update(crawl(sources, overrides, env, timeout=300)))
            worker.start()
            client = connect(own.url)
            deadline = time.monotonic() + 120
            while len(_ids(client)) < 3:
                assert time.monotonic() < deadline and worker.is_alive(), "crawl ended before the outage"
                time.sleep(0.3)
            own.stop()  # the engine goes away mid-crawl
            worker.join(timeout=300)
        stats = result
        scraped = sum(s.get("item_scraped_count", 0) for s in stats.values())
        spooled = sum(s.get("index/spooled", 0) for s in stats.values())
        assert spooled >= 1, "nothing was spooled: the outage came too late to test anything"

        own.start(timeout=180)
        replay = subprocess.run([sys.executable, "-m", "aggregator.cli", "index", "replay"], cwd=ROOT,
                                env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
        assert replay.returncode == 0, replay.stdout + replay.stderr
        ids = _ids(connect(own.url))
        assert len(ids) == scraped == len(set(ids)), (len(ids), scraped)
        # replaying again changes nothing
        again = subprocess.run([sys.executable, "-m", "aggregator.cli", "index", "replay"], cwd=ROOT,
                               env={**os.environ, **env}, capture_output=True, text=True, timeout=120)
        assert again.returncode == 0
        assert sorted(_ids(connect(own.url))) == sorted(ids)
    finally:
        own.stop()
