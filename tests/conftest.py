"""Shared fixtures: the real local search engines, a per-test index prefix, the offline fixture web.

The engine fixture starts the embedded OpenSearch node on a test port (``AGGREGATOR_TEST_ENGINE_PORT``,
default 9250) with its data under ``var/test-engine``, unless one already answers there, and stops it
at the end only if it started it. Tests isolate themselves with a unique index prefix instead of
wiping the node, so a developer's running engine can be reused.

Modules that set ``ENGINE_FLAVORS = ("opensearch", "elasticsearch")`` run every test that uses the
``search`` fixture on both engines: the ``elasticsearch_node`` fixture starts Elastic's minimal 8.19 build
(:mod:`aggregator.engine.elasticsearch`: TLS, basic auth, an unprivileged user) on
``AGGREGATOR_TEST_ES_PORT`` (default 9700; transport ``AGGREGATOR_TEST_ES_TRANSPORT_PORT``, default +10)
once per session and stops it at the end. ``AGGREGATOR_TEST_ELASTICSEARCH=0`` skips those runs;
``-m "not elasticsearch"`` deselects them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FIXTURE_WEB = ROOT / "tests" / "fixtures" / "web"
TEST_PORT = int(os.environ.get("AGGREGATOR_TEST_ENGINE_PORT", "9250"))
ES_PORT = int(os.environ.get("AGGREGATOR_TEST_ES_PORT", "9700"))
ES_TRANSPORT_PORT = int(os.environ.get("AGGREGATOR_TEST_ES_TRANSPORT_PORT", str(ES_PORT + 10)))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests of a module with ``ENGINE_FLAVORS`` that use ``search`` run once per engine."""
    flavors = getattr(metafunc.module, "ENGINE_FLAVORS", None)
    if flavors and "engine_flavor" in metafunc.fixturenames:
        metafunc.parametrize("engine_flavor", [
            pytest.param(f, marks=[pytest.mark.elasticsearch] if f == "elasticsearch" else []) for f in flavors
        ], indirect=True)


@pytest.fixture
def engine_flavor(request) -> str:
    """``opensearch`` or ``elasticsearch``: which engine ``search`` talks to (OpenSearch unless parametrized)."""
    return getattr(request, "param", "opensearch")


class _ElasticsearchSession:
    """The session's Elasticsearch node, started in a thread as soon as collection shows a test needs it.

    Its ~30-60 s start-up then overlaps the tests that run before the first Elasticsearch one. It is
    stopped at the end of the session (:func:`pytest_sessionfinish`), whatever happened in between.
    """

    def __init__(self) -> None:
        self.node = None
        self.access = None
        self.error: BaseException | None = None
        self.thread: threading.Thread | None = None

    def begin(self) -> None:
        if self.node is not None:
            return
        from aggregator.engine.elasticsearch import ElasticsearchNode

        shm = Path("/dev/shm")
        # index data in memory where there is a tmpfs: creating and dropping indices (every test does) then
        # does not wait for the disk to sync the cluster state, about 2x faster here
        data = shm / f"aggregator-test-es-{ES_PORT}" if shm.is_dir() and os.access(shm, os.W_OK) else None
        self.node = ElasticsearchNode(home=ROOT / "var" / "test-elasticsearch", http_port=ES_PORT,
                                      transport_port=ES_TRANSPORT_PORT, heap="512m",
                                      dist_root=ROOT / "var" / "elasticsearch", data=data)
        self.access = self.node.running_access()  # one an interrupted session left: ours, stopped at the end
        if self.access is None:
            self.thread = threading.Thread(target=self._start, name="elasticsearch-start", daemon=True)
            self.thread.start()

    def _start(self) -> None:
        try:
            self.access = self.node.start(timeout=300)
        except BaseException as exc:  # noqa: BLE001 - handed to the fixture, which reports it
            self.error = exc

    def wait(self):
        from aggregator.engine.elasticsearch import NoServiceAccount

        self.begin()
        if self.thread is not None:
            self.thread.join()
        if isinstance(self.error, NoServiceAccount):
            pytest.skip(f"Elasticsearch cannot run here: {self.error}")
        if self.error is not None:
            pytest.fail(f"the Elasticsearch test node did not start: {self.error}")
        return self.access

    def end(self) -> None:
        if self.node is None:
            return
        if self.thread is not None:
            self.thread.join()
        self.node.stop()
        if self.node.data != self.node.home / "data":
            shutil.rmtree(self.node.data, ignore_errors=True)
        self.node = None


_ELASTICSEARCH = _ElasticsearchSession()


def _elasticsearch_wanted() -> bool:
    return os.environ.get("AGGREGATOR_TEST_ELASTICSEARCH", "1") != "0"


def pytest_collection_finish(session: pytest.Session) -> None:
    if _elasticsearch_wanted() and any(item.get_closest_marker("elasticsearch") for item in session.items):
        _ELASTICSEARCH.begin()


def pytest_sessionfinish(session: pytest.Session) -> None:
    _ELASTICSEARCH.end()  # no JVM left behind, also after failures and interrupts


@pytest.fixture(scope="session")
def elasticsearch_node():
    """A secured Elasticsearch 8.19 node (minimal build) for the session; yields its NodeAccess."""
    if not _elasticsearch_wanted():
        pytest.skip("AGGREGATOR_TEST_ELASTICSEARCH=0: the Elasticsearch runs are switched off")
    return _ELASTICSEARCH.wait()


@pytest.fixture
def search_url(engine_flavor, request, monkeypatch) -> str:
    """The URL of the engine ``engine_flavor`` names; for Elasticsearch, its CA and credentials are set in
    ``AGGREGATOR_SEARCH_*`` (and the URL in ``AGGREGATOR_SEARCH_URL``) as a deployment would set them."""
    if engine_flavor == "elasticsearch":
        access = request.getfixturevalue("elasticsearch_node")
        for name, value in access.env().items():
            monkeypatch.setenv(name, value)
        return access.url
    return request.getfixturevalue("engine")


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
def search(search_url, index_prefix):
    """A connected :class:`aggregator.search.client.SearchClient` on the test engine."""
    from aggregator.search.client import connect

    client = connect(search_url)
    yield client
    client.delete_index(f"{index_prefix}*")  # by name: Elasticsearch refuses wildcard deletes
    try:
        found = client._plain(client.raw.indices.get_index_template(name=f"{index_prefix}*"))
    except client.NotFoundError:
        return  # the test created no template
    for template in found.get("index_templates") or []:
        client.delete_index_template(template["name"])


@pytest.fixture
def client(search):
    """The test engine with this test's indices made (templates, aliases), dropped afterwards."""
    from aggregator.search import indices

    indices.ensure_indices(search)
    yield search
    indices.drop_all(search)


#: what a test may need beyond the core -> (the client's probe, what the build lacks and what that costs)
CAPABILITIES = {
    "reindex": ("reindex_available", "no reindex module: no _reindex (`index migrate` refuses up front, "
                "test_search_elasticsearch.py)"),
    "painless": ("scripts_available", "no lang-painless module: no script queries (the review "
                 "page's multi-source tab)"),
    "analysis": ("analysis_available", "no analysis-common module: no language analyzers, so no stemming "
                 "(text uses the standard analyzer)"),
}


def requires(client, *capabilities: str) -> None:
    """Skip unless the cluster has every one of ``capabilities``, saying what the build lacks."""
    for capability in capabilities:
        probe, lacks = CAPABILITIES[capability]
        if not getattr(client, probe)():
            pytest.skip(f"{client.flavor} {client.version} (the minimal build) has {lacks}")


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
