"""A merge moves articles indexed by earlier batches to the surviving story (real engine)."""

from __future__ import annotations

from aggregator.search.indexer import Indexer
from aggregator.search.indices import alias_name, ensure_indices
from aggregator.search.spool import Spool


def _article(n: int, story: str) -> dict:
    return {"id": f"a{n}", "url": f"https://x.example/{n}", "canonical_url": f"https://x.example/{n}",
            "source": "electrek", "title": f"t{n}", "body": "b", "content_hash": f"h{n}", "version": 1,
            "story_id": story, "dup_id": f"d-{n}"}


def test_relabel_moves_existing_articles_and_ignores_missing_ones(search, tmp_path):
    ensure_indices(search)
    indexer = Indexer(search, Spool(tmp_path / "spool"))
    indexer.index_articles([_article(1, "s-old"), _article(2, "s-keep")])
    result = indexer.relabel_articles([
        {"id": "a1", "story_id": "s-keep", "dup_id": "d-2"},
        {"id": "never-indexed", "story_id": "s-keep", "dup_id": "d-2"},
    ])
    assert result.updated == 1 and result.unchanged == 1 and result.spooled == 0
    search.refresh(alias_name("articles"))
    doc = search.get(alias_name("articles"), "a1")["_source"]
    assert doc["story_id"] == "s-keep" and doc["dup_id"] == "d-2"
    assert doc["title"] == "t1"  # a partial update: the rest of the article is kept
