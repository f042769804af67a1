"""Feed and sitemap parsing, lxml-only (no Scrapy), so tools and tests can use it directly.

Scrapy's sitemap helper drops ``news:`` elements, yet ``news:publication_date`` is the most
precise date a crawler gets before fetching a page (and the extractor's prior), so we parse
sitemaps ourselves. Feeds are parsed with lxml's recover mode because real feeds are often
slightly broken (stray ampersands, bad entities) and still perfectly usable.
"""

from __future__ import annotations

import gzip
import re
import zlib
from dataclasses import dataclass, field
from datetime import datetime, timezone
from urllib.parse import urljoin

from lxml import etree

from aggregator.extract import dates

MAX_SITEMAP_BYTES = 50 * 1024 * 1024  # the sitemaps.org limit for an uncompressed file


class DiscoveryError(Exception):
    """A feed or sitemap yielded nothing usable; ``reason`` is a snake_case stats key."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        self.reason = reason
        super().__init__(message or reason.replace("_", " "))


@dataclass(frozen=True)
class Entry:
    url: str
    published_at: datetime | None = None
    title: str | None = None
    lastmod: datetime | None = None


@dataclass
class Sitemap:
    entries: list[Entry] = field(default_factory=list)
    sitemaps: list[str] = field(default_factory=list)  # child sitemaps of a sitemap index


def parse_datetime(text: str | None, zone: str | None = None) -> datetime | None:
    """RFC 822 (RSS) or ISO 8601 (Atom, sitemaps), aware; a time without an offset is read in ``zone``.

    ``zone`` is the outlet's IANA zone (``timezone`` in sources.toml): CnEVPost's feed prints Beijing
    times, with no offset or as ``CST``, and reading those as UTC (or US Central) moves its reports by
    8-14 hours in the "who published first" order. A stated offset always wins; without ``zone`` a
    zone-less time is UTC, as before. A date without a time keeps its day (midnight UTC).
    """
    if not text or not text.strip():
        return None
    text = text.strip()
    try:
        # sitemaps and Atom use ISO 8601, which the standard parser reads ~50x faster than dateutil
        dt = datetime.fromisoformat(text)
    except ValueError:
        # RFC 822 and the rest: the extractor's reader, which knows each outlet's abbreviations
        parsed = dates.parse_date(text, zone)
        return parsed.value if parsed is not None else None
    if dt.tzinfo is not None:
        return dt
    outlet = dates.zone_info(zone) if "T" in text or " " in text else None  # a date alone keeps its day
    return dt.replace(tzinfo=outlet or timezone.utc)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _child_text(el: etree._Element, *names: str) -> str | None:
    for child in el:
        if _local(child.tag) in names:
            text = "".join(child.itertext()).strip()
            if text:
                return text
    return None


def _parse_xml(body: bytes) -> etree._Element | None:
    body = body.lstrip(b"\xef\xbb\xbf\r\n\t ")
    parser = etree.XMLParser(recover=True, resolve_entities=False, no_network=True, huge_tree=False)
    try:
        return etree.fromstring(body, parser=parser)
    except etree.XMLSyntaxError:
        return None


def _clean_url(raw: str | None, base_url: str) -> str | None:
    if not raw:
        return None
    raw = raw.strip()
    if raw.startswith("//"):
        raw = base_url.split(":", 1)[0] + ":" + raw
    url = urljoin(base_url, raw)
    return url if re.match(r"^https?://", url) else None


def _atom_link(entry: etree._Element) -> str | None:
    fallback = None
    for child in entry:
        if _local(child.tag) != "link":
            continue
        rel = child.get("rel", "alternate")
        href = child.get("href")
        kind = child.get("type", "text/html")
        if rel == "alternate" and href and kind.startswith(("text/html", "application/xhtml")):
            return href
        fallback = fallback or href
    return fallback


def parse_feed(body: bytes, base_url: str, zone: str | None = None) -> list[Entry]:
    """Entries of an RSS 2.0, RSS 1.0 (RDF) or Atom feed, links resolved against ``base_url``.

    ``zone``: the outlet's IANA zone, for times printed without an offset (see :func:`parse_datetime`).
    """
    root = _parse_xml(body)
    if root is None:
        raise DiscoveryError("malformed_feed", "the feed is not parseable XML")
    kind = _local(root.tag)
    items = [el for el in root.iter() if _local(el.tag) in ("item", "entry")]
    entries: list[Entry] = []
    seen: set[str] = set()
    for item in items:
        if kind == "feed" or _local(item.tag) == "entry":
            link = _atom_link(item) or _child_text(item, "id")
            published = _child_text(item, "published", "issued", "created")
            updated = _child_text(item, "updated", "modified")
        else:
            link = _child_text(item, "link") or item.get("{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about")
            guid = next((c for c in item if _local(c.tag) == "guid"), None)
            if not link and guid is not None and guid.get("isPermaLink", "true") != "false":
                link = (guid.text or "").strip()
            published = _child_text(item, "pubdate", "date", "published")
            updated = _child_text(item, "updated", "modified")
        url = _clean_url(link, base_url)
        if not url or url in seen:
            continue
        seen.add(url)
        title = _child_text(item, "title")
        entries.append(Entry(url, parse_datetime(published, zone), re.sub(r"\s+", " ", title) if title else None,
                             parse_datetime(updated, zone)))
    if not entries and kind not in ("rss", "feed", "rdf", "channel"):
        raise DiscoveryError("malformed_feed", f"no feed entries and unexpected root element <{kind}>")
    if not entries and not items and not any(_local(el.tag) == "channel" for el in root.iter()):
        raise DiscoveryError("malformed_feed", "no entries found")
    return entries


def _maybe_gunzip(body: bytes) -> bytes:
    if body[:2] != b"\x1f\x8b":
        return body
    try:
        decompressor = zlib.decompressobj(16 + zlib.MAX_WBITS)
        out = decompressor.decompress(body, MAX_SITEMAP_BYTES)
        if decompressor.unconsumed_tail:
            raise DiscoveryError("sitemap_too_large", "sitemap exceeds 50 MB uncompressed")
        return out
    except (zlib.error, gzip.BadGzipFile) as exc:
        raise DiscoveryError("malformed_sitemap", f"bad gzip data: {exc}") from exc


def parse_sitemap(body: bytes, base_url: str, zone: str | None = None) -> Sitemap:
    """A sitemap index (child sitemaps) or urlset (entries with news:/lastmod dates); gzip accepted.

    ``zone``: the outlet's IANA zone, for times printed without an offset (see :func:`parse_datetime`).
    """
    root = _parse_xml(_maybe_gunzip(body))
    if root is None:
        raise DiscoveryError("malformed_sitemap", "the sitemap is not parseable XML")
    kind = _local(root.tag)
    result = Sitemap()
    if kind == "sitemapindex":
        for sm in root:
            if _local(sm.tag) == "sitemap":
                url = _clean_url(_child_text(sm, "loc"), base_url)
                if url:
                    result.sitemaps.append(url)
        return result
    if kind != "urlset":
        raise DiscoveryError("malformed_sitemap", f"unexpected root element <{kind}>")
    for node in root:
        if _local(node.tag) != "url":
            continue
        url = _clean_url(_child_text(node, "loc"), base_url)
        if not url:
            continue
        published = title = None
        for child in node:
            if _local(child.tag) == "news":
                published = parse_datetime(_child_text(child, "publication_date"), zone)
                title = _child_text(child, "title")
        result.entries.append(Entry(url, published, title, parse_datetime(_child_text(node, "lastmod"), zone)))
    return result
