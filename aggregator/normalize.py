"""Validate an extracted article before it is clustered and indexed.

Pure functions over the article dict; the Scrapy pipeline (``pipelines.normalize``) only counts and
drops. Each rejection names a reason that becomes the stats key ``normalize/dropped/<reason>``.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from aggregator.extract.article import content_hash, count_words
from aggregator.items import article_id

__all__ = ["Rejected", "content_hash", "normalize_article"]

MIN_BODY_WORDS = 40
MAX_TITLE_CHARS = 500
_WS = re.compile(r"\s+")


class Rejected(ValueError):
    """The article cannot be kept; ``reason`` is a short stats key."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def _parse_utc(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


def normalize_article(article: dict, now: datetime | None = None) -> dict:
    """Return the article with derived fields filled in, or raise :class:`Rejected`."""
    now = now or datetime.now(timezone.utc)
    title = _WS.sub(" ", (article.get("title") or "")).strip()
    body = (article.get("body") or "").strip()
    canonical = article.get("canonical_url") or article.get("url")
    if not canonical:
        raise Rejected("no_url", "article has neither canonical_url nor url")
    if not title:
        raise Rejected("no_title", f"no title for {canonical}")
    if len(title) > MAX_TITLE_CHARS:
        raise Rejected("bad_title", f"title of {len(title)} characters for {canonical}")
    words = count_words(body)  # one word per CJK character: Chinese has no spaces
    if words < MIN_BODY_WORDS:
        raise Rejected("too_short", f"body of {words} words (< {MIN_BODY_WORDS}) for {canonical}")
    out = dict(article)
    out["title"] = title
    out["body"] = body
    out["canonical_url"] = canonical
    out["id"] = article_id(canonical)
    out["word_count"] = words
    out["content_hash"] = content_hash(title, body)
    flags = list(out.get("flags") or [])
    published = _parse_utc(out.get("published_at"))
    if published is not None and published > now:
        # the extractor rejects future dates already; this guards articles from other inputs (JSONL)
        out["published_at"] = None
        flags.append("date_rejected_future")
    if out.get("published_at") is None and "date_missing" not in flags:
        flags.append("date_missing")
    out["flags"] = sorted(set(flags))
    return out
