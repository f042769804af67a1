"""The news spider: discover articles through feeds, news sitemaps and listing pages; extract them.

One class serves every outlet: the registry (``aggregator/sources.toml``) says where to start and what
an article URL looks like, and :mod:`spiders.outlets` makes one named spider per source from it, so
``scrapy list`` shows them all and ``scrapy crawl electrek`` runs one.

Everything dropped on the way is counted under a named reason (``crawl/dropped/<reason>``,
``extract/dropped/<reason>``) and logged once per reason at WARNING (further cases at DEBUG).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import scrapy
from scrapy.http import Response
from twisted.python.failure import Failure

from aggregator.crawlstate import CrawlState
from aggregator.dedup.embed import CARRIED_FIELD
from aggregator.dedup.prepared import FIELD as DEDUP_FEATURES
from aggregator.discovery import DiscoveryError, parse_feed, parse_sitemap
from aggregator.extract import ExtractionError, extract_article
from aggregator.extract import pool as extract_pool
from aggregator.items import FIELD_NAMES
from aggregator.sources import Source

logger = logging.getLogger(__name__)

HTML_TYPES = (b"text/html", b"application/xhtml+xml")


def _embedding_wanted(settings) -> bool | str:
    """Whether the extraction workers compute the articles' story embedding: ``AGGREGATOR_EXTRACT_EMBEDDING``
    (``auto`` by default, or on / off), only with dedup on and the embedding weight > 0. Otherwise the dedup
    step encodes an article only when one of its pairs first needs the vector (a report in another language;
    :mod:`aggregator.dedup.embed`), and a crawl in one language never loads the model. ``auto``: the workers
    embed once the crawl's articles come in mixed languages (:class:`_LanguageMix`), where most articles will
    meet a report in another language; on: always."""
    value = settings.get("AGGREGATOR_EXTRACT_EMBEDDING", "auto")
    wanted: bool | str = "auto" if str(value).strip().lower() == "auto" else \
        settings.getbool("AGGREGATOR_EXTRACT_EMBEDDING", False)
    if not wanted or not settings.getbool("AGGREGATOR_DEDUP_ENABLED", True):
        return False
    weight = settings.get("AGGREGATOR_DEDUP_STORY_EMBEDDING_WEIGHT")
    if weight is None:
        from aggregator.dedup import DedupConfig

        return wanted if DedupConfig().story_embedding_weight > 0 else False
    return wanted if float(weight) > 0 else False


class _LanguageMix:
    """The languages of the articles this process extracted (every crawler of it), for
    ``AGGREGATOR_EXTRACT_EMBEDDING = auto``: mixed once :data:`MIN_ARTICLES` are seen and the second most
    common language the model knows has :data:`MIN_SHARE` of them. On the multilingual development sets ~75 %
    of the articles meet a candidate in another language and need their vector: computed in the workers they
    cost the crawl's thread nothing; in one language none is needed, and the model is never loaded."""

    MIN_ARTICLES = 20
    MIN_SHARE = 0.05

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._mixed = False

    def observe(self, language: str) -> None:
        from aggregator.dedup.embed import base_language, supported

        if language and supported(language) and not self._mixed:
            self.counts[base_language(language)] += 1

    def mixed(self) -> bool:
        if not self._mixed:
            total = sum(self.counts.values())
            top = self.counts.most_common(2)
            self._mixed = total >= self.MIN_ARTICLES and len(top) == 2 and top[1][1] >= self.MIN_SHARE * total
        return self._mixed


_languages = _LanguageMix()


def _preload_encoder() -> None:
    """Build the story-embedding model (its package and tokenizer) before the extraction workers are forked,
    so they inherit it; the encoder reads its weights on its first text, which each worker does as it starts
    (:func:`aggregator.extract.pool._init_worker`), not on its first page. The dedup step builds it in this
    process anyway. If it cannot load, the workers try (and fail) alone and the dedup step says why."""
    from aggregator.dedup.embed import EmbeddingUnavailable, encoder

    try:
        encoder()
    except EmbeddingUnavailable:
        pass


class NewsSpider(scrapy.Spider):
    """Crawl one :class:`~aggregator.sources.Source`. Subclasses set ``source`` (see spiders.outlets)."""

    source: Source

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.allowed_domains = list(self.source.domains)
        self._reported: set[str] = set()
        self._state: CrawlState | None = None
        self._pool: extract_pool.ExtractPool | None = None
        self.embed_in_workers = False
        self.dedup_in_workers = False

    # -- set-up ------------------------------------------------------------------------------------
    @classmethod
    def from_crawler(cls, crawler, *args: Any, **kwargs: Any):
        spider = super().from_crawler(crawler, *args, **kwargs)
        settings = crawler.settings
        spider.recrawl_after = settings.getfloat("AGGREGATOR_RECRAWL_AFTER", 6 * 3600)
        spider.max_age_days = settings.getfloat("AGGREGATOR_MAX_AGE_DAYS", 0)
        spider.max_page_bytes = settings.getint("AGGREGATOR_MAX_PAGE_BYTES", 3 * 1024 * 1024)
        spider._state = CrawlState(Path(settings.get("AGGREGATOR_VAR")) / "crawl" / "state.sqlite")
        crawler.signals.connect(spider._closed, signal=scrapy.signals.spider_closed)
        # Extraction is CPU-bound (lxml, trafilatura): worker processes, one pool shared by the
        # crawlers of this process; 0 = a thread of this process (GIL-bound, for debugging).
        workers = settings.get("AGGREGATOR_EXTRACT_WORKERS")
        workers = extract_pool.default_workers() if workers in (None, "") else int(workers)
        spider.embed_in_workers = _embedding_wanted(settings)
        spider.dedup_in_workers = settings.getbool("AGGREGATOR_DEDUP_ENABLED", True)  # its features, in the workers
        if workers > 0 and spider.embed_in_workers is True:
            _preload_encoder()
        if workers > 0:
            spider._pool = extract_pool.acquire(workers, embedding=spider.embed_in_workers is True,
                                                dedup=spider.dedup_in_workers)
            if spider._pool is None:
                logger.warning("no extraction worker process could start; extracting in a thread")
            else:
                crawler.signals.connect(spider._engine_stopped, signal=scrapy.signals.engine_stopped)
        return spider

    def _closed(self) -> None:
        if self._state is not None:
            self._state.close()

    def _engine_stopped(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            extract_pool.release(pool)

    async def start(self):
        for url in self.source.feeds:
            yield scrapy.Request(url, callback=self.parse_feed, errback=self.on_error, meta={"kind": "feed"})
        for url in self.source.sitemaps:
            yield scrapy.Request(url, callback=self.parse_sitemap, errback=self.on_error, meta={"kind": "sitemap"})
        for url in self.source.listing_pages:
            yield scrapy.Request(url, callback=self.parse_listing, errback=self.on_error, meta={"kind": "listing"})

    # -- bookkeeping -------------------------------------------------------------------------------
    def drop(self, stage: str, reason: str, target: Response | str, detail: str = "") -> None:
        """Count a dropped page under ``<stage>/dropped/<reason>`` and log the first of each reason.

        A dropped article page's validators are stored at once (dropping is its final outcome), so
        the next run asks with ``If-None-Match`` instead of downloading it again.
        """
        url = target if isinstance(target, str) else target.url
        validators = None if isinstance(target, str) else target.meta.get("validators")
        if validators and self._state is not None:
            self._state.record_fetch(validators["url"], validators["etag"], validators["last_modified"])
        key = f"{stage}/dropped/{reason}"
        self.crawler.stats.inc_value(key)
        self.crawler.stats.inc_value(f"{stage}/dropped")
        level = logging.WARNING if key not in self._reported else logging.DEBUG
        self._reported.add(key)
        logger.log(level, "dropped %s (%s): %s%s", url, key, detail or reason,
                   "" if level == logging.DEBUG else " [further cases of this reason are logged at DEBUG]")

    # -- discovery ---------------------------------------------------------------------------------
    def parse_feed(self, response: Response):
        try:
            entries = parse_feed(response.body, response.url, self.source.timezone)
        except DiscoveryError as exc:
            self.drop("crawl", exc.reason, response.url, str(exc))
            return
        self.crawler.stats.inc_value("crawl/feeds")
        for entry in entries:
            yield from self.follow_article(entry.url, entry.published_at, entry.lastmod, via="feed")

    def parse_sitemap(self, response: Response):
        try:
            sitemap = parse_sitemap(response.body, response.url, self.source.timezone)
        except DiscoveryError as exc:
            self.drop("crawl", exc.reason, response.url, str(exc))
            return
        self.crawler.stats.inc_value("crawl/sitemaps")
        for url in sitemap.sitemaps:
            yield scrapy.Request(url, callback=self.parse_sitemap, errback=self.on_error, meta={"kind": "sitemap"})
        for entry in sitemap.entries:
            yield from self.follow_article(entry.url, entry.published_at, entry.lastmod, via="sitemap")

    def parse_listing(self, response: Response):
        if not isinstance(response, scrapy.http.TextResponse):
            self.drop("crawl", "not_html", response.url, "listing page is not HTML")
            return
        self.crawler.stats.inc_value("crawl/listings")
        seen: set[str] = set()
        for href in response.css("a::attr(href)").getall():
            url = response.urljoin(href.strip())
            if url not in seen and self.source.is_article_url(url):
                seen.add(url)
                yield from self.follow_article(url, None, None, via="listing")

    def follow_article(self, url: str, published: datetime | None, lastmod: datetime | None, via: str):
        """Request an article page unless it is off-pattern, too old, or fresh from an earlier run."""
        stats = self.crawler.stats
        if not self.source.is_article_url(url):
            stats.inc_value("crawl/skipped/not_article_url")
            return
        if self.max_age_days and published is not None:
            if published < datetime.now(timezone.utc) - timedelta(days=self.max_age_days):
                stats.inc_value("crawl/skipped/too_old")
                return
        page = self._state.get(url) if self._state is not None else None
        if page is not None and page.fetched_at is not None:
            changed_at = max((d for d in (published, lastmod) if d is not None), default=None)
            changed_since = changed_at is not None and changed_at.timestamp() > page.fetched_at
            if not changed_since and time.time() - page.fetched_at < self.recrawl_after:
                stats.inc_value("crawl/skipped/fresh")
                return
        stats.inc_value(f"crawl/discovered/{via}")
        yield scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.on_error,
            meta={"article": True, "hint_published": published.isoformat() if published else None},
        )

    # -- articles ----------------------------------------------------------------------------------
    async def parse_article(self, response: Response):
        content_type = response.headers.get(b"Content-Type", b"").split(b";")[0].strip().lower()
        if content_type and content_type not in HTML_TYPES:
            self.drop("crawl", "not_html", response, f"content type {content_type.decode('latin-1')}")
            return
        if len(response.body) > self.max_page_bytes:
            self.drop("crawl", "too_large", response,
                      f"{len(response.body)} bytes > AGGREGATOR_MAX_PAGE_BYTES={self.max_page_bytes}")
            return
        if not response.body.strip():
            self.drop("extract", "empty_page", response)
            return
        headers = {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()}
        hint = response.meta.get("hint_published")
        hint_dt = datetime.fromisoformat(hint) if hint else None
        kwargs = {"source": self.source.name, "headers": headers, "hint_published": hint_dt,
                  "fetched_at": datetime.now(timezone.utc)}
        try:
            # extraction is CPU-bound (lxml, trafilatura): off the reactor thread so downloads go on
            if self._pool is not None:
                # the story embedding too when asked (AGGREGATOR_EXTRACT_EMBEDDING): ~8 ms of CPU in a worker
                embed = self.embed_in_workers is True or (self.embed_in_workers == "auto" and _languages.mixed())
                article = await self._pool.extract(response.body, response.url, embedding=embed,
                                                   dedup=self.dedup_in_workers,
                                                   **kwargs)
            else:
                article = await asyncio.to_thread(extract_article, response.body, response.url, **kwargs)
        except ExtractionError as exc:
            self.drop("extract", exc.reason, response, str(exc))
            return
        except extract_pool.WorkerCrashed as exc:
            self.drop("extract", "worker_crashed", response, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - one hostile page must not stop the crawl
            logger.exception("extractor crashed on %s", response.url)
            self.drop("extract", "extractor_error", response, repr(exc))
            return
        stats = self.crawler.stats
        stats.inc_value("extract/articles")
        stats.inc_value(f"extract/articles/{self.source.name}")
        for field, extractor in (article.get("extracted_by") or {}).items():
            stats.inc_value(f"extract/fields/{self.source.name}/{field}/{extractor}")
        flags = article.get("flags") or ()
        for flag, key in (("date_unreadable", "unreadable"), ("date_unknown_zone", "unknown_zone")):
            if flag in flags:  # a stated date we could not read, or a zone name nobody knows
                stats.inc_value(f"extract/dates/{key}")
                stats.inc_value(f"extract/dates/{key}/{self.source.name}")
        if self.embed_in_workers == "auto":
            _languages.observe(str(article.get("language") or ""))
        item = {k: article.get(k) for k in FIELD_NAMES if k in article}
        item["source"] = self.source.name
        for carried in (CARRIED_FIELD, DEDUP_FEATURES):  # computed by the worker for the dedup step
            if carried in article:
                item[carried] = article[carried]
        item["_fetch"] = response.meta.get("validators")
        yield item

    def on_error(self, failure: Failure) -> None:
        from scrapy.exceptions import IgnoreRequest
        from scrapy.spidermiddlewares.httperror import HttpError

        request = failure.request
        if failure.check(HttpError):
            self.drop("crawl", f"http_{failure.value.response.status}", request.url)
        elif failure.check(IgnoreRequest):
            return  # counted where it was raised (not modified, robots.txt, offsite)
        else:
            self.drop("crawl", "download_error", request.url, failure.getErrorMessage())
