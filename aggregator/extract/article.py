"""The extraction chain: decode -> parse -> metadata -> body -> field choice -> Article dict.

Each field records which extractor supplied it (``extracted_by``) so quality problems can be
traced to a layer, and so the dedup stage can trust e.g. a JSON-LD date more than a URL date.
"""

from __future__ import annotations

import hashlib
import re
import string
import threading
import unicodedata
import warnings
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

from dateutil.parser import UnknownTimezoneWarning
from lxml import etree
from lxml import html as lxml_html

from aggregator.items import FIELD_NAMES, article_id

from . import dates
from .body import _norm as _norm_text  # words, lower-cased, one space apart (the body cleaner's comparisons)
from .body import (
    covers_page,
    extract_body,
    html_to_text,
    menu_like,
    paywall_markup,
    postclean,
    prose_words,
    shown_intro,
    whole_page_text,
)
from .decode import decode_html
from .errors import ExtractionError
from .language import detect_language, detect_script, normalize_lang
from .metadata import ARTICLE_TYPES, LISTING_TYPES, PageMeta, collect
from .urls import choose_canonical, normalize_url

MIN_WORDS = 20  # below this a page is a stub, not something worth indexing
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_WORDS = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*", re.UNICODE)
#: Non-word characters seen at the edges of words in running text; stripping them cannot change a count.
_EDGE_PUNCT = string.punctuation + "‘’“”«»„‚‹›—–…·•"
_AUTHOR_SPLIT = re.compile(r"\s*(?:,|;|&|\band\b|\bund\b|\bet\b|\by\b|\|)\s*", re.I)
_AUTHOR_PREFIX = re.compile(r"^(?:by|von|par|por|di|written by|words by|reporting by)[:\s]+", re.I)
_TITLE_SEP = re.compile(r"\s+[|\-–—:·»]\s+")
_OUTPUT_FIELDS = tuple(f for f in FIELD_NAMES if f not in ("dup_id", "story_id", "version"))


def count_words(text: str) -> int:
    """Words for alphabetic scripts plus one per CJK character (which has no spaces).

    A word is a match of ``_WORDS``: letters and digits, joined inside by ``'’.-`` ("U.S.", "don't",
    "e-mail" are one word each).
    """
    if not text:
        return 0
    if max(text) >= "\u3040":
        cjk = len(_CJK.findall(text))
        return cjk + len(_WORDS.findall(_CJK.sub(" ", text)))
    # The same count without a string object per word (findall made one for each, the cost of this
    # function): a match never spans whitespace and starts and ends with a letter or digit, so a
    # whitespace-separated token that is all letters and digits once its edge punctuation is stripped
    # is exactly one word; only the rest ("U.S.-based", "—") go through the regex.
    n = 0
    for token in text.split():
        if token.isalnum():
            n += 1
            continue
        core = token.strip(_EDGE_PUNCT)
        if core.isalnum():
            n += 1
        elif core:
            n += len(_WORDS.findall(core))
    return n


def content_hash(title: str | None, body: str | None) -> str:
    text = unicodedata.normalize("NFKC", f"{title or ''}\n{body or ''}").lower()
    # split()/join is re.sub(r"\s+", " ", text).strip() (same whitespace class), three times faster
    return hashlib.sha1(" ".join(text.split()).encode("utf-8")).hexdigest()


def _clean(value: Any) -> str | None:
    if isinstance(value, list):
        value = next((v for v in value if v), None)
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value") or value.get("text")
    if value is None or isinstance(value, (dict, list)):
        return None
    text = re.sub(r"\s+", " ", unicodedata.normalize("NFC", str(value))).strip()
    return text or None


def _html_parser() -> lxml_html.HTMLParser:
    """lxml.html's parser with a lookup in C: every element an HtmlElement.

    lxml.html's own lookup is a Python method that picks a class per tag (form, input, label, ...),
    called for every element proxy made: in our passes and in trafilatura's over copies of this
    tree it was ~15 % of the chain's CPU time. Nothing here uses the form classes.
    """
    parser = lxml_html.HTMLParser()
    parser.set_element_class_lookup(etree.ElementDefaultClassLookup(
        element=lxml_html.HtmlElement, comment=lxml_html.HtmlComment, pi=lxml_html.HtmlProcessingInstruction,
        entity=lxml_html.HtmlEntity))
    return parser


_TEXT_LEVEL = frozenset(("p", "a", "span", "em", "strong", "b", "i", "u", "font", "small", "sup", "sub", "mark",
                         "abbr", "cite", "q", "time", "li", "dd", "dt", "td", "th", "blockquote",
                         "h1", "h2", "h3", "h4", "h5", "h6"))
_PARSERS = threading.local()  # an lxml parser must not be shared between threads


def _parse_tree(text: str) -> lxml_html.HtmlElement:
    text = re.sub(r"^\s*<\?xml[^>]*\?>", "", text)  # lxml refuses str input with an encoding decl
    try:
        parser = getattr(_PARSERS, "parser", None)
        if parser is None:
            parser = _PARSERS.parser = _html_parser()
        tree = lxml_html.document_fromstring(text, parser=parser)
    except (etree.ParserError, ValueError) as exc:
        raise ExtractionError("malformed_html", f"HTML could not be parsed: {exc}") from exc
    if tree is None or tree.find(".//body") is None and len(tree) == 0:
        raise ExtractionError("malformed_html", "HTML parsed to an empty document")
    # trafilatura skips a comment node together with its tail, and a paragraph that opens with one, so
    # ``<p><!--kw--><a>Google</a><!--/kw--> bought ...</p>`` lost the sentence (a real Chinese portal
    # marks every linked keyword with comments: the article's first paragraph went). Comments inside
    # text-level elements, or with text after them, go (the text joins what precedes them); comments
    # between blocks stay as they were (dropping them all changed which blocks trafilatura keeps on
    # other pages: a real page gained a box of other columns).
    for comment in [c for c in tree.iter(etree.Comment) if c.tail and not c.tail.isspace()
                    or c.getparent() is not None and c.getparent().tag in _TEXT_LEVEL]:
        if comment.getparent() is not None:
            comment.drop_tree()
    return tree


# -- titles ---------------------------------------------------------------------------------------

def _strip_site(title: str, site_names: list[str], aggressive: bool = False) -> str:
    """Drop a trailing " | Site" part: known site names always, any short tail only if ``aggressive``.

    Only <title> gets the aggressive treatment; a metadata headline may legitimately end in
    " - what we know".
    """
    parts = _TITLE_SEP.split(title)
    if len(parts) < 2:
        return title
    sites = {s.lower() for s in site_names if s}
    while len(parts) > 1 and (parts[-1].lower() in sites or (aggressive and len(parts[-1].split()) <= 3)):
        parts.pop()
    if len(parts) == 1:
        return parts[0]
    return title[: title.rfind(parts[-1]) + len(parts[-1])]


def pick_title(pm: PageMeta, node: dict | None, how: str, traf_title: str | None) -> tuple[str | None, str]:
    headline = _clean(node.get("headline") or node.get("name")) if node else None
    og = pm.first_meta("og:title", "twitter:title")
    site_names = [pm.first_meta("og:site_name") or "", _clean(node.get("publisher")) if node else ""]
    meta_title, meta_how = (headline, how) if headline else (og, "opengraph") if og else (None, "")

    def norm(s: str) -> str:
        return re.sub(r"\W+", " ", s).strip().lower()

    if meta_title:
        mt = norm(meta_title)
        for h1 in pm.h1s:
            n = norm(h1)
            # an h1 that extends the metadata title is the headline plus glued-on page furniture
            # ("...la InfantaUltima Hora Mallorca"): only a shorter or equal h1 is the clean form
            if n and (n == mt or (len(n) > 20 and mt.startswith(n))):
                return h1, meta_how if n == mt else "h1"
        return _strip_site(meta_title, site_names), meta_how
    if pm.h1s and len(pm.h1s) <= 2:
        return pm.h1s[0], "h1"
    if traf_title:
        return traf_title, "trafilatura"
    if pm.title_tag:
        return _strip_site(pm.title_tag, site_names, aggressive=True), "meta"
    return None, ""


# -- authors --------------------------------------------------------------------------------------

def _author_names(value: Any, pm: PageMeta) -> tuple[list[str], list[str]]:
    """(person names, organisation names) from a schema.org author value."""
    persons: list[str] = []
    orgs: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        item = pm.resolve(item)
        if isinstance(item, str):
            persons.append(item)
        elif isinstance(item, dict):
            name = _clean(item.get("name"))
            if not name:
                continue
            types = {str(t).lower() for t in (item.get("@type") or [])} if isinstance(
                item.get("@type"), list) else {str(item.get("@type") or "").lower()}
            (orgs if any("organization" in t for t in types) else persons).append(name)
    return persons, orgs


def clean_authors(names: list[str]) -> list[str]:
    out: list[str] = []
    seen: set[str] = set()
    for raw in names:
        if not raw:
            continue
        raw = _AUTHOR_PREFIX.sub("", raw.strip())
        for name in _AUTHOR_SPLIT.split(raw):
            name = _AUTHOR_PREFIX.sub("", name).strip(" .,:;|-–—")
            if (
                not name
                or len(name) > 60
                or "@" in name
                or "://" in name
                or name.startswith("/")
                or re.search(r"\d", name)
            ):
                continue
            key = name.lower()
            if key not in seen:
                seen.add(key)
                out.append(name)
    return out


def pick_authors(
    tree: lxml_html.HtmlElement, pm: PageMeta, node: dict | None, how: str, traf_author: str | None
) -> tuple[list[str], str]:
    if node and node.get("author"):
        persons, orgs = _author_names(node["author"], pm)
        found = clean_authors(persons or orgs)
        if found:
            return found, how
    for key in ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator", "byl"):
        values = [v for v in pm.meta.get(key, []) if v and "://" not in v]
        found = clean_authors(values)
        if found:
            return found, "opengraph" if key.startswith("article:") else "meta"
    if traf_author:
        found = clean_authors([traf_author])
        if found:
            return found, "trafilatura"
    found = clean_authors(byline_names(tree))
    return (found, "byline") if found else ([], "")


_BYLINE_XPATHS = (
    "//*[@rel='author']",
    "//*[@itemprop='author']//*[@itemprop='name']|//*[@itemprop='author'][not(*)]",
    "//*[contains(@class,'byline')]//a",
    "//*[contains(@class,'author-name') or contains(@class,'author__name')]",
    "//a[contains(translate(@href,'AUTHOR','author'),'/author/') or contains(translate(@href,'AUTHOR','author'),"
    "'author=') or contains(@href,'/authors/')]",
)


def byline_names(tree: lxml_html.HtmlElement) -> list[str]:
    """Names from the visible byline, for pages without metadata; first matching rule wins."""
    for xpath in _BYLINE_XPATHS:
        names = []
        for el in tree.xpath(xpath)[:3]:
            text = re.sub(r"\s+", " ", el.text_content()).strip()
            if text and len(text.split()) <= 5:
                names.append(text)
        if names:
            return names
    return []


# -- dates ----------------------------------------------------------------------------------------

_PUB_META = ("article:published_time", "og:published_time", "datepublished", "pubdate", "publishdate",
             "publish-date", "publish_date", "article.published", "parsely-pub-date", "sailthru.date",
             "dc.date.issued", "dcterms.issued", "dc.date", "dcterms.created", "date",
             "citation_publication_date", "cxenseparse:recs:publishtime", "og:article:published_time",
             "bytedance:published_time")
_MOD_META = ("article:modified_time", "og:updated_time", "datemodified", "last-modified",
             "dcterms.modified", "article.updated", "og:article:modified_time", "bytedance:updated_time")


def pick_published(
    pm: PageMeta, node: dict | None, how: str, traf_date: str | None, hint: datetime | None,
    url: str, now: datetime, zone: str | None = None, unreadable: list[str] | None = None,
) -> tuple[dates.ParsedDate | None, str, bool]:
    """(date, provenance, rejected_future?) — first plausible candidate in trust order.

    Zone-less times are read in ``zone`` (the outlet's); stated values that cannot be read at all
    are appended to ``unreadable``.
    """
    page = pm.page_node()
    candidates: list[tuple[Any, str]] = []
    if node:
        candidates.append((_clean(node.get("datePublished") or node.get("dateCreated")), how))
    candidates += [(pm.first_meta(k), "opengraph" if k.startswith(("article:", "og:")) else "meta")
                   for k in _PUB_META]
    if page:
        candidates.append((_clean(page.get("datePublished")), "jsonld"))
    candidates += [(t, "time") for t in pm.times[:2]]
    rejected = False
    rejected_days: set = set()
    for raw, src in candidates:
        parsed = dates.parse_date(raw, zone) if raw else None
        if parsed is None:
            if raw and unreadable is not None and not isinstance(raw, datetime):
                unreadable.append(str(raw))
            continue
        problem = dates.plausible(parsed, now)
        if problem == "future":
            rejected = True
            rejected_days.add(parsed.value.date())
        if problem is None:
            return parsed, src, rejected
    hinted = dates.parse_date(hint) if hint else None
    if hinted and dates.plausible(hinted, now):
        rejected = rejected or dates.plausible(hinted, now) == "future"
        hinted = None
    found = dates.parse_date(traf_date, zone) if traf_date else None
    if found and not found.has_time and found.value.date() in rejected_days:
        found = None  # htmldate re-read the day of the date we just rejected
    if found and dates.plausible(found, now) is None:
        # htmldate usually only knows the day: a feed time on that same day is more precise.
        if hinted and not found.has_time and abs((hinted.value - found.value).total_seconds()) < 36 * 3600:
            return hinted, "hint", rejected
        return found, "htmldate", rejected
    if hinted:
        return hinted, "hint", rejected
    in_url = dates.url_date(url)
    if in_url and dates.plausible(in_url, now) is None:
        return in_url, "url", rejected
    return None, "", rejected


def pick_updated(pm: PageMeta, node: dict | None, how: str, now: datetime,
                 zone: str | None = None) -> tuple[dates.ParsedDate | None, str]:
    candidates = [(_clean(node.get("dateModified")), how)] if node else []
    candidates += [(pm.first_meta(k), "opengraph" if k.startswith(("article:", "og:")) else "meta")
                   for k in _MOD_META]
    for raw, src in candidates:
        parsed = dates.parse_date(raw, zone) if raw else None
        if parsed and dates.plausible(parsed, now) is None:
            return parsed, src
    return None, ""


# -- small fields ---------------------------------------------------------------------------------

def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list):
        return [s for v in value for s in _as_list(v)]
    if isinstance(value, dict):
        name = _clean(value)
        return [name] if name else []
    return [str(value)]


def _dedupe(values: list[str], limit: int = 40) -> list[str]:
    seen: set[str] = set()
    out = []
    for v in values:
        v = re.sub(r"\s+", " ", v).strip()
        if v and v.lower() not in seen and len(v) <= 80:
            seen.add(v.lower())
            out.append(v)
    return out[:limit]


def pick_image(pm: PageMeta, node: dict | None, how: str, base: str) -> tuple[str | None, str]:
    candidates: list[tuple[Any, str]] = []
    if node and node.get("image"):
        img = pm.resolve(node["image"])
        if isinstance(img, list):
            img = pm.resolve(img[0]) if img else None
        if isinstance(img, dict):
            img = img.get("url") or img.get("contentUrl") or img.get("@id")
        candidates.append((img, how))
    candidates += [(pm.first_meta("og:image", "og:image:url", "og:image:secure_url"), "opengraph"),
                   (pm.first_meta("twitter:image", "twitter:image:src"), "meta"),
                   ((pm.links.get("image_src") or [None])[0], "meta")]
    for raw, src in candidates:
        if isinstance(raw, str) and raw.strip() and not raw.startswith("data:"):
            try:
                return normalize_url(raw, base), src
            except ValueError:
                continue
    return None, ""


def shown_standfirst(tree: lxml_html.HtmlElement, html_text: str, lead: str | None, body: str) -> str | None:
    """The standfirst the page shows above its body when the body lacks it, found by its description.

    JSON-LD ``articleBody`` and trafilatura's precision mode both tend to start at the first
    paragraph below the standfirst, which readers (and the real-page set's expected texts) count as
    part of the article. The description (often cut short with "...") only locates the block: what
    is returned is the block's own text, and only a block that is that description and little more
    counts, so a meta description written for search engines never becomes body text.
    """
    if not lead:
        return None
    core = lead.strip()
    if core.endswith(("…", "...")):
        core = core.rstrip(".… ").rsplit(" ", 1)[0]  # the last word may be cut
    want = _norm_text(core)
    if len(want.split()) < 12 or want[:60] in _norm_text(body):
        return None
    if html_text.count(core[:25]) < 2:  # the meta tag itself is one; the shown block another
        return None
    for el in tree.iter("p", "h2", "div", "span", "strong", "header", "section"):
        if len(el) > 3:
            continue
        shown = el.text_content()
        norm = _norm_text(shown)
        if norm.startswith(want) and len(norm) <= 1.5 * len(want) + 40 and not any(
            a.tag in ("head", "script", "noscript", "template") for a in el.iterancestors()
        ):
            return " ".join(shown.split())
    return None


def pick_language(pm: PageMeta, node: dict | None, how: str, body: str | None) -> tuple[str | None, str]:
    declared = [
        (normalize_lang(pm.html_lang), "meta"),
        (normalize_lang(pm.first_meta("og:locale")), "opengraph"),
        (normalize_lang(_clean(node.get("inLanguage"))) if node else None, how),
        (normalize_lang(pm.first_meta("content-language", "language", "dc.language")), "meta"),
    ]
    for lang, src in declared:
        if not lang:
            continue
        # Templates often hard-code lang="en"; trust the text only when it is unambiguous (script).
        script = detect_script(body) if body else None
        if script and lang != script:
            return script, "detected"
        return lang, src
    detected = detect_language(body) if body else None
    return (detected, "detected") if detected else (None, "")


def link_density(tree: lxml_html.HtmlElement) -> float:
    """Share of the visible body text that sits inside links: high on listings and hubs."""
    body = tree.find(".//body")
    if body is None:
        return 0.0
    total = len(re.sub(r"\s+", "", "".join(body.xpath(".//text()[not(ancestor::script)][not(ancestor::style)]"))))
    linked = len(re.sub(r"\s+", "", "".join(body.xpath(".//a//text()"))))
    return linked / total if total else 0.0


#: A page about one recording (an episode, a video) that calls itself a website: with little text of its
#: own it is not an article (a video page without og:type website may carry a report: the set's
#: ardmediathek player page).
_MEDIA_TYPES = {"podcastepisode", "videoobject", "audioobject", "musicrecording", "episode", "clip"}
_ID_QUERY = re.compile(r"(?:^|&)(?:p|page_id|id|story|article|aid|nid)=\w", re.I)


#: Folders that hold lists of other pages on most sites (tag, category, author pages, site search).
_LISTING_PATH = re.compile(r"/(?:tags?|category|categories|topics?|authors?|section|sektion|search|suche)(?:/|$)",
                           re.I)
_DATE_FOLDER = re.compile(r"/(?:19|20)\d{2}/")
_SLUG = re.compile(r"[^\W_]+(?:[-_][^\W_]+){3,}")


def _story_path(path: str) -> bool:
    """A path made for one story: a year folder, or a slug of 4+ words in one of its last two segments
    (".../la-perte-des-terres-fertiles/a-6533123": the slug, then the story's id)."""
    return bool(_DATE_FOLDER.search(path) or any(_SLUG.search(seg) for seg in path.rstrip("/").split("/")[-2:]))


def _home_page(url: str) -> bool:
    """The site's root without a query naming one post ("/?p=2895" is a WordPress article)."""
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and parts.path in ("", "/") and not _ID_QUERY.search(parts.query)


def _prose_missing(text: str, ld_body: str) -> int:
    """Words of ``text``'s prose paragraphs (25+ words) that ``ld_body`` lacks.

    Some articleBody values leave out whole paragraphs the page shows (a magazine's section openers
    with a drop cap): trafilatura's text then holds them and is the fuller body.
    """
    whole = _norm_text(ld_body)
    missing = 0
    for para in text.split("\n\n"):
        words = len(para.split())
        if words >= 25 and _norm_text(para)[:60] not in whole:
            missing += words
    return missing


def _page_tags(pm: PageMeta, tree: lxml_html.HtmlElement) -> list[str]:
    """Tags as trafilatura's metadata pass finds them when ours found none: the rarer keyword metas,
    else the links of the page's tag box (on the tree it would have read)."""
    found = _as_list(pm.first_meta("citation_keywords", "dcterms.subject", "shareaholic:keywords", "tags"))
    if not found:
        from trafilatura.metadata import extract_catstags

        found = extract_catstags("tag", tree)
    return _dedupe(found)


def _longest_paragraph(body: str) -> int:
    return max(len(p.split()) for p in body.split("\n\n"))


def _looks_complete(text: str, words: int) -> bool:
    return words >= 40 and not text.rstrip().endswith(("…", "...", "[…]", "[...]"))


# -- the chain ------------------------------------------------------------------------------------

def extract_article(
    html: bytes | str,
    url: str,
    *,
    source: str | None = None,
    headers: Mapping[str, str] | None = None,
    hint_published: datetime | None = None,
    fetched_at: datetime | None = None,
    zone: str | None = None,
) -> dict:
    """Extract one article from a fetched page; raise :class:`ExtractionError` if it is not one.

    ``zone`` is the IANA zone zone-less and abbreviated times are read in; by default the registry's
    ``timezone`` of ``source`` (or of the source owning ``url``), else UTC.
    """
    fetched = fetched_at or datetime.now(timezone.utc)
    if zone is None:
        zone = _source_zone(source, url)
    if fetched.tzinfo is None:
        fetched = fetched.replace(tzinfo=timezone.utc)
    text, _encoding = decode_html(html, headers)
    if not text.strip():
        raise ExtractionError("empty_body", "the page is empty")
    tree = _parse_tree(text)
    pm = collect(tree, url)
    node, how = pm.article_node()
    flags: list[str] = []
    by: dict[str, str] = {}

    canonical_candidates: list[tuple[str, str]] = [(h, "meta") for h in pm.links.get("canonical", [])[:1]]
    if pm.first_meta("og:url"):
        canonical_candidates.append((pm.first_meta("og:url"), "opengraph"))
    if node:
        for key in ("url", "mainEntityOfPage"):
            value = node.get(key)
            value = value.get("@id") or value.get("url") if isinstance(value, dict) else value
            if isinstance(value, str):
                canonical_candidates.append((value, how))
    canonical, by["canonical_url"] = choose_canonical(canonical_candidates, url)
    if pm.is_amp:
        flags.append("amp")

    title_guess, by_title = pick_title(pm, node, how, None)
    date_params = {"extensive_search": False, "original_date": True, "max_date": fetched.strftime("%Y-%m-%d")}

    # The fields trafilatura's metadata pass (title, author, htmldate, tags) could still decide: when
    # the page's own metadata settles them all, that pass is skipped (it re-reads the JSON-LD, runs
    # htmldate, ...) and, below, so is the whole of trafilatura if the JSON-LD body is complete.
    authors, by_auth = pick_authors(tree, pm, node, how, None)
    unreadable: list[str] = []
    published, by_pub, rejected = pick_published(pm, node, how, None, hint_published, canonical, fetched,
                                                 zone, unreadable)
    tags = _dedupe(
        (_as_list(node.get("keywords")) if node else [])
        + pm.meta.get("article:tag", [])
        + _as_list(pm.first_meta("news_keywords", "keywords", "parsely-tags"))
    )
    # tags alone do not call for that pass (a fifth of the pages lack tags and have everything else):
    # its tag rules run on their own below
    needs_traf_meta = by_title in ("", "meta") or by_auth in ("", "byline") or by_pub in ("", "hint", "url")

    ld_body = None
    if node and how == "jsonld" and isinstance(node.get("articleBody"), str):
        ld_body = postclean(html_to_text(node["articleBody"]), title_guess) or None
    ld_words = count_words(ld_body) if ld_body else 0
    ld_complete = ld_body is not None and _looks_complete(ld_body, ld_words)
    # A complete articleBody that holds everything the page's article container shows is what the
    # choice below would take anyway; a huge page is not worth trafilatura's time either way.
    skip_traf = ld_complete and (len(text) > 1_500_000 or (not needs_traf_meta and covers_page(tree, ld_body)))
    body_result = None
    if not skip_traf:
        # htmldate (inside trafilatura) parses with dateutil and no tzinfos: a zone name it does not
        # know ("IST") would be printed as UnknownTimezoneWarning; it is counted as a flag instead.
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnknownTimezoneWarning)
            body_result = extract_body(tree, url, title_guess, date_params, with_metadata=needs_traf_meta,
                                       html_text=text)
        if any(issubclass(w.category, UnknownTimezoneWarning) for w in caught):
            flags.append("date_unknown_zone")
    traf_text = body_result.text if body_result else None
    traf_meta = body_result.meta if body_result else {}
    traf_words = count_words(traf_text) if traf_text else 0
    # the page without its boilerplate as trafilatura cleaned it (the whole tree when it did not run)
    cleaned = body_result.cleaned if body_result and body_result.cleaned is not None else tree

    body, by_body, n_words = None, "", 0
    if ld_complete and (not traf_text or ld_words >= 0.8 * traf_words) and not (
            traf_text and traf_words > ld_words and _prose_missing(traf_text, ld_body) > 0.05 * ld_words):
        body, by_body, n_words = ld_body, how, ld_words
    elif traf_text:
        body, by_body, n_words = traf_text, "trafilatura", traf_words
    elif ld_body:
        body, by_body, n_words = ld_body, how, ld_words
    if by_body == "trafilatura" and body_result is not None and (
        body_result.paywalled or paywall_markup(tree, node, text)
    ):
        flags.append("paywall_teaser")

    if by_body == "trafilatura" and n_words < 300 and (
        "paywall_teaser" in flags or menu_like(body) or n_words < MIN_WORDS
        or prose_words(cleaned) >= 3 * n_words
    ):
        # precision mode sometimes keeps the wrong block of a short page: a registration notice, a
        # menu, a tag cloud (real pages: NZZ, tagblatt, Google's security blog, a live-score page),
        # or one block of a split article while the pre-cleaned page (comments gone: a long thread
        # is prose too) holds three times its words in paragraphs (a tabloid's column, recall 0.24).
        # trafilatura's default run on the raw page is the second opinion; it wins when it finds
        # much more text that is not itself a menu. Rare, so it costs little time.
        alt = whole_page_text(tree, url, title_guess, date_params)
        alt_words = count_words(alt) if alt else 0
        if alt and alt_words >= 1.5 * n_words and not menu_like(alt):
            body, n_words = alt, alt_words
            flags = [f for f in flags if f != "paywall_teaser"]
    title, by["title"] = pick_title(pm, node, how, traf_meta.get("title"))
    declared_types = pm.declared_types()
    article_signals = bool(
        node is not None
        or (pm.first_meta("og:type") or "").lower() == "article"
        or pm.first_meta("article:published_time")
    )
    if _home_page(url) and _home_page(canonical):
        # a site's front is never an article, whatever its metadata says (fronts declare og:type
        # article or a NewsArticle for their lead story)
        raise ExtractionError("not_article", "home page, not an article")
    if not article_signals:
        listing = declared_types & LISTING_TYPES and not declared_types & ARTICLE_TYPES
        og_type = (pm.first_meta("og:type") or "").lower()
        paragraphs = body.count("\n\n") + 1 if body else 1
        # prose: paragraphs of >= 25 words on average, what a section front or a list never has
        prose = n_words >= 60 and n_words / paragraphs >= 25
        # og:type "website" is what many CMSes print on every page, articles included (a product
        # page, a ministry's news item): it says nothing here (half A: two articles refused by it,
        # no non-article of the set refused by it alone)
        media = og_type in ("profile", "video.other", "music.song", "books.book") or (
            og_type == "website" and bool(declared_types & _MEDIA_TYPES))
        if listing or media and n_words < 150 and not prose:
            raise ExtractionError("not_article", f"page declares itself {sorted(declared_types) or og_type}")
        path = urlsplit(url).path
        if _LISTING_PATH.search(path):
            raise ExtractionError("not_article", f"no article metadata and a listing's address ({path})")
        # an address made for one story (a date folder, a slug of 4+ words) outweighs the text's
        # shape: forum threads, tutorials, podcast notes are lists of short lines on link-heavy pages
        # (half A: 7 articles kept, no non-article let in)
        story_path = _story_path(path)
        density = link_density(tree)
        # A portal's article page is often half navigation; a long, link-free main text still makes
        # it an article (real pages: chinadaily, prachatai), a hub's "main text" is short. So is a
        # main text of prose paragraphs on a page of many links: the link share is the site's menus
        # (real pages: sports federations, ministries, news portals). On the real-page set's half A
        # (pages this rule sees) the bars 0.6 / 0.45 refused 11 articles for 4 non-articles, 0.7 / 0.6
        # refuse 6 for 2.
        if not prose and not story_path and (density > 0.7 or (density > 0.6 and n_words < 250)):
            raise ExtractionError("not_article", f"no article metadata and {density:.0%} of the text is links")
        if body and not story_path and n_words < 2000 and paragraphs >= 8 and n_words / paragraphs < 10 and (
                _longest_paragraph(body) < 40):
            # a status page, a directory, a list of links written out: no prose paragraphs (half A:
            # a bar of 12 words refused 8 articles for 4 non-articles, 10 refuses 5 for the same 4;
            # forum threads and code tutorials, which the set counts as articles, average 10-12).
            # One paragraph of 40+ words is prose a list page does not have (a product page's
            # feature text; the set's fronts, status and sample pages have none over 29 words)
            raise ExtractionError("not_article", f"no article metadata and {paragraphs} paragraphs of "
                                  f"{n_words / paragraphs:.0f} words on average: a list, not prose")
    if not body:
        reason = "empty_body" if article_signals else "not_article"
        raise ExtractionError(reason, "no main text found")
    if n_words < MIN_WORDS:
        raise ExtractionError("too_short", f"main text has only {n_words} words")
    by["body"] = by_body

    if traf_meta:  # fallbacks only: what the page's metadata settled above stays
        authors, by_auth = pick_authors(tree, pm, node, how, traf_meta.get("author"))
        unreadable = []
        published, by_pub, rejected = pick_published(pm, node, how, traf_meta.get("date"), hint_published,
                                                     canonical, fetched, zone, unreadable)
    if rejected:
        flags.append("date_rejected_future")
    if published is None:
        flags.append("date_missing")
    if unreadable:
        flags.append("date_unreadable")  # counted by the spider (extract/dates/unreadable)
    if published is not None and published.zone == "unknown_zone" and "date_unknown_zone" not in flags:
        flags.append("date_unknown_zone")
    updated, by_upd = pick_updated(pm, node, how, fetched, zone)
    language, by_lang = pick_language(pm, node, how, body)
    image, by_img = pick_image(pm, node, how, canonical if canonical.startswith("http") else url)

    lead = None
    by_lead = ""
    standfirst = None
    for value, src in (((_clean(node.get("description")) if node else None), how),
                       (pm.first_meta("og:description"), "opengraph"),
                       (pm.first_meta("description", "twitter:description"), "meta")):
        if value:
            lead, by_lead = value, src
            break
    if not lead:
        lead, by_lead = body.split("\n\n", 1)[0], by_body
    else:
        standfirst = shown_standfirst(tree, text, lead, body)
        if standfirst:
            body = f"{standfirst}\n\n{body}"
            n_words += count_words(standfirst)
    if not standfirst:
        intro = shown_intro(tree, body)
        if intro:
            body = f"{intro}\n\n{body}"
            n_words += count_words(intro)

    section = (_clean(node.get("articleSection")) if node else None) or pm.first_meta(
        "article:section", "parsely-section", "section")
    if not tags and traf_meta.get("tags"):
        tags = _dedupe(_as_list(traf_meta["tags"]))
    elif not tags:
        tags = _page_tags(pm, cleaned)

    for key, src, value in (("authors", by_auth, authors), ("published_at", by_pub, published),
                            ("updated_at", by_upd, updated), ("language", by_lang, language),
                            ("image", by_img, image), ("lead", by_lead, lead)):
        if value and src:
            by[key] = src
    result: dict[str, Any] = dict.fromkeys(_OUTPUT_FIELDS)
    result.update(
        id=article_id(canonical),
        url=url,
        canonical_url=canonical,
        source=source or _source_name(canonical, url),
        title=title,
        body=body,
        lead=lead,
        authors=authors,
        published_at=dates.to_utc_iso(published.value) if published else None,
        published_offset=published.offset if published else None,
        updated_at=dates.to_utc_iso(updated.value) if updated else None,
        language=language,
        section=section,
        tags=tags,
        image=image,
        word_count=n_words,
        fetched_at=dates.to_utc_iso(fetched),
        content_hash=content_hash(title, body),
        flags=flags,
        extracted_by=by,
    )
    return result


def _source_zone(source: str | None, url: str) -> str | None:
    """The registry's ``timezone`` for the named source, or for the one owning ``url``."""
    try:
        from aggregator.sources import get_source, source_for_url
    except Exception:  # noqa: BLE001 - the registry is optional for standalone use
        return None
    try:
        found = get_source(source) if source else source_for_url(url)
    except KeyError:
        found = source_for_url(url)
    return found.timezone if found else None


def _source_name(canonical: str, url: str) -> str | None:
    try:
        from aggregator.sources import source_for_url
    except Exception:  # noqa: BLE001 - the registry is optional for standalone use
        return None
    found = source_for_url(canonical) or source_for_url(url)
    return found.name if found else None
