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


def test_feed_and_sitemap_times_without_an_offset_are_read_in_the_outlets_zone():
    # CnEVPost's WordPress feed prints Beijing time as "CST"; its news sitemap prints zone-less times
    zone = get_source("cnevpost").timezone
    assert zone == "Asia/Shanghai"
    feed = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>CnEVPost</title>
      <item><title>NIO deliveries</title><link>https://cnevpost.com/2026/12/01/nio-nov-deliveries/</link>
      <pubDate>Tue, 01 Dec 2026 16:05:00 CST</pubDate></item>
      <item><title>BYD sales</title><link>https://cnevpost.com/2026/12/01/byd-nov-sales/</link>
      <pubDate>Tue, 01 Dec 2026 16:05:00 +0000</pubDate></item></channel></rss>"""
    beijing, stated = parse_feed(feed, "https://cnevpost.com/feed/", zone)
    assert beijing.published_at == datetime(2026, 12, 1, 8, 5, tzinfo=timezone.utc)  # 16:05 Beijing
    assert stated.published_at == datetime(2026, 12, 1, 16, 5, tzinfo=timezone.utc)  # a stated offset wins
    assert parse_feed(feed, "https://cnevpost.com/feed/")[0].published_at.utcoffset().total_seconds() == -6 * 3600

    sitemap = b"""<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
      xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
      <url><loc>https://cnevpost.com/2026/12/01/xpeng/</loc><lastmod>2026-12-01</lastmod>
      <news:news><news:publication_date>2026-12-01 09:30:00</news:publication_date>
      <news:title>XPeng</news:title></news:news></url></urlset>"""
    (entry,) = parse_sitemap(sitemap, "https://cnevpost.com/sitemap.xml", zone).entries
    assert entry.published_at == datetime(2026, 12, 1, 1, 30, tzinfo=timezone.utc)
    assert entry.lastmod == datetime(2026, 12, 1, tzinfo=timezone.utc)  # a day alone keeps its day
