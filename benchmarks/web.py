"""The benchmark's fixture web: WordPress-like article pages of real size, feeds, sitemaps, robots.txt,
served by nginx (Debian's; installed with apt-get when missing and running as root) or, failing that,
by Python's ``http.server`` (the results say which).

Layout under ``benchmarks/data/web-v<corpus version>-<n>/<source>/`` mirrors the production URLs, so the project's
``AGGREGATOR_HOST_MAP`` (``{"electrek.co": "http://127.0.0.1:PORT/electrek"}``) points the real spiders
at it. Pages are 50-200 KB: head with meta/OpenGraph, inline CSS and scripts, a large navigation menu,
the article (from the synthetic corpus), JSON-LD ``NewsArticle`` (with ``articleBody`` on about half),
related links, a comment thread and a footer.
"""

from __future__ import annotations

import html
import json
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from benchmarks.common import DATA, log
from benchmarks.corpus import AUTHORS, BOILER, CORPUS_VERSION, PEOPLE, ensure_corpus, read_corpus

SOURCES = ("electrek", "cnevpost")


def _slug(title: str, idx: int) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:70].strip("-")
    return f"{s}-{idx}"


_POOL: dict[str, str] = {}


def _pools() -> dict[str, str]:
    """Random CSS rules and script data, built once; pages take slices (cheap, still incompressible-ish)."""
    if not _POOL:
        rng = random.Random(99)
        letters = "abcdefghijklmnopqrstuvwxyz-"
        rules = []
        for _ in range(9000):
            cls = "".join(rng.choices(letters, k=rng.randint(6, 18)))
            rules.append(f".wp-block-{cls}{{margin:{rng.randint(0, 40)}px {rng.randint(0, 40)}px;"
                         f"color:#{rng.randrange(16**6):06x};font-size:{rng.randint(10, 30)}px;"
                         f"line-height:{rng.random() + 1:.2f}}}\n")
        _POOL["css"] = "".join(rules)
        _POOL["js"] = "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                                          k=400_000))
    return _POOL


def _css(rng: random.Random, kb: int) -> str:
    pool = _pools()["css"]
    n = min(kb * 1024, len(pool) - 1)
    start = rng.randrange(len(pool) - n)
    return pool[start:start + n]


def _js(rng: random.Random, kb: int) -> str:
    pool = _pools()["js"]
    parts = []
    left = kb * 1024
    while left > 0:
        n = min(left, 60_000)
        start = rng.randrange(len(pool) - n)
        parts.append(f'"{pool[start:start + n]}"')
        left -= n
    return ("(function(){var chunks=[" + ",".join(parts) + "];window.__APP__={chunks:chunks};"
            "if(window.ga){ga('send','pageview');}})();")


def _nav(rng: random.Random, host: str) -> str:
    cats = ["tesla", "byd", "nio", "xpeng", "rivian", "lucid", "charging", "batteries", "policy", "reviews",
            "guides", "deals", "podcast", "energy", "solar", "e-bikes", "autonomy", "china", "europe", "us"]
    items = "".join(f'<li class="menu-item"><a href="https://{host}/guides/{c}/">{c.title()}</a>'
                    f'<ul class="sub-menu">' + "".join(
                        f'<li><a href="https://{host}/guides/{c}/{i}/">{c} {i}</a></li>' for i in range(6))
                    + "</ul></li>" for c in rng.sample(cats, len(cats)))
    return f'<nav id="site-navigation" class="main-navigation"><ul id="primary-menu">{items}</ul></nav>'


def page_html(rng: random.Random, art: dict, url: str, host: str, site: str, target_kb: int,
              related: list[tuple[str, str]]) -> str:
    title = html.escape(art["title"])
    paras = art["body"].split("\n\n")
    pub = art["published_at"]
    author = art["authors"][0]
    body_html = "".join(f"<p>{html.escape(p)}</p>\n" for p in paras)
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": art["title"],
          "datePublished": pub, "dateModified": pub, "author": [{"@type": "Person", "name": author}],
          "publisher": {"@type": "Organization", "name": site}, "mainEntityOfPage": {"@id": url}, "url": url,
          "image": [f"https://{host}/wp-content/uploads/{rng.randint(1000, 9999)}.jpg"],
          "keywords": art["tags"]}
    if rng.random() < 0.5:
        ld["articleBody"] = "\n\n".join(paras)
    comments = []
    for i in range(rng.randint(5, 40)):
        who = rng.choice(PEOPLE + AUTHORS)
        text = " ".join(rng.sample(paras, 1)[0].split()[: rng.randint(10, 60)])
        comments.append(f'<li class="comment" id="comment-{i}"><article class="comment-body"><footer>'
                        f'<b class="fn">{html.escape(who)}</b> <time>{pub}</time></footer>'
                        f'<div class="comment-content"><p>{html.escape(text)}</p></div>'
                        f'<div class="reply"><a class="comment-reply-link" href="#respond">Reply</a></div>'
                        f"</article></li>")
    rel = "".join(f'<li><a href="{u}">{html.escape(t)}</a></li>' for u, t in related)
    tags = " ".join(f'<a href="https://{host}/guides/{html.escape(t.lower())}/" rel="tag">{html.escape(t)}</a>'
                    for t in art["tags"])
    core = f"""<!DOCTYPE html>
<html lang="en-US"><head><meta charset="UTF-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} | {site}</title>
<link rel="canonical" href="{url}">
<meta name="description" content="{html.escape(art['lead'][:160])}">
<meta property="og:type" content="article"><meta property="og:title" content="{title}">
<meta property="og:url" content="{url}"><meta property="og:site_name" content="{site}">
<meta property="article:published_time" content="{pub}">
<meta name="author" content="{html.escape(author)}">
<script type="application/ld+json">{json.dumps(ld)}</script>
<style id="global-styles-inline-css">{{CSS}}</style>
<script>{{JS1}}</script>
</head><body class="post-template-default single single-post">
<div id="page" class="site"><header id="masthead" class="site-header"><div class="site-branding">
<a href="https://{host}/" rel="home">{site}</a></div>{_nav(rng, host)}</header>
<div id="content" class="site-content"><main id="main" class="site-main">
<article class="post type-post status-publish format-standard hentry">
<header class="entry-header"><h1 class="entry-title">{title}</h1>
<div class="entry-meta"><span class="byline">by <a class="url fn n" href="https://{host}/author/x/">{html.escape(author)}</a></span>
<time class="entry-date published" datetime="{pub}">{pub[:10]}</time></div></header>
<div class="entry-content">
{body_html}
<p class="newsletter">{rng.choice(BOILER)}</p>
</div>
<footer class="entry-footer"><span class="tags-links">{tags}</span></footer>
</article>
<section class="related-posts"><h3>Related</h3><ul>{rel}</ul></section>
<div id="comments" class="comments-area"><h2 class="comments-title">{len(comments)} comments</h2>
<ol class="comment-list">{''.join(comments)}</ol></div>
</main><aside id="secondary" class="widget-area"><section class="widget"><h2>Trending</h2>
<ul>{rel}</ul></section></aside>
</div><footer id="colophon" class="site-footer"><p>Copyright 2025 {site}. All rights reserved.</p></footer></div>
<script>{{JS2}}</script>
</body></html>
"""
    pad_kb = max(4, target_kb - len(core.encode()) // 1024)
    css_kb = pad_kb * rng.randint(25, 55) // 100
    js1_kb = (pad_kb - css_kb) // 2
    return (core.replace("{CSS}", _css(rng, css_kb)).replace("{JS1}", _js(rng, js1_kb))
            .replace("{JS2}", _js(rng, pad_kb - css_kb - js1_kb)))


def _feed(items: list[dict], host: str, site: str) -> str:
    entries = "".join(
        f"<item><title>{html.escape(i['title'])}</title><link>{i['url']}</link>"
        f"<pubDate>{datetime.fromisoformat(i['published_at'].replace('Z', '+00:00')):%a, %d %b %Y %H:%M:%S +0000}"
        f"</pubDate><guid isPermaLink=\"true\">{i['url']}</guid></item>" for i in items)
    return (f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>{site}</title>'
            f"<link>https://{host}/</link>{entries}</channel></rss>")


def _sitemap(items: list[dict]) -> str:
    urls = "".join(
        f"<url><loc>{i['url']}</loc><news:news><news:publication><news:name>x</news:name><news:language>en"
        f"</news:language></news:publication><news:publication_date>{i['published_at']}</news:publication_date>"
        f"<news:title>{html.escape(i['title'])}</news:title></news:news></url>" for i in items)
    return ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">' + urls + "</urlset>")


def _site_articles(n_pages: int, srcs: dict, data: Path = DATA) -> dict[str, list[dict]]:
    """The corpus articles of an ``n_pages`` web by outlet, dated 7 minutes apart, newest first (no randomness)."""
    arts = list(read_corpus(ensure_corpus(data, 10_000), n_pages))
    pages: dict[str, list[dict]] = {name: [] for name in SOURCES}
    for i, art in enumerate(arts):
        name = SOURCES[i % len(SOURCES)]
        host = srcs[name].domains[0]
        pub = datetime(2025, 11, 20, tzinfo=timezone.utc) - timedelta(minutes=7 * i)
        a = dict(art, published_at=pub.isoformat().replace("+00:00", "Z"))
        a["url"] = f"https://{host}/{pub:%Y/%m/%d}/{_slug(art['title'], i)}/"
        assert srcs[name].is_article_url(a["url"]), a["url"]
        pages[name].append(a)
    return pages


def _write_listings(root: Path, src, items: list[dict]) -> None:
    """robots.txt, the feeds (50 newest), the news sitemaps (all) and the listing pages (30 newest) of one outlet."""
    host = src.domains[0]
    site = src.title
    base = root / src.name
    (base / "robots.txt").write_text("User-agent: *\nDisallow: /wp-admin/\nAllow: /\n")
    for feed_url in src.feeds:
        fpath = base / feed_url.split(host + "/", 1)[1].lstrip("/")
        fpath = fpath / "index.html" if feed_url.endswith("/") else fpath
        fpath.parent.mkdir(parents=True, exist_ok=True)
        fpath.write_text(_feed(items[:50], host, site), encoding="utf-8")
    for sm_url in src.sitemaps:
        spath = base / sm_url.split(host + "/", 1)[1].split("?")[0].lstrip("/")
        spath.parent.mkdir(parents=True, exist_ok=True)
        spath.write_text(_sitemap(items), encoding="utf-8")
    for lp in src.listing_pages:
        lpath = base / lp.split(host + "/", 1)[1].lstrip("/") / "index.html"
        lpath.parent.mkdir(parents=True, exist_ok=True)
        lpath.write_text("<html><body>" + "".join(f'<a href="{a["url"]}">{html.escape(a["title"])}</a>'
                                                  for a in items[:30]) + "</body></html>")


def ensure_web(n_pages: int, data: Path = DATA, bridges: int = 0) -> Path:
    """Generate (once) ``n_pages`` article pages split over :data:`SOURCES`; returns the web root.

    ``bridges`` > 0: the same web plus that many triples of :func:`bridge_articles` (a variant of its own,
    ``web-v<version>-<n>-bridges<k>``: the benchmark's web and numbers stay as they are).
    """
    if bridges:
        return _ensure_bridged(n_pages, bridges, data)
    root = data / f"web-v{CORPUS_VERSION}-{n_pages}"  # pages carry corpus articles: rebuilt with it
    manifest = root / "manifest.json"
    if manifest.exists():
        return root
    from aggregator.sources import load_sources

    srcs = {s.name: s for s in load_sources() if s.name in SOURCES}
    if root.exists():
        shutil.rmtree(root)
    t0 = time.perf_counter()
    rng = random.Random(1234)
    pages = _site_articles(n_pages, srcs, data)
    entries = []
    for name, items in pages.items():
        src = srcs[name]
        host = src.domains[0]
        site = src.title
        base = root / name
        for a in items:
            path = base / a["url"].split(host + "/", 1)[1] / "index.html"
            path.parent.mkdir(parents=True, exist_ok=True)
            related = [(r["url"], r["title"]) for r in rng.sample(items, min(8, len(items)))]
            text = page_html(rng, a, a["url"], host, site, rng.randint(50, 200), related)
            path.write_text(text, encoding="utf-8")
            entries.append({"source": name, "url": a["url"], "path": str(path.relative_to(root)),
                            "bytes": len(text.encode())})
        _write_listings(root, src, items)
    manifest.write_text(json.dumps({"pages": entries}, indent=0))
    total = sum(e["bytes"] for e in entries)
    log(f"fixture web: {len(entries)} pages, {total / 2**20:.0f} MB, generated in {time.perf_counter() - t0:.0f}s")
    return root


def bridge_articles(triples: int, seed: int = 4321) -> list[dict]:
    """Triples whose last member, when it comes last, merges two stories (and their copy clusters) in a crawl.

    Each triple is one wire text and two outlets' excerpts of it: ``head`` (its first 60 %, electrek) and
    ``tail`` (its opening paragraph and last 45 %, cnevpost, five days later), each under a headline of its
    own. The excerpts share the opening paragraph (a delivery figure) and little else (Jaccard ~0.15: no
    copy rule takes them) and lie outside the story tier's window of each other, so until the full text
    arrives they are two stories. The ``full`` text (electrek) holds each excerpt (Jaccard ~0.55, the
    ``partial`` rule: a symmetric copy of both), so it merges the two stories and their copy clusters when
    it is placed after both (aggregator/dedup/core.py: a copy of a member of each of two stories merges
    them). Which member comes last depends on the crawl's order: the full text is the newest of its triple
    in even triples (last when a crawl goes oldest first) and the oldest in odd ones (last when it goes
    newest first, as the sitemaps list them). Triples lie 15 days apart (no links between them), all
    before the base web's days.
    """
    from benchmarks.corpus import SENTENCES, _fill, make_article

    rng = random.Random(seed)
    out = []
    for t in range(triples):
        art = make_article(rng, 900_000 + t, words=900)
        maker, model = art["tags"][:2]
        topic = art["tags"][2]
        # headlines of their own, without figures (the copy tier reads a headline's figures with the text's)
        titles = [f"{maker} {model}: what we know about the {topic} plan", f"Inside the {topic} numbers {maker} "
                  f"gave for the {model}", f"{maker} sets out {model} {topic} details in full"]
        paras = art["body"].split("\n\n")
        # an opening every member keeps, with the figures and names the three agree on
        paras[0] = f"{_fill(rng, SENTENCES[0], maker, model)} {paras[0]}"
        head, tail = paras[:max(2, round(0.6 * len(paras)))], paras[:1] + paras[-max(2, round(0.45 * len(paras))):]
        day = datetime(2025, 10, 30, 12, tzinfo=timezone.utc) - timedelta(days=15 * t)
        parts = [("head", SOURCES[0], head, titles[0], day),
                 ("tail", SOURCES[1], tail, titles[1], day + timedelta(days=5)),
                 ("full", SOURCES[0], paras, titles[2], day + timedelta(days=7 if t % 2 == 0 else -2))]
        for role, source, body, title, pub in parts:
            out.append(dict(art, title=title, body="\n\n".join(body), lead=body[0][:240], source=source,
                            published_at=pub.isoformat().replace("+00:00", "Z"), bridge=f"{t}:{role}"))
    return out


def _ensure_bridged(n_pages: int, triples: int, data: Path) -> Path:
    """The ``n_pages`` web (its pages hard-linked, not rewritten) plus the pages of :func:`bridge_articles`."""
    root = data / f"web-v{CORPUS_VERSION}-{n_pages}-bridges{triples}"
    manifest = root / "manifest.json"
    if manifest.exists():
        return root
    from aggregator.sources import load_sources

    base = ensure_web(n_pages, data)
    srcs = {s.name: s for s in load_sources() if s.name in SOURCES}
    if root.exists():
        shutil.rmtree(root)
    entries = []
    for entry in load_manifest(base):
        path = root / entry["path"]
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(base / entry["path"], path)
        except OSError:  # another file system
            shutil.copyfile(base / entry["path"], path)
        entries.append(entry)
    pages = _site_articles(n_pages, srcs, data)
    rng = random.Random(4321)
    for k, a in enumerate(bridge_articles(triples)):
        src = srcs[a["source"]]
        host = src.domains[0]
        pub = datetime.fromisoformat(a["published_at"].replace("Z", "+00:00"))
        a["url"] = f"https://{host}/{pub:%Y/%m/%d}/{_slug(a['title'], n_pages + k)}/"
        assert src.is_article_url(a["url"]), a["url"]
        path = root / src.name / a["url"].split(host + "/", 1)[1] / "index.html"
        path.parent.mkdir(parents=True, exist_ok=True)
        related = [(r["url"], r["title"]) for r in rng.sample(pages[src.name], 8)]
        text = page_html(rng, a, a["url"], host, src.title, rng.randint(50, 200), related)
        path.write_text(text, encoding="utf-8")
        pages[src.name].append(a)
        entries.append({"source": src.name, "url": a["url"], "path": str(path.relative_to(root)),
                        "bytes": len(text.encode()), "bridge": a["bridge"]})
    for name, items in pages.items():
        items.sort(key=lambda a: a["published_at"], reverse=True)
        _write_listings(root, srcs[name], items)
    manifest.write_text(json.dumps({"pages": entries}, indent=0))
    log(f"fixture web with {triples} bridging triples: {len(entries)} pages")
    return root


def load_manifest(root: Path) -> list[dict]:
    return json.loads((root / "manifest.json").read_text())["pages"]


# --- servers --------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_port(port: int, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            s.settimeout(0.3)
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return True
        time.sleep(0.1)
    return False


def ensure_nginx() -> str | None:
    """Path of nginx, installing Debian's package when missing and we are root; None if unavailable."""
    found = shutil.which("nginx") or (Path("/usr/sbin/nginx").exists() and "/usr/sbin/nginx")
    if found:
        return str(found)
    if hasattr(os, "geteuid") and os.geteuid() == 0 and shutil.which("apt-get"):
        log("installing nginx (apt-get install nginx-light)")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        for pkg in ("nginx-light", "nginx"):
            p = subprocess.run(["apt-get", "install", "-y", "-qq", pkg], env=env, capture_output=True)
            if p.returncode != 0:
                subprocess.run(["apt-get", "update", "-qq"], env=env, capture_output=True)
                p = subprocess.run(["apt-get", "install", "-y", "-qq", pkg], env=env, capture_output=True)
            if p.returncode == 0:
                break
        found = shutil.which("nginx") or (Path("/usr/sbin/nginx").exists() and "/usr/sbin/nginx")
        return str(found) if found else None
    return None


class Server:
    """nginx (preferred) or http.server on 127.0.0.1 serving ``root``; ``kind`` says which."""

    def __init__(self, root: Path, workers: int = 1) -> None:
        self.root = root.resolve()
        self.port = free_port()
        self.workers = workers
        self.proc: subprocess.Popen | None = None
        self.kind = ""

    def start(self) -> Server:
        nginx = ensure_nginx()
        if nginx:
            conf_dir = self.root.parent / f"nginx-{self.root.name}"
            conf_dir.mkdir(parents=True, exist_ok=True)
            user = "user root;" if os.geteuid() == 0 else ""
            mime = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").exists() else ""
            (conf_dir / "nginx.conf").write_text(f"""
{user}
worker_processes {self.workers};
daemon off;
pid {conf_dir}/nginx.pid;
error_log {conf_dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
  {mime}
  default_type application/octet-stream;
  access_log off;
  sendfile on; tcp_nopush on; keepalive_requests 100000;
  client_body_temp_path {conf_dir}/body; proxy_temp_path {conf_dir}/proxy;
  fastcgi_temp_path {conf_dir}/fastcgi; uwsgi_temp_path {conf_dir}/uwsgi; scgi_temp_path {conf_dir}/scgi;
  server {{
    listen 127.0.0.1:{self.port};
    root {self.root};
    index index.html;
    location ~ /feed/$ {{ types {{ }} default_type application/rss+xml; try_files $uri/index.html =404; }}
  }}
}}
""")
            self.proc = subprocess.Popen([nginx, "-p", str(conf_dir), "-c", str(conf_dir / "nginx.conf")],
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
            if _wait_port(self.port):
                self.kind = f"nginx ({nginx}, {self.workers} worker)"
                return self
            self.stop()
            log("nginx did not start; falling back to http.server")
        self.proc = subprocess.Popen([sys.executable, "-m", "http.server", str(self.port), "--bind", "127.0.0.1",
                                      "--directory", str(self.root)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not _wait_port(self.port):
            raise RuntimeError("could not start a local web server")
        self.kind = "Python http.server (nginx unavailable)"
        return self

    def host_map(self) -> dict[str, str]:
        from aggregator.sources import load_sources

        out = {}
        for s in load_sources():
            if s.name in SOURCES:
                for d in s.domains:
                    out[d] = f"http://127.0.0.1:{self.port}/{s.name}"
        return out

    def local_url(self, entry: dict) -> str:
        return f"http://127.0.0.1:{self.port}/{entry['path'][: -len('index.html')]}"

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
