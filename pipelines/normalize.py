"""Validate articles and give them a version; drop the invalid and the unchanged with a counted reason."""

from __future__ import annotations

import logging
from datetime import datetime, timezone
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import DropItem

from aggregator.crawlstate import CrawlState
from aggregator.normalize import Rejected, normalize_article

logger = logging.getLogger(__name__)


class NormalizePipeline:
    """Stats: ``normalize/ok``, ``normalize/new``, ``normalize/updated``, ``normalize/unchanged``,
    ``normalize/dropped/<reason>``.

    An article whose content hash equals the one stored for its id is dropped as ``unchanged`` (at DEBUG
    level): re-crawling an unchanged page must add nothing and update nothing downstream.
    """

    def __init__(self, state: CrawlState, stats) -> None:
        self.state = state
        self.stats = stats
        self._reported: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler):
        path = Path(crawler.settings.get("AGGREGATOR_VAR")) / "crawl" / "state.sqlite"
        pipe = cls(CrawlState(path), crawler.stats)
        crawler.signals.connect(pipe.spider_closed, signal=signals.spider_closed)
        return pipe

    def spider_closed(self) -> None:
        self.state.close()

    def process_item(self, item):
        try:
            article = normalize_article(dict(item))
        except Rejected as exc:
            key = f"normalize/dropped/{exc.reason}"
            self.stats.inc_value(key)
            first = key not in self._reported
            self._reported.add(key)
            raise DropItem(f"{key}: {exc}", log_level="WARNING" if first else "DEBUG") from exc
        version, changed = self.state.record_content(article["id"], article["content_hash"])
        if not changed:
            self.stats.inc_value("normalize/unchanged")
            raise DropItem(f"unchanged since the last crawl: {article['canonical_url']}", log_level="DEBUG")
        article["version"] = version
        if version > 1:
            article["updated_at"] = article.get("updated_at") or datetime.now(timezone.utc).isoformat()
            self.stats.inc_value("normalize/updated")
        else:
            self.stats.inc_value("normalize/new")
        self.stats.inc_value("normalize/ok")
        for key, value in article.items():
            item[key] = value
        return item
