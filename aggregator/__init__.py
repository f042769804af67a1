"""EV news aggregator: crawl EV outlets, cluster duplicate coverage with MinHash, search it."""

__version__ = "0.1.0"
