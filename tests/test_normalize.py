from datetime import datetime, timezone

import pytest

from aggregator.items import article_id
from aggregator.normalize import Rejected, content_hash, normalize_article

BODY = " ".join(["The battery maker said demand for sodium-ion cells grew quickly this quarter."] * 6)


def test_valid_article_gets_id_hash_and_word_count():
    out = normalize_article({"url": "https://a.example/x", "title": "  A  title ", "body": BODY,
                             "published_at": "2026-11-20T08:00:00+00:00"})
    assert out["id"] == article_id("https://a.example/x")
    assert out["title"] == "A title"
    assert out["word_count"] == len(BODY.split())
    assert out["content_hash"] == content_hash("A title", BODY)
    assert "date_missing" not in out["flags"]


@pytest.mark.parametrize(
    "article,reason",
    [
        ({"title": "t", "body": BODY}, "no_url"),
        ({"url": "https://a.example/x", "title": "", "body": BODY}, "no_title"),
        ({"url": "https://a.example/x", "title": "t", "body": "too short"}, "too_short"),
    ],
)
def test_rejections_name_their_reason(article, reason):
    with pytest.raises(Rejected) as info:
        normalize_article(article)
    assert info.value.reason == reason


def test_missing_and_future_dates_are_flagged_not_dropped():
    now = datetime(2026, 11, 25, tzinfo=timezone.utc)
    missing = normalize_article({"url": "https://a.example/x", "title": "t", "body": BODY}, now=now)
    assert "date_missing" in missing["flags"]
    future = normalize_article({"url": "https://a.example/y", "title": "t", "body": BODY,
                                "published_at": "2027-01-01T00:00:00Z"}, now=now)
    assert future["published_at"] is None
    assert {"date_rejected_future", "date_missing"} <= set(future["flags"])


def test_cosmetic_changes_keep_the_content_hash():
    assert content_hash("Title", "Body  text\n\nhere") == content_hash("title", "Body text here")
    assert content_hash("Title", "Body text here") != content_hash("Title", "Body text there")


def test_chinese_body_counts_characters_as_words():
    body = "宁德时代发布钠离子电池包，能量密度达到每公斤一百七十五瓦时。" * 3
    out = normalize_article({"url": "https://d1ev.example/1", "title": "钠离子电池", "body": body})
    assert out["word_count"] >= 40
