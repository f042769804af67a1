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
from lxml import etree
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
    # a "read also" line with the other story's title on it (a bare heading is left to _trim_tail)
    r"|(?:(?:à )?lire aussi|lesen sie (?:auch|mehr)|leia (?:também|mais)|lea (?:también|más)|leggi anche"
    r"|czytaj (?:też|także|więcej)|читайте также)\W*\w.*"
    r"|.*(?:未经授权|禁止转载|转载请注明|版权所有).*"
    r"|(?=.{0,60}$).*(?:有料会員|会員限定|会員登録|会員の方|ログインして|続きをお読み|記事保存|無料・有料プラン).*"
    r"|[＞>]\s*(?:新規会員登録|ログイン)"
    r"|see also:.*|more:.*|share (?:this|on)\b.*|sign up (?:for|to)\b.*newsletter.*|subscribe to (?:our|the)\b.*"
    r"|follow us on\b.*|ftc: we use income earning.*|add \S+ to your google news.*|(?:photo|image|credit|source)"
    r"(?: credit)?: .*|\[?(?:photo|image|picture): .*|- ?(?:facebook|twitter|x|linkedin|whatsapp|email|reddit)"
    r"|(?:facebook|twitter|linkedin|whatsapp|email|reddit|print|copy link)|advertisement - scroll to continue"
    r"|loading\b.{0,40}(?:\.\.\.|…))$",
    re.I,
)
_BYLINE = re.compile(r"^(?:by|von|par|por|di)\s+[\w .,'’-]{2,80}$", re.I)
_DROP_TAGS = ("nav", "aside", "footer", "noscript", "template", "dialog")


@dataclass
class BodyResult:
    text: str | None
    meta: dict = field(default_factory=dict)  # trafilatura's own metadata (title, author, date, ...)
    cleaned: lxml_html.HtmlElement | None = None  # the pre-cleaned tree trafilatura read (not mutated)
    _paywalled: bool | None = None

    @property
    def paywalled(self) -> bool:
        """Whether the pre-cleaned page asks the reader to subscribe; computed on first use."""
        if self._paywalled is None:
            self._paywalled = self.cleaned is not None and paywall_wording(self.cleaned)
        return self._paywalled


def _tokens(el: lxml_html.HtmlElement) -> list[str]:
    return ((el.get("class") or "") + " " + (el.get("id") or "")).split()


# class/id tokens repeat across elements and pages: remember the regex verdicts (bounded)
_TOKEN_CACHE: dict[tuple[int, str], bool] = {}


def _token_matches(kind: int, pattern: re.Pattern, token: str) -> bool:
    key = (kind, token)
    hit = _TOKEN_CACHE.get(key)
    if hit is None:
        if len(_TOKEN_CACHE) > 50_000:
            _TOKEN_CACHE.clear()
        hit = _TOKEN_CACHE[key] = pattern.match(token) is not None
    return hit


def _is_comment_token(token: str) -> bool:
    # "live-match-comments", "liveticker-comment": a live blog's or match report's own entries
    return _token_matches(0, _COMMENTS, token) and not token.lower().startswith("live")


def _is_boiler_token(token: str) -> bool:
    return _token_matches(1, _BOILER, token)


def _protectors(elements: list, strict: bool, gone: set) -> set:
    """Every element that has a headline/article-body descendant (what ``_protected`` looks for).

    One pass over ``elements`` (document order, minus the removed ones in ``gone``) instead of one
    XPath query per candidate. Candidates are visited in document order, before any of their
    descendants can be removed, and a removed element protects nothing, so the set stays exact
    while a pass removes.
    """
    wanted = {"main", "h1"} if strict else {"main", "h1", "article"}
    found: set = set()
    for el in elements:
        if (el.tag in wanted or el.get("itemprop") == "articleBody") and el not in gone:
            for ancestor in el.iterancestors():
                if ancestor in found:
                    break  # its ancestors are in already
                found.add(ancestor)
    return found


def _protected(el: lxml_html.HtmlElement, strict: bool = False, protectors: set | None = None) -> bool:
    """Containers of the headline or the declared article body are never boilerplate.

    ``strict`` ignores <article> descendants: WordPress wraps every comment in one.
    """
    if el.tag in ("html", "body", "main") or (el.tag == "article" and not strict):
        return True
    if protectors is not None:
        return el in protectors
    query = ".//main|.//h1|.//*[@itemprop='articleBody']" + ("" if strict else "|.//article")
    return bool(el.xpath(query))


def _elements(tree: lxml_html.HtmlElement):
    """All elements of the document ``tree`` belongs to, in document order (what ``//*`` selects)."""
    return tree.getroottree().getroot().iter(etree.Element)


def _paywall_box(el: lxml_html.HtmlElement) -> bool:
    cls, id_ = el.get("class") or "", el.get("id") or ""
    return ("paywall" in cls or "paywall" in id_ or "regwall" in cls or "subscriber" in cls
            or "premium" in cls or "meter" in cls)


_PAYWALL_WORDS = ("paywall", "regwall", "subscriber", "premium", "meter")


def paywall_markup(tree: lxml_html.HtmlElement, article_node: dict | None, source: str | None = None) -> bool:
    """True if schema.org or a paywall container says the visible text is a teaser.

    ``source`` (the HTML the tree was parsed from) lets a page without any of the class words skip
    the walk over its elements.
    """
    if article_node is not None:
        free = article_node.get("isAccessibleForFree")
        if free is False or (isinstance(free, str) and free.strip().lower() == "false"):
            return True
    if source is not None and not any(word in source for word in _PAYWALL_WORDS):
        return False
    for el in _elements(tree):
        # Some sites mark every article container "paywall-…"; only a short box is a prompt.
        if _paywall_box(el) and any(_PAYWALL_CLASS.match(t) for t in _tokens(el)) and len(el.text_content()) < 800:
            return True
    return False


def _has_child_element(el: lxml_html.HtmlElement) -> bool:
    return next(el.iterchildren(etree.Element), None) is not None


def paywall_wording(tree: lxml_html.HtmlElement) -> bool:
    """True if a short block asks the reader to subscribe/register to keep reading."""
    # = //p|//div[not(*)]|//span[not(*)]|//a|//button, without libxml2's slow XPath
    for el in tree.getroottree().getroot().iter("p", "div", "span", "a", "button"):
        if el.tag in ("div", "span") and _has_child_element(el):
            continue
        text = (el.text or "") if len(el) == 0 else el.text_content()
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


def _comment_like(el: lxml_html.HtmlElement) -> bool:
    """A comment-ish class or id (any case of "comment", respond, disqus, coral, viafoura, openweb, wpdiscuz).

    Tested in Python: libxml2's XPath ``contains(translate(...))`` over every element is slow.
    """
    cls, id_ = el.get("class"), el.get("id")
    if cls is None and id_ is None:
        return False
    cls, id_ = cls or "", id_ or ""
    return ("comment" in cls.lower() or "comment" in id_.lower() or "respond" in cls or id_ == "respond"
            or "disqus" in id_ or "disqus" in cls or "coral" in cls or "viafoura" in cls or "openweb" in cls
            or "openweb" in id_ or "wpdiscuz" in cls or "wpdiscuz" in id_)


def _is_thread(el: lxml_html.HtmlElement) -> bool:
    """A container holding several comment-like children: a discussion thread, whatever its size."""
    marked = 0
    for child in el.iterdescendants():
        if isinstance(child.tag, str) and any(_is_comment_token(t) or "comment" in t.lower() for t in _tokens(child)):
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
    # One list of element proxies serves every pass: lxml.html makes each proxy through a Python-level
    # class lookup, which would dominate the passes if proxies were rebuilt for each of them.
    elements = list(tree.getroottree().getroot().iter(etree.Element))
    first = next(i for i, el in enumerate(elements) if el is root)
    in_root = elements[first:first + sum(1 for _ in root.iter(etree.Element))]  # = root.iter()
    gone: set = set()  # elements of subtrees removed so far
    total = max(1, _text_len(root))
    protectors = None
    for el in [el for el in elements if _comment_like(el)]:
        if el in gone:
            continue  # inside a thread removed already
        if any(_is_comment_token(t) for t in _tokens(el)):
            if protectors is None:
                protectors = _protectors(elements, True, gone)
            if not _protected(el, strict=True, protectors=protectors) and (
                _text_len(el) < 0.5 * total or _is_thread(el)
            ):
                gone.update(el.iter())
                _remove(el)
    total = max(1, _text_len(root))
    protectors = None
    for el in in_root:
        tag = el.tag
        if tag not in _DROP_TAGS:
            cls, id_ = el.get("class"), el.get("id")
            if cls is None and id_ is None:
                continue
            if not any(_is_boiler_token(t) for t in ((cls or "") + " " + (id_ or "")).split()):
                continue
        if el in gone or el.getparent() is None:
            continue
        if protectors is None:
            protectors = _protectors(elements, False, gone)
        if not _protected(el, protectors=protectors) and _text_len(el) < 0.3 * total and not (
            tag not in _DROP_TAGS and _holds_prose(el)
        ):
            gone.update(el.iter())
            _remove(el)
    return tree


def _link_chars(el: lxml_html.HtmlElement) -> int:
    """Characters of link text inside ``el``: how much of a block is links (rails, teasers, share bars)."""
    return sum(len(a.text_content()) for a in el.iter("a"))


def _holds_prose(el: lxml_html.HtmlElement) -> bool:
    """Three or more paragraphs of 30+ words with next to no links: an article's text, whatever the
    class of its wrapper says (a "read-more" box holding the rest of the story, a "promo" wrapper
    around the whole text). Rails, share bars and newsletter boxes hold short or linked lines."""
    if el.tag == "p":
        # one paragraph of the story classed for a meter ("paywall" on each <p> of a magazine's
        # article): prose, where a prompt or a promo line is short
        text = el.text_content()
        return len(text) > 150 and len(text.split()) >= 30 and _link_chars(el) < 0.1 * len(text)
    long_paras = 0
    for p in el.iter("p"):
        text = p.text_content()
        if len(text) > 150 and len(text.split()) >= 30 and (
                _link_chars(p) < 0.1 * len(text)):
            long_paras += 1
            if long_paras >= 3:
                return True
    return False


_NON_WORD = re.compile(r"\W+")


# ASCII non-word characters (what \W matches there) -> space: str.translate + split is ~5x the regex
_ASCII_NON_WORD = str.maketrans({chr(c): " " for c in range(128) if not (chr(c).isalnum() or c == ord("_"))})


def _norm(s: str) -> str:
    if s.isascii():
        return " ".join(s.translate(_ASCII_NON_WORD).split()).lower()
    return _NON_WORD.sub(" ", s).strip().lower()


def _norm_head(s: str, n: int = 80) -> str:
    """``_norm(s)[:n]``, normalising only a prefix of a long ``s`` when that is enough."""
    if len(s) > 3 * n:
        head = _norm(s[: 3 * n])
        if len(head) > n:  # the cut cannot reach the first n characters
            return head[:n]
    return _norm(s)[:n]


_DATELINE = re.compile(
    r"\b\d{1,2}[./-]\d{1,2}[./-](?:19|20)?\d{2}\b|\b(?:19|20)\d{2}[./-]\d{1,2}[./-]\d{1,2}\b"
    r"|\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? \d{1,2},? (?:19|20)\d{2}\b"
    r"|\b\d{1,2}\.? (?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.? (?:19|20)\d{2}\b", re.I)


def _echoes_title(line_n: str, title_n: str) -> bool:
    """The first line is the headline again, give or take a word or two (a kicker, a site prefix)."""
    line_w, title_w = line_n.split(), title_n.split()
    if len(title_w) < 3 or len(line_w) > len(title_w) + 3 or len(line_w) < len(title_w) - 2:
        return False
    shared = len(set(line_w) & set(title_w))
    return shared >= 0.85 * len(set(title_w)) and shared >= 0.7 * len(set(line_w))


def _is_header_line(line: str) -> bool:
    """A byline/dateline: no sentence punctuation, or parts joined by | · • (not running text)."""
    return bool(re.search(r"\s[|·•]\s", line)) or not re.search(r"[.!?。](?:\s|$)", line.rstrip(".") + " ")


def postclean(text: str, title: str | None) -> str:
    """Paragraphs joined by blank lines, minus title echoes, bylines and boilerplate lines."""
    title_n = _norm(title) if title else None
    out: list[str] = []
    for raw in text.splitlines():
        line = re.sub(r"[ \t\u00a0]+", " ", raw).strip()
        if not line:
            continue
        n_words = len(line.split())
        if title_n and (_norm(line) == title_n or (not out and _echoes_title(_norm(line), title_n))):
            continue
        if len(out) < 2 and n_words <= 12 and _DATELINE.search(line) and _is_header_line(line):
            continue  # "Patricio Candia | Palma de Mallorca | 08/01/2014" above the text
        if n_words <= 25 and (_LINE_JUNK.match(line) or _PAYWALL_TEXT.search(line)):
            continue
        if not out and n_words <= 12 and _BYLINE.match(line):
            continue
        out.append(line)
    return "\n\n".join(_trim_tail(_drop_slides(out)))


#: "1/50 Manchester United's absence ...": the counter a slideshow prints on each of its captions
_SLIDE = re.compile(r"^(?:[-•*–]\s*)?(\d{1,3}) ?/ ?(\d{1,3})\s")


def _drop_slides(lines: list[str]) -> list[str]:
    """Drop the captions of a slideshow embedded in the text: three or more lines counted "k/N" with
    one N (a gallery of other stories' pictures inside a newspaper's article: 2,600 words of a
    real page). The text's own numbered points are "1." or "1)", not "1/50"."""
    counted: dict[str, set[int]] = {}
    for line in lines:
        m = _SLIDE.match(line)
        if m and 0 < int(m.group(1)) <= int(m.group(2)):
            counted.setdefault(m.group(2), set()).add(int(m.group(1)))
    slides = {n for n, ks in counted.items() if len(ks) >= 3 and int(n) >= 3}
    if not slides:
        return lines
    return [line for line in lines if not ((m := _SLIDE.match(line)) and m.group(2) in slides)]


#: A heading that opens the reading list, follow links or donation box below an article.
_TAIL_HEAD = re.compile(
    r"^(?:more (?:must-reads|from|on|stories|news|coverage)\b.*|other (?:\w+ )?(?:columns|stories|articles|news)"
    r"|(?:featured|recent|latest|more|related) (?:slide ?shows|(?:photo )?galleries|videos)"
    r"|(?:most )?(?:read|popular|recommended|trending)"
    r"(?: now| stories| articles| next)?:?|you (?:may|might) also (?:like|enjoy)\b.*|related(?: articles| stories)?:?"
    r"|weitere (?:artikel|meldungen|nachrichten|themen)\b.*|mehr zum thema\b.*|lesen sie auch:?|schon gelesen\??"
    r"|zum weiterlesen:?|das könnte sie auch interessieren:?|相关(?:文章|阅读|新闻).*"
    r"|推荐阅读.*|follow us\b.*|support (?:us|our journalism)\b.*"
    # the same headings in the other languages we crawl or the real-page set holds
    r"|(?:noticias|artículos|notas) relacionad[ao]s:?|lea también:?|leia (?:também|mais):?|veja também:?"
    r"|(?:à )?lire aussi:?|sur le même sujet:?|leggi anche:?|articoli correlati:?|lees ook:?|czytaj (?:też|także):?"
    r"|zobacz (?:też|także):?|читайте также:?|関連(?:記事|ニュース).*|관련\s?기사.*|เรื่องที่เกี่ยวข้อง.*"
    r"|tin liên quan:?|bài viết liên quan:?|baca juga:?|berita terkait:?|ilgili haberler:?"
    # a comment form's heading: what follows is its rules or the thread
    r"|(?:leave a |post a )?(?:comments?|reply)|comentar(?:ios)?|kommentare?|commentaires?|commenti|komentarze)"
    r"\s*:?$",  # "Lire aussi :"
    re.I)
#: A site's closing line: its copyright notice ("© 2020 Vox Media, LLC. All rights reserved.", Korean
#: outlets' "무단 전재 및 재배포 금지"), or a wire's "(END)" mark.
_CLOSING = re.compile(
    r"^(?:.{0,60}(?:©|\(c\) ?(?:19|20)\d\d|copyright\b).{0,80}|.{0,80}(?:all rights reserved|alle rechte vorbehalten"
    r"|tous droits réservés|todos los derechos reservados|무단 ?전재|재배포 ?금지|版权所有|無断転載).{0,40}"
    r"|[(\[<] ?(?:end|끝) ?[)\]>])$", re.I)
_EMAIL_LINE = re.compile(r"^\S+@\S+\.[a-z]{2,}$", re.I)
_URL_IN_LINE = re.compile(r"https?://\S+|\bwww\.\S+\.\S+")
_LIST_ITEM = re.compile(r"^[-•*–]\s")
_MORE_SUBHEAD = re.compile(r"^more (?:on|from)\b", re.I)


def _headline_like(line: str) -> bool:
    """A short line in headline style: no closing full stop, most longer words capitalised."""
    words = line.lstrip("-•*– ").split()
    if not words or len(words) > 14 or line.rstrip().endswith((".", ":", ";", ",")):
        return False
    long_words = [w for w in words if len(w) > 3]
    return bool(long_words) and sum(w[0].isupper() for w in long_words) >= 0.6 * len(long_words)


def _teasers(lines: list[str]) -> bool:
    """Other stories' headlines each with its one- or two-sentence teaser: four or more lines under 40
    words, every other one a headline (12 words at most, no closing full stop); or a widget's
    controls and captions: six or more lines, most of them of one to three words ("- Previous",
    "- Fullscreen", "- 1 of 5")."""
    if len(lines) >= 6 and sum(1 for line in lines if len(line.split()) <= 3) >= 0.6 * len(lines):
        return True
    if len(lines) < 4 or any(len(line.split()) > 40 for line in lines):
        return False
    heads = sum(1 for line in lines if len(line.split()) <= 12 and not line.rstrip().endswith((".", "!", "?", ":")))
    return heads >= len(lines) // 2


def _trim_tail(lines: list[str]) -> list[str]:
    """Drop what trails the article: a reading-list heading with only short lines after it, a closing
    run of short lines that are mostly links (social handles, donation URLs), or of bare list items
    headline-length ("- Is Using the Snooze Button Bad for You?") after the last paragraph of prose."""
    if len(lines) < 4:
        return lines
    # teasers and widgets are told by their shape, so they may run longer than a list of links
    for i in range(max(2, len(lines) - 30), len(lines)):
        if len(lines[i].split()) <= 8 and _TAIL_HEAD.match(lines[i]) and (i >= len(lines) - 12 and all(
                len(rest.split()) <= 20 for rest in lines[i + 1:]) or _teasers(lines[i + 1:])):
            lines = lines[:i]
            break
    end = len(lines)
    while end > 3 and len(lines[end - 1].split()) <= 12 and _URL_IN_LINE.search(lines[end - 1]):
        end -= 1
    lines = lines[:end]
    end = len(lines)
    while end > 3 and _LIST_ITEM.match(lines[end - 1]) and _headline_like(lines[end - 1]):
        end -= 1
    if len(lines) - end >= 3:  # one or two closing bullets are the article's own list
        lines = lines[:end]
    end = len(lines)
    while end > 3 and len(lines[end - 1].split()) <= 20 and _CLOSING.match(lines[end - 1]):
        end -= 1
        if lines[end].endswith(("END)", "END]", "END>", "끝)", "끝]", "끝>")) and _EMAIL_LINE.match(lines[end - 1]):
            end -= 1  # the reporter's address above a wire's "(END)"
    lines = lines[:end]
    # a reading-list or comment heading left standing alone (what it headed already gone, or a page
    # that puts its "Weitere Artikel zum Thema" box above the text): the heading is never the article's
    # own words. "More on ..."/"More from ..." can be an article's subheading, so they stay; sizes count
    # CJK characters, so a Chinese sentence that opens with "相关新闻" is not taken for the heading.
    return [line for line in lines if not (
        _size(line) <= 10 and _TAIL_HEAD.match(line.strip("| ")) and not _MORE_SUBHEAD.match(line))]


_CJK_CHARS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\u0e00-\u0e7f\u1000-\u109f]")


def _size(text: str) -> int:
    """Words, counting a character of a script written without spaces (CJK, Thai, Burmese) as one;
    ``split()`` would call a Japanese article of 400 characters a few words and starve it."""
    if text.isascii():
        return len(text.split())
    return len(_CJK_CHARS.findall(text)) + len(_CJK_CHARS.sub(" ", text).split())


def _long_lines(text: str) -> list[str]:
    return [line for line in text.split("\n") if len(line.split()) >= 8]


def _disjoint(text: str, text2: str) -> bool:
    """Each text has prose lines (8+ words) and at most a fifth of either's are in the other."""
    own, other = _long_lines(text), _long_lines(text2)
    return bool(own and other) and sum(line in text2 for line in own) <= 0.2 * len(own) and sum(
        line in text for line in other) <= 0.2 * len(other)


def _run(tree: lxml_html.HtmlElement | str, url: str | None, precision: bool, metadata: bool, date_params: dict):
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
    tree: lxml_html.HtmlElement, url: str | None, title: str | None, date_params: dict,
    with_metadata: bool = True, html_text: str | None = None,
) -> BodyResult:
    """Run trafilatura on a pre-cleaned copy; retry without precision bias if that starves the text.

    ``with_metadata=False`` skips trafilatura's metadata pass (title, author, htmldate, tags), for
    callers whose page metadata already settled those fields; ``meta`` is then empty. ``html_text``
    (the page the tree was parsed from) lets the last resort parse it trafilatura's own way.
    """
    cleaned = preclean(tree)
    # bare_extraction copies a tree it is given, so ``cleaned`` stays intact for the retry and for
    # the paywall check (done later, only if the body comes from here)
    doc = _run(cleaned, url, True, with_metadata, date_params)
    meta = {}
    text = None
    if doc is not None:
        if with_metadata:
            meta = {k: getattr(doc, k, None) for k in ("title", "author", "date", "description", "language",
                                                         "categories", "tags", "image", "sitename")}
        text = doc.text
    # Precision mode sometimes keeps one block of a short or split article: under 300 words the
    # recall run is tried too and wins when it holds at least twice the text (on the real-page set's
    # half A this raised body F1 without lowering precision; a 1.5x bar let in more boilerplate).
    if not text or _size(text) < 300:
        doc2 = _run(cleaned, url, False, False, date_params)
        text2 = doc2.text if doc2 is not None else None
        if text and text2 and _disjoint(text, text2):
            # the two runs kept different parts of the page: both go, in the page's order (real pages of
            # half A: one short article split between the runs; recipes, posts and guides whose text only
            # the precision run found while the recall run, twice as long, kept a consent form, server
            # warnings or a sidebar: taking the longer run alone lost the article)
            first = html_text.find(_long_lines(text2)[0][:30]) if html_text else -1
            second = html_text.find(_long_lines(text)[0][:30]) if html_text else -1
            text = text2 + "\n" + text if 0 <= first < second or (first >= 0 > second) else text + "\n" + text2
        elif text2 and _size(text2) > 2 * _size(text or ""):
            text = text2
    if not text:
        # pre-cleaning can take the only container of the text with it (a page built of boxes we
        # count as boilerplate): trafilatura's own parsing and cleaning of the raw page is the last
        # resort (its parser recovers pages whose lxml.html tree holds no text it can use: a real
        # page of 1,462 words gave nothing from our tree)
        doc3 = _run(html_text if html_text else tree, url, False, False, date_params)
        text = doc3.text if doc3 is not None else None
    if not text:
        return BodyResult(None, meta, cleaned)
    return BodyResult(postclean(text, title) or None, meta, cleaned)


def menu_like(text: str) -> bool:
    """Mostly lines of one to three words: a menu, a tag cloud, a box of links, not an article's text."""
    lines = [line for line in text.split("\n\n") if line.strip()]
    return len(lines) >= 6 and sum(1 for line in lines if len(line.split()) <= 3) >= 0.5 * len(lines)


def whole_page_text(page: lxml_html.HtmlElement | str, url: str | None, title: str | None,
                    date_params: dict) -> str | None:
    """trafilatura's default run on the raw page (the parsed tree, which it copies; no pre-cleaning),
    post-cleaned."""
    doc = _run(page, url, False, False, date_params)
    return postclean(doc.text, title) or None if doc is not None and doc.text else None


_COVER_TAGS = ("p", "li", "blockquote", "h2", "h3", "h4")


def covers_page(tree: lxml_html.HtmlElement, text: str, slack: float = 0.2) -> bool:
    """True if ``text`` (a JSON-LD ``articleBody``) holds the article the page shows, so trafilatura
    would find nothing more.

    The article container is the smallest element holding the paragraphs that match the first and
    the last paragraph of ``text``; its paragraphs, list items, quotes and subheadings that ``text``
    lacks may add up to ``slack`` of its words (a newsletter line, a caption) — more means the
    articleBody is truncated or a summary; paragraphs of 25+ words it lacks may add up to a quarter
    of that (an articleBody without a magazine's drop-cap section openers). No anchor found (the text
    is not in <p> elements, or differs from the page) means False: let trafilatura read the page.
    """
    whole = _norm(text)
    paras = [n for n in (_norm(p) for p in text.split("\n\n")) if len(n.split()) >= 8]
    if not paras:
        return False

    def anchor(para: str) -> lxml_html.HtmlElement | None:
        key = para[:80]
        for el, head in blocks:
            if head == key:
                return el
        return None

    # anchors compare the first 80 normalised characters: pages hold many long <p>s (comments,
    # related posts), so only their heads are normalised here
    blocks = [(el, _norm_head(el.text_content())) for el in tree.iter("p")]
    first = anchor(paras[0])
    last = anchor(paras[-1]) if first is not None else None
    if first is None or last is None:
        return False
    lineage = {first, *first.iterancestors()}
    container = next((el for el in (last, *last.iterancestors()) if el in lineage), None)
    if container is None:
        return False
    budget = slack * len(whole.split())
    missing = prose = 0

    def nested(el: lxml_html.HtmlElement) -> bool:  # counted with its enclosing block
        for ancestor in el.iterancestors():
            if ancestor is container:
                return False
            if ancestor.tag in _COVER_TAGS:
                return True
        return False

    for el in container.iter(*_COVER_TAGS):
        if nested(el):
            continue
        norm = _norm(el.text_content())
        if norm and norm not in whole:
            words = len(norm.split())
            missing += words
            if el.tag == "p" and words >= 25:
                prose += words  # whole paragraphs of the story, not a caption or a newsletter line
            if missing > budget or prose > 0.25 * budget:
                return False
    return True


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


#: class/id words of the block a page shows between its headline and its text (standfirst, dek, chapo)
_INTRO_TOKEN = re.compile(
    r"(?:^|.*[-_])(?:lead|intro|introduction|chapo|chapeau|standfirst|summary|excerpt|subtitle|sub-?headline"
    r"|dek|deck|abstract|teaser|teaser-?text|vorspann|entradilla|occhiello|sommario|bajada)(?:[-_].*)?$", re.I)
_INTRO_TAGS = ("p", "div", "h2", "section", "span")


def _anchor_of(tree: lxml_html.HtmlElement, body: str) -> lxml_html.HtmlElement | None:
    """The page's element holding one of the body's first paragraphs of 8+ words (matched on its head)."""
    tried = 0
    for para in body.split("\n\n")[:6]:
        norm = _norm(para)
        if len(norm.split()) < 8:
            continue
        key = norm[:60]
        for el in tree.iter("p", "div", "li", "blockquote"):
            if el.tag == "div" and _has_child_element(el):
                continue
            if _norm_head(el.text_content(), 60) == key:
                return el
        tried += 1
        if tried == 2:
            break
    return None


def _common_ancestor(a: lxml_html.HtmlElement, b: lxml_html.HtmlElement) -> lxml_html.HtmlElement | None:
    lineage = {a, *a.iterancestors()}
    return next((el for el in (b, *b.iterancestors()) if el in lineage), None)


def _text_outside_figures(el: lxml_html.HtmlElement) -> str:
    """The element's text without its figures' captions and credits (a "lead-asset" box holding the
    lead picture is classed like a lead paragraph; its caption is not a standfirst)."""
    if el.find(".//figure") is None and el.find(".//figcaption") is None:
        return el.text_content()
    parts: list[str] = []

    def walk(node: lxml_html.HtmlElement) -> None:
        if isinstance(node.tag, str) and node.tag not in ("figure", "figcaption"):
            parts.append(node.text or "")
            for child in node:
                walk(child)
        if node is not el:
            parts.append(node.tail or "")

    walk(el)
    return "".join(parts)


def shown_intro(tree: lxml_html.HtmlElement, body: str) -> str | None:
    """The standfirst the page shows between its headline and the body's text when the body lacks it.

    trafilatura (both modes) often skips the block a page shows under its headline: classed as a
    lead, intro, chapo or teaser, or a paragraph in the article's <header>. Readers and the real-page
    set's expected texts count it as the article's first paragraph. Taken only when it is prose (10
    to 150 words, few links, not a caption) and lies after the headline (<h1>) and before the body's
    first paragraph, inside their common container: teasers of other stories sit in rails and lists
    after or beside the text, not between a story's headline and its text.
    """
    anchor = _anchor_of(tree, body)
    if anchor is None:
        return None
    h1 = None
    for el in tree.iter(etree.Element):
        if el is anchor:
            break
        if el.tag == "h1":
            h1 = el
    if h1 is not None:
        container = _common_ancestor(h1, anchor)
    else:
        container = next((a for a in anchor.iterancestors() if a.tag in ("article", "main")), None)
    if container is None or container.tag in ("html", "body") and h1 is None:
        return None
    whole = _norm(body)
    best = None
    started = h1 is None
    anchor_line = {anchor, *anchor.iterancestors()}
    for el in container.iter(etree.Element):
        if el is anchor:
            break
        if el is h1:
            started = True
            continue
        if not started or el.tag not in _INTRO_TAGS or el in anchor_line:
            continue
        classed = any(_INTRO_TOKEN.match(t) for t in _tokens(el))
        if not classed and not (el.tag in ("p", "h2") and any(
                a.tag in ("header", "hgroup") for a in el.iterancestors())):
            continue
        text = " ".join(_text_outside_figures(el).split())
        words = len(text.split())
        if words < 10 or words > 150:
            continue
        links = _link_chars(el)
        if links > 0.3 * len(text) or any(a.tag in ("nav", "aside", "footer", "figure", "figcaption", "a")
                                           for a in el.iterancestors()):
            continue
        if _norm(text)[:60] in whole:
            continue
        if best is not None and text in best:
            continue  # a paragraph of the block taken already
        best = text
    return best


def prose_words(tree: lxml_html.HtmlElement) -> int:
    """Words in the page's prose paragraphs: <p> elements of 15+ words that are not mostly link text."""
    total = 0
    for el in tree.iter("p"):
        text = el.text_content()
        words = len(text.split())
        if words >= 15 and _link_chars(el) < 0.2 * len(text):
            total += words
    return total
