"""A crawl killed mid-run finishes on the next run without duplicate documents or clusters."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.engine


def _start(var: Path, engine: str, prefix: str, *extra: str) -> subprocess.Popen:
    env = {**os.environ, "AGGREGATOR_VAR": str(var), "AGGREGATOR_SEARCH_URL": engine,
           "AGGREGATOR_INDEX_PREFIX": prefix}
    cmd = [sys.executable, "-m", "aggregator.cli", "crawl", "--all", "--offline",
           "-s", "CONCURRENT_REQUESTS=1", "-s", "AGGREGATOR_CHECKPOINT_INTERVAL=0",
           "-s", "AGGREGATOR_INDEX_BATCH=1", *extra]
    return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _finish(proc: subprocess.Popen, timeout: float) -> str:
    """The crawl's output; a crawl that hangs is killed, never left running after the test."""
    try:
        return proc.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        proc.kill()
        out = proc.communicate()[0]
        raise AssertionError(f"crawl did not finish within {timeout}s:\n{out[-3000:]}") from None


def _indexed(search) -> dict[str, dict]:
    from aggregator.search.indices import alias_name

    if not search.index_exists(alias_name("articles")):
        return {}
    search.refresh(alias_name("articles"))
    return {d["_id"]: d["_source"] for d in search.scan(alias_name("articles"))}


def _wait_for_articles(search, n: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if len(_indexed(search)) >= n:
            return
        time.sleep(0.3)
    proc.kill()
    proc.communicate()
    raise AssertionError("crawl ended or stalled before it could be interrupted")


@pytest.mark.parametrize("how", ["sigint_jobdir", "sigkill"])
def test_interrupted_crawl_resumes_without_duplicates(engine, search, index_prefix, tmp_path, how):
    var = tmp_path / "var"
    extra = ["--jobdir", str(tmp_path / "job")] if how == "sigint_jobdir" else []
    # a slow crawl (one request at a time, one second apart per outlet) so there is a "middle" to interrupt
    proc = _start(var, engine, index_prefix, "-s", "DOWNLOAD_DELAY=1", *extra)
    _wait_for_articles(search, 3, proc)
    proc.send_signal(signal.SIGINT if how == "sigint_jobdir" else signal.SIGKILL)
    _finish(proc, 120)
    partial = _indexed(search)
    # the second run completes the crawl
    proc = _start(var, engine, index_prefix, *extra)
    out2 = _finish(proc, 180)
    assert proc.returncode == 0, out2
    final = _indexed(search)
    assert set(partial) <= set(final)

    # the same web crawled in one go, under another prefix, is the reference
    ref_prefix = index_prefix + "ref-"
    ref = _start(tmp_path / "ref-var", engine, ref_prefix)
    ref_out = _finish(ref, 180)
    assert ref.returncode == 0, ref_out
    os.environ["AGGREGATOR_INDEX_PREFIX"] = ref_prefix
    try:
        reference = _indexed(search)
    finally:
        os.environ["AGGREGATOR_INDEX_PREFIX"] = index_prefix
        search.delete_index(f"{ref_prefix}*")
    assert set(final) == set(reference), "documents lost or duplicated by the interruption"
    assert all(a["version"] == 1 for a in final.values())

    def partition(docs: dict[str, dict], field: str) -> set[frozenset[str]]:
        groups: dict[str, set[str]] = {}
        for doc_id, doc in docs.items():
            groups.setdefault(doc[field], set()).add(doc_id)
        return {frozenset(g) for g in groups.values()}

    assert partition(final, "dup_id") == partition(reference, "dup_id")
    assert partition(final, "story_id") == partition(reference, "story_id")
