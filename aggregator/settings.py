"""Scrapy settings for the EV news crawl (``scrapy.cfg`` points here).

Polite by default: robots.txt obeyed, AutoThrottle, a per-domain concurrency of 2, retries with
backoff, a page-size limit, and a User-Agent with a contact address. Scheduled jobs expose no control
endpoints, so the telnet console and the remote-control extension are off.
Every project setting is prefixed ``AGGREGATOR_``.
"""

import os

from aggregator import config, items

BOT_NAME = "ev-news-aggregator"
SPIDER_MODULES = ["spiders"]
NEWSPIDER_MODULE = "spiders"

USER_AGENT = "ev-news-aggregator/0.1 (+https://github.com/ev-news-aggregator; contact: crawler@example.org)"
ROBOTSTXT_OBEY = True
TWISTED_REACTOR = "twisted.internet.asyncioreactor.AsyncioSelectorReactor"
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False
COOKIES_ENABLED = False  # news pages need no session; cookies only grow tracking state
FEED_EXPORT_ENCODING = "utf-8"
# `scrapy crawl X -O articles.jsonl` writes the article fields, in schema order; the pipelines' own
# `_`-prefixed keys (the story reference, the fetch validators) stay out of the file
FEED_EXPORT_FIELDS = list(items.FIELD_NAMES)
LOG_LEVEL = "INFO"

CONCURRENT_REQUESTS = 32
# Scrapy starts this many asyncio tasks for the output of every callback (default 100); an article page
# yields one item, so a lower value saves the reactor thread real time per page
CONCURRENT_ITEMS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
DOWNLOAD_DELAY = 0.5
DOWNLOAD_TIMEOUT = 30
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
RETRY_ENABLED = True
RETRY_TIMES = 3
RETRY_HTTP_CODES = [429, 500, 502, 503, 504, 522, 524, 408]
# pages above this are not articles we want (and would stall extraction); the crawl counts them
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
# HTTP caching would hide content changes from the version counter; conditional requests do it right
HTTPCACHE_ENABLED = False

DOWNLOAD_HANDLERS = {
    "http": "spiders.handlers.MappedHostsDownloadHandler",
    "https": "spiders.handlers.MappedHostsDownloadHandler",
}

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.retry.RetryMiddleware": None,
    "spiders.middlewares.BackoffRetryMiddleware": 550,
    "spiders.middlewares.ConditionalRequestMiddleware": 580,
    "spiders.middlewares.PageArchiveMiddleware": 590,
}

ITEM_PIPELINES = {
    "pipelines.normalize.NormalizePipeline": 100,
    "pipelines.dedup.DedupPipeline": 200,
    "pipelines.index.IndexPipeline": 300,
}

# --- project settings ---------------------------------------------------------------------------
# {host: base URL} to serve a host from the offline fixture web instead of the internet (tests, demo)
AGGREGATOR_HOST_MAP: dict[str, str] = {}
AGGREGATOR_VAR = str(config.var_dir())
AGGREGATOR_SEARCH_URL = config.search_url()
AGGREGATOR_INDEX_ENABLED = True
AGGREGATOR_INDEX_BATCH = 200
# default file:<AGGREGATOR_VAR>/dedup; redis://host:port/db?prefix=NAME when several processes share clusters
AGGREGATOR_DEDUP_STORE = os.environ.get("AGGREGATOR_DEDUP_STORE", "")
# articles published longer ago stop matching new ones (their fingerprints are dropped, their clusters kept)
# when a crawl opens, at most once a day; 0 = keep every fingerprint (the state then grows without bound)
AGGREGATOR_DEDUP_RETENTION_DAYS = 180
# weight of the multilingual sentence-embedding evidence in the story tier (aggregator/dedup/embed.py);
# 0 turns it off: ~8 ms less CPU per article, weaker cross-language story links
AGGREGATOR_DEDUP_STORY_EMBEDDING_WEIGHT = 8.0
# cluster in a dedup process of its own (pipelines/dedup.py, aggregator/dedup/worker.py): the crawl's reactor
# thread no longer spends the GIL on Deduplicator.add; the environment variable of the same name overrides it
AGGREGATOR_DEDUP_PROCESS = os.environ.get("AGGREGATOR_DEDUP_PROCESS", "0").lower() not in ("0", "false", "no", "")
AGGREGATOR_ARCHIVE_ENABLED = True
# skip an article URL fetched less than this many seconds ago unless the feed says it changed
AGGREGATOR_RECRAWL_AFTER = 6 * 3600
# articles older than this (by the feed/sitemap date) are not followed; 0 = no limit
AGGREGATOR_MAX_AGE_DAYS = 0
# article pages above this are dropped as `crawl/dropped/too_large` (DOWNLOAD_MAXSIZE is the hard cap)
AGGREGATOR_MAX_PAGE_BYTES = 3 * 1024 * 1024
# extraction runs in this many worker processes (0 = a thread of the crawl process); None = CPU count
AGGREGATOR_EXTRACT_WORKERS = None
# the workers also compute the story embedding: "auto" (once the crawl's articles mix languages), True, False;
# otherwise the dedup step encodes an article only when a pair in two languages first needs its vector
AGGREGATOR_EXTRACT_EMBEDDING = "auto"
AGGREGATOR_RETRY_BASE_DELAY = 2.0
AGGREGATOR_RETRY_MAX_DELAY = 60.0
