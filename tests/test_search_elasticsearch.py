"""What only Elasticsearch shows: the minimal 8.19 build the suite starts (tests/conftest.py), secured.

The shared tests (indexing, search, spool replay, ``index load``, the review pages) run on it through
``ENGINE_FLAVORS``; here are the differences themselves: no ``GET /``, TLS and credentials, refused wildcard
deletes, and the modules this build lacks (``reindex``, ``lang-painless``, ``analysis-common``).
"""

from __future__ import annotations

import pytest

from aggregator.search import indices, queries
from aggregator.search.client import Credentials, SearchUnavailable, connect, probe
from aggregator.search.indexer import Indexer
from aggregator.search.spool import Spool

pytestmark = [pytest.mark.engine, pytest.mark.elasticsearch]


def _creds(access, **over) -> Credentials:
    fields = {"username": access.app_username, "password": access.app_password, "ca_certs": access.ca_certs}
    return Credentials(**(fields | over))


@pytest.fixture
def es(elasticsearch_node, index_prefix):
    client = connect(elasticsearch_node.url, _creds(elasticsearch_node))
    yield client
    indices.drop_all(client)


def test_flavor_and_version_without_get_root(elasticsearch_node, es):
    # this build has no rest-root module: GET / and HEAD / answer 405
    status = es._request_status("GET", "/")
    assert status == 405
    info = probe(elasticsearch_node.url, _creds(elasticsearch_node))
    assert info["version"] == {"number": elasticsearch_node.version, "distribution": "elasticsearch"}
    assert info["detected_by"] == "GET /_nodes/_local"
    assert (es.flavor, es.version) == ("elasticsearch", elasticsearch_node.version)
    assert es.ping()  # "answers", though HEAD / is 405 here


def test_credentials_and_tls_are_checked_with_clear_errors(elasticsearch_node):
    url = elasticsearch_node.url
    with pytest.raises(SearchUnavailable, match="HTTP 401: the credentials were refused"):
        connect(url, _creds(elasticsearch_node, password="wrong"))
    with pytest.raises(SearchUnavailable, match="HTTP 401"):
        connect(url, Credentials(ca_certs=elasticsearch_node.ca_certs))
    with pytest.raises(SearchUnavailable, match="CERTIFICATE_VERIFY_FAILED"):
        connect(url, _creds(elasticsearch_node, ca_certs=None))  # our CA is nobody's default
    with pytest.raises(SearchUnavailable, match="no search engine answers"):
        connect(url.replace("https:", "http:"), _creds(elasticsearch_node))  # TLS only


def test_an_api_key_signs_in(elasticsearch_node, index_prefix):
    if not elasticsearch_node.api_key:
        # API keys live in the .security index, whose mapping uses analysis-common's pattern_capture filter
        pytest.skip(f"this build makes no API keys: {elasticsearch_node.api_key_error}")
    client = connect(elasticsearch_node.url, Credentials(api_key=elasticsearch_node.api_key,
                                                         ca_certs=elasticsearch_node.ca_certs))
    try:
        indices.ensure_indices(client)
        assert client.count(f"{index_prefix}articles") == 0
    finally:
        indices.drop_all(client)


def test_a_client_of_another_major_is_refused_with_the_fix(elasticsearch_node, monkeypatch):
    import elasticsearch

    monkeypatch.setattr(elasticsearch, "__versionstr__", "9.1.0")  # as if elasticsearch-py 9 were installed
    with pytest.raises(SearchUnavailable, match=r"needs the elasticsearch client 8\.x .*'elasticsearch>=8,<9'"):
        connect(elasticsearch_node.url, _creds(elasticsearch_node))


def test_drop_all_deletes_by_name_where_wildcards_are_refused(es, index_prefix):
    defaults = es._plain(es.raw.cluster.get_settings(include_defaults=True,
                                                     filter_path="defaults.action.destructive_requires_name"))
    assert defaults["defaults"]["action"]["destructive_requires_name"] == "true"
    indices.ensure_indices(es)
    with pytest.raises(es.ApiError, match="Wildcard expressions or all indices are not allowed"):
        es.raw.indices.delete(index=f"{index_prefix}articles-v*")
    indices.drop_all(es)
    assert es.list_indices(f"{index_prefix}*") == {}
    assert es.get_index_template(f"{index_prefix}articles") is None


def test_this_build_lacks_reindex_painless_and_analysis(es, engine):
    assert not es.reindex_available() and not es.scripts_available() and not es.analysis_available()
    opensearch = connect(engine)  # the embedded OpenSearch node has all three
    assert opensearch.reindex_available() and opensearch.scripts_available() and opensearch.analysis_available()


def test_templates_fall_back_to_the_standard_analyzer(es, index_prefix, tmp_path):
    states = indices.ensure_indices(es)
    live = es.get_mapping(states["articles"].index)[states["articles"].index]["mappings"]["properties"]
    analyzers = {name: prop.get("analyzer") for name, prop in live.items() if prop.get("type") == "text"}
    assert analyzers and set(analyzers.values()) <= {None, "standard"}  # None: the default, standard
    indexer = Indexer(es, Spool(tmp_path), refresh=True)
    assert indexer.index_articles([{"id": "a1", "title": "Batterien für Elektroautos", "content_hash": "h",
                                    "version": 1}]).indexed == 1
    assert [h.best_article["id"] for h in queries.run_search(es, "batterien").stories] == ["a1"]


def test_migrate_refuses_before_touching_anything(es, index_prefix, tmp_path):
    indices.ensure_indices(es)
    assert Indexer(es, Spool(tmp_path), refresh=True).index_articles(
        [{"id": f"a{n}", "title": f"Ioniq recall {n}", "content_hash": str(n), "version": 1} for n in range(3)]
    ).indexed == 3
    es.delete_index_template(f"{index_prefix}articles")  # migrate would put it back first thing
    with pytest.raises(indices.IndexStateError, match="has no _reindex .* nothing was changed"):
        indices.migrate(es, "articles")
    assert list(es.list_indices(f"{index_prefix}articles-*")) == [f"{index_prefix}articles-v1"]
    assert list(es.get_alias(f"{index_prefix}articles")) == [f"{index_prefix}articles-v1"]
    assert es.get_index_template(f"{index_prefix}articles") is None
    assert es.count(f"{index_prefix}articles") == 3
