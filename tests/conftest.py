"""Shared fixtures: the real local search engine, a per-test index prefix, the offline fixture web.

The engine fixture starts the embedded OpenSearch node on a test port (``AGGREGATOR_TEST_ENGINE_PORT``,
default 9250) with its data under ``var/test-engine``, unless one already answers there, and stops it
at the end only if it started it. Tests isolate themselves with a unique index prefix instead of
wiping the node, so a developer's running engine can be reused.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_WEB = ROOT / "tests" / "fixtures" / "web"
TEST_PORT = int(os.environ.get("AGGREGATOR_TEST_ENGINE_PORT", "9250"))


@pytest.fixture(scope="session")
def engine():
    """A running local OpenSearch node; yields its URL."""
    from aggregator.engine import LocalEngine, _http_json

    url = f"http://127.0.0.1:{TEST_PORT}"
    if _http_json(url + "/"):
        yield url
        return
    eng = LocalEngine(home=ROOT / "var" / "test-engine", port=TEST_PORT, heap="768m")
    # the Maven build is shared with the main engine so `make test` after `make demo` is warm
    eng.build_dir = ROOT / "var" / "engine" / "build"
    eng.start(timeout=180)
    try:
        yield url
    finally:
        eng.stop()


@pytest.fixture
def index_prefix(monkeypatch) -> str:
    """A unique prefix for every index and alias the test creates; deleted afterwards."""
    prefix = f"t{uuid.uuid4().hex[:10]}-"
    monkeypatch.setenv("AGGREGATOR_INDEX_PREFIX", prefix)
    return prefix


@pytest.fixture
def search(engine, index_prefix):
    """A connected :class:`aggregator.search.client.SearchClient` on the test engine."""
    from aggregator.search.client import connect

    client = connect(engine)
    yield client
    client.delete_index(f"{index_prefix}*")
    try:
        client.raw.indices.delete_index_template(name=f"{index_prefix}*")
    except client.NotFoundError:
        pass  # the test created no template


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real redis-server (Debian's binary) on a free port, in a temp dir, for the whole session."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server binary not installed (apt-get install -y redis-server)")
    port = _free_port()
    workdir = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(workdir),
                             "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        import redis

        client = redis.Redis(port=port)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            pytest.fail("redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
