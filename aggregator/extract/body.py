"""Main text: conservative pre-cleaning, trafilatura, then line-level post-cleaning.

trafilatura is the best general-purpose main-text extractor we have, but on news pages it still
lets through comment threads, "related" rails, newsletter boxes and paywall prompts that sit
inside the article container. We remove those by class/id before it runs (guarded so a template
that puts e.g. ``paywall`` on the article container itself cannot cost us the article), and drop
stray boilerplate lines afterwards.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field

import trafilatura
from lxml import html as lxml_html

_COMMENTS = re.compile(
    r"^(?:comments?|comment-?(?:list|section|area|respond|form|thread|s-area|s-section|s-wrapper)"
    r"|.*-comments?|comments?-(?:wrapper|container|section|block)|commentlist|respond|disqus_thread|disqus|wpdiscuz.*|coral.*|viafoura.*|vf-comments|openweb.*)$",
    re.I,
)
_BOILER = re.compile(
    r"^(?:newsletter.*|.*-newsletter(?:-.*)?|subscribe-?(?:box|form|cta|banner|widget)?|signup.*|sign-up.*"
    r"|related|related-?(?:posts|articles|links|stories|content|news|items)|.*-related|yarpp.*"
    r"|jp-relatedposts|share|sharing|share-?(?:buttons|bar|tools|links|icons)|social-?(?:share|links|buttons)"
    r"|sharedaddy|addtoany|a2a_kit|paywall.*|regwall.*|piano-.*|tp-container|outbrain.*|ob-widget"
    r"|taboola.*|trc_related.*|advert.*|ad-?(?:slot|container|wrapper|unit|block)|adsbygoogle"
    r"|widget-area|author-?(?:bio|box)|post-?tags|tags-?list|breadcrumbs?|more-stories|recommended"
    r"|most-popular|popular-posts|trending|read-?(?:more|next|also)-?(?:box|links)?|sponsored"
    r"|newsletter-signup|inline-newsletter|promo|.*-promo|tips?-?(?:box|promo)|cta|.*-statement|copyright.*"
    r"|disclaimer)$",
    re.I,
)
_PAYWALL_CLASS = re.compile(r"^(?:paywall.*|regwall.*|.*-paywall|subscriber-?only|premium-?gate|meter-?wall)$", re.I)
_PAYWALL_TEXT = re.compile(
    r"(?:subscribe|sign up|register|log ?in)\b.{0,60}\b(?:continue|keep) reading"
    r"|to (?:read|access) the full (?:article|story)|already a (?:subscriber|member)"
    r"|(?:article|content|story) is (?:only )?(?:available|reserved|exclusive) (?:to|for) (?:subscribers|members)"
    r"|jetzt (?:abonnieren|weiterlesen)|weiterlesen mit",
    re.I,
)
_LINE_JUNK = re.compile(
    r"^(?:advertisement|anzeige|werbung|related(?: articles| stories| posts| coverage)?:?(?: .*)?"
    r"|read (?:more|next|also)\b.*|sign up here\.?|got a tip for us\?.*|our standards: .*"
    r"|.*(?:未经授权|禁止转载|转载请注明|版权所有).*"
    r"|see also:.*|more:.*|share (?:this|on)\b.*|sign up (?:for|to)\b.*newsletter.*|subscribe to (?:our|the)\b.*"
    r"|follow us on\b.*|ftc: we use income earning.*|add \S+ to your google news.*|(?:photo|image|credit|source)"
    r"(?: credit)?: .*|\[?(?:photo|image|picture): .*|- ?(?:facebook|twitter|x|linkedin|whatsapp|email|reddit)"
    r"|(?:facebook|twitter|linkedin|whatsapp|email|reddit|print|copy link)|advertisement - scroll to continue)$",
    re.I,
)
_BYLINE = re.compile(r"^(?:by|von|par|por|di)\s+[\w .,'’-]{2,80}$", re.I)
_DROP_TAGS = ("nav", "aside", "footer", "noscript", "template", "dialog")


@dataclass
class BodyResult:
    text: str | None
    paywalled: bool = False
    meta: dict = field(default_factory=dict)  # trafilatura's own metadata (title, author, date, ...)


def _tokens(el: lxml_html.HtmlElement) -> list[str]:
    return ((el.get("class") or "") + " " + (el.get("id") or "")).split()


def _protected(el: lxml_html.HtmlElement, strict: bool = False) -> bool:
    """Containers of the headline or the declared article body are never boilerplate.

    ``strict`` ignores <article> descendants: WordPress wraps every comment in one.
    """
    if el.tag in ("html", "body", "main") or (el.tag == "article" and not strict):
        return True
    query = ".//main|.//h1|.//*[@itemprop='articleBody']" + ("" if strict else "|.//article")
    return bool(el.xpath(query))


_PAYWALL_XP = (
    "//*[contains(@class,'paywall') or contains(@id,'paywall') or contains(@class,'regwall')"
    " or contains(@class,'subscriber') or contains(@class,'premium') or contains(@class,'meter')]"
)


def paywall_markup(tree: lxml_html.HtmlElement, article_node: dict | None) -> bool:
    """True if schema.org or a paywall container says the visible text is a teaser."""
    if article_node is not None:
        free = article_node.get("isAccessibleForFree")
        if free is False or (isinstance(free, str) and free.strip().lower() == "false"):
            return True
    for el in tree.xpath(_PAYWALL_XP):
        # Some sites mark every article container "paywall-…"; only a short box is a prompt.
        if any(_PAYWALL_CLASS.match(t) for t in _tokens(el)) and len(el.text_content()) < 800:
            return True
    return False


def paywall_wording(tree: lxml_html.HtmlElement) -> bool:
    """True if a short block asks the reader to subscribe/register to keep reading."""
    for el in tree.xpath("//p|//div[not(*)]|//span[not(*)]|//a|//button"):
        text = el.text_content()
        if len(text) < 300 and _PAYWALL_TEXT.search(text):
            return True
    return False


def _text_len(el: lxml_html.HtmlElement) -> int:
    return len(el.text_content())


def _remove(el: lxml_html.HtmlElement) -> None:
    """Drop ``el`` but keep any text that followed it."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    previous = el.getprevious()
    parent.remove(el)
    if tail and tail.strip():
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail


_COMMENT_XP = (
    "//*[contains(translate(@class,'COMENT','coment'),'comment') or contains(translate(@id,'COMENT','coment'),"
    "'comment') or contains(@class,'respond') or @id='respond' or contains(@id,'disqus') or contains(@class,"
    "'disqus') or contains(@class,'coral') or contains(@class,'viafoura') or contains(@class,'openweb')"
    " or contains(@id,'openweb') or contains(@class,'wpdiscuz') or contains(@id,'wpdiscuz')]"
)


def _is_thread(el: lxml_html.HtmlElement) -> bool:
    """A container holding several comment-like children: a discussion thread, whatever its size."""
    marked = 0
    for child in el.iterdescendants():
        if isinstance(child.tag, str) and any(_COMMENTS.match(t) or "comment" in t.lower() for t in _tokens(child)):
            marked += 1
            if marked >= 3:
                return True
    return False


def preclean(tree: lxml_html.HtmlElement) -> lxml_html.HtmlElement:
    """A cleaned copy of ``tree``: comments, rails, newsletter/paywall boxes removed.

    Comments go first so that a huge thread cannot make the article look small in the size guard
    that protects the main text from a boilerplate-looking class name.
    """
    tree = copy.deepcopy(tree)
    body = tree.find(".//body")
    root = body if body is not None else tree
    total = max(1, _text_len(root))
    for el in root.xpath(_COMMENT_XP):
        if el.getroottree().getroot() is not tree:
            continue  # inside a thread removed already
        if any(_COMMENTS.match(t) for t in _tokens(el)) and not _protected(el, strict=True):
            if _text_len(el) < 0.5 * total or _is_thread(el):
                _remove(el)
    total = max(1, _text_len(root))
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or el.getparent() is None or _detached(el, root):
            continue
        if el.tag in _DROP_TAGS or any(_BOILER.match(t) for t in _tokens(el)):
            if not _protected(el) and _text_len(el) < 0.3 * total:
                _remove(el)
    return tree


def _detached(el: lxml_html.HtmlElement, root: lxml_html.HtmlElement) -> bool:
    for ancestor in el.iterancestors():
        if ancestor is root:
            return False
    return True


def _norm(s: str) -> str:
    return re.sub(r"\W+", " ", s).strip().lower()


def postclean(text: str, title: str | None) -> str:
    """Paragraphs joined by blank lines, minus title echoes, bylines and boilerplate lines."""
    title_n = _norm(title) if title else None
    out: list[str] = []
    for raw in text.splitlines():
        line = re.sub(r"[ \t\u00a0]+", " ", raw).strip()
        if not line:
            continue
        n_words = len(line.split())
        if title_n and _norm(line) == title_n:
            continue
        if n_words <= 25 and (_LINE_JUNK.match(line) or _PAYWALL_TEXT.search(line)):
            continue
        if not out and n_words <= 12 and _BYLINE.match(line):
            continue
        out.append(line)
    return "\n\n".join(out)


def _run(tree: lxml_html.HtmlElement, url: str | None, precision: bool, metadata: bool, date_params: dict):
    return trafilatura.bare_extraction(
        tree,
        url=url,
        favor_precision=precision,
        include_comments=False,
        include_tables=True,
        with_metadata=metadata,
        date_extraction_params=date_params,
    )


def extract_body(
    tree: lxml_html.HtmlElement, url: str | None, title: str | None, date_params: dict
) -> BodyResult:
    """Run trafilatura on a pre-cleaned copy; retry without precision bias if that starves the text."""
    cleaned = preclean(tree)
    asks_to_subscribe = paywall_wording(cleaned)
    spare = copy.deepcopy(cleaned)
    doc = _run(cleaned, url, True, True, date_params)
    meta = {}
    text = None
    if doc is not None:
        meta = {k: getattr(doc, k, None) for k in ("title", "author", "date", "description", "language",
                                                     "categories", "tags", "image", "sitename")}
        text = doc.text
    if not text or len(text.split()) < 80:
        doc2 = _run(spare, url, False, False, date_params)
        text2 = doc2.text if doc2 is not None else None
        if text2 and len(text2.split()) > 1.5 * len((text or "").split()):
            text = text2
    if not text:
        return BodyResult(None, asks_to_subscribe, meta)
    return BodyResult(postclean(text, title) or None, asks_to_subscribe, meta)


def html_to_text(fragment: str) -> str:
    """articleBody sometimes carries HTML: flatten it to paragraphs."""
    if "<" not in fragment or ">" not in fragment:
        return fragment
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except Exception:  # noqa: BLE001
        return re.sub(r"<[^>]+>", " ", fragment)
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in root.iter("p", "div", "li", "h2", "h3", "h4", "blockquote"):
        block.tail = "\n" + (block.tail or "")
    return root.text_content()
