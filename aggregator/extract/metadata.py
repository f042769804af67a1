"""Structured metadata of a page: schema.org (JSON-LD, microdata), OpenGraph and plain <meta>.

Publishers put their most deliberate statements here (headline, dates with offsets, authors), so
the chain trusts it before any text heuristic. Everything is normalised into plain dicts shaped
like JSON-LD so the picking logic in :mod:`.article` does not care where a value came from.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from lxml import html as lxml_html

log = logging.getLogger(__name__)

ARTICLE_TYPES = {
    "article", "newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "backgroundnewsarticle", "reviewnewsarticle", "askpublicnewsarticle", "blogposting",
    "liveblogposting", "techarticle", "report", "satiricalarticle", "advertisercontentarticle",
    "socialmediaposting", "discussionforumposting",
}
NEWS_TYPES = {t for t in ARTICLE_TYPES if "news" in t}
#: The declarations that alone make a page a non-article: lists of other pages and pages about the site.
#: A product, recipe, event or FAQ page has a main text of its own (the real-page set labels them
#: articles): for those the text's shape decides, as for a page that declares nothing.
LISTING_TYPES = {
    "collectionpage", "itemlist", "searchresultspage", "profilepage", "podcastseries", "videogallery",
    "imagegallery", "aboutpage", "contactpage", "jobposting", "realestatelisting",
}


def type_names(node: dict) -> set[str]:
    """Lower-cased bare schema.org type names of a node (handles lists, prefixes and full IRIs)."""
    raw = node.get("@type") or node.get("type") or []
    if isinstance(raw, str):
        raw = [raw]
    names = set()
    for t in raw:
        if isinstance(t, str) and t:
            names.add(re.split(r"[/:#]", t)[-1].lower())
    return names


@dataclass
class PageMeta:
    """Everything the picking logic needs, gathered in one pass over the tree."""

    ld_nodes: list[dict] = field(default_factory=list)  # all JSON-LD nodes, @graph flattened
    ld_ids: dict[str, dict] = field(default_factory=dict)  # @id -> node, to resolve references
    micro_nodes: list[dict] = field(default_factory=list)
    meta: dict[str, list[str]] = field(default_factory=dict)  # lower-cased name/property -> values
    links: dict[str, list[str]] = field(default_factory=dict)  # rel -> hrefs
    html_lang: str | None = None
    is_amp: bool = False
    title_tag: str | None = None
    h1s: list[str] = field(default_factory=list)
    times: list[str] = field(default_factory=list)  # <time datetime> in reading order, article first

    def first_meta(self, *names: str) -> str | None:
        for name in names:
            for value in self.meta.get(name.lower(), []):
                if value and value.strip():
                    return value.strip()
        return None

    def article_node(self) -> tuple[dict | None, str]:
        """The best schema.org article node and where it came from (jsonld / microdata)."""
        best: tuple[int, dict | None, str] = (-1, None, "")
        for nodes, how in ((self.ld_nodes, "jsonld"), (self.micro_nodes, "microdata")):
            for node in nodes:
                types = type_names(node)
                if not types & ARTICLE_TYPES:
                    continue
                score = 2 * bool(types & NEWS_TYPES) + 3 * bool(node.get("articleBody"))
                score += 2 * bool(node.get("headline")) + 2 * bool(node.get("datePublished"))
                score += how == "jsonld"
                if score > best[0]:
                    best = (score, node, how)
        return best[1], best[2]

    def page_node(self) -> dict | None:
        """A WebPage-like JSON-LD node (Yoast puts dates there), used as a weaker fallback."""
        for node in self.ld_nodes:
            if type_names(node) & {"webpage", "itempage"}:
                return node
        return None

    def declared_types(self) -> set[str]:
        types: set[str] = set()
        for node in self.ld_nodes + self.micro_nodes:
            types |= type_names(node)
        return types

    def resolve(self, value: Any) -> Any:
        """Follow a JSON-LD ``{"@id": ...}`` reference to the node it names (one level)."""
        if isinstance(value, dict) and set(value) <= {"@id", "@type"} and value.get("@id") in self.ld_ids:
            return self.ld_ids[value["@id"]]
        return value


def _flatten(data: Any, out: list[dict]) -> None:
    if isinstance(data, list):
        for item in data:
            _flatten(item, out)
    elif isinstance(data, dict):
        if "@graph" in data:
            _flatten(data["@graph"], out)
        if any(k != "@graph" and k != "@context" for k in data):
            out.append(data)
        for key in ("mainEntity", "hasPart", "itemListElement"):
            child = data.get(key)
            if isinstance(child, (dict, list)):
                _flatten(child, out)


def _jsonld(tree: lxml_html.HtmlElement) -> list[Any]:
    scripts = tree.xpath('//script[contains(translate(@type,"JSONLD","jsonld"),"ld+json")]')
    if not scripts:
        return []
    try:
        from extruct.jsonld import JsonLdExtractor

        return JsonLdExtractor().extract_items(tree)
    except Exception:  # noqa: BLE001 - one broken script must not hide the others
        log.debug("extruct JSON-LD failed, falling back to per-script parsing", exc_info=True)
    items = []
    for script in scripts:
        text = (script.text or "").strip().strip(";")
        text = re.sub(r"^\s*<!--|-->\s*$", "", text)
        try:
            items.append(json.loads(text, strict=False))
        except ValueError:
            continue
    return items


def _micro_to_ld(item: Any) -> Any:
    """extruct microdata item -> JSON-LD-shaped dict."""
    if isinstance(item, list):
        return [_micro_to_ld(i) for i in item]
    if not isinstance(item, dict) or "properties" not in item:
        return item
    node: dict[str, Any] = {"@type": item.get("type")}
    for key, value in item["properties"].items():
        node[key] = _micro_to_ld(value)
    return node


def _microdata(tree: lxml_html.HtmlElement, url: str) -> list[dict]:
    if not tree.xpath("//*[@itemscope][1]"):
        return []
    try:
        from extruct.w3cmicrodata import MicrodataExtractor

        items = MicrodataExtractor().extract_items(tree, url)
    except Exception:  # noqa: BLE001
        log.debug("microdata extraction failed", exc_info=True)
        return []
    out: list[dict] = []
    for item in items:
        node = _micro_to_ld(item)
        if isinstance(node, dict):
            out.append(node)
    return out


def _text(el: Any) -> str:
    return re.sub(r"\s+", " ", el.text_content()).strip()


def collect(tree: lxml_html.HtmlElement, url: str) -> PageMeta:
    """Gather all metadata of ``tree`` (not mutated)."""
    pm = PageMeta()
    nodes: list[dict] = []
    _flatten(_jsonld(tree), nodes)
    pm.ld_nodes = nodes
    for node in nodes:
        if isinstance(node.get("@id"), str):
            pm.ld_ids.setdefault(node["@id"], node)
    pm.micro_nodes = _microdata(tree, url)

    for el in tree.iter("meta"):
        key = el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv")
        content = el.get("content")
        if key and content is not None:
            pm.meta.setdefault(key.strip().lower(), []).append(content.strip())
    for el in tree.iter("link"):
        href = el.get("href")
        for rel in (el.get("rel") or "").lower().split():
            if href:
                pm.links.setdefault(rel, []).append(href.strip())

    root = tree.getroottree().getroot()
    pm.html_lang = root.get("lang") or root.get("xml:lang") or root.get("{http://www.w3.org/XML/1998/namespace}lang")
    pm.is_amp = "amp" in root.attrib or "⚡" in root.attrib
    titles = tree.xpath("//head/title|//title")
    if titles:
        pm.title_tag = _text(titles[0]) or None
    pm.h1s = [t for t in (_text(h) for h in tree.iter("h1")) if t]
    # <time datetime>: the first few in reading order, explicit "published" markers first. A bounded
    # scan because comment threads can hold thousands of them.
    marked, plain = [], []
    for el in tree.iter("time"):
        value = el.get("datetime")
        if not value:
            continue
        hint = " ".join((el.get("class") or "", el.get("itemprop") or "", "pubdate" if "pubdate" in el.attrib else ""))
        (marked if re.search(r"publish|pubdate|datePublished|entry-date", hint, re.I) else plain).append(value)
        if len(marked) + len(plain) >= 20:
            break
    pm.times = marked + plain
    return pm
