"""The spool: nothing is lost while the engine is down, and replaying never duplicates.

The outage is real: a second local engine (own port, own data under tmp) is stopped in the middle of a
run and started again, so the shared test engine other tests use is never touched.
"""

from __future__ import annotations

import random
import socket
import threading
from pathlib import Path

import pytest

from aggregator.engine import LocalEngine
from aggregator.search.client import connect
from aggregator.search.indexer import Indexer
from aggregator.search.spool import Spool

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    # the engine's transport takes port+100..port+199; the shared test engine sits at 9250
    for _ in range(50):
        port = random.randint(21000, 29000)
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                return port
    raise RuntimeError("no free port")


def test_segments_are_durable_ordered_and_torn_lines_skipped(tmp_path):
    spool = Spool(tmp_path)
    first = spool.append("articles", [{"id": "a"}, {"id": "b"}])
    second = spool.append("stories", [{"story_id": "s"}])
    assert spool.segments() == [first, second]
    with open(second, "a") as fh:
        fh.write('{"kind": "stories", "doc": {"sto')  # a crash mid-write
    assert spool.read(second) == [("stories", {"story_id": "s"})]
    assert spool.size().documents == 4 and spool.size().segments == 2
    spool.ack(first)
    assert spool.segments() == [second]
    assert spool.append("articles", []) is None


@pytest.fixture
def outage_engine(tmp_path):
    eng = LocalEngine(home=tmp_path / "engine", port=_free_port(), heap="512m")
    eng.build_dir = ROOT / "var" / "engine" / "build"
    eng.start(timeout=180)
    yield eng
    eng.stop()


@pytest.mark.engine
def test_engine_stopped_mid_run_loses_and_duplicates_nothing(outage_engine, index_prefix, tmp_path):
    spool = Spool(tmp_path / "spool")
    indexer = Indexer(connect(outage_engine.url), spool, url=outage_engine.url, reconnect_every=0,
                      max_retries=1, backoff=0.05)
    batches = [[{"id": f"b{b}-{i}", "title": f"Battery news {b} {i}", "content_hash": f"{b}-{i}", "version": 1}
                for i in range(50)] for b in range(40)]
    results = []
    progress = threading.Event()

    def crawl() -> None:
        for n, batch in enumerate(batches):
            results.append(indexer.index_articles(batch))
            if n == 5:
                progress.set()

    worker = threading.Thread(target=crawl)
    worker.start()
    progress.wait(60)
    outage_engine.stop()  # while the worker keeps indexing
    worker.join(300)
    total = sum(r.total for r in results)
    spooled = sum(r.spooled for r in results)
    assert total == 2000 and spooled > 0 and sum(r.failed for r in results) == 0
    assert spool.size().documents == spooled

    outage_engine.start(timeout=180)
    replay = indexer.replay()
    assert replay.segments_left == 0 and replay.replayed == spooled and not spool.segments()
    assert indexer.replay().replayed == 0  # nothing left, nothing sent twice

    client = connect(outage_engine.url)
    alias = f"{index_prefix}articles"
    client.refresh(alias)
    assert client.count(alias) == 2000
    ids = [a["id"] for batch in batches for a in batch]
    assert set(client.mget(alias, ids)) == set(ids)
    # a second replay of the same data (a copy of a segment) changes nothing either
    spool.append("articles", batches[0])
    again = indexer.replay()
    assert (again.unchanged, again.indexed) == (50, 0)
    client.refresh(alias)
    assert client.count(alias) == 2000
