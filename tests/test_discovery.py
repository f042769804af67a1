"""Feeds and news sitemaps, parsed from the fixture web and from hand-made edge cases."""

from __future__ import annotations

import gzip
from datetime import datetime, timezone
from pathlib import Path

import pytest

from aggregator.discovery import DiscoveryError, parse_feed, parse_sitemap
from aggregator.sources import get_source

WEB = Path(__file__).parent / "fixtures" / "web"


def test_rss_feed_entries_with_dates_and_a_non_article_link():
    entries = parse_feed((WEB / "electrek/feed/index.xml").read_bytes(), "https://electrek.co/feed/")
    assert len(entries) == 4
    first = entries[0]
    assert first.url == "https://electrek.co/2026/11/20/catl-sodium-ion-battery-200-wh-kg-2027/"
    assert first.published_at == datetime(2026, 11, 20, 15, 45, tzinfo=timezone.utc)
    assert first.title.startswith("CATL")
    source = get_source("electrek")
    assert all(source.is_article_url(e.url) for e in entries)  # the podcast page only fails at extraction


def test_atom_feed():
    entries = parse_feed((WEB / "electrive/feed/index.xml").read_bytes(), "https://www.electrive.com/feed/")
    assert [e.url.split("/")[-2] for e in entries][0] == "ionity-opens-1000th-charging-site"
    assert entries[0].published_at == datetime(2026, 11, 18, 11, 30, tzinfo=timezone.utc)
    assert entries[0].lastmod is not None


def test_relative_links_and_rdf_feed():
    body = b"""<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#"
      xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/">
      <item rdf:about="https://x.example/a"><title>A</title><link>/2026/11/20/a/</link>
      <dc:date>2026-11-20T10:00:00+01:00</dc:date></item>
      <item><title>B &amp; C</title><link>//cdn.x.example/b</link></item></rdf:RDF>"""
    entries = parse_feed(body, "https://x.example/feed/")
    assert [e.url for e in entries] == ["https://x.example/2026/11/20/a/", "https://cdn.x.example/b"]
    assert entries[0].published_at == datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)
    assert entries[1].title == "B & C"


def test_slightly_broken_feed_is_recovered():
    body = b"<rss><channel><item><title>AT&T & co</title><link>https://x.example/a</link></item>"
    assert [e.url for e in parse_feed(body, "https://x.example/")] == ["https://x.example/a"]


def test_malformed_feed_raises():
    with pytest.raises(DiscoveryError) as info:
        parse_feed((WEB / "carnewschina/feed/index.xml").read_bytes(), "https://carnewschina.com/feed/")
    assert info.value.reason == "malformed_feed"
    with pytest.raises(DiscoveryError):
        parse_feed(b"\x00\x01garbage", "https://x.example/")


def test_news_sitemap_index_then_urlset():
    index = parse_sitemap((WEB / "reuters/arc/outboundfeeds/news-sitemap-index/index.xml").read_bytes(),
                          "https://www.reuters.com/arc/outboundfeeds/news-sitemap-index/?outputType=xml")
    assert index.entries == [] and len(index.sitemaps) == 1
    urlset = parse_sitemap((WEB / "reuters/arc/outboundfeeds/news-sitemap/index.xml").read_bytes(), index.sitemaps[0])
    assert len(urlset.entries) == 3 and urlset.sitemaps == []
    xiaomi = urlset.entries[0]
    assert xiaomi.published_at == datetime(2026, 11, 18, 7, 32, tzinfo=timezone.utc)
    assert xiaomi.title.startswith("Xiaomi plans Europe") and xiaomi.lastmod is not None


def test_gzipped_sitemap_and_chinese_titles():
    index = parse_sitemap((WEB / "d1ev/sitemap.xml").read_bytes(), "https://www.d1ev.com/sitemap.xml")
    assert index.sitemaps == ["https://www.d1ev.com/sitemap-news.xml.gz"]
    urlset = parse_sitemap((WEB / "d1ev/sitemap-news.xml.gz").read_bytes(), index.sitemaps[0])
    assert {e.url for e in urlset.entries} >= {"https://www.d1ev.com/news/qiye/215432"}
    assert any("宁德时代" in (e.title or "") for e in urlset.entries)


def test_plain_sitemap_without_news_and_bad_root():
    body = gzip.compress(b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"><url><loc>/a</loc>'
                         b"<lastmod>2026-11-01</lastmod></url></urlset>")
    entries = parse_sitemap(body, "https://x.example/sitemap.xml.gz").entries
    assert entries[0].url == "https://x.example/a" and entries[0].published_at is None
    assert entries[0].lastmod == datetime(2026, 11, 1, tzinfo=timezone.utc)
    with pytest.raises(DiscoveryError):
        parse_sitemap(b"<html><body>nope</body></html>", "https://x.example/")
