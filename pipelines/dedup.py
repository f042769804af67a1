"""Assign ``dup_id`` and ``story_id`` with the MinHash/LSH deduplicator; honour editors' decisions."""

from __future__ import annotations

import logging
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured

from aggregator import config

logger = logging.getLogger(__name__)


class DedupPipeline:
    """Thin adapter over :class:`aggregator.dedup.Deduplicator`.

    Settings: ``AGGREGATOR_DEDUP_STORE`` (``file:<dir>`` by default under ``AGGREGATOR_VAR``, or
    ``redis://host:port/db`` when several crawler processes share one index), ``AGGREGATOR_DEDUP_ENABLED``.

    On open, every editor decision in the ``reviews`` index is applied (idempotently) so that a split or
    a merge made in the review page holds on this run too. Stats: ``dedup/new_story``,
    ``dedup/joined_story``, ``dedup/new_dup``, ``dedup/joined_dup``, ``dedup/merged_stories``,
    ``dedup/decisions_applied``.

    The item leaves as a plain dict carrying ``_story`` (the story's current state) for the index
    pipeline, which pops it and upserts the story document.
    """

    def __init__(self, store_url: str, search_url: str | None, stats) -> None:
        from aggregator.dedup import Deduplicator, open_store

        self.store_url = store_url
        self.search_url = search_url
        self.stats = stats
        self.dd = Deduplicator(store=open_store(store_url))

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if not settings.getbool("AGGREGATOR_DEDUP_ENABLED", True):
            raise NotConfigured
        store = settings.get("AGGREGATOR_DEDUP_STORE") or f"file:{Path(settings.get('AGGREGATOR_VAR')) / 'dedup'}"
        search_url = settings.get("AGGREGATOR_SEARCH_URL") if settings.getbool("AGGREGATOR_INDEX_ENABLED", True) \
            else None
        pipe = cls(store, search_url, crawler.stats)
        crawler.signals.connect(pipe.spider_closed, signal=signals.spider_closed)
        return pipe

    def open_spider(self) -> None:
        if not self.search_url:
            return
        from aggregator.decisions import load_decisions
        from aggregator.search.client import SearchUnavailable, connect

        try:
            client = connect(self.search_url or config.search_url())
            decisions = load_decisions(client)
        except SearchUnavailable as exc:
            # decisions stay in the engine; they are applied by the next run that reaches it
            logger.warning("editor decisions not loaded (%s); they will be applied on a later run", exc)
            self.stats.inc_value("dedup/decisions_unavailable")
            return
        for decision in decisions:
            self.dd.apply_decision(decision.as_dict() if hasattr(decision, "as_dict") else dict(decision))
            self.stats.inc_value("dedup/decisions_applied")

    def process_item(self, item):
        article = dict(item)
        assignment = self.dd.add(article)
        article["dup_id"] = assignment.dup_id
        article["story_id"] = assignment.story_id
        self.stats.inc_value("dedup/new_story" if assignment.new_story else "dedup/joined_story")
        self.stats.inc_value("dedup/new_dup" if assignment.new_dup else "dedup/joined_dup")
        if assignment.merged_story_ids:
            self.stats.inc_value("dedup/merged_stories", len(assignment.merged_story_ids))
        article["_story"] = self.dd.story(assignment.story_id)
        return article

    def spider_closed(self) -> None:
        self.dd.flush()
