"""``scrapy crawl X -O file.jsonl`` without indexing: the file holds articles, clustered, and nothing else.

A real crawl (tests/crawling.py) of two fixture sources whose coverage overlaps, with the index
pipeline switched off, so the dedup pipeline's story reference is never read by anyone.
"""

from __future__ import annotations

import json

from crawling import crawl

from aggregator.fixtureweb import FixtureWeb
from aggregator.items import FIELD_NAMES


def test_feed_export_holds_the_article_fields_only(tmp_path):
    from aggregator.cli import offline_overrides

    out = tmp_path / "articles.jsonl"
    var = tmp_path / "var"
    with FixtureWeb() as web:
        overrides = {**offline_overrides(web.host_map()), "AGGREGATOR_VAR": str(var),
                     "AGGREGATOR_INDEX_ENABLED": False, "FEEDS": {str(out): {"format": "jsonlines"}}}
        stats = crawl(["electrek", "cleantechnica"], overrides, {"AGGREGATOR_VAR": str(var)})
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == sum(s.get("item_scraped_count", 0) for s in stats.values()) > 4
    for row in rows:
        assert not [k for k in row if k.startswith("_")], sorted(row)  # no story reference, no validators
        assert list(row) == [f for f in FIELD_NAMES if f in row]  # the schema's order
        assert row["story_id"].startswith("s-") and row["dup_id"].startswith("d-") and row["body"]
    # the two outlets' reports of one event share a story in the file as in the engine
    by_story: dict[str, set[str]] = {}
    for row in rows:
        by_story.setdefault(row["story_id"], set()).add(row["source"])
    assert any(len(sources) > 1 for sources in by_story.values())
