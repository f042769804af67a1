"""Rebuild the real-page extraction set under a scratch folder (never in the repository).

    python benchmarks/devsets/build_extractset.py [--dir /work/scratch/extractset]
    python benchmarks/devsets/build_extractset.py --refresh-facts   # re-derive the Go-module facts

The pages are the saved test pages that news extractors publish:

- newspaper4k's tests/data (page + expected text + metadata) and trafilatura's tests/resources
  (pages that are not articles), from the packages' own sdists on PyPI (fetched with pip);
- go-readability's test-pages (Mozilla Readability's test set: source.html, expected.html = the
  article body Readability should give, expected-metadata.json with title, byline, language,
  publishedTime and ``readerable``), from the Go module ``codeberg.org/readeck/go-readability/v2``;
- go-trafilatura's test-files/comparison (trafilatura's own evaluation pages) with the snippets each
  extraction must and must not contain (scripts/comparison/data.go), from the Go module
  ``github.com/markusmobius/go-trafilatura``;
- pages that are not articles (``NON_ARTICLES`` below, each looked at by hand and labelled with a
  ``page_kind``: home_page, section_front, tag_page, live_blog, video_page, gallery, search_results,
  author_page or other): htmldate's test pages (test-files/mock: the Python htmldate's tests/cache;
  test-files/mediacloud: pages of Media Cloud's date set) from the Go module
  ``github.com/markusmobius/go-htmldate``, and the saved site front and listing pages that
  formasaurus ships as form-classifier training data (formasaurus/data/html, URLs in
  formasaurus/data/index.json), from its sdist on PyPI.

Go modules are fetched by name and version with the ordinary ``go mod download`` (GOPATH inside the
scratch folder). ``extractset.jsonl`` beside this file holds only facts: the collection, where each
page is (module@version or sdist, path), its URL when known, language, kind (article / not-article)
and title/date/author labels where the collection gives them, plus the page's sha1 so a rebuilt
folder is known to hold the same bytes. Expected texts and snippets are written to
``<dir>/expected`` (``<id>.txt`` for body texts, ``<id>.json`` for with/without snippets).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FACTS = HERE / "extractset.jsonl"
DEFAULT_DIR = Path("/work/scratch/extractset")

READABILITY = "codeberg.org/readeck/go-readability/v2@v2.1.3"
GO_TRAFILATURA = "github.com/markusmobius/go-trafilatura@v1.12.2"
GO_HTMLDATE = "github.com/markusmobius/go-htmldate@v1.10.1"
FORMASAURUS = "formasaurus-0.10.0"
PAGE_KINDS = ("home_page", "section_front", "tag_page", "live_blog", "video_page", "gallery", "search_results",
              "author_page", "other")
# Pages that are not articles: (collection, path in the module or sdist, page_kind, what it is, URL).
# Chosen by reading each page; pages that trafilatura's comparison also holds (scored there as articles
# with expected snippets) are left out so no page is in the set twice.
NON_ARTICLES = [
    ("htmldate", "test-files/mock/bayern.de.html", "home_page", "state portal home page",
     "https://bayern.de/"),
    ("htmldate", "test-files/mock/austria.info.html", "home_page", "tourism portal home page",
     "https://www.austria.info/"),
    ("htmldate", "test-files/mock/stuttgart.de.html", "home_page", "city portal home page",
     "http://www.stuttgart.de/"),
    ("htmldate", "test-files/mock/deutschland.de.en.html", "home_page", "portal home page",
     "https://www.deutschland.de/en"),
    ("htmldate", "test-files/mock/blog.wordpress.com.html", "home_page", "blog front page",
     "https://en.blog.wordpress.com/"),
    ("htmldate", "test-files/mock/support.wordpress.com.html", "home_page", "help centre front page",
     "https://en.support.wordpress.com/"),
    ("htmldate", "test-files/mock/die-partei.net.sh.html", "home_page", "party branch front page",
     "https://die-partei.net/sh/"),
    ("htmldate", "test-files/mock/facebook.com.visitaustria.html", "other", "social media profile page",
     "https://www.facebook.com/visitaustria/"),
    ("htmldate", "test-files/mock/greenpeace.org.forests.html", "other", "campaign hub page",
     "http://www.greenpeace.org/international/en/campaigns/forests/asia-pacific/"),
    ("htmldate", "test-files/mock/hundeverein-kreisunna.de.html", "other", "club events page",
     "http://www.hundeverein-kreisunna.de/termine.html"),
    ("htmldate", "test-files/mock/pixabay.com.tos.html", "other", "terms of service",
     "https://pixabay.com/en/service/terms/"),
    ("htmldate", "test-files/mock/intel.com.tos.html", "other", "terms of use",
     "https://www.intel.com/content/www/us/en/legal/terms-of-use.html"),
    ("htmldate", "test-files/mediacloud/1577247412.html", "video_page", "YouTube watch page",
     "https://www.youtube.com/watch?v=Lfw9H63g0OQ"),
    ("htmldate", "test-files/mediacloud/1727473717.html", "live_blog", "live cricket score blog",
     "https://timesofindia.indiatimes.com/sports/cricket/ipl/live-blog/ipl-2020-live-cricket-score-chennai-super-kings-vs-sunrisers-hyderabad-match-14-dubai/liveblog/78447140.cms"),  # noqa: E501
    ("htmldate", "test-files/mediacloud/1630687900.html", "home_page", "radio station home page",
     "https://www.96fm.ie/"),
    ("htmldate", "test-files/mediacloud/1579141678.html", "home_page", "news site front page",
     "http://feedproxy.google.com/~r/NoticiaAlDia/~3/_k8dJ5xnwYw/"),
    ("htmldate", "test-files/mediacloud/1564637733.html", "other", "Google image result page",
     "https://www.google.com/imgres?imgurl=https://i.ebayimg.com/images/g/fjoAAOSwyGZaRXKK/s-l300.jpg&imgrefurl=https://www.ebay.com/itm/Retirement-Gift-Ideas-Retired-Definition-Funny-Retirement-Coffee-Mug-Tea-Cup-/132449557566&tbnid=QBu8niz350w2PM&vet=1&docid=CTb7OqAkXHkPUM&w=300&h=265&itg=1&q=retirement+definition&hl=en-US&source=sh/x/im"),  # noqa: E501
    ("htmldate", "test-files/mediacloud/1522651525.html", "other", "Wikipedia revision diff",
     "https://bn.wikipedia.org/w/index.php?title=Jim_Higgs&diff=3986629&oldid=0"),
    ("htmldate", "test-files/mediacloud/1571322029.html", "other", "wiki revision diff",
     "https://wiki.d-addicts.com/index.php?title=Park_Ye_Jin&diff=591343&oldid=588001"),
    ("htmldate", "test-files/mediacloud/1552005464.html", "other", "forum thread",
     "https://hypixel.net/threads/what-whered-it-go.2675645/"),
    ("htmldate", "test-files/mediacloud/1676646261.html", "other", "tweet photo page",
     "https://twitter.com/Reuters/status/1281836879789404160/photo/1"),
    ("htmldate", "test-files/mediacloud/1587353145.html", "other", "JSTOR catalogue page",
     "https://www.jstor.org/stable/2669240?origin=crossref"),
    ("htmldate", "test-files/mediacloud/1687351353.html", "other", "legal notice record page",
     "https://www.dln.com/newcorporations/details/ref_index/438057"),
    ("htmldate", "test-files/mediacloud/1588233953.html", "video_page", "news video page",
     "https://www.couriermail.com.au/news/national/98yearold-wwii-veteran-beats-covid19-receives-ovation-from-hospital-staff/video/ca6ce285879e2291307f3fc8148670aa"),  # noqa: E501
    ("htmldate", "test-files/mediacloud/1643070775.html", "video_page", "news video page",
     "https://www.uol.com.br/carros/videos/2020/06/23/comprador-capota-vw-polo-retirando-carro-da-concessionaria-assista.htm"),  # noqa: E501
    ("htmldate", "test-files/mediacloud/1641303898.html", "video_page", "TV programme video page",
     "https://www.slobodnaevropa.org/a/30657941.html"),
    ("formasaurus", "formasaurus/data/html/8.html", "home_page", "site front page",
     "http://arijaycomet.com/"),
    ("formasaurus", "formasaurus/data/html/9.html", "home_page", "site front page",
     "http://arstechnica.com/"),
    ("formasaurus", "formasaurus/data/html/42.html", "home_page", "site front page",
     "http://carnegieendowment.org"),
    ("formasaurus", "formasaurus/data/html/72.html", "home_page", "site front page",
     "http://dnoticias.pt/"),
    ("formasaurus", "formasaurus/data/html/86.html", "home_page", "site front page",
     "https://espanolparainmigrantes.wordpress.com/"),
    ("formasaurus", "formasaurus/data/html/93.html", "home_page", "site front page",
     "http://fightcopyrighttrolls.com/"),
    ("formasaurus", "formasaurus/data/html/129.html", "home_page", "site front page",
     "http://fr.itweb.tv/"),
    ("formasaurus", "formasaurus/data/html/143.html", "home_page", "site front page",
     "http://grantland.com/"),
    ("formasaurus", "formasaurus/data/html/192.html", "home_page", "site front page",
     "http://lokalavisen.dk/"),
    ("formasaurus", "formasaurus/data/html/201.html", "home_page", "site front page",
     "http://miravalencia.com/"),
    ("formasaurus", "formasaurus/data/html/265.html", "home_page", "site front page",
     "http://rumorfix.com/"),
    ("formasaurus", "formasaurus/data/html/297.html", "home_page", "site front page",
     "http://sportinglife.bg"),
    ("formasaurus", "formasaurus/data/html/313.html", "home_page", "site front page",
     "http://tagcome.com/"),
    ("formasaurus", "formasaurus/data/html/316.html", "home_page", "site front page",
     "http://teknoisme.com/"),
    ("formasaurus", "formasaurus/data/html/321.html", "tag_page", "tag / category listing",
     "https://torrentfreak.com/tag/torrentspy/"),
    ("formasaurus", "formasaurus/data/html/337.html", "home_page", "site front page",
     "http://vesti-sochi.tv/"),
    ("formasaurus", "formasaurus/data/html/359.html", "home_page", "site front page",
     "http://whengeekswed.com/"),
    ("formasaurus", "formasaurus/data/html/409.html", "home_page", "site front page",
     "http://www.bloggermint.com/"),
    ("formasaurus", "formasaurus/data/html/422.html", "home_page", "site front page",
     "http://www.brief.pl/"),
    ("formasaurus", "formasaurus/data/html/435.html", "home_page", "site front page",
     "http://www.businessweek.com/"),
    ("formasaurus", "formasaurus/data/html/500.html", "home_page", "site front page",
     "http://www.crochetmagazine.com/"),
    ("formasaurus", "formasaurus/data/html/525.html", "home_page", "site front page",
     "http://www.digitaltrends.com/"),
    ("formasaurus", "formasaurus/data/html/546.html", "home_page", "site front page",
     "http://www.elandroidelibre.com/"),
    ("formasaurus", "formasaurus/data/html/563.html", "home_page", "site front page",
     "http://www.farodevigo.es/"),
    ("formasaurus", "formasaurus/data/html/756.html", "home_page", "site front page",
     "http://www.nieuwsblad.be/"),
    ("formasaurus", "formasaurus/data/html/787.html", "home_page", "site front page",
     "http://www.pcgames.de/"),
    ("formasaurus", "formasaurus/data/html/824.html", "home_page", "site front page",
     "http://www.rightwingtribune.com/"),
    ("formasaurus", "formasaurus/data/html/889.html", "home_page", "site front page",
     "http://www.trust.org/"),
    ("formasaurus", "formasaurus/data/html/899.html", "tag_page", "tag / category listing",
     "http://www.unfuckyourhabitat.com/category/tips/"),
    ("formasaurus", "formasaurus/data/html/630.html", "section_front", "newspaper sport section front",
     "http://www.independent.ie/sport/soccer/"),
    ("formasaurus", "formasaurus/data/html/130.html", "section_front", "tech video site category front",
     "http://fr.itweb.tv/Mobilite_r14.html"),
    ("formasaurus", "formasaurus/data/html/340.html", "section_front", "fitness magazine section front",
     "http://vorespuls.dk/sektion/svoemning"),
    ("formasaurus", "formasaurus/data/html/39.html", "section_front", "think-tank publications listing",
     "http://carnegieendowment.org/publications/"),
    ("formasaurus", "formasaurus/data/html/719.html", "live_blog", "live updates of an ice-hockey game",
     "http://www.mlive.com/redwings/index.ssf/2014/12/live_updates_detroit_red_wings_22.html"),
    ("formasaurus", "formasaurus/data/html/82.html", "home_page", "encyclopedia main page",
     "http://en.wikipedia.org/wiki/Main_Page"),
    ("formasaurus", "formasaurus/data/html/197.html", "gallery", "captioned picture gallery",
     "http://memebase.cheezburger.com/verydemotivational"),
    ("formasaurus", "formasaurus/data/html/399.html", "other", "sports results and odds tables",
     "http://www.betexplorer.com/soccer/"),
    ("formasaurus", "formasaurus/data/html/501.html", "video_page", "TV live-stream page",
     "http://www.crtvg.es/tvg/tvg-en-directo"),
    ("formasaurus", "formasaurus/data/html/502.html", "other", "TV catch-up service page (login needed)",
     "http://www.crtvg.es/ver-despois"),
    ("formasaurus", "formasaurus/data/html/493.html", "home_page", "consumer magazine home page",
     "http://www.consumerreports.org/cro/index.htm"),
    ("formasaurus", "formasaurus/data/html/320.html", "home_page", "Chinese newspaper front page",
     "http://toronto.singtao.ca/?variant=zh-hk"),
    ("formasaurus", "formasaurus/data/html/767.html", "search_results", "job search results",
     "http://www.office-angels.com/en-GB/Pages/all-job-results.aspx?kws=graduate"),
    ("formasaurus", "formasaurus/data/html/364.html", "search_results", "shop search results",
     "https://www.1000bulbs.com/search?category=5942&filter[Brand][0]=Hortilux&sel[Brand][0]=Hortilux&sort=price_a"),
    ("formasaurus", "formasaurus/data/html/446.html", "search_results", "shop search results",
     "http://www.campingworld.com/search/index.cfm?Ntt=&N=0&Ntx=mode+matchallpartial&Ntk=primary&Nty=1&Ntpc=1"),
    ("formasaurus", "formasaurus/data/html/568.html", "search_results", "procurement notice search results",
     "https://www.fbo.gov/?s=opportunity&mode=list&tab=list"),
    ("formasaurus", "formasaurus/data/html/643.html", "search_results", "shop search results",
     "http://www.jacamo.co.uk/shop/1/_/N-zhhZ11emZ1ytvh3i/products/show.action?hnid=40005&originalSearchTerm=New%20In&cm_sp=CGN-TopNav-_-NavigationGroup-_-NewIn"),  # noqa: E501
    ("formasaurus", "formasaurus/data/html/257.html", "home_page", "package index home page",
     "https://pypi.python.org/pypi"),
    ("formasaurus", "formasaurus/data/html/124.html", "other", "forum thread",
     "https://forums.oneplus.net/threads/name-a-city-with-the-next-letter-of-the-alphabet-game.160418/"),
    ("formasaurus", "formasaurus/data/html/106.html", "other", "forum thread",
     "http://forum.grasscity.com/toking-tools-qa/1390809-bongs-vs-bubblers.html#entry22210173"),
    ("formasaurus", "formasaurus/data/html/120.html", "other", "forum board index",
     "http://forums.mazdaworld.org/103-929/"),
    ("formasaurus", "formasaurus/data/html/589.html", "tag_page", "ebook genre listing",
     "http://www.globalgreyebooks.com/Pages/mysticism.html"),
    ("formasaurus", "formasaurus/data/html/427.html", "other", "event browse page",
     "http://www.brownpapertickets.com/browse.html"),
]
# page_kind of the non-articles that the older collections already held.
KNOWN_PAGE_KINDS = {"np4k-cnn_main_site": "home_page", "np4k-wired_main_site": "home_page",
                    "np4k-yahoo_main_site": "home_page", "traf-mozilla_org_firefox_developer": "other",
                    "traf-apache": "other", "traf-scam": "other", "rdb-mathjax": "other", "rdb-mozilla-2": "other"}
# go-readability's test-pages mix real saved pages with hand-written unit cases ("ol", "rtl-1",
# "basic-tags-cleaning"); the hand-written ones are all under 4 kB, the real ones over 10 kB.
REAL_PAGE_BYTES = 10_000
_BLOCK = {"p", "div", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "br", "tr", "td", "th", "table",
          "blockquote", "pre", "section", "article", "figure", "figcaption", "dd", "dt", "hr"}


def load_facts(path: Path = FACTS) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def collection_of(fact: dict) -> str:
    if fact.get("collection"):
        return fact["collection"]
    return "newspaper4k" if "newspaper4k" in (fact.get("sdist") or "") else "trafilatura-tests"


def go_module_dir(module: str, target: Path) -> Path:
    """``go mod download`` the module into ``<target>/gopath`` and return its unpacked folder."""
    env = {**os.environ, "GOPATH": str(target / "gopath"), "GOFLAGS": "-modcacherw", "GOTOOLCHAIN": "local"}
    out = subprocess.run(["go", "mod", "download", "-json", module], env=env, check=True,
                         capture_output=True, text=True, cwd=target).stdout
    return Path(json.loads(out)["Dir"])


def comparison_data(module_dir: Path, target: Path) -> dict[str, dict]:
    """go-trafilatura's comparisonData map (URL -> entry) as JSON, by compiling data.go with a dumper."""
    work = target / "go-dump"
    work.mkdir(parents=True, exist_ok=True)
    (work / "data.go").write_bytes((module_dir / "scripts/comparison/data.go").read_bytes())
    (work / "go.mod").write_text("module dump\n\ngo 1.21\n")
    (work / "main.go").write_text('package main\n\nimport (\n\t"encoding/json"\n\t"os"\n)\n\n'
                                  "func main() { _ = json.NewEncoder(os.Stdout).Encode(comparisonData) }\n")
    env = {**os.environ, "GOPATH": str(target / "gopath"), "GOTOOLCHAIN": "local", "GOFLAGS": "-mod=mod"}
    out = subprocess.run(["go", "run", "."], env=env, check=True, capture_output=True, text=True, cwd=work).stdout
    return json.loads(out)


def html_text(html: bytes | str) -> str:
    """Visible text of an HTML fragment, a line break after each block element."""
    import lxml.html

    root = lxml.html.fromstring(html)
    for bad in root.xpath("//script|//style|//noscript"):
        bad.drop_tree()
    for el in root.iter():
        if isinstance(el.tag, str) and el.tag.lower() in _BLOCK:
            el.tail = "\n" + (el.tail or "")
    return re.sub(r"[ \t\r\f\v]+", " ", re.sub(r"\n\s*\n+", "\n", root.text_content())).strip()


def expected_html(path: Path) -> str:
    """Readability's expected.html as text: UTF-8 fragments that declare no charset (given to lxml as
    bytes they were read as Latin-1, every non-ASCII letter turned into two or three others)."""
    return path.read_bytes().decode("utf-8")


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data).hexdigest()


def _language(declared: str | None, *texts: str) -> str | None:
    from aggregator.extract.language import detect_language, normalize_lang

    if normalize_lang(declared):
        return normalize_lang(declared)
    for text in texts:
        if text and (found := detect_language(text)):
            return found
    return None


def _day(value: str | None) -> str | None:
    m = re.match(r"\d{4}-\d{2}-\d{2}", value or "")
    return m.group(0) if m else None


def readability_facts(target: Path) -> list[dict]:
    root = go_module_dir(READABILITY, target)
    facts = []
    for folder in sorted(p for p in (root / "test-pages").iterdir() if p.is_dir()):
        source = (folder / "source.html").read_bytes()
        if len(source) < REAL_PAGE_BYTES:
            continue
        meta = json.loads((folder / "expected-metadata.json").read_text(encoding="utf-8"))
        expected = html_text(expected_html(folder / "expected.html"))
        kind = "article" if meta.get("readerable") and len(expected) >= 200 else "not-article"
        lang_decl = re.search(rb"<html[^>]*\blang=[\"']?([A-Za-z_-]+)", source[:5000])
        facts.append({
            "id": f"rdb-{folder.name}", "collection": "readability", "module": READABILITY,
            "path": f"test-pages/{folder.name}/source.html",
            "expected_path": f"test-pages/{folder.name}/expected.html" if kind == "article" else None,
            "url": None, "language": _language(meta.get("language")
                                               or (lang_decl.group(1).decode() if lang_decl else None), expected),
            "kind": kind, "title": meta.get("title") or None, "date": _day(meta.get("publishedTime")),
            "author": meta.get("byline") or None, "sha1": _sha1(source)})
        if kind != "article":
            facts[-1]["page_kind"] = KNOWN_PAGE_KINDS.get(facts[-1]["id"], "other")
    return facts


def comparison_facts(target: Path) -> list[dict]:
    root = go_module_dir(GO_TRAFILATURA, target)
    data = comparison_data(root, target)
    facts, seen = [], set()
    for url, entry in sorted(data.items(), key=lambda kv: kv[1]["file"]):
        page = root / "test-files/comparison" / entry["file"]
        if not page.exists() or not entry.get("with"):
            continue
        source = page.read_bytes()
        ident = "trf-" + re.sub(r"[^\w.-]+", "_", entry["file"].removesuffix(".html"))
        if ident in seen:
            continue
        seen.add(ident)
        lang_decl = re.search(rb"<html[^>]*\blang=[\"']?([A-Za-z_-]+)", source[:5000])
        snippets = " ".join(entry["with"])
        facts.append({
            "id": ident, "collection": "trafilatura-comparison", "module": GO_TRAFILATURA,
            "path": f"test-files/comparison/{entry['file']}", "expected_path": "scripts/comparison/data.go",
            "url": url, "language": _language(lang_decl.group(1).decode() if lang_decl else None,
                                              (entry.get("title") or "") + " " + snippets),
            "kind": "article", "title": entry.get("title") or None, "date": _day(entry.get("date")),
            "author": "; ".join(entry.get("author") or []) or None, "sha1": _sha1(source)})
    return facts


def _page_title(root) -> str | None:
    title = re.sub(r"\s+", " ", root.xpath("string(//title)")).strip()
    return title[:200] or None


def non_article_facts(target: Path) -> list[dict]:
    """Facts of the hand-picked ``NON_ARTICLES`` (language from the page's lang or its text)."""
    import lxml.html

    from aggregator.extract.decode import decode_html

    htmldate_root = go_module_dir(GO_HTMLDATE, target)
    with tempfile.TemporaryDirectory() as tmp:
        sdist_root = _unpacked_sdist(FORMASAURUS, target, Path(tmp))
        facts = []
        for collection, path, page_kind, page_type, url in NON_ARTICLES:
            assert page_kind in PAGE_KINDS, page_kind
            source = ((htmldate_root if collection == "htmldate" else sdist_root) / path).read_bytes()
            # decoded the way our extractor decodes, so titles are not read in a wrong charset
            root = lxml.html.fromstring(re.sub(r"^\s*<\?xml[^>]*>", "", decode_html(source)[0]))
            stem = re.sub(r"[^\w.-]+", "_", path.rsplit("/", 1)[1].removesuffix(".html"))
            fact = {"id": f"{'hd' if collection == 'htmldate' else 'fs'}-{stem}", "collection": collection,
                    "kind": "not-article", "page_kind": page_kind, "page_type": page_type, "path": path,
                    "url": url}
            fact.update({"module": GO_HTMLDATE} if collection == "htmldate" else {"sdist": FORMASAURUS})
            lang = root.xpath("string(//html/@lang)") or None
            fact.update({"language": _language(lang, html_text(source)[:3000]), "title": _page_title(root),
                         "sha1": _sha1(source)})
            facts.append(fact)
    return facts


def _unpacked_sdist(sdist: str, target: Path, into: Path) -> Path:
    """Fetch ``name-version`` from PyPI with pip (cached under ``<target>/sdists``) and unpack it."""
    cache = target / "sdists"
    cache.mkdir(parents=True, exist_ok=True)
    name, _, version = sdist.rpartition("-")
    names = (f"{sdist}.tar.gz", f"{sdist.replace('-', '_', 1)}.tar.gz")
    archive = next((cache / n for n in names if (cache / n).exists()), None)
    if archive is None:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                        f"{name}=={version}", "-d", str(cache)], check=True)
        archive = next(cache / n for n in names if (cache / n).exists())
    with tarfile.open(archive) as tar:
        tar.extractall(into, filter="data")
    return next(into.iterdir())


def refresh_facts(target: Path) -> int:
    """Rewrite the facts derived from Go modules and the hand-picked non-articles in extractset.jsonl
    (the newspaper4k and trafilatura sdist facts stay as they are)."""
    kept = [f for f in load_facts() if not f.get("module") and f.get("collection") not in ("formasaurus", "htmldate")]
    for fact in kept:
        if fact["kind"] != "article":
            fact["page_kind"] = KNOWN_PAGE_KINDS.get(fact["id"], "other")
    facts = kept + readability_facts(target) + comparison_facts(target) + non_article_facts(target)
    FACTS.write_text("".join(json.dumps(f, ensure_ascii=False) + "\n" for f in facts), encoding="utf-8")
    print(f"{len(facts)} facts written to {FACTS}")
    return 0


def build(target: Path) -> int:
    facts = load_facts()
    (target / "pages").mkdir(parents=True, exist_ok=True)
    (target / "expected").mkdir(parents=True, exist_ok=True)
    bad = 0

    def keep(fact: dict, page: bytes) -> bool:
        nonlocal bad
        if _sha1(page) != fact["sha1"]:
            print(f"{fact['id']}: page differs from the recorded one", file=sys.stderr)
            bad += 1
            return False
        (target / "pages" / f"{fact['id']}.html").write_bytes(page)
        return True

    sdists = sorted({f["sdist"] for f in facts if f.get("sdist")})
    cache = target / "sdists"
    cache.mkdir(exist_ok=True)
    for sdist in sdists:
        name, _, version = sdist.rpartition("-")
        if not list(cache.glob(f"{name.replace('-', '_')}-{version}.tar.gz")) and not list(
                cache.glob(f"{name}-{version}.tar.gz")):
            subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                            f"{name}=={version}", "-d", str(cache)], check=True)
    for sdist in sdists:
        archive = next(cache.glob(f"{sdist}.tar.gz"), None) or next(cache.glob(f"{sdist.replace('-', '_', 1)}.tar.gz"))
        with tarfile.open(archive) as tar, tempfile.TemporaryDirectory() as tmp:
            tar.extractall(tmp, filter="data")
            root = next(Path(tmp).iterdir())
            for fact in (f for f in facts if f.get("sdist") == sdist):
                if keep(fact, (root / fact["path"]).read_bytes()) and fact.get("expected_path"):
                    (target / "expected" / f"{fact['id']}.txt").write_bytes((root / fact["expected_path"]).read_bytes())

    for module in sorted({f["module"] for f in facts if f.get("module")}):
        root = go_module_dir(module, target)
        data = comparison_data(root, target) if module == GO_TRAFILATURA else {}
        by_file = {entry["file"]: entry for entry in data.values()}
        for fact in (f for f in facts if f.get("module") == module):
            if not keep(fact, (root / fact["path"]).read_bytes()) or not fact.get("expected_path"):
                continue
            if module == GO_TRAFILATURA:
                entry = by_file[fact["path"].rsplit("/", 1)[1]]
                snippets = {"with": entry.get("with") or [], "without": entry.get("without") or []}
                (target / "expected" / f"{fact['id']}.json").write_text(json.dumps(snippets, ensure_ascii=False))
            else:
                (target / "expected" / f"{fact['id']}.txt").write_text(
                    html_text(expected_html(root / fact["expected_path"])), encoding="utf-8")
    print(f"{len(facts) - bad} pages in {target}")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    parser.add_argument("--refresh-facts", action="store_true",
                        help="re-derive the Go-module facts in extractset.jsonl from the modules")
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    if args.refresh_facts:
        if str(HERE.parents[1]) not in sys.path:
            sys.path.insert(0, str(HERE.parents[1]))
        refresh_facts(args.dir.resolve())
    return build(args.dir.resolve())


if __name__ == "__main__":
    raise SystemExit(main())
