"""Index templates, aliases and migrations against the real local engine."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import requires

from aggregator import items
from aggregator.search import indices, mapping
from aggregator.search.indexer import Indexer
from aggregator.search.spool import Spool

#: every test on the search fixture runs on OpenSearch and on Elasticsearch (tests/conftest.py)
ENGINE_FLAVORS = ("opensearch", "elasticsearch")

pytestmark = pytest.mark.engine


@pytest.fixture
def client(search):
    yield search
    indices.drop_all(search)


def test_articles_mapping_has_one_property_per_schema_field():
    props = mapping.articles_mapping()["properties"]
    assert set(props) == set(items.FIELD_NAMES) | {"indexed_at"} | set(mapping.LANGUAGE_FIELD_NAMES)
    # searched through title_en, title_de, ... and, every language in one vocabulary, title.all
    assert props["title"] == {"type": "text", "index": False, "fields": {"all": {"type": "text",
                                                                                "analyzer": "standard"}}}
    assert props["title_de"] == {"type": "text", "analyzer": "german"}
    assert props["body_cjk"] == {"type": "text", "analyzer": "cjk"}
    assert mapping.articles_mapping(analysis=mapping.STANDARD_FALLBACK)["properties"]["title_de"]["analyzer"] == (
        "standard")
    assert props["source"]["type"] == "keyword"
    assert props["authors"]["fields"]["keyword"]["type"] == "keyword"
    assert props["extracted_by"] == {"type": "object", "enabled": False}
    assert props["published_at"]["type"] == "date"
    assert mapping.articles_mapping()["dynamic"] == "strict"


def test_a_field_added_to_the_schema_reaches_the_live_index(client, monkeypatch, tmp_path):
    indices.ensure_indices(client)
    monkeypatch.setattr(items, "FIELDS", items.FIELDS + (items.Field("battery_kwh", "integer", "pack size"),))
    assert mapping.articles_mapping()["properties"]["battery_kwh"] == {"type": "integer"}

    states = indices.ensure_indices(client)
    assert states["articles"].mapping_updated and states["articles"].stale is None
    live = client.get_mapping(states["articles"].index)[states["articles"].index]["mappings"]
    assert live["properties"]["battery_kwh"] == {"type": "integer"}
    result = Indexer(client, Spool(tmp_path)).index_articles([{"id": "x", "title": "t", "battery_kwh": 75}])
    assert result.indexed == 1


def test_a_type_change_is_reported_stale_not_applied(client, monkeypatch):
    indices.ensure_indices(client)
    changed = tuple(dataclasses.replace(f, kind="keyword") if f.name == "word_count" else f for f in items.FIELDS)
    monkeypatch.setattr(items, "FIELDS", changed)
    states = indices.ensure_indices(client)
    assert states["articles"].stale and "word_count" in states["articles"].stale
    assert next(s for s in indices.status(client) if s.kind == "articles").stale


def test_ensure_indices_is_idempotent(client, index_prefix):
    first = indices.ensure_indices(client)
    second = indices.ensure_indices(client)
    assert all(s.created for s in first.values())
    assert not any(s.created or s.mapping_updated for s in second.values())
    for kind in indices.KINDS:
        assert client.get_alias(f"{index_prefix}{kind}") == {
            f"{index_prefix}{kind}-v1": {"aliases": {f"{index_prefix}{kind}": {"is_write_index": True}}}
        }
        template = client.get_index_template(f"{index_prefix}{kind}")
        assert template["index_patterns"] == [f"{index_prefix}{kind}-*"]


def test_migrate_keeps_documents_and_switches_the_alias(client, index_prefix, tmp_path):
    requires(client, "reindex")
    indices.ensure_indices(client)
    indexer = Indexer(client, Spool(tmp_path), refresh=True)
    docs = [{"id": f"a{i}", "title": f"Charging news {i}", "content_hash": f"h{i}", "version": 1}
            for i in range(50)]
    indexer.index_articles(docs)
    late = [{"id": "late", "title": "written during the copy", "content_hash": "l", "version": 1}]

    result = indices.migrate(client, "articles", _between_copy_and_switch=lambda: indexer.index_articles(late))

    alias = f"{index_prefix}articles"
    assert result.old_index == f"{alias}-v1" and result.new_index == f"{alias}-v2"
    assert list(client.get_alias(alias)) == [f"{alias}-v2"]
    assert result.deleted_old and not client.index_exists(f"{alias}-v1")
    assert result.caught_up >= 1
    client.refresh(alias)
    assert client.count(alias) == 51
    assert client.get(alias, "late")["_source"]["title"] == "written during the copy"
    # versions survive the copy, so the next unchanged write is still a no-op
    assert indexer.index_articles(docs[:5]).unchanged == 5

    again = indices.migrate(client, "articles", keep_old=True)
    assert again.new_index == f"{alias}-v3" and client.index_exists(f"{alias}-v2")
    status = {s.kind: s for s in indices.status(client)}["articles"]
    assert status.write_index == f"{alias}-v3" and status.indices[f"{alias}-v3"] == 51
