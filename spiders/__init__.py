"""Scrapy spiders: one per outlet in ``aggregator/sources.toml``, all built from :class:`NewsSpider`."""
