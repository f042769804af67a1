"""Cluster ids: derived from article ids, so every process and every replay of a decision agrees.

The dedup stage and the review page both apply editors' decisions (the page to the index at once, the
dedup stage to its state on the next run); these functions are the one rule both follow.
"""

from __future__ import annotations

import hashlib


def _h(text: str, n: int) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:n]


def cluster_id(prefix: str, article_id: str, attempt: int = 0) -> str:
    """The id of a cluster founded by ``article_id`` (``attempt`` > 0 only on a collision)."""
    return f"{prefix}-{_h(article_id if attempt == 0 else f'{article_id}#{attempt}', 12)}"


def split_story_id(story_id: str, article_id: str) -> str:
    """The story an article gets when an editor removes it from ``story_id``."""
    return "s-" + _h(f"split:{story_id}:{article_id}", 16)


def split_dup_id(story_id: str, article_id: str) -> str:
    """The dup cluster of an article split out of ``story_id``: copies stay inside one story."""
    return "d-" + _h(f"split:{story_id}:{article_id}", 16)


def not_duplicate_dup_id(dup_id: str, article_id: str) -> str:
    """The dup id an article gets when an editor says it is not a copy of the others in ``dup_id``."""
    return "d-" + _h(f"not_duplicate:{dup_id}:{article_id}", 16)
