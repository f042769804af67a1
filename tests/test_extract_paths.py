"""The cheap paths of the extraction chain give what the full chain gives.

A complete JSON-LD articleBody that covers the page's article container skips trafilatura; page
metadata that settles title, authors, date and tags skips trafilatura's metadata pass. Neither may
change a result: each fixture page is extracted both ways and compared.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from aggregator.extract import ExtractionError, extract_article
from aggregator.extract import article as article_mod
from aggregator.extract import body as body_mod

WEB = Path(__file__).parent / "fixtures" / "web"
FETCHED = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)
PAGES = sorted(p for p in WEB.rglob("index.html")) + sorted(WEB.rglob("*.php"))


def _headers(path: Path) -> dict:
    headers = {"Content-Type": "text/html"}
    sidecar = Path(str(path) + ".headers.json")
    if sidecar.exists():
        headers.update(json.loads(sidecar.read_text()).get("headers", {}))
    return headers


def _extract(path: Path) -> dict:
    url = "https://" + path.relative_to(WEB).parts[0] + ".example/" + "/".join(path.relative_to(WEB).parts[1:])
    try:
        return extract_article(path.read_bytes(), url, headers=_headers(path), fetched_at=FETCHED)
    except ExtractionError as exc:
        return {"error": exc.reason}


def _full_chain(monkeypatch) -> None:
    """Always run trafilatura, always with its metadata pass (the chain before the cheap paths)."""
    real = body_mod.extract_body
    monkeypatch.setattr(article_mod, "covers_page", lambda *a, **k: False)
    monkeypatch.setattr(article_mod, "extract_body", lambda *a, **k: real(*a, **{**k, "with_metadata": True}))


def test_cheap_paths_change_no_result(monkeypatch):
    assert len(PAGES) >= 30
    cheap = {p: _extract(p) for p in PAGES}
    _full_chain(monkeypatch)
    full = {p: _extract(p) for p in PAGES}
    for page in PAGES:
        assert cheap[page] == full[page], page.relative_to(WEB)
    assert sum(r.get("extracted_by", {}).get("body") == "jsonld" for r in cheap.values()) >= 3


PARAS = [f"Paragraph {i} of the report: the battery maker said cell output at the new plant would reach "
         f"{i + 10} gigawatt hours next year as two more production lines start in the spring." for i in range(8)]


def _page(article_body: str) -> str:
    ld = {"@context": "https://schema.org", "@type": "NewsArticle", "headline": "Battery plant expands",
          "datePublished": "2026-11-20T08:00:00Z", "author": {"@type": "Person", "name": "Ada Lovelace"},
          "keywords": ["batteries"], "articleBody": article_body}
    paras = "".join(f"<p>{p}</p>" for p in PARAS)
    return (f"<html><head><title>Battery plant expands</title><script type='application/ld+json'>{json.dumps(ld)}"
            f"</script></head><body><article><h1>Battery plant expands</h1><div class='entry-content'>{paras}</div>"
            "</article></body></html>")


def test_complete_articlebody_skips_trafilatura(monkeypatch):
    def no_trafilatura(*args, **kwargs):
        raise AssertionError("trafilatura ran")

    monkeypatch.setattr(article_mod, "extract_body", no_trafilatura)
    art = extract_article(_page("\n\n".join(PARAS)), "https://x.example/2026/11/20/plant/", fetched_at=FETCHED)
    assert art["extracted_by"]["body"] == "jsonld" and art["body"].count("Paragraph") == 8
    assert art["authors"] == ["Ada Lovelace"] and art["published_at"] == "2026-11-20T08:00:00Z"


@pytest.mark.parametrize("article_body", [
    "\n\n".join(PARAS[:4]),  # truncated without an ellipsis: half the page is missing
    "A summary written for search engines, not the story itself: " + " ".join(["the plant grows"] * 15),
])
def test_articlebody_that_misses_the_page_text_goes_to_trafilatura(article_body):
    art = extract_article(_page(article_body), "https://x.example/2026/11/20/plant/", fetched_at=FETCHED)
    assert art["extracted_by"]["body"] == "trafilatura"
    assert all(f"Paragraph {i} " in art["body"] for i in range(8))


def test_covers_page_on_the_article_container():
    from aggregator.extract.article import _parse_tree

    tree = _parse_tree(_page(""))
    assert body_mod.covers_page(tree, "\n\n".join(PARAS))
    assert not body_mod.covers_page(tree, "\n\n".join(PARAS[:5]))
    assert not body_mod.covers_page(tree, "Nothing on this page reads like this sentence at all, really.")
