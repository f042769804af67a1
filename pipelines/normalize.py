"""Validate articles and give them a version; drop the invalid and the unchanged with a counted reason."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import DropItem

from aggregator.crawlstate import CrawlState
from aggregator.normalize import Rejected, normalize_article
from pipelines.signals import articles_checkpointed


class NormalizePipeline:
    """Stats: ``normalize/ok``, ``normalize/new``, ``normalize/updated``, ``normalize/unchanged``,
    ``normalize/dropped/<reason>``.

    An article whose content hash equals the one stored for its id is dropped as ``unchanged`` (at DEBUG
    level): re-crawling an unchanged page must add nothing and update nothing downstream. The content
    hash and the page's HTTP validators are stored only on ``articles_checkpointed``, once the article
    is durably indexed (see :mod:`pipelines.signals`).
    """

    def __init__(self, state: CrawlState, stats) -> None:
        self.state = state
        self.stats = stats
        self._reported: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        path = Path(crawler.settings.get("AGGREGATOR_VAR")) / "crawl" / "state.sqlite"
        pipe = cls(CrawlState(path), crawler.stats)
        crawler.signals.connect(pipe.checkpointed, signal=articles_checkpointed)
        # engine_stopped comes after spider_closed, when the dedup pipeline makes its last checkpoint
        crawler.signals.connect(pipe.engine_stopped, signal=signals.engine_stopped)
        return pipe

    def engine_stopped(self) -> None:
        self.state.close()

    def _record_fetch(self, item: dict) -> None:
        fetch = item.get("_fetch")
        if fetch:
            self.state.record_fetch(fetch["url"], fetch.get("etag"), fetch.get("last_modified"))

    def process_item(self, item: dict) -> dict:
        try:
            article = normalize_article(item)
        except Rejected as exc:
            key = f"normalize/dropped/{exc.reason}"
            self.stats.inc_value(key)
            self._record_fetch(item)
            first = key not in self._reported
            self._reported.add(key)
            raise DropItem(f"{key}: {exc}", log_level="WARNING" if first else "DEBUG") from exc
        version, changed = self.state.peek_content(article["id"], article["content_hash"])
        if not changed:
            self.stats.inc_value("normalize/unchanged")
            self._record_fetch(item)
            raise DropItem(f"unchanged since the last crawl: {article['canonical_url']}", log_level="DEBUG")
        article["version"] = version
        if version > 1:
            article["updated_at"] = article.get("updated_at") or datetime.now(timezone.utc).isoformat()
            self.stats.inc_value("normalize/updated")
        else:
            self.stats.inc_value("normalize/new")
        self.stats.inc_value("normalize/ok")
        return article

    def checkpointed(self, items: list[dict]) -> None:
        for item in items:
            self.state.record_content(item["id"], item["content_hash"])
            self._record_fetch(item)
