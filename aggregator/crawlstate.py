"""What earlier crawls saw, so a scheduled run fetches only what is new or changed.

One SQLite file (``var/crawl/state.sqlite``, WAL mode so the spider's middleware and the pipelines can
each hold a connection) with two tables:

- ``pages`` by URL: ``etag`` / ``last_modified`` sent back as ``If-None-Match`` / ``If-Modified-Since``
  (a ``304`` costs no body and no extraction) and ``fetched_at``, which lets a run skip URLs fetched
  recently when nothing says they changed;
- ``articles`` by article id (hash of the canonical URL, so an AMP copy and the canonical page are one
  article): ``content_hash``, equal hash means unchanged even when the server ignores conditional
  requests, and ``version``, 1 on the first crawl and +1 each time the content changed.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    url TEXT PRIMARY KEY,
    etag TEXT,
    last_modified TEXT,
    fetched_at REAL
);
CREATE TABLE IF NOT EXISTS articles (
    article_id TEXT PRIMARY KEY,
    content_hash TEXT NOT NULL,
    version INTEGER NOT NULL,
    updated_at REAL
);
"""


@dataclass
class PageState:
    url: str
    etag: str | None
    last_modified: str | None
    fetched_at: float | None


class CrawlState:
    """A small persistent map URL -> :class:`PageState`. Thread-safe; each process opens its own."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(SCHEMA)

    def get(self, url: str) -> PageState | None:
        with self._lock:
            row = self._db.execute(
                "SELECT url, etag, last_modified, fetched_at FROM pages WHERE url = ?",
                (url,),
            ).fetchone()
        return PageState(*row) if row else None

    def record_fetch(self, url: str, etag: str | None, last_modified: str | None) -> None:
        """Remember the validators of a 200 response (before we know whether the content changed)."""
        with self._lock:
            self._db.execute(
                "INSERT INTO pages (url, etag, last_modified, fetched_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(url) DO UPDATE SET etag = excluded.etag, "
                "last_modified = excluded.last_modified, fetched_at = excluded.fetched_at",
                (url, etag, last_modified, time.time()),
            )

    def touch(self, url: str) -> None:
        """A 304 or a skipped URL: still fresh as of now."""
        with self._lock:
            self._db.execute("UPDATE pages SET fetched_at = ? WHERE url = ?", (time.time(), url))

    def peek_content(self, article_id: str, content_hash: str) -> tuple[int, bool]:
        """``(version, changed)`` the article would get, without storing anything.

        The crawl commits (:meth:`record_content`, :meth:`record_fetch`) only once the article is
        durably indexed or spooled, so a crawl killed in between re-fetches it next time.
        """
        with self._lock:
            row = self._db.execute(
                "SELECT content_hash, version FROM articles WHERE article_id = ?", (article_id,)
            ).fetchone()
        if row and row[0] == content_hash:
            return int(row[1]), False
        return (int(row[1]) if row else 0) + 1, True

    def record_content(self, article_id: str, content_hash: str) -> tuple[int, bool]:
        """Store the article's content hash; returns ``(version, changed)``.

        ``changed`` is False when the hash equals the stored one (same article, nothing to re-index).
        """
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                row = self._db.execute(
                    "SELECT content_hash, version FROM articles WHERE article_id = ?", (article_id,)
                ).fetchone()
                if row and row[0] == content_hash:
                    self._db.execute("COMMIT")
                    return int(row[1]), False
                version = (int(row[1]) if row else 0) + 1
                self._db.execute(
                    "INSERT INTO articles (article_id, content_hash, version, updated_at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT(article_id) DO UPDATE SET content_hash = excluded.content_hash, "
                    "version = excluded.version, updated_at = excluded.updated_at",
                    (article_id, content_hash, version, time.time()),
                )
                self._db.execute("COMMIT")
                return version, True
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def __bool__(self) -> bool:
        # an open state is truthy even when empty; without this, `if state:` would run __len__'s
        # COUNT(*) (a scan of the whole table) on every call
        return True

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM articles").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
