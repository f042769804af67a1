"""The several-hosts topology on one machine (``aggregator cluster``), with faults: one longer test.

Every fixture outlet is crawled by scrapyd jobs split across two crawler hosts that share clusters
through the Redis host and index into a two-node OpenSearch cluster. Mid-crawl one engine node and one
crawl job are killed with SIGKILL; both are restarted, the killed job is rerun, every host's spool is
replayed. Then: every article is in the index exactly once, the dup and story partitions are those of
a one-process crawl of the same web, the cluster is green, and the stories index agrees with the
articles. Needs root (network namespaces); skipped otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from crawling import crawl

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
pytestmark = [pytest.mark.cluster]

if os.geteuid() != 0 or shutil.which("ip") is None or shutil.which("redis-server") is None:
    pytest.skip("the cluster test needs root, iproute2 and redis-server", allow_module_level=True)
if not (BIN / "scrapyd").exists():
    pytest.skip("scrapyd not installed (pip install -e .[scrapyd])", allow_module_level=True)


def _sources() -> list[str]:
    from aggregator.sources import load_sources

    return [s.name for s in load_sources() if (ROOT / "tests" / "fixtures" / "web" / s.name).is_dir()]


def _post(url: str, data: list[tuple[str, str]]) -> dict:
    with urllib.request.urlopen(url, data=urllib.parse.urlencode(data).encode(), timeout=30) as resp:
        return json.loads(resp.read())


def _get(url: str, timeout: float = 30) -> dict:
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.loads(resp.read())


def _partition(assign: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for k, v in assign.items():
        groups.setdefault(v, set()).add(k)
    return {frozenset(g) for g in groups.values()}


def test_refuses_without_root(monkeypatch) -> None:
    """Run by a non-root user (the venv here is root's, so the uid is what we pretend), `up` and `down`
    refuse with a clear message and touch nothing."""
    from aggregator import cluster

    before = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    monkeypatch.setattr(cluster.os, "geteuid", lambda: 1000)
    for action in (cluster.up, cluster.down):
        with pytest.raises(cluster.ClusterError, match="needs root"):
            action()
    assert subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout == before


def test_crawl_across_hosts_survives_a_killed_node_and_job(tmp_path, monkeypatch) -> None:
    from aggregator import cluster
    from aggregator.cli import offline_overrides
    from aggregator.fixtureweb import FixtureWeb, host_map
    from aggregator.search.client import connect
    from aggregator.search.indices import alias_name

    monkeypatch.setenv("AGGREGATOR_VAR", str(tmp_path / "var"))
    monkeypatch.setenv("AGGREGATOR_ENGINE_BUILD", str(ROOT / "var" / "engine" / "build"))
    monkeypatch.delenv("AGGREGATOR_INDEX_PREFIX", raising=False)
    sources = _sources()

    # the one-process reference: the same web crawled by one `scrapy crawl` process, clusters in a file
    # (in a thread, while the engine nodes start)
    ref_file = tmp_path / "reference.jsonl"
    web = FixtureWeb().start()
    ref_errors: list[BaseException] = []

    def reference_crawl() -> None:
        try:
            crawl(sources, {**offline_overrides(web.host_map()), "AGGREGATOR_INDEX_ENABLED": False,
                            "AGGREGATOR_VAR": str(tmp_path / "ref"),
                            "FEEDS": {str(ref_file): {"format": "jsonlines"}}},
                  {"AGGREGATOR_VAR": str(tmp_path / "ref"), "AGGREGATOR_DEDUP_STORE": ""})
        except BaseException as exc:  # noqa: BLE001 - reported by the test thread
            ref_errors.append(exc)

    ref_thread = threading.Thread(target=reference_crawl)
    ref_thread.start()

    cluster.down()  # nothing of an earlier, interrupted run may be left
    try:
        # the crawler hosts run the kernels in numpy (AGGREGATOR_JIT=0: identical band keys, checked by
        # test_jit_kernels): from an egg numba cannot cache, and compiling in each of the 13 jobs made this
        # test take 328 s instead of 232 s here
        cluster.up(crawler_env={"AGGREGATOR_JIT": "0"})
        ref_thread.join()
        web.stop()
        assert not ref_errors, ref_errors
        reference = {a["canonical_url"]: a for a in map(json.loads, ref_file.read_text().splitlines())}
        assert len(reference) > 30
        settings = {**offline_overrides(host_map(cluster.web_url())), "LOG_LEVEL": "INFO"}
        jobs: dict[str, tuple[cluster.Host, str]] = {}

        def schedule(host: cluster.Host, spider: str) -> str:
            data = [("project", "aggregator"), ("spider", spider),
                    ("setting", f"AGGREGATOR_VAR={cluster.home() / host.name / spider}")]
            data += [("setting", f"{k}={json.dumps(v) if isinstance(v, dict) else v}") for k, v in settings.items()]
            answer = _post(cluster.scrapyd_url(host) + "schedule.json", data)
            assert answer["status"] == "ok", answer
            jobs[answer["jobid"]] = (host, spider)
            return answer["jobid"]

        for i, spider in enumerate(sources):
            schedule(cluster.CRAWLERS[i % 2], spider)

        def listing() -> dict[str, dict]:
            out = {}
            for host in cluster.CRAWLERS:
                got = _get(cluster.scrapyd_url(host) + "listjobs.json?project=aggregator")
                for state in ("pending", "running", "finished"):
                    for j in got[state]:
                        out[j["id"]] = {**j, "state": state}
            return out

        def wait_finished(ids: set[str], timeout: float = 300) -> None:
            deadline = time.monotonic() + timeout
            while not all(listing().get(j, {}).get("state") == "finished" for j in ids):
                assert time.monotonic() < deadline, listing()
                time.sleep(0.5)

        # mid-crawl: once articles are being indexed, SIGKILL the data node and a running job
        client = connect(cluster.engine_url())
        deadline = time.monotonic() + 240
        while True:
            running = [j for j in listing().values() if j["state"] == "running" and j.get("pid")]
            try:
                indexed = client.raw.count(index=alias_name("articles"))["count"]
            except Exception:  # noqa: BLE001 - the index does not exist before the first batch
                indexed = 0
            if indexed and running:
                break
            assert time.monotonic() < deadline, "no job got to indexing"
            time.sleep(0.2)
        es2_pid = json.loads((cluster.home() / "state.json").read_text())["pids"]["engine-agg-es2"]
        os.kill(es2_pid, signal.SIGKILL)
        victim = running[0]
        os.kill(int(victim["pid"]), signal.SIGKILL)
        wait_finished(set(jobs))

        cluster.start_engine(cluster.ENGINES[1])
        host, spider = jobs[victim["id"]]
        wait_finished({schedule(host, spider)})
        for host in cluster.CRAWLERS:
            for var in (cluster.home() / host.name).iterdir():
                if (var / "spool").is_dir():
                    replay = subprocess.run([str(BIN / "aggregator"), "index", "replay"], capture_output=True,
                                            text=True, env={**os.environ, "AGGREGATOR_VAR": str(var),
                                                            "AGGREGATOR_SEARCH_URL": cluster.engine_url()})
                    assert replay.returncode == 0, replay.stdout + replay.stderr

        health = _get(cluster.engine_url() + "/_cluster/health?wait_for_status=green&timeout=120s", timeout=130)
        assert health["status"] == "green" and health["number_of_nodes"] == 2, health
        client.refresh(alias_name("articles"))
        client.refresh(alias_name("stories"))
        docs = [d["_source"] for d in client.scan(alias_name("articles"))]
        urls = [d["canonical_url"] for d in docs]
        assert len(urls) == len(set(urls)), "an article indexed twice"
        assert set(urls) == set(reference), (set(reference) ^ set(urls))
        articles = {d["canonical_url"]: d for d in docs}
        for field in ("dup_id", "story_id"):
            got = _partition({u: a[field] for u, a in articles.items()})
            want = _partition({u: a[field] for u, a in reference.items()})
            assert got == want, field
        stories = {d["_id"]: d["_source"] for d in client.scan(alias_name("stories"))}
        live = {sid: s for sid, s in stories.items() if s.get("status") != "merged"}
        assert set(live) == {a["story_id"] for a in articles.values()}
        for sid, story in live.items():
            members = [a for a in articles.values() if a["story_id"] == sid]
            assert story["member_count"] == len(members), sid
            assert set(story["sources"]) == {a["source"] for a in members}
    finally:
        left = cluster.down()
    assert left == []
    assert not any(h.name in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
                   for h in cluster.HOSTS)
