"""Run a real Scrapy crawl (the production spiders, pipelines and settings) in a child process.

Twisted's reactor cannot be restarted inside one process, so every crawl of the suite gets a fresh
interpreter; the child returns each spider's stats to the test.
"""

from __future__ import annotations

import multiprocessing
import os
from typing import Any


def _child(queue, spiders, overrides, env) -> None:
    os.environ.update(env)
    try:
        from aggregator.crawl import run_crawl

        summaries = run_crawl(spiders, overrides, show_progress=False)
        queue.put(("ok", {s.spider: s.stats for s in summaries}))
    except BaseException as exc:  # noqa: BLE001 - report anything to the parent test
        import traceback

        queue.put(("error", "".join(traceback.format_exception(exc))))


def crawl(spiders: list[str], overrides: dict[str, Any], env: dict[str, str], timeout: float = 240) -> dict:
    """Crawl ``spiders`` with settings ``overrides`` and environment ``env``; returns stats per spider."""
    ctx = multiprocessing.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(queue, spiders, overrides, env))
    proc.start()
    try:
        status, payload = queue.get(timeout=timeout)
    finally:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.kill()
    if status != "ok":
        raise AssertionError(f"crawl failed:\n{payload}")
    return payload
