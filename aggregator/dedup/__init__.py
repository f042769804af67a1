"""Near-duplicate and same-story clustering for news articles, usable without Scrapy.

``Deduplicator`` assigns every article a ``dup_id`` (near-verbatim copies) and a
``story_id`` (same event, any wording or language); see :mod:`.core` for the algorithm,
:mod:`.minhash` / :mod:`.lsh` for the maths and :mod:`.store` for the storage backends.
"""

from .core import Assignment, DedupConfig, Deduplicator, ExpireResult, Member, Story, cluster_articles
from .store import FileStore, MemoryStore, RedisStore, Store, open_store

__all__ = [
    "Assignment",
    "DedupConfig",
    "Deduplicator",
    "ExpireResult",
    "FileStore",
    "Member",
    "MemoryStore",
    "RedisStore",
    "Store",
    "Story",
    "cluster_articles",
    "open_store",
]
