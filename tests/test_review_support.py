"""Seed data and helpers shared by the review tests (no tests here).

Three stories on the real engine: a mixed cluster that needs review (with one hostile article and one
wrongly clustered one to split out), a two-source wire story whose articles share a dup_id, and a
single-article story. Texts overlap on purpose so the shared-passage highlighter has work to do.
"""

from __future__ import annotations

import re
from typing import Any

import bcrypt

from aggregator import decisions
from aggregator.items import article_id
from aggregator.review.text import similarity

PASSWORD = "correct horse battery"
PASSWORD_HASH = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
EDITOR = "alice"

WIRE = (
    "Tesla has cut the price of the Model Y in Germany, France and the Netherlands by up to 2,000 euros, "
    "the company said on Monday, as competition from Chinese carmakers intensifies across Europe. "
    "The cheapest rear-wheel-drive version now starts at 42,990 euros in Germany."
)
XSS_TITLE = '<script>alert("xss-title")</script> Model Y price cut: what it means'
XSS_BODY = ('<img src=x onerror="alert(\'xss-body\')"> '
            + WIRE + ' <a href="javascript:alert(1)">click</a> <iframe src="https://evil.example/"></iframe>')


def _article(url: str, source: str, title: str, body: str, published: str, **extra: Any) -> dict[str, Any]:
    doc = {"id": article_id(url), "url": url, "canonical_url": url, "source": source, "title": title,
           "body": body, "lead": extra.pop("lead", ""), "authors": [], "published_at": published,
           "language": "en", "version": 1}
    doc.update(extra)
    return doc


A1 = _article("https://electrek.example/2025/03/03/tesla-model-y-price-cut-europe/", "electrek",
              "Tesla cuts Model Y prices across Europe", WIRE + "\n\nElectrek's take: a sign of softer demand.",
              "2025-03-03T08:00:00Z")
A2 = _article("https://insideevs.example/news/tesla-model-y-europe-price/", "insideevs",
              "Tesla drops Model Y prices in three European markets",
              "In a surprise move, " + WIRE + "\n\nRivals are expected to respond.", "2025-03-03T09:30:00Z")
A3 = _article("https://evil.example/tesla", "evil-blog", XSS_TITLE, XSS_BODY, "2025-03-03T10:15:00Z",
              lead="<svg onload=alert('xss-lead')></svg> teaser")
A4 = _article("https://electrive.example/2025/03/03/byd-hungary-plant/", "electrive",
              "BYD starts production at its Hungarian plant",
              "BYD has started series production at its new plant in Szeged, Hungary, the first of the "
              "Chinese company's European car factories. The plant will build the Dolphin and Atto 3.",
              "2025-03-03T11:00:00Z")
B1 = _article("https://cleantechnica.example/ionity-500-chargers/", "cleantechnica",
              "Ionity adds 500 high-power chargers",
              "Ionity said it added 500 high-power charging points across 24 countries in the first quarter, "
              "bringing its network to more than 4,500 chargers.", "2025-03-02T07:00:00Z", dup_id="d-ionity")
B2 = _article("https://electrek.example/2025/03/02/ionity-500/", "electrek",
              "Ionity adds 500 chargers in Q1",
              "Ionity said it added 500 high-power charging points across 24 countries in the first quarter, "
              "bringing its network to more than 4,500 chargers.", "2025-03-02T08:00:00Z", dup_id="d-ionity")
C1 = _article("https://electrek.example/2025/03/04/rivian-r2/", "electrek", "Rivian R2 deliveries begin",
              "Rivian has delivered the first R2 crossovers to customers in California.", "2025-03-04T15:00:00Z")

ARTICLES = [A1, A2, A3, A4, B1, B2, C1]
STORIES = {
    "story-tesla": ([A1, A2, A3, A4], {"confidence": 0.55, "needs_review": True}),
    "story-ionity": ([B1, B2], {"confidence": 0.95, "needs_review": False}),
    "story-rivian": ([C1], {"confidence": 1.0, "needs_review": False}),
}


def story_doc(story_id: str, members: list[dict], **extra: Any) -> dict[str, Any]:
    """A stories document in the shape the clustering stage writes."""
    canonical = members[0]
    dates = sorted(m["published_at"] for m in members)
    doc = {
        "story_id": story_id, "headline": canonical["title"], "canonical_id": canonical["id"],
        "canonical_url": canonical["canonical_url"], "member_count": len(members),
        "sources": sorted({m["source"] for m in members}), "languages": ["en"],
        "first_seen": dates[0], "last_seen": dates[-1], "updated_at": "2025-03-04T16:00:00Z",
        "status": "auto", "merged_from": [],
        "members": [{"article_id": m["id"], "source": m["source"], "title": m["title"],
                     "url": m["canonical_url"], "published_at": m["published_at"], "dup_id": m.get("dup_id"),
                     "similarity": 1.0 if m is canonical else round(similarity(m["body"], canonical["body"]), 3)}
                    for m in members],
    }
    doc.update(extra)
    return doc


def ensure_review_indices(client: Any) -> None:
    """The shared aliases via ``ensure_indices`` (the real mappings, strict as in production)."""
    from aggregator.search.indices import ensure_indices

    ensure_indices(client)


def seed(client: Any, stories: dict | None = None) -> dict[str, dict]:
    """Create the indices and write the articles and stories; returns the story docs by id."""
    ensure_review_indices(client)
    names = decisions.index_names()
    docs = {}
    for story_id, (members, extra) in (stories or STORIES).items():
        for m in members:
            client.put(names["articles"], m["id"], m | {"story_id": story_id})
        docs[story_id] = story_doc(story_id, members, **extra)
        client.put(names["stories"], story_id, docs[story_id])
    for name in names.values():
        client.refresh(name)
    return docs


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)
