"""The extraction chain, one behaviour per test, on fixture pages and small hand-made pages."""

from __future__ import annotations

import json
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from aggregator.extract import ExtractionError, extract_article
from aggregator.items import FIELD_NAMES, article_id

WEB = Path(__file__).parent / "fixtures" / "web"
EXPECTED = Path(__file__).parent / "fixtures" / "expected"
FETCHED = datetime(2026, 11, 25, 12, 0, tzinfo=timezone.utc)

PARAS = " ".join(
    f"<p>Paragraph {i}: the carmaker said deliveries of the new electric crossover would begin in the spring, "
    f"with the larger battery pack arriving a few months later for customers in Europe.</p>" for i in range(6)
)


def page(name: str) -> tuple[bytes, dict]:
    """A fixture page's bytes and the headers the fixture server would send."""
    path = WEB / name
    headers = {"Content-Type": "text/html"}
    sidecar = Path(str(path) + ".headers.json")
    if sidecar.exists():
        headers.update(json.loads(sidecar.read_text())["headers"])
    return path.read_bytes(), headers


def run(name: str, url: str, **kwargs) -> dict:
    data, headers = page(name)
    return extract_article(data, url, headers=headers, fetched_at=FETCHED, **kwargs)


def expected(source: str, slug: str) -> dict:
    return json.loads((EXPECTED / source / f"{slug}.json").read_text())


def test_output_has_the_article_fields_and_provenance():
    url = "https://techcrunch.com/2026/11/19/rivian-spins-out-software-unit-rivian-systems/"
    art = run("techcrunch/2026/11/19/rivian-spins-out-software-unit-rivian-systems/index.html", url)
    assert set(art) == set(FIELD_NAMES) - {"dup_id", "story_id", "version"}
    assert art["id"] == article_id(art["canonical_url"])
    assert art["source"] == "techcrunch" and art["fetched_at"] == "2026-11-25T12:00:00Z"
    assert art["word_count"] > 250 and len(art["content_hash"]) == 40
    assert art["extracted_by"]["body"] == "jsonld"  # complete articleBody beats text heuristics
    assert art["published_at"] == "2026-11-19T17:00:00Z" and art["published_offset"] == "-08:00"


def test_yoast_graph_resolves_author_reference_and_section():
    exp = expected("cleantechnica", "norway-ev-share-october-97-8-percent")
    art = run(exp["fixture"], exp["url"])
    assert art["authors"] == ["Rowan Fisher"] and art["extracted_by"]["authors"] == "jsonld"
    assert art["section"] == "Clean Transport"
    assert art["image"].startswith("https://cleantechnica.com/wp-content/uploads/")


def test_comments_newsletter_related_and_captions_stay_out_of_the_body():
    exp = expected("electrek", "catl-sodium-ion-battery-200-wh-kg-2027")
    body = run(exp["fixture"], exp["url"])["body"]
    for junk in ("thoughts on", "says:", "Leave a Reply", "newsletter", "Related stories", "FTC:",
                 "press material", "Popular now", "Facebook"):
        assert junk not in body, junk
    assert body.startswith("CATL has pulled the wraps off")
    assert "Electrek's Take" in body  # a subheading inside the article is text, not boilerplate


def test_opengraph_only_page_with_protocol_relative_image_and_byline_author():
    exp = expected("arenaev", "bmw_ix3_50_xdrive_range_test-news-4807")
    art = run(exp["fixture"], exp["url"])
    assert art["title"] == exp["title"] and art["extracted_by"]["title"] == "opengraph"
    assert art["image"].startswith("https://fdn.arenaev.com/")
    assert art["authors"] == ["Victor"]
    assert art["published_at"].startswith("2026-11-19")


def test_amp_page_points_to_its_canonical():
    exp = expected("electrek", "catl-sodium-ion-battery-200-wh-kg-2027-amp")
    art = run(exp["fixture"], exp["url"])
    assert exp["url"].endswith("/amp/")
    assert art["canonical_url"] == exp["canonical_url"] and "amp" in art["flags"]
    assert art["id"] == article_id(exp["canonical_url"])


def test_tracking_parameters_and_relative_canonical_are_normalised():
    exp = expected("cleantechnica", "catl-sodium-ion-second-generation-cold-weather")
    art = run(exp["fixture"], exp["url"] + "?utm_source=feed#comments")
    assert art["canonical_url"] == exp["url"]  # the page's canonical is a relative path
    exp = expected("electrek", "tesla-fsd-supervised-approval-netherlands-rdw")
    assert run(exp["fixture"], exp["url"])["canonical_url"] == exp["url"]  # canonical had utm_*


def test_charset_only_in_http_header():
    exp = expected("electrive_de", "catl-stellt-zweite-generation-der-natrium-ionen-batterie-vor")
    data, headers = page(exp["fixture"])
    assert b"charset" not in data[:2000].lower() and "windows-1252" in headers["Content-Type"]
    art = run(exp["fixture"], exp["url"])
    assert "schließt" in art["body"] and "\ufffd" not in art["body"]
    assert art["language"] == "de"


def test_gbk_page_declared_in_meta():
    exp = expected("d1ev", "215432")
    art = run(exp["fixture"], exp["url"])
    assert art["title"] == "宁德时代发布第二代钠离子电池 能量密度达200Wh/kg"
    assert "钠离子电池" in art["body"] and art["language"] == "zh"
    assert art["published_at"] == "2026-11-19T12:15:00Z" and art["published_offset"] == "+08:00"
    assert "禁止转载" not in art["body"]


def test_missing_date_is_flagged_not_dropped():
    exp = expected("arenaev", "polestar_7_teased_ahead_of_2027_launch-news-4830")
    art = run(exp["fixture"], exp["url"])
    assert art["published_at"] is None and "date_missing" in art["flags"]
    assert art["body"]


def test_feed_date_is_used_as_a_prior_when_the_page_has_none():
    exp = expected("arenaev", "polestar_7_teased_ahead_of_2027_launch-news-4830")
    hint = datetime(2026, 11, 22, 9, 0, tzinfo=timezone.utc)
    art = run(exp["fixture"], exp["url"], hint_published=hint)
    assert art["published_at"] == "2026-11-22T09:00:00Z" and art["extracted_by"]["published_at"] == "hint"
    assert "date_missing" not in art["flags"]


def test_future_metadata_date_is_rejected_and_a_later_candidate_used():
    exp = expected("cnevpost", "byd-insurance-registrations-nov-10-16")
    art = run(exp["fixture"], exp["url"])
    assert "date_rejected_future" in art["flags"]
    assert art["published_at"] == "2026-11-19T08:20:00Z"


def test_date_after_fetch_time_is_rejected():
    html = f"""<html><head><meta property="og:type" content="article">
    <meta property="article:published_time" content="2026-11-25T18:00:00+00:00"></head>
    <body><article><h1>Title of the story</h1>{PARAS}</article></body></html>"""
    art = extract_article(html, "https://x.example/news/story", fetched_at=FETCHED)
    assert art["published_at"] is None
    assert {"date_rejected_future", "date_missing"} <= set(art["flags"])


def test_paywall_teaser_is_flagged_and_prompt_removed():
    exp = expected("reuters", "exclusive-stellantis-weighs-exit-italian-battery-plant-2026-11-19")
    art = run(exp["fixture"], exp["url"])
    assert "paywall_teaser" in art["flags"]
    assert "Register" not in art["body"] and "subscriber" not in art["body"]
    free = expected("reuters", "tesla-recalls-over-241000-model-y-vehicles-over-seat-belt-chime-2026-11-17")
    assert "paywall_teaser" not in run(free["fixture"], free["url"])["flags"]


def test_reuters_multiple_authors_and_no_dateline_chrome():
    exp = expected("reuters", "xiaomi-plans-europe-ev-launch-2027-starting-with-yu7-sources-say-2026-11-18")
    art = run(exp["fixture"], exp["url"])
    assert art["authors"] == ["Liang Wei", "Sarah Whitman"]
    assert "Sign up here" not in art["body"] and "Trust Principles" not in art["body"]
    assert art["updated_at"] == "2026-11-18T09:10:00Z"


def test_non_article_page_raises_not_article():
    data, headers = page("electrek/2026/11/22/electrek-podcast-episode-412-tesla-fsd-europe-lucid-gravity-x/index.html")
    with pytest.raises(ExtractionError) as info:
        extract_article(data, "https://electrek.co/2026/11/22/electrek-podcast-episode-412-tesla-fsd-europe-lucid-gravity-x/",
                        headers=headers)
    assert info.value.reason == "not_article"
    data, headers = page("electrek/guides/tesla/index.html")
    with pytest.raises(ExtractionError) as info:
        extract_article(data, "https://electrek.co/guides/tesla/", headers=headers)
    assert info.value.reason == "not_article"


@pytest.mark.parametrize("html, reason", [
    (b"", "empty_body"),
    (b"   \n ", "empty_body"),
    ('<html><head><meta property="og:type" content="article"></head><body><article><h1>Hi</h1></article>'
     "</body></html>", "empty_body"),
    ('<html><head><meta property="og:type" content="article"></head><body><article><p>Too short to be '
     "news.</p></article></body></html>", "too_short"),
    (b"\x00\x01\x02\x03" * 500, "undecodable"),
])
def test_unusable_pages_raise_with_a_reason(html, reason):
    with pytest.raises(ExtractionError) as info:
        extract_article(html, "https://x.example/2026/11/20/story/")
    assert info.value.reason == reason
    assert str(info.value)


def test_malformed_html_is_repaired():
    html = ("<html><head><title>Broken page | Site</title><meta property='og:type' content='article'>"
            "<body><div class=content><h1>Battery maker opens plant<p>" + PARAS.replace("</p>", "")
            + "<div><span>unclosed <b>bold <i>italic</table></td></html></html>")
    art = extract_article(html.encode(), "https://x.example/2026/11/20/plant/", fetched_at=FETCHED)
    assert "Paragraph 5" in art["body"] and art["word_count"] > 100
    assert art["published_at"] == "2026-11-20T00:00:00Z"  # only the URL has a date


def test_huge_page_is_handled_in_reasonable_time():
    exp = expected("teslarati", "tesla-semi-nevada-factory-first-deliveries")
    data, _ = page(exp["fixture"])
    assert len(data) > 3_000_000
    # CPU time of this process, not wall time: the work done, whatever else the machine runs (the
    # wall-clock bound failed at load 18-29). ~0.5 s warm; the first extraction of a process also
    # loads trafilatura's, justext's and langid's data.
    start = time.process_time()
    art = run(exp["fixture"], exp["url"])
    assert time.process_time() - start < 30
    assert "says:" not in art["body"] and art["word_count"] < 600
    assert art["body"].startswith("Tesla Semi production has officially moved")


def test_language_from_text_when_undeclared():
    html = ("<html><head><meta property='og:type' content='article'><title>Neue Ladesäulen</title></head><body>"
            "<article><h1>Neue Ladesäulen</h1>" + "<p>Die Bundesregierung hat am Montag mitgeteilt, dass die Zahl "
            "der Ladepunkte in den ländlichen Regionen und an den Autobahnen weiter wachsen soll, auch wenn "
            "das ursprüngliche Ziel nicht erreicht wird.</p>" * 4 + "</article></body></html>")
    art = extract_article(html, "https://x.example/a/b", fetched_at=FETCHED)
    assert art["language"] == "de" and art["extracted_by"]["language"] == "detected"


def test_cross_site_canonical_is_not_trusted():
    html = ("<html><head><link rel='canonical' href='https://www.reuters.com/some-story-2026-11-18/'>"
            "<meta property='og:type' content='article'></head><body><article><h1>Story</h1>" + PARAS
            + "</article></body></html>")
    art = extract_article(html, "https://carnewschina.com/2026/11/18/story/?utm_campaign=x", fetched_at=FETCHED)
    assert art["canonical_url"] == "https://carnewschina.com/2026/11/18/story/"


def test_count_words_counts_what_the_word_pattern_matches():
    # count_words avoids the regex for plain tokens; the count must stay the pattern's, CJK aside
    import random
    import re

    from aggregator.extract.article import count_words

    word = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")
    rng = random.Random(7)
    alphabet = list("abXY09 _-.'’,;:!?\"()—–…«»éüßÄ") + ["\u00a0", "\t", "\n", "\u0664", "²", "½", "Ⅻ", "\u200b"]
    for _ in range(20_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        assert count_words(text) == len(word.findall(text)), repr(text)
    assert count_words("The maker’s e-Golf — 58 kWh, “new”.") == 6
    assert count_words("宁德时代 CATL 发布") == 7  # one per CJK character plus the Latin word
