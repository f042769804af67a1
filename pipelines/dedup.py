"""Assign ``dup_id`` and ``story_id`` with the MinHash/LSH deduplicator; honour editors' decisions."""

from __future__ import annotations

import logging
import time
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured

from pipelines.signals import articles_checkpointed, articles_indexed

logger = logging.getLogger(__name__)


class _SharedDeduplicators:
    """One Deduplicator per store URL in a process, shared by every crawler that runs in it.

    ``aggregator crawl --all`` runs many spiders in one process; separate instances over one file
    store would each load the state at start and overwrite each other's clusters at close.
    (Separate processes share clusters through the Redis store instead.)
    """

    def __init__(self) -> None:
        self._open: dict[str, list] = {}

    def acquire(self, store_url: str, config=None):
        """The process's Deduplicator over ``store_url``; the first acquirer's ``config`` builds it."""
        from aggregator.dedup import Deduplicator, open_store

        entry = self._open.get(store_url)
        if entry is None:
            entry = self._open[store_url] = [Deduplicator(config, store=open_store(store_url)), 0]
        entry[1] += 1
        return entry[0]

    def release(self, store_url: str) -> None:
        entry = self._open[store_url]
        entry[1] -= 1
        if entry[1] == 0:
            del self._open[store_url]
            close = getattr(entry[0].store, "close", None)
            if close is not None:
                close()


_shared = _SharedDeduplicators()


class StoryRef(str):
    """The id of the story an article joined, which reads the story from the dedup state when the index
    pipeline writes it (:meth:`snapshot`).

    A snapshot per article cost O(members) (every member's document, read again for each article that
    joins), quadratic in a story's size over a crawl, and was wasted when indexing is off. Read at write
    time, once per story and batch, it also holds every article placed since: several crawlers' index
    pipelines flush in any order, and the later read, which carries the later ``updated_at``, is the
    newer state. A ``str`` so that whatever serialises the item (a feed export told to write every key)
    writes the story id.
    """

    def __new__(cls, dd, story_id: str) -> StoryRef:
        ref = super().__new__(cls, story_id)
        ref._dd = dd
        return ref

    @property
    def story_id(self) -> str:
        return str(self)

    def snapshot(self):
        """The story's current state (:class:`aggregator.dedup.Story`), None if it no longer exists."""
        return self._dd.story(str(self))

    def __reduce__(self):  # a copy or pickle of the item keeps the id, not the live state behind it
        return str, (str(self),)


class DedupPipeline:
    """Thin adapter over :class:`aggregator.dedup.Deduplicator`.

    Settings: ``AGGREGATOR_DEDUP_STORE`` (``file:<AGGREGATOR_VAR>/dedup`` by default, or
    ``redis://host:port/db?prefix=NAME`` when several crawler processes share one index),
    ``AGGREGATOR_DEDUP_ENABLED``, ``AGGREGATOR_CHECKPOINT_INTERVAL`` (seconds between persisting the
    clusters; default 30), ``AGGREGATOR_DEDUP_RETENTION_DAYS`` (default 180; 0 keeps every fingerprint):
    on open, at most once a day, articles published longer ago are expired
    (:meth:`~aggregator.dedup.Deduplicator.expire`: they stay in their stories but no longer match new
    articles), which bounds the state's memory in a long-running deployment.

    On open, every editor decision in the ``reviews`` index is applied (idempotently) so a split or a
    merge made in the review page holds on this run too. Stats: ``dedup/new_story``,
    ``dedup/joined_story``, ``dedup/new_dup``, ``dedup/joined_dup``, ``dedup/merged_stories``,
    ``dedup/decisions_applied``, ``dedup/checkpoints``, ``dedup/expired``.

    The item goes on carrying ``_story`` (a :class:`StoryRef` to the story it joined) for the index
    pipeline, which upserts the story document; ``_merged_story_ids`` lists stories this article merged
    into it. Neither is exported by feed exports (``FEED_EXPORT_FIELDS`` lists the article fields).
    """

    def __init__(self, store_url: str, search_url: str | None, stats, signals_, interval: float,
                 config=None) -> None:
        self.store_url = store_url
        self.search_url = search_url
        self.stats = stats
        self.signals = signals_
        self.interval = interval
        self.dd = _shared.acquire(store_url, config)
        self._pending: list[dict] = []
        self._last_checkpoint = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if not settings.getbool("AGGREGATOR_DEDUP_ENABLED", True):
            raise NotConfigured
        store = settings.get("AGGREGATOR_DEDUP_STORE") or f"file:{Path(settings.get('AGGREGATOR_VAR')) / 'dedup'}"
        indexing = settings.getbool("AGGREGATOR_INDEX_ENABLED", True)
        config = None  # DedupConfig's own defaults, unless the setting says otherwise
        if settings.get("AGGREGATOR_DEDUP_RETENTION_DAYS") is not None:
            from aggregator.dedup import DedupConfig

            config = DedupConfig(retention_days=settings.getfloat("AGGREGATOR_DEDUP_RETENTION_DAYS") or None)
        pipe = cls(store, settings.get("AGGREGATOR_SEARCH_URL") if indexing else None, crawler.stats,
                   crawler.signals, settings.getfloat("AGGREGATOR_CHECKPOINT_INTERVAL", 30.0), config)
        crawler.signals.connect(pipe.indexed, signal=articles_indexed)
        crawler.signals.connect(pipe.spider_closed, signal=signals.spider_closed)
        return pipe

    def open_spider(self) -> None:
        expired = self.dd.expire()
        if expired.expired:
            logger.info("dedup: expired %d articles published over %g days ago (%.1f MB of fingerprints)",
                        expired.expired, self.dd.config.retention_days, expired.freed_bytes / 1e6)
            self.stats.inc_value("dedup/expired", expired.expired)
        if not self.search_url:
            return
        from aggregator.decisions import load_decisions
        from aggregator.search.client import SearchUnavailable, connect

        try:
            decisions = load_decisions(connect(self.search_url))
        except SearchUnavailable as exc:
            # the decisions stay in the engine; the next run that reaches it applies them
            logger.warning("editor decisions not loaded (%s); a later run will apply them", exc)
            self.stats.inc_value("dedup/decisions_unavailable")
            return
        for decision in decisions:
            self.dd.apply_decision(decision.to_doc())
            self.stats.inc_value("dedup/decisions_applied")

    def process_item(self, item: dict) -> dict:
        assignment = self.dd.add(item)
        item["dup_id"] = assignment.dup_id
        item["story_id"] = assignment.story_id
        self.stats.inc_value("dedup/new_story" if assignment.new_story else "dedup/joined_story")
        self.stats.inc_value("dedup/new_dup" if assignment.new_dup else "dedup/joined_dup")
        if assignment.merged_story_ids:
            self.stats.inc_value("dedup/merged_stories", len(assignment.merged_story_ids))
        item["_story"] = StoryRef(self.dd, assignment.story_id)
        item["_merged_story_ids"] = list(assignment.merged_story_ids)
        if not self.search_url:  # nothing downstream makes it durable: our own checkpoint does
            self.indexed([item])
        return item

    def indexed(self, items: list[dict]) -> None:
        self._pending.extend(items)
        if time.monotonic() - self._last_checkpoint >= self.interval:
            self.checkpoint()

    def checkpoint(self) -> None:
        """Persist the clusters, then let the crawl state record the articles as done."""
        self.dd.flush()
        self.stats.inc_value("dedup/checkpoints")
        self._last_checkpoint = time.monotonic()
        pending, self._pending = self._pending, []
        if pending:
            self.signals.send_catch_log(articles_checkpointed, items=pending)

    def spider_closed(self) -> None:
        self.checkpoint()
        _shared.release(self.store_url)
