"""Send crawled articles and their stories to the search engine: a thin adapter over the Indexer.

All the work (idempotent bulk writes, dead letters, the spool when the engine is away) lives in
:mod:`aggregator.search.indexer`; this class only buffers items, calls it in batches and at close,
and reports what happened as crawl stats.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy.exceptions import NotConfigured

from aggregator import config
from pipelines.signals import articles_indexed

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from typing_extensions import Self

    from aggregator.search.indexer import IndexResult

logger = logging.getLogger(__name__)

#: how many article id -> URL pairs to remember for story documents whose members carry no URL
URL_MEMORY = 50_000
_SHARED_URLS: OrderedDict[str, str] = OrderedDict()


class IndexPipeline:
    """Index articles in batches; upsert the story each one belongs to.

    Settings (read once): ``AGGREGATOR_INDEX_ENABLED`` (default True; False switches the pipeline off),
    ``AGGREGATOR_SEARCH_URL`` (default :func:`aggregator.config.search_url`), ``AGGREGATOR_INDEX_BATCH``
    (items per bulk request, default 200), ``AGGREGATOR_VAR`` (the spool lives in its ``spool`` folder).

    The dedup pipeline before this one leaves ``_story`` (a :class:`~pipelines.dedup.StoryRef`, read
    when the batch is written; a story snapshot is taken as it is) and ``_merged_story_ids`` on the item;
    both are popped here, and no ``_``-prefixed key is ever indexed. Within a batch the last state of a
    story wins. On open, the indices are ensured and the spool of
    earlier runs is replayed. After each batch is durable (in the engine, the spool or the dead-letter
    file) the ``articles_indexed`` signal lets the dedup pipeline and the crawl state checkpoint.

    Stats: ``index/indexed``, ``index/updated``, ``index/unchanged``, ``index/spooled``,
    ``index/failed``, ``index/replayed``, ``index/stories_upserted``, ``index/stories_deleted``,
    ``index/engine_unavailable``.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        if not settings.getbool("AGGREGATOR_INDEX_ENABLED", True):
            raise NotConfigured("AGGREGATOR_INDEX_ENABLED is off")
        self.crawler = crawler
        self.stats = crawler.stats
        self.url: str = settings.get("AGGREGATOR_SEARCH_URL") or config.search_url()
        self.batch_size: int = settings.getint("AGGREGATOR_INDEX_BATCH", 200)
        if self.batch_size < 1:
            raise NotConfigured(f"AGGREGATOR_INDEX_BATCH ({self.batch_size}) must be at least 1")
        var = settings.get("AGGREGATOR_VAR")
        self.spool_dir = (Path(var) if var else config.var_dir()) / "spool"
        self.indexer: Any = None
        self._articles: list[dict[str, Any]] = []
        self._items: list[Any] = []
        self._refs: list[Any] = []  # per buffered article: its StoryRef (labels are read at write time)
        self._stories: dict[str, Any] = {}
        self._merged: set[str] = set()
        self._absorbing: set[str] = set()  # stories that absorbed others in this batch
        # one memory for every crawler in the process: a story snapshot flushed by one crawler links the
        # members another crawler holds in its not-yet-indexed batch (the engine cannot know them yet)
        self._urls: OrderedDict[str, str] = _SHARED_URLS

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    def open_spider(self) -> None:
        from aggregator.search import indices
        from aggregator.search.client import SearchUnavailable, connect
        from aggregator.search.indexer import Indexer
        from aggregator.search.spool import Spool

        client = None
        try:
            client = connect(self.url)
            indices.ensure_indices(client)
        except SearchUnavailable as exc:
            # not fatal: the crawl goes on, batches spool, and the indexer reconnects when it can
            logger.warning("search engine unavailable at start (%s); articles will be spooled", exc)
            self.stats.inc_value("index/engine_unavailable")
            client = None
        self.indexer = Indexer(client, Spool(self.spool_dir), url=self.url)
        if client is not None:
            replay = self.indexer.replay()
            if replay.replayed or replay.segments_left:
                logger.info("replayed %d spooled documents (%d segments left)", replay.replayed,
                            replay.segments_left)
            self.stats.inc_value("index/replayed", replay.replayed)

    def process_item(self, item: Any) -> Any:
        adapter = ItemAdapter(item)
        story = adapter.item.pop("_story", None) if "_story" in adapter else None
        merged = adapter.item.pop("_merged_story_ids", None) if "_merged_story_ids" in adapter else None
        merged_dups = adapter.item.pop("_merged_dup_ids", None) if "_merged_dup_ids" in adapter else None
        left = adapter.item.pop("_left_story_ids", None) if "_left_story_ids" in adapter else None
        article = {k: v for k, v in adapter.items() if not k.startswith("_")}
        self._articles.append(article)
        self._items.append(item)
        self._refs.append(story)
        if article.get("id") and (article.get("url") or article.get("canonical_url")):
            self._remember_url(article["id"], article.get("canonical_url") or article["url"])
        if story is not None:
            story_id = self._story_id(story)
            if story_id:
                self._stories.pop(story_id, None)
                self._stories[story_id] = story  # the last state in the batch wins
        for ref in left or ():  # the story a changed article left is rewritten (or deleted if now empty)
            self._stories.setdefault(self._story_id(ref) or str(ref), ref)
        if merged:
            self._merged.update(merged)
        if merged or merged_dups:
            # earlier members changed story_id (or dup_id): they are relabelled with this batch
            self._absorbing.add(article.get("story_id"))
        if len(self._articles) >= self.batch_size:
            self.flush()
        return item

    def close_spider(self) -> None:
        self.flush()

    def flush(self) -> None:
        """Write the buffered batch; nothing raised here stops the crawl, nothing buffered is dropped."""
        if not self._articles and not self._stories and not self._merged:
            return
        from aggregator.search.indexer import story_document

        articles, items, self._articles, self._items = self._articles, self._items, [], []
        refs, self._refs = self._refs, []
        stories, emptied = self._snapshots(self._stories.values())
        self._stories = {}
        merged, self._merged = (self._merged | emptied) - {self._story_id(s) for s in stories}, set()
        absorbing, self._absorbing = self._absorbing, set()
        for article, ref in zip(articles, refs, strict=True):
            labels = getattr(ref, "labels", None)
            if labels is not None and article.get("id"):
                # the labels the state gives now: a merge since clustering (this batch, or another
                # crawler's) moved the article, and its relabel could not reach it before it was written
                story_id, dup_id = labels(article["id"])
                if story_id:
                    article["story_id"], article["dup_id"] = story_id, dup_id or article.get("dup_id")

        self._count(self.indexer.index_articles(articles))
        if stories:
            self._learn_urls(stories)
            # updated_at = now: several crawlers' pipelines flush in any order, and the later write
            # holds the later state (read just above)
            docs = [story_document(s, urls=self._urls) for s in stories]
            result = self.indexer.upsert_stories(docs)
            self.stats.inc_value("index/stories_upserted", result.indexed + result.updated + result.unchanged)
        if merged:
            result = self.indexer.delete_stories(sorted(merged))
            self.stats.inc_value("index/stories_deleted", result.updated)
        if absorbing:
            # articles indexed earlier still carry the absorbed stories' (or dup clusters') ids: move them
            # to the survivor, by id (partial updates: no script, the same on every engine)
            written = {a.get("id") for a in articles}
            labels = [{"id": m.article_id, "story_id": self._story_id(s), "dup_id": m.dup_id}
                      for s in stories if self._story_id(s) in absorbing for m in s.members
                      if m.article_id not in written]
            result = self.indexer.relabel_articles(labels)
            self.stats.inc_value("index/articles_relabelled", result.updated)
        if items:
            self.crawler.signals.send_catch_log(articles_indexed, items=items)

    def _snapshots(self, pending: Iterable[Any]) -> tuple[list[Any], set[str]]:
        """One state per story: references are read now; two that resolve to one story now (merged
        since) give one. Also returns the ids of referenced stories that no longer exist (emptied)."""
        out: dict[str, Any] = {}
        emptied: set[str] = set()
        for ref in pending:
            story = ref
            snapshot = getattr(ref, "snapshot", None)
            if snapshot is not None:
                story = snapshot()
                if story is None:
                    emptied.add(str(ref))
            story_id = self._story_id(story) if story is not None else None
            if story_id:
                out.pop(story_id, None)
                out[story_id] = story
        return list(out.values()), emptied - set(out)

    def _count(self, result: IndexResult) -> None:
        for key in ("indexed", "updated", "unchanged", "spooled", "failed"):
            value = getattr(result, key)
            if value:
                self.stats.inc_value(f"index/{key}", value)

    @staticmethod
    def _story_id(story: Any) -> str | None:
        return story.get("story_id") if isinstance(story, dict) else getattr(story, "story_id", None)

    def _learn_urls(self, stories: list[Any]) -> None:
        """Look up the URLs of members this pipeline has not seen: another crawler (or an earlier run)
        indexed them, and a story document should link every member."""
        client = self.indexer.client
        missing = sorted({m.article_id for s in stories for m in getattr(s, "members", [])} - self._urls.keys())
        if not missing or client is None:
            return
        from aggregator.search import indices

        try:
            docs = client.mget_versions(indices.alias_name("articles"), missing, ["canonical_url", "url"])
        except client.Errors as exc:  # the story is still written; its members just lack links this time
            logger.debug("member URLs not looked up: %s", exc)
            return
        for doc in docs:
            source = doc.get("_source") or {}
            if doc.get("found") and (source.get("canonical_url") or source.get("url")):
                self._remember_url(doc["_id"], source.get("canonical_url") or source["url"])

    def _remember_url(self, article_id: str, url: str) -> None:
        self._urls[article_id] = url
        self._urls.move_to_end(article_id)
        if len(self._urls) > URL_MEMORY:
            self._urls.popitem(last=False)
