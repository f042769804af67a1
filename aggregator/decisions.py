"""Editors' review decisions: what they are, where they are kept, and how they change the index.

A decision is stored in the ``{prefix}reviews`` index (who, when, what) and applied at once to the
``articles`` and ``stories`` indices so the review page shows its effect. Clustering runs again later,
so the same decisions must be honoured by the dedup stage: :func:`load_decisions` returns them in
the order they were made, and every rule here is deterministic (ids derived by hashing, survivor by
date) so replaying a decision anywhere gives the same story and dup ids.

Rules:

* ``confirm``: the story's status becomes ``confirmed`` and it no longer needs review.
* ``split``: the article leaves the story; it gets ``split_story_id(story_id, article_id)`` and a story
  document of its own (status ``edited``); the old story is recomputed from its remaining members.
* ``merge``: the survivor is the story seen first (``first_seen``, then id as tie-break); every member
  of the other story moves to it, the survivor lists ``merged_from`` and the other document gets
  status ``merged`` and ``merged_into``.
* ``not_duplicate``: recorded; if the two articles share a ``dup_id`` the second one gets
  ``not_duplicate_dup_id(dup_id, other_article_id)`` so they stop counting as copies of each other.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

from aggregator import config
from aggregator.dedup.ids import not_duplicate_dup_id, split_dup_id, split_story_id
from aggregator.review.text import similarity

log = logging.getLogger(__name__)

ACTIONS = ("confirm", "split", "merge", "not_duplicate")

# Copied from the articles into each story's members list, so list and detail pages need no joins.
MEMBER_FIELDS = ("article_id", "source", "title", "url", "published_at", "dup_id", "similarity")


class DecisionError(ValueError):
    """The decision cannot apply to the index as it is (unknown story, article not a member, ...)."""


def index_names() -> dict[str, str]:
    """The three aliases, read at call time so a test's or deployment's prefix is honoured."""
    prefix = config.index_prefix()
    return {name: f"{prefix}{name}" for name in ("articles", "stories", "reviews")}


def utc_now() -> str:
    """Now in UTC as ISO 8601 with a ``Z``, second precision: the format every date field uses."""
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass
class Decision:
    """One editor's decision; the field names are those of the ``reviews`` documents."""

    action: str
    editor: str
    story_id: str | None = None
    article_id: str | None = None
    other_story_id: str | None = None
    other_article_id: str | None = None
    note: str = ""
    at: str = field(default_factory=utc_now)
    review_id: str = ""

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise DecisionError(f"unknown action {self.action!r}; expected one of {', '.join(ACTIONS)}")
        needed = {
            "confirm": ("story_id",),
            "split": ("story_id", "article_id"),
            "merge": ("story_id", "other_story_id"),
            "not_duplicate": ("article_id", "other_article_id"),
        }[self.action]
        missing = [name for name in needed if not getattr(self, name)]
        if missing:
            raise DecisionError(f"{self.action} needs {', '.join(missing)}")
        if self.action == "merge" and self.story_id == self.other_story_id:
            raise DecisionError("a story cannot be merged with itself")
        if self.action == "not_duplicate" and self.article_id == self.other_article_id:
            raise DecisionError("pick two different articles")
        if not self.review_id:
            key = "|".join(str(v or "") for v in (self.action, self.story_id, self.article_id,
                                                    self.other_story_id, self.other_article_id,
                                                    self.editor, self.at, self.note))
            self.review_id = "r-" + hashlib.sha1(key.encode()).hexdigest()[:16]

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> Decision:
        known = {k: doc.get(k) for k in cls.__dataclass_fields__ if doc.get(k) is not None}
        return cls(**known)


# -- reading -----------------------------------------------------------------------------------------

def load_decisions(client: Any, since: str | None = None) -> list[Decision]:
    """Every stored decision (made after ``since`` if given), oldest first, for replay by the dedup stage.

    Sorted in Python after a scan rather than by the engine, so the order is the same however many
    there are; ties on ``at`` fall back to ``review_id``.
    """
    reviews = index_names()["reviews"]
    if not client.index_exists(reviews):
        return []
    query = {"range": {"at": {"gt": since}}} if since else None
    docs = [hit["_source"] for hit in client.scan(reviews, query)]
    decisions = [Decision.from_doc(doc) for doc in docs]
    decisions.sort(key=lambda d: (d.at, d.review_id))
    return decisions


def decisions_for_story(client: Any, story: dict[str, Any], size: int = 200) -> list[Decision]:
    """The audit trail of a story: decisions naming it, or naming one of its current members."""
    reviews = index_names()["reviews"]
    if not client.index_exists(reviews):
        return []
    story_id = story["story_id"]
    ids = [m["article_id"] for m in story.get("members") or []]
    should: list[dict] = [{"term": {"story_id": story_id}}, {"term": {"other_story_id": story_id}}]
    if ids:
        should += [{"terms": {"article_id": ids}}, {"terms": {"other_article_id": ids}}]
    body = {"query": {"bool": {"should": should, "minimum_should_match": 1}}, "size": size,
            "sort": [{"at": "asc"}, {"review_id": "asc"}]}
    return [Decision.from_doc(h["_source"]) for h in client.search(reviews, body)["hits"]["hits"]]


def get_story(client: Any, story_id: str) -> dict[str, Any] | None:
    doc = client.get(index_names()["stories"], story_id)
    return doc["_source"] if doc else None


def story_articles(client: Any, story_id: str) -> list[dict[str, Any]]:
    """The articles whose ``story_id`` is this story: the truth the story document summarises."""
    articles = index_names()["articles"]
    hits = client.scan(articles, {"term": {"story_id": story_id}})
    return sorted((h["_source"] | {"id": h["_source"].get("id") or h["_id"]} for h in hits),
                  key=lambda a: (a.get("published_at") or "", a["id"]))


# -- writing -----------------------------------------------------------------------------------------

def record(client: Any, decision: Decision) -> None:
    """Store the decision in the reviews index (refreshed, so the audit trail shows it at once)."""
    client.put(index_names()["reviews"], decision.review_id, decision.to_doc(), refresh=True)


def decide(client: Any, decision: Decision) -> list[str]:
    """Validate, record and apply a decision; returns the affected story ids.

    Recorded before it is applied: if applying fails half-way the decision is still on file, the
    dedup stage will honour it, and applying it again is harmless because every rule is idempotent.
    """
    validate(client, decision)
    record(client, decision)
    return apply_to_index(client, decision)


def validate(client: Any, decision: Decision) -> None:
    """Refuse decisions that do not fit the index as it is, before anything is written."""
    if decision.action in ("confirm", "split", "merge"):
        story = get_story(client, decision.story_id or "")
        if story is None:
            raise DecisionError(f"no story {decision.story_id}")
        if story.get("status") == "merged":
            raise DecisionError(f"story {decision.story_id} was merged into {merged_into(client, story)}")
    if decision.action == "split":
        members = [a["id"] for a in story_articles(client, decision.story_id or "")]
        if decision.article_id not in members:
            raise DecisionError(f"article {decision.article_id} is not in story {decision.story_id}")
        if len(members) < 2:
            raise DecisionError("the only article of a story cannot be split out of it")
    if decision.action == "merge":
        other = get_story(client, decision.other_story_id or "")
        if other is None:
            raise DecisionError(f"no story {decision.other_story_id}")
        if other.get("status") == "merged":
            raise DecisionError(
                f"story {decision.other_story_id} was already merged into {merged_into(client, other)}")
    if decision.action == "not_duplicate":
        found = client.mget(index_names()["articles"], [decision.article_id, decision.other_article_id])
        for article_id in (decision.article_id, decision.other_article_id):
            if article_id not in found:
                raise DecisionError(f"no article {article_id}")


def apply_to_index(client: Any, decision: Decision) -> list[str]:
    """Apply one decision to the articles and stories indices; returns the affected story ids."""
    if decision.action == "confirm":
        return _confirm(client, decision)
    if decision.action == "split":
        return _split(client, decision)
    if decision.action == "merge":
        return _merge(client, decision)
    return _not_duplicate(client, decision)


def _set_on_articles(client: Any, query: dict, field_name: str, value: str) -> int:
    """Set one keyword field on the matching articles: their ids are read, then written by id in one bulk
    of partial updates (no script and no update-by-query, which a minimal Elasticsearch lacks; a value
    is data, never code). Returns how many articles were matched."""
    articles = index_names()["articles"]
    ids = [hit["_id"] for hit in client.scan(articles, query)]
    if not ids:
        return 0
    now = utc_now()
    actions = [{"_op_type": "update", "_index": articles, "_id": doc_id, "retry_on_conflict": 3,
                "_source": {"doc": {field_name: value, "indexed_at": now}}} for doc_id in ids]
    failed = [info for ok, info in client.bulk(actions, refresh=True) if not ok]
    if failed:
        raise DecisionError(f"{len(failed)} of {len(ids)} articles not updated: {failed[0]}")
    return len(ids)


def _confirm(client: Any, decision: Decision) -> list[str]:
    story = get_story(client, decision.story_id or "")
    if story is None:
        raise DecisionError(f"no story {decision.story_id}")
    story.update(status="confirmed", needs_review=False, updated_at=decision.at)
    client.put(index_names()["stories"], story["story_id"], story, refresh=True)
    return [story["story_id"]]


def _split(client: Any, decision: Decision) -> list[str]:
    old_id, article_id = decision.story_id or "", decision.article_id or ""
    new_id = split_story_id(old_id, article_id)
    old = get_story(client, old_id) or {"story_id": old_id}
    _set_on_articles(client, {"ids": {"values": [article_id]}}, "story_id", new_id)
    _set_on_articles(client, {"ids": {"values": [article_id]}}, "dup_id", split_dup_id(old_id, article_id))
    new_base = {"story_id": new_id, "confidence": 1.0, "merged_from": []}
    new = rebuild_story(client, new_id, base=get_story(client, new_id) or new_base, status="edited",
                        at=decision.at)
    rebuild_story(client, old_id, base=old, status="edited", at=decision.at)
    return [old_id, new["story_id"]]


def _merge(client: Any, decision: Decision) -> list[str]:
    a = get_story(client, decision.story_id or "")
    b = get_story(client, decision.other_story_id or "")
    if a is None or b is None:
        raise DecisionError("both stories must exist to merge them")
    survivor, other = sorted((a, b), key=lambda s: (s.get("first_seen") or "9999", s["story_id"]))
    _set_on_articles(client, {"term": {"story_id": other["story_id"]}}, "story_id", survivor["story_id"])
    merged_from = list(dict.fromkeys([*(survivor.get("merged_from") or []), other["story_id"]]))
    survivor["merged_from"] = merged_from
    rebuild_story(client, survivor["story_id"], base=survivor, status="edited", at=decision.at)
    other.update(status="merged", merged_into=survivor["story_id"], members=[], member_count=0,
                 needs_review=False, updated_at=decision.at)
    client.put(index_names()["stories"], other["story_id"], other, refresh=True)
    return [survivor["story_id"], other["story_id"]]


def merged_into(client: Any, story: dict[str, Any]) -> str | None:
    """Where a merged story went: its ``merged_into``, or the story listing it in ``merged_from``."""
    if story.get("merged_into"):
        return story["merged_into"]
    if story.get("status") != "merged":
        return None
    body = {"query": {"term": {"merged_from": story["story_id"]}}, "size": 1, "_source": ["story_id"],
            "sort": [{"updated_at": {"order": "desc", "unmapped_type": "date"}}]}
    hits = client.search(index_names()["stories"], body)["hits"]["hits"]
    return hits[0]["_source"]["story_id"] if hits else None


def _not_duplicate(client: Any, decision: Decision) -> list[str]:
    names = index_names()
    found = client.mget(names["articles"], [decision.article_id, decision.other_article_id])
    first, second = found.get(decision.article_id or ""), found.get(decision.other_article_id or "")
    if first is None or second is None:
        raise DecisionError("both articles must exist")
    affected = {s for s in (first.get("story_id"), second.get("story_id")) if s}
    shared = first.get("dup_id")
    if shared and shared == second.get("dup_id"):
        new_dup = not_duplicate_dup_id(shared, decision.other_article_id or "")
        _set_on_articles(client, {"ids": {"values": [decision.other_article_id]}}, "dup_id", new_dup)
        for story_id in affected:  # the members list carries dup_id too: keep it in step
            story = get_story(client, story_id)
            if story is None:
                continue
            for member in story.get("members") or []:
                if member.get("article_id") == decision.other_article_id:
                    member["dup_id"] = new_dup
            story["updated_at"] = decision.at
            client.put(names["stories"], story_id, story, refresh=True)
    return sorted(affected)


def rebuild_story(client: Any, story_id: str, base: dict[str, Any], status: str, at: str) -> dict[str, Any]:
    """Recompute a story document from the articles that now carry its id, keeping what still holds.

    The canonical article stays if it is still a member (else the earliest member takes over, and
    similarities are recomputed against it); similarities the dedup stage computed are kept where the
    canonical did not change. A story left with no members is marked ``empty`` rather than deleted, so
    links to it and its audit trail keep working.
    """
    articles = story_articles(client, story_id)
    doc = dict(base)
    old_members = {m.get("article_id"): m for m in base.get("members") or []}
    ids = [a["id"] for a in articles]
    canonical_id = base.get("canonical_id") if base.get("canonical_id") in ids else (ids[0] if ids else None)
    canonical = next((a for a in articles if a["id"] == canonical_id), None)
    kept_canonical = canonical_id == base.get("canonical_id")
    members = []
    for art in articles:
        old = old_members.get(art["id"]) or {}
        if art["id"] == canonical_id:
            sim = 1.0
        elif kept_canonical and old.get("similarity") is not None:
            sim = float(old["similarity"])
        else:
            sim = round(similarity(art.get("body"), canonical.get("body") if canonical else ""), 3)
        members.append({"article_id": art["id"], "source": art.get("source"), "title": art.get("title"),
                        "url": art.get("canonical_url") or art.get("url"),
                        "published_at": art.get("published_at"), "dup_id": art.get("dup_id"),
                        "similarity": sim})
    dates = [a.get("published_at") or a.get("fetched_at") for a in articles]
    dates = sorted(d for d in dates if d)
    doc.update(
        story_id=story_id,
        members=members,
        member_count=len(members),
        canonical_id=canonical_id,
        canonical_url=(canonical.get("canonical_url") or canonical.get("url")) if canonical else None,
        headline=(canonical.get("title") if canonical else base.get("headline")),
        sources=sorted({a["source"] for a in articles if a.get("source")}),
        languages=sorted({a["language"] for a in articles if a.get("language")}),
        first_seen=dates[0] if dates else base.get("first_seen"),
        last_seen=dates[-1] if dates else base.get("last_seen"),
        updated_at=at,
        status=status if members else "empty",
        needs_review=False,
        merged_from=list(base.get("merged_from") or []),
    )
    client.put(index_names()["stories"], story_id, doc, refresh=True)
    return doc
