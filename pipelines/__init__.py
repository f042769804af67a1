"""Scrapy item pipelines: thin adapters over ``aggregator`` (normalize -> dedup -> index)."""
