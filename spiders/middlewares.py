"""Downloader middlewares: conditional re-fetching, the raw page archive, retries with backoff."""

from __future__ import annotations

import asyncio
import logging
import random
from datetime import datetime, timezone
from pathlib import Path

from scrapy import Request, signals
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.http import Response
from scrapy.utils.response import response_status_message

from aggregator.crawlstate import CrawlState
from pipelines.signals import articles_checkpointed

logger = logging.getLogger(__name__)


def _header(response: Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None


class ConditionalRequestMiddleware:
    """Send ``If-None-Match`` / ``If-Modified-Since`` for article pages fetched by earlier runs.

    Only requests with ``meta["article"]`` take part: feeds and sitemaps must always be read fresh.
    A ``304`` ends the request here (``crawl/not_modified``): no body, no extraction, no re-index.
    The validators of a ``200`` go into ``meta["validators"]``; the crawl stores them only when the
    article's outcome is durable (see :mod:`pipelines.signals`).
    """

    def __init__(self, state: CrawlState, stats) -> None:
        self.state = state
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        path = Path(crawler.settings.get("AGGREGATOR_VAR")) / "crawl" / "state.sqlite"
        mw = cls(CrawlState(path), crawler.stats)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def spider_closed(self) -> None:
        self.state.close()

    def process_request(self, request: Request) -> None:
        if not request.meta.get("article"):
            return None
        page = self.state.get(request.url)
        if page is None:
            return None
        if page.etag:
            request.headers.setdefault("If-None-Match", page.etag)
        if page.last_modified:
            request.headers.setdefault("If-Modified-Since", page.last_modified)
        return None

    def process_response(self, request: Request, response: Response) -> Response:
        if not request.meta.get("article"):
            return response
        if response.status == 304:
            self.state.touch(request.url)
            self.stats.inc_value("crawl/not_modified")
            raise IgnoreRequest(f"not modified since the last crawl: {request.url}")
        if response.status == 200:
            request.meta["validators"] = {
                "url": request.url,
                "etag": _header(response, "ETag"),
                "last_modified": _header(response, "Last-Modified"),
            }
        return response


class PageArchiveMiddleware:
    """Keep every fetched article page, compressed, with its headers (WARC under ``var/archive``).

    Lets articles be re-extracted after the extractor improves (``aggregator extract --from-archive``)
    and turns real pages into regression fixtures. Pages are written by a thread of their own
    (:class:`~aggregator.archive.BackgroundArchive`); on ``articles_checkpointed`` the archive is
    drained before the crawl state records the articles (this middleware is built, and so connected,
    before the item pipelines), so no article is marked done whose page is not archived. Stats:
    ``archive/pages``, ``archive/failed``.
    """

    def __init__(self, directory: Path, stats) -> None:
        from aggregator.archive import BackgroundArchive, PageArchive

        self.archive = BackgroundArchive(PageArchive(directory))
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler):
        if not crawler.settings.getbool("AGGREGATOR_ARCHIVE_ENABLED", True):
            raise NotConfigured
        mw = cls(Path(crawler.settings.get("AGGREGATOR_VAR")) / "archive", crawler.stats)
        crawler.signals.connect(mw.checkpointed, signal=articles_checkpointed)
        crawler.signals.connect(mw.spider_closed, signal=signals.spider_closed)
        return mw

    def checkpointed(self, items: list) -> None:
        self.archive.drain()
        self._publish()

    def spider_closed(self) -> None:
        self.archive.close()
        self._publish()

    def _publish(self) -> None:
        if self.archive.written:
            self.stats.set_value("archive/pages", self.archive.written)
        if self.archive.failed:
            self.stats.set_value("archive/failed", self.archive.failed)

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get("article") and response.status == 200:
            headers = {k.decode("latin-1"): b", ".join(v).decode("latin-1") for k, v in response.headers.items()}
            self.archive.submit(response.url, response.status, headers, response.body, datetime.now(timezone.utc))
        return response


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retries, but each one waits: ``Retry-After`` when the server sends it, else exponential.

    The wait is ``min(AGGREGATOR_RETRY_MAX_DELAY, AGGREGATOR_RETRY_BASE_DELAY * 2**n)`` with +-25% jitter
    for the n-th retry, so a struggling outlet is not hit again at once. The wait delays that request
    only; other downloads go on.
    """

    def __init__(self, settings) -> None:
        super().__init__(settings)
        self.base_delay = settings.getfloat("AGGREGATOR_RETRY_BASE_DELAY", 2.0)
        self.max_delay = settings.getfloat("AGGREGATOR_RETRY_MAX_DELAY", 60.0)

    def delay_for(self, request: Request, response: Response | None = None) -> float:
        if response is not None:
            retry_after = _header(response, "Retry-After")
            if retry_after and retry_after.strip().isdigit():
                return min(float(retry_after), self.max_delay)
        attempt = int(request.meta.get("retry_times", 0))
        return min(self.max_delay, self.base_delay * (2**attempt)) * random.uniform(0.75, 1.25)

    async def process_response(self, request: Request, response: Response) -> Request | Response:
        if request.meta.get("dont_retry", False) or response.status not in self.retry_http_codes:
            return response
        retry = self._retry(request, response_status_message(response.status))
        if retry is None:
            return response
        await asyncio.sleep(self.delay_for(request, response))
        return retry

    async def process_exception(self, request: Request, exception: Exception) -> Request | Response | None:
        if not isinstance(exception, self.exceptions_to_retry) or request.meta.get("dont_retry", False):
            return None
        retry = self._retry(request, exception)
        if retry is not None:
            await asyncio.sleep(self.delay_for(request))
        return retry
