"""Run one or many spiders in one process with a live progress display and a summary table.

``aggregator crawl --all`` and ``make demo`` use this; ``scrapy crawl <source>`` remains the plain way
(cron, scrapyd) and runs exactly the same spiders, pipelines and settings.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table


@dataclass
class CrawlSummary:
    spider: str
    stats: dict[str, Any] = field(default_factory=dict)

    def value(self, key: str) -> int:
        return int(self.stats.get(key, 0) or 0)

    @property
    def dropped(self) -> dict[str, int]:
        """``{stage/reason: count}`` over every ``<stage>/dropped/<reason>`` stats key."""
        out: dict[str, int] = {}
        for key, value in self.stats.items():
            parts = key.split("/")
            if len(parts) == 3 and parts[1] == "dropped":
                out[f"{parts[0]}/{parts[2]}"] = int(value)
        return out

    @property
    def not_kept(self) -> dict[str, int]:
        """Everything fetched or discovered that did not become a new or updated article, by reason."""
        out = self.dropped
        for key in ("offsite/filtered", "robotstxt/forbidden", "crawl/not_modified", "crawl/skipped/fresh",
                    "crawl/skipped/not_article_url", "normalize/unchanged"):
            if self.stats.get(key):
                out[key] = int(self.stats[key])
        return out


def project_settings(overrides: dict[str, Any] | None = None):
    """Scrapy settings of this project (``aggregator.settings``) with ``overrides`` on top."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "aggregator.settings")
    from scrapy.utils.project import get_project_settings

    settings = get_project_settings()
    for key, value in (overrides or {}).items():
        settings.set(key, value, priority="cmdline")
    return settings


class _ProgressHooks:
    """Signal handlers that move one progress bar per spider (pages fetched, articles kept)."""

    def __init__(self, progress: Progress, crawler, task) -> None:
        self.progress = progress
        self.task = task
        self.name = crawler.spidercls.name
        self.pages = 0
        self.articles = 0
        from scrapy import signals

        crawler.signals.connect(self.response_received, signal=signals.response_received)
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)

    def _update(self, **kw: Any) -> None:
        description = f"{self.name:<14} {self.pages:>5} pages {self.articles:>5} articles"
        self.progress.update(self.task, description=description, **kw)

    def response_received(self, *args: Any, **kwargs: Any) -> None:
        self.pages += 1
        self.progress.update(self.task, total=max(self.pages + 1, 1))
        self._update(completed=self.pages)

    def item_scraped(self, *args: Any, **kwargs: Any) -> None:
        self.articles += 1
        self._update()

    def spider_closed(self, *args: Any, **kwargs: Any) -> None:
        self.progress.update(self.task, total=self.pages, completed=self.pages)
        self._update()


def run_crawl(
    spiders: Iterable[str],
    overrides: dict[str, Any] | None = None,
    console: Console | None = None,
    show_progress: bool = True,
) -> list[CrawlSummary]:
    """Crawl ``spiders`` in this process (one Twisted reactor, so call once per process)."""
    from scrapy.crawler import CrawlerProcess

    console = console or Console(stderr=True)
    settings = project_settings(overrides)
    if show_progress:
        settings.set("LOG_LEVEL", settings.get("AGGREGATOR_CRAWL_LOG_LEVEL", "WARNING"), priority="cmdline")
    process = CrawlerProcess(settings)
    crawlers = []
    progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                        console=console, disable=not show_progress, transient=False)
    hooks = []
    jobdir = settings.get("JOBDIR")
    for name in spiders:
        # every spider needs its own JOBDIR: one request queue shared by several crawlers gets corrupted
        crawler = process.create_crawler(name)
        if jobdir:
            # above "cmdline": process.crawl() merges the process settings into the crawler's again
            crawler.settings.set("JOBDIR", os.path.join(jobdir, name), priority=50)
        task = progress.add_task(name, total=None)
        hooks.append(_ProgressHooks(progress, crawler, task))
        crawlers.append(crawler)
        process.crawl(crawler)
    with progress:
        process.start()
    return [CrawlSummary(c.spidercls.name, dict(c.stats.get_stats())) for c in crawlers]


def summary_tables(summaries: list[CrawlSummary]) -> list[Table]:
    """The crawl summary (per spider) and the dropped-by-reason table."""
    table = Table(title="Crawl summary", caption="new/upd: new and updated articles; stories: new stories; "
                  "spool: waiting for the engine")
    for col in ("spider", "pages", "articles", "new", "upd", "dropped", "stories", "indexed", "spool"):
        table.add_column(col, justify="left" if col == "spider" else "right", no_wrap=True)
    totals = [0] * 8
    for s in summaries:
        row = [
            s.value("downloader/response_count"), s.value("item_scraped_count"), s.value("normalize/new"),
            s.value("normalize/updated"), sum(s.dropped.values()), s.value("dedup/new_story"),
            s.value("index/indexed") + s.value("index/updated"), s.value("index/spooled"),
        ]
        totals = [a + b for a, b in zip(totals, row, strict=True)]
        table.add_row(s.spider, *map(str, row))
    if len(summaries) > 1:
        table.add_row("[bold]total[/bold]", *[f"[bold]{v}[/bold]" for v in totals])
    reasons = Table(title="Not kept, by reason")
    reasons.add_column("reason")
    reasons.add_column("pages", justify="right")
    merged: dict[str, int] = {}
    for s in summaries:
        for k, v in s.not_kept.items():
            merged[k] = merged.get(k, 0) + v
    for k in sorted(merged):
        reasons.add_row(k, str(merged[k]))
    return [table, reasons] if merged else [table]
