"""The Deduplicator in a process of its own (aggregator/dedup/worker.py; ``AGGREGATOR_DEDUP_PROCESS``): the same
ids as in-process, reads and flushes ordered after the adds sent before them, a dead worker an error (never a
hang), no orphan when the parent is killed, and a real crawl through it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aggregator.dedup import Deduplicator, open_store
from aggregator.dedup.worker import START_METHODS, DedupWorker, RemoteDeduplicator, WorkerDied

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "data" / "dedup_corpus.jsonl"
#: fixture outlets in three languages (English, German, Chinese): copies, coverage and two-language pairs
SOURCES = ["electrek", "insideevs", "cleantechnica", "reuters", "electrive", "electrive_de", "cnevpost", "d1ev"]


def _corpus(n: int | None = None) -> list[dict]:
    arts = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    return arts[:n] if n else arts


def _labels(dd, arts: list[dict]) -> list[tuple[str | None, str | None]]:
    return [(dd.story_of(a["id"]), dd.dup_of(a["id"])) for a in arts]


@pytest.mark.parametrize("method", START_METHODS)
def test_worker_gives_the_in_process_ids_and_persists_what_it_was_sent(method: str, tmp_path: Path) -> None:
    arts = _corpus(120)
    local = Deduplicator(store=open_store("memory:"))
    expected = [local.add(a) for a in arts]

    url = f"file:{tmp_path / 'dedup'}"
    dd = Deduplicator(store=open_store(url))
    worker = DedupWorker(dd, url, dd.config, start_method=method).start()
    remote = RemoteDeduplicator(worker, dd.config)
    try:
        futures = [remote.add_async(dict(a)) for a in arts]  # all queued before the first answer is read
        got = [f.result(60) for f in futures]
        assert [g.assignment for g in got] == expected
        assert all(g.before is None for g in got)
        # reads are answered after every add sent before them
        assert remote.labels([a["id"] for a in arts]) == _labels(local, arts)
        sid = expected[-1].story_id
        assert remote.story(sid) == local.story(sid)
        # a changed article: the worker says which story it was in before
        changed = dict(arts[0], body=arts[0]["body"] + "\n\nAn added paragraph about a different matter.")
        again = remote.add_async(changed).result(60)
        assert again.before == expected[0].story_id
        assert again.assignment == local.add(dict(changed))
        remote.flush()
    finally:
        worker.close()
    assert not worker.alive and worker.cpu_seconds and worker.cpu_seconds > 0
    reloaded = Deduplicator(store=open_store(url))  # what the worker flushed is the in-process state
    assert _labels(reloaded, arts) == _labels(local, arts)


def test_worker_over_a_redis_store_gives_the_in_process_ids(redis_url: str) -> None:
    """The forked worker reconnects to Redis (its own connections) and writes what an in-process run writes."""
    import uuid

    arts = _corpus(60)
    local = Deduplicator(store=open_store(f"{redis_url}?prefix=wl{uuid.uuid4().hex[:8]}"))
    expected = [local.add(a) for a in arts]
    url = f"{redis_url}?prefix=wr{uuid.uuid4().hex[:8]}"
    dd = Deduplicator(store=open_store(url))
    dd.story_of("warm-the-connection")  # the parent's connection exists before the fork
    worker = DedupWorker(dd, url, dd.config).start()
    try:
        got = [f.result(60) for f in [worker.add(dict(a)) for a in arts]]
    finally:
        worker.close()
    assert [g.assignment for g in got] == expected
    other = Deduplicator(store=open_store(url))  # another process's view of the shared store
    assert _labels(other, arts) == _labels(local, arts)


def test_a_worker_that_dies_fails_what_is_pending_and_reports_once() -> None:
    deaths: list[str] = []
    dd = Deduplicator(store=open_store("memory:"))
    worker = DedupWorker(dd, "memory:", dd.config, on_death=deaths.append).start()
    try:
        arts = _corpus(200)
        futures = [worker.add(dict(a)) for a in arts]
        os.kill(worker.pid, signal.SIGKILL)
        t0 = time.monotonic()
        outcomes = []
        for f in futures:
            try:
                f.result(30)
                outcomes.append("ok")
            except WorkerDied:
                outcomes.append("died")
        assert time.monotonic() - t0 < 10  # noticed within the reader's poll, not a hang
        assert "died" in outcomes and outcomes == sorted(outcomes, key=lambda o: o == "died")  # answered ones first
        assert len(deaths) == 1
        with pytest.raises(WorkerDied):  # later requests fail at once
            worker.call("call", "story_of", ("x",), timeout=5)
    finally:
        worker.close(timeout=5)
    assert len(deaths) == 1


def test_bad_requests_fail_alone() -> None:
    """An article that cannot be pickled, or one ``add`` refuses, fails its own request; the worker goes on."""
    dd = Deduplicator(store=open_store("memory:"))
    worker = DedupWorker(dd, "memory:", dd.config).start()
    try:
        arts = _corpus(2)
        bad = worker.add(dict(arts[0], extra=lambda: None))
        no_id = worker.add({"title": "no id"})
        good = worker.add(dict(arts[1]))
        with pytest.raises(Exception, match="pickle|lambda"):
            bad.result(30)
        with pytest.raises(ValueError, match="needs an id"):
            no_id.result(30)
        assert good.result(30).assignment.article_id == arts[1]["id"]
        assert worker.alive
    finally:
        worker.close()


def test_worker_exits_when_its_parent_is_killed(tmp_path: Path) -> None:
    script = tmp_path / "parent.py"
    script.write_text(
        "import os, signal, sys\n"
        "from aggregator.dedup import Deduplicator, open_store\n"
        "from aggregator.dedup.worker import DedupWorker\n"
        "dd = Deduplicator(store=open_store('memory:'))\n"
        "w = DedupWorker(dd, 'memory:', dd.config).start()\n"
        "print(w.pid, flush=True)\n"
        "os.kill(os.getpid(), signal.SIGKILL)\n")
    p = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert p.returncode == -signal.SIGKILL, p.stderr
    pid = int(p.stdout.split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        os.kill(pid, signal.SIGKILL)
        pytest.fail("the dedup worker outlived its killed parent")


def test_crawl_through_the_dedup_process_gives_the_in_process_ids(tmp_path: Path) -> None:
    """A real crawl (indexing off) with ``AGGREGATOR_DEDUP_PROCESS`` on: every exported item's ids are those an
    in-process Deduplicator gives the same articles in the same order; stats and the crawl state as usual."""
    from crawling import crawl

    from aggregator.cli import offline_overrides
    from aggregator.crawlstate import CrawlState
    from aggregator.fixtureweb import FixtureWeb

    var = tmp_path / "var"
    with FixtureWeb() as web:
        stats = crawl(SOURCES, {
            **offline_overrides(web.host_map()), "AGGREGATOR_VAR": str(var), "AGGREGATOR_INDEX_ENABLED": False,
            "AGGREGATOR_DEDUP_PROCESS": True, "AGGREGATOR_ARCHIVE_ENABLED": False, "LOG_LEVEL": "INFO",
            # vectors carried from the extraction workers are quantised, and which articles carry one depends on
            # when the crawl saw a second language: off, both sides encode the vectors they need themselves
            "AGGREGATOR_EXTRACT_EMBEDDING": False,
            "FEEDS": {str(tmp_path / "items-%(name)s.jsonl"): {"format": "jsonlines"}}}, {"AGGREGATOR_VAR": str(var)})
    state = Deduplicator(store=open_store(f"file:{var / 'dedup'}"))
    items = [json.loads(line) for f in sorted(tmp_path.glob("items-*.jsonl"))
             for line in f.read_text(encoding="utf-8").splitlines()]
    # the order the worker clustered them in (the crawlers' exports interleave): the state numbers documents so
    items.sort(key=lambda i: state.store.doc_number(i["id"], create=False))
    assert len(items) >= 20 and len({i["story_id"] for i in items}) < len(items)  # some stories have several
    keys = {k for s in stats.values() for k in s if k.startswith("dedup/")}
    total = {k: sum(float(s.get(k, 0) or 0) for s in stats.values()) for k in keys}
    assert total["dedup/new_story"] + total.get("dedup/joined_story", 0) == len(items)
    assert total["dedup/features_carried"] == len(items)  # the extraction workers' features reached the worker
    assert total["dedup/checkpoints"] >= 2 and total["dedup/process_cpu_seconds"] > 0
    assert not total.get("dedup/process_died") and not total.get("dedup/process_unavailable")
    local = Deduplicator(store=open_store("memory:"))
    for item in items:
        a = local.add({k: v for k, v in item.items() if k not in ("dup_id", "story_id")})
        assert (a.story_id, a.dup_id) == (item["story_id"], item["dup_id"]), item["url"]
    assert len(CrawlState(var / "crawl" / "state.sqlite")) == len(items)  # checkpointed, then recorded
    assert _labels(state, items) == _labels(local, items)  # and the persisted state is the in-process one
    assert not (state.store.get("meta:runs") or {})  # the run's record removed at a clean close


def test_crawl_whose_dedup_process_dies_stops_with_the_reason_logged_once(tmp_path: Path) -> None:
    """SIGKILL the dedup process of a running crawl: the crawl closes with ``dedup_process_died`` (no hang), says so
    once, counts it, and checkpoints nothing it did not cluster (the next run fetches those articles again)."""
    from aggregator.cli import offline_overrides
    from aggregator.crawlstate import CrawlState
    from aggregator.fixtureweb import FixtureWeb

    var = tmp_path / "var"
    with FixtureWeb() as web:
        overrides = {**offline_overrides(web.host_map()), "AGGREGATOR_INDEX_ENABLED": False,
                     "AGGREGATOR_DEDUP_PROCESS": True, "AGGREGATOR_ARCHIVE_ENABLED": False, "LOG_LEVEL": "INFO"}
        cmd = [sys.executable, "-m", "scrapy", "crawl", "reuters",
               *[x for k, v in overrides.items() for x in ("-s", f"{k}={json.dumps(v) if isinstance(v, dict) else v}")]]
        env = {**os.environ, "AGGREGATOR_VAR": str(var)}
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        lines: list[str] = []
        try:
            for line in proc.stdout:
                lines.append(line)
                if "dedup process started (pid " in line:
                    os.kill(int(line.split("(pid ")[1].split(",")[0]), signal.SIGKILL)
                    break
            rest = proc.communicate(timeout=120)[0]
        except subprocess.TimeoutExpired:
            proc.kill()
            pytest.fail("the crawl hung after its dedup process died:\n" + "".join(lines)[-3000:])
    out = "".join(lines) + rest
    assert "dedup process started" in out, out[-3000:]
    assert out.count("the dedup process died") == 1, out[-3000:]
    assert "'dedup/process_died': 1" in out and "dedup_process_died" in out, out[-3000:]
    assert len(CrawlState(var / "crawl" / "state.sqlite")) == 0  # nothing was checkpointed as done
