"""Where things live and which engine to talk to: one place, read from the environment.

Every command and every Scrapy setting falls back to these, so ``AGGREGATOR_SEARCH_URL`` or
``AGGREGATOR_VAR`` set once in a crontab line reach the crawl, the index and the review app alike.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_PORT = 9200


def var_dir() -> Path:
    """The data folder: engine data and logs, dedup state, spool, page archive, crawl state."""
    return Path(os.environ.get("AGGREGATOR_VAR", "var")).resolve()


def engine_port() -> int:
    return int(os.environ.get("AGGREGATOR_ENGINE_PORT", DEFAULT_PORT))


def search_url() -> str:
    """The engine's URL: the local node by default, any Elasticsearch 8/9 or OpenSearch 2/3 otherwise."""
    return os.environ.get("AGGREGATOR_SEARCH_URL", f"http://127.0.0.1:{engine_port()}")


def index_prefix() -> str:
    """Prefix of every index and alias name, so several deployments (or test runs) share one cluster."""
    return os.environ.get("AGGREGATOR_INDEX_PREFIX", "")
