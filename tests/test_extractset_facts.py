"""The real-page extraction set's facts (benchmarks/devsets/extractset.jsonl) and the not-an-article
decisions of benchmarks/extraction_quality.py. The pages themselves live in a scratch folder, so these
checks read only the facts."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _module(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_non_articles_are_labelled_and_can_be_fetched_again():
    build = _module("build_extractset", ROOT / "benchmarks" / "devsets" / "build_extractset.py")
    facts = build.load_facts()
    ids = Counter(f["id"] for f in facts)
    assert not [i for i, n in ids.items() if n > 1]
    shas = Counter(f["sha1"] for f in facts)
    assert not [s for s, n in shas.items() if n > 1], "a page is in the set twice"
    non = [f for f in facts if f["kind"] != "article"]
    assert len(non) >= 50
    for fact in non:
        assert fact["kind"] == "not-article", fact["id"]
        assert fact["page_kind"] in build.PAGE_KINDS, fact["id"]
        assert fact["path"] and (fact.get("sdist") or fact.get("module")), fact["id"]
    listed = {path for _, path, *_ in build.NON_ARTICLES}
    assert listed <= {f["path"] for f in non}, "a hand-picked page has no facts"
    assert len({f["page_kind"] for f in non}) >= 6


def test_not_an_article_decisions_count_refusals_right_and_wrong():
    quality = _module("extraction_quality", ROOT / "benchmarks" / "extraction_quality.py")

    def row(kind: str, refused: bool, page_kind: str | None = None, words: int = 0, half: str = "A") -> dict:
        r = {"kind": kind, "refused": refused, "error": "not_article" if refused else None, "half": half}
        if kind != "article":
            r.update(page_kind=page_kind, body_words=words)
        return r

    rows = [row("not-article", True, "home_page"), row("not-article", False, "home_page", 300),
            row("not-article", False, "live_blog", 120), row("article", True), row("article", False),
            row("article", False)]
    got = quality.decisions(rows)
    assert got["non_articles"] == 3 and got["non_articles_refused"] == 1 and got["non_articles_extracted"] == 2
    assert got["median_words_extracted"] == 300
    assert got["articles"] == 3 and got["articles_refused"] == 1
    assert got["by_kind"] == {"home_page": "1/2", "live_blog": "0/1"}
    assert got["reasons_non_articles"] == {"not_article": 1} and got["reasons_articles"] == {"not_article": 1}


def test_expected_fragments_without_a_charset_are_read_as_utf8(tmp_path):
    # Readability's expected.html declares no charset: read as Latin-1 every accented letter and every
    # CJK character became two or three others, and every extractor scored ~0 on those pages
    build = _module("build_extractset", ROOT / "benchmarks" / "devsets" / "build_extractset.py")
    page = tmp_path / "expected.html"
    page.write_bytes("<div><p>翱翔于太空中</p><p>Le marché du travail est-il trop rigide ?</p></div>".encode())
    text = build.html_text(build.expected_html(page))
    assert "翱翔于太空中" in text and "marché" in text
