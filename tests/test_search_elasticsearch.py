"""The same code path against a live Elasticsearch 8/9 (``AGGREGATOR_TEST_ES_URL``), when one is given.

There is no Elasticsearch in the offline test environment, so these are skipped unless a URL is set
(credentials come from ``AGGREGATOR_SEARCH_USER/PASSWORD/API_KEY/CA_CERTS`` like in production).
"""

from __future__ import annotations

import os

import pytest

from aggregator.search import indices, queries
from aggregator.search.client import connect
from aggregator.search.indexer import Indexer
from aggregator.search.spool import Spool

ES_URL = os.environ.get("AGGREGATOR_TEST_ES_URL")
pytestmark = pytest.mark.skipif(not ES_URL, reason="AGGREGATOR_TEST_ES_URL is not set: no live Elasticsearch")


@pytest.fixture
def es(index_prefix):
    client = connect(ES_URL)
    assert client.flavor == "elasticsearch"
    yield client
    indices.drop_all(client)


def test_index_search_migrate_on_elasticsearch(es, index_prefix, tmp_path):
    indices.ensure_indices(es)
    assert not any(s.created for s in indices.ensure_indices(es).values())
    indexer = Indexer(es, Spool(tmp_path), refresh=True)
    docs = [{"id": f"a{n}", "title": f"Hyundai Ioniq recall {n}", "story_id": "s1", "source": "electrek",
             "content_hash": str(n), "version": 1, "published_at": "2025-01-01T00:00:00Z"} for n in range(5)]
    assert indexer.index_articles(docs).indexed == 5
    assert indexer.index_articles(docs).unchanged == 5
    assert indexer.index_articles([dict(docs[0], published_at="soon", id="bad")]).failed == 1
    queries.run_search(es, 'ioniq "recall *:* OR {"query":')  # hostile text: searched, never an error
    assert [h.story_id for h in queries.run_search(es, "ioniq recall").stories] == ["s1"]
    result = indices.migrate(es, "articles")
    assert result.copied == 5 and list(es.get_alias(f"{index_prefix}articles")) == [result.new_index]
