"""Bulk indexing of articles and stories that is idempotent and never loses a document.

Three outcomes per document, and each has a place to go:

* the engine took it -- counted as ``indexed`` (new), ``updated`` (content changed) or ``unchanged``;
* the engine rejected *that document* (a mapping error: a date that is no date, an unknown field) --
  ``failed``: logged once per kind of reason and written to the spool's dead-letter file;
* the engine is away (connection refused, timeouts, 5xx, 429 after the client's own retries) --
  ``spooled``: written to the on-disk :class:`~aggregator.search.spool.Spool` and sent again by
  :meth:`Indexer.replay` (``aggregator index replay``, or the next crawl's start).

Idempotency does not depend on the caller. The document id is the article's ``id`` (a hash of its
canonical URL). Articles are written with plain ops, decided here rather than by a script in the engine:

* every article is first sent as a ``create`` op: a new one is written, nothing is read;
* one that exists fails that op with a version conflict (409) and no write; then one realtime ``_mget``
  reads ``content_hash``, ``version``, ``_seq_no`` and ``_primary_term`` for those ids, and:

  * the same ``content_hash`` -> nothing is sent (``unchanged``: no write, ``_version`` stays);
  * a higher stored crawler ``version`` (e.g. a spool replayed after a newer crawl) -> ``unchanged``;
  * otherwise -> an ``index`` op with ``if_seq_no``/``if_primary_term`` of what was read.

A second writer between the read and the write (another crawl, a migration moving the alias) makes that
op fail with a version conflict too; the document is read and decided again, so a newer stored copy is
never overwritten. Plain ops cost the engine far less than a painless upsert per article, unchanged
articles cost no write, and new ones no read (a read would also wake a search-idle shard into
refreshing every second, which slows bulk loads). ``create``, ``if_seq_no``/``if_primary_term`` and ``_mget``
behave the same on Elasticsearch 8/9 and OpenSearch 2/3, so there is one code path. Stories are
written the same way, with no script either (a minimal Elasticsearch has no painless): ``create`` first;
on a conflict, one read of ``status``/``updated_at`` decides: an older state than the stored one is
skipped, an editor's status (``confirmed``, ``edited``) survives an automatic rebuild, and the write is
guarded by ``if_seq_no``/``if_primary_term`` (see :func:`story_write`).

Chunks of one call go to the engine ``concurrency`` at a time: one bulk request is indexed by one engine
thread per shard, and the next chunk's request is built while the engine works. The window slides: a new
chunk goes out whenever one comes back, never waiting for the slowest of a group, so the engine's cores
stay busy through a long load (a pause after every pair of chunks cost 5-15 % of the throughput in our
measurements). Chunks in flight together hold disjoint ids; a repeated id waits for its earlier chunk.

A big load (a backfill, ``aggregator index replay``) runs inside :meth:`Indexer.bulk_load`: the engine
stops refreshing the index for the duration, so it writes a few large segments instead of one small
segment per second that merges then rewrite (5-15 % less engine CPU per article in our measurements, and
fewer segments for searches to visit), and refreshes once at the end. Durability does not change: every
bulk request is still fsync'd to the translog before it is acknowledged, and what was not acknowledged
is spooled as always.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from itertools import chain
from typing import Any

from aggregator import items
from aggregator.search import indices, mapping
from aggregator.search.client import SearchClient, SearchUnavailable, connect
from aggregator.search.mapping import INDEXED_AT
from aggregator.search.spool import Spool

logger = logging.getLogger(__name__)

#: the stored fields an article write is decided on (see :func:`article_is_current`, :func:`labels_moved`)
ARTICLE_STATE_FIELDS = ["content_hash", "version", "story_id", "dup_id"]
#: the cluster labels of an article, which merges and editors change without changing its content
LABELS = ("story_id", "dup_id")
#: how often a chunk is read and decided again after version conflicts before the normal retry path
MAX_CONFLICT_ROUNDS = 5

#: the stored fields a story write is decided on (see :func:`story_write`)
STORY_STATE_FIELDS = ["status", "updated_at"]


def story_write(stored: Mapping[str, Any], doc: Mapping[str, Any]) -> dict[str, Any] | None:
    """What to write over a stored story document: None when ``doc`` is an older state (a late spool
    replay, a slower crawler); else ``doc``, keeping an editor's verdict (any status but ``auto``) over
    an automatic rebuild. ISO 8601 UTC strings of one format compare as their times."""
    old_at, new_at = stored.get("updated_at"), doc.get("updated_at")
    if old_at is not None and new_at is not None and str(new_at) < str(old_at):
        return None
    old_status = stored.get("status")
    if old_status not in (None, "auto") and doc.get("status") == "auto":
        return {**doc, "status": old_status}
    return dict(doc)


_RESULTS = {"created": "indexed", "updated": "updated", "noop": "unchanged", "deleted": "updated",
            "not_found": "unchanged"}
#: spool/bulk kinds -> (alias kind, id field); ``stories:delete`` removes stories merged into others
#: ``articles:relabel`` moves already indexed articles to the story (and dup cluster) a merge put them in
_KINDS = {"articles": ("articles", "id"), "stories": ("stories", "story_id"), "reviews": ("reviews", "review_id"),
          "stories:delete": ("stories", "story_id"), "articles:relabel": ("articles", "id")}
REVIEW_BELOW = 0.6  # an automatic story whose weakest member is less similar than this wants an editor


@dataclass
class IndexResult:
    """What happened to a batch; ``indexed + updated + unchanged + spooled + failed`` = documents given."""

    indexed: int = 0
    updated: int = 0
    unchanged: int = 0
    spooled: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.indexed + self.updated + self.unchanged + self.spooled + self.failed

    def __iadd__(self, other: IndexResult) -> IndexResult:
        self.indexed += other.indexed
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.spooled += other.spooled
        self.failed += other.failed
        self.errors.extend(other.errors)
        return self


@dataclass
class ReplayResult(IndexResult):
    """A replay's outcome; ``replayed`` counts documents the engine acknowledged from the spool."""

    replayed: int = 0
    segments_done: int = 0
    segments_left: int = 0


def utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _iso(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value


def article_document(article: Mapping[str, Any]) -> dict[str, Any]:
    """The indexed form of an article: private (``_``-prefixed) keys and ``None`` values dropped, dates ISO.

    Unknown public keys are kept on purpose: the strict mapping rejects them and the article lands in the
    dead-letter file with the reason, instead of the field vanishing silently.
    """
    doc = {k: _iso(v) for k, v in dict(article).items() if not k.startswith("_") and v is not None}
    if not doc.get("id"):
        url = doc.get("canonical_url") or doc.get("url")
        if url:
            doc["id"] = items.article_id(url)
    if isinstance(doc.get("authors"), str):
        doc["authors"] = [doc["authors"]]
    if isinstance(doc.get("tags"), str):
        doc["tags"] = [doc["tags"]]
    for name in mapping.LANGUAGE_FIELD_NAMES:  # copies made for another language, if the doc is a re-read
        doc.pop(name, None)
    doc.update(mapping.language_fields(doc))  # the text again, in the fields its language's analyzer indexes
    return doc


def article_is_current(stored: Mapping[str, Any], doc: Mapping[str, Any]) -> bool:
    """True when writing ``doc`` over ``stored`` must not happen: same content, or an older crawl of it."""
    old_hash, old_version = stored.get("content_hash"), stored.get("version")
    if old_hash is not None and old_hash == doc.get("content_hash"):
        return True
    new_version = doc.get("version")
    if old_version is not None and new_version is not None:
        try:
            return float(new_version) < float(old_version)
        except (TypeError, ValueError):
            return False
    return False


def labels_moved(stored: Mapping[str, Any], doc: Mapping[str, Any]) -> dict[str, Any]:
    """The labels to set on a stored article whose content is current: its content is the same, but a
    later clustering (a rerun after a crash, a merge) placed it elsewhere. Empty when nothing moved."""
    if stored.get("content_hash") is None or stored.get("content_hash") != doc.get("content_hash"):
        return {}
    return {k: doc[k] for k in LABELS if doc.get(k) and doc.get(k) != stored.get(k)}


def _get(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def story_document(story: Any, status: str | None = None, urls: Mapping[str, str] | None = None,
                   review_below: float = REVIEW_BELOW, updated_at: str | None = None) -> dict[str, Any]:
    """The stories-index document of a dedup ``Story`` (or a dict with the same keys).

    Reads only ``story_id``, ``members`` (each with ``article_id, source, title, published_at, dup_id,
    similarity``, optionally ``url``/``language``), ``canonical_id``, ``merged_from`` and ``confirmed``,
    so it works with the dedup library's objects without importing it. ``urls`` maps article ids to URLs
    where members do not carry one. ``status`` overrides the automatic ``confirmed``/``auto``.
    """
    urls = urls or {}
    members = []
    for m in _get(story, "members") or []:
        article_id = _get(m, "article_id")
        members.append({
            "article_id": article_id,
            "source": _get(m, "source"),
            "title": _get(m, "title"),
            "url": _get(m, "url") or urls.get(article_id),
            "published_at": _iso(_get(m, "published_at")),
            "dup_id": _get(m, "dup_id"),
            "similarity": _get(m, "similarity"),
            "_language": _get(m, "language"),
        })
    members.sort(key=lambda m: (m["published_at"] is None, m["published_at"] or "", m["article_id"] or ""))
    canonical_id = _get(story, "canonical_id") or (members[0]["article_id"] if members else None)
    canonical = next((m for m in members if m["article_id"] == canonical_id), members[0] if members else {})
    dates = [m["published_at"] for m in members if m["published_at"]]
    similarities = [float(m["similarity"]) for m in members
                    if m["similarity"] is not None and m["article_id"] != canonical_id]
    confidence = min(similarities) if similarities else 1.0
    confirmed = bool(_get(story, "confirmed", False))
    status = status or ("confirmed" if confirmed else "auto")
    languages = sorted({m.pop("_language") for m in members} - {None})
    return {
        "story_id": _get(story, "story_id"),
        "headline": canonical.get("title"),
        "canonical_id": canonical_id,
        "canonical_url": canonical.get("url"),
        "member_count": len(members),
        "sources": sorted({m["source"] for m in members if m["source"]}),
        "languages": languages,
        "first_seen": min(dates) if dates else None,
        "last_seen": max(dates) if dates else None,
        # when the story was in this state: of two writers, the later state wins (story_write)
        "updated_at": updated_at or utcnow(),
        "status": status,
        "confidence": round(confidence, 4),
        "needs_review": status == "auto" and len(members) > 1 and confidence < review_below,
        "merged_from": list(_get(story, "merged_from") or []),
        "members": [{k: v for k, v in m.items() if v is not None} for m in members],
    }


class Indexer:
    """Writes articles and stories through the aliases; spools when the engine is away.

    ``client`` may be None (the engine was down at start-up): documents spool, and when ``url`` is given
    the indexer tries to connect again at most every ``reconnect_every`` seconds. ``concurrency`` bulk
    requests (chunks of ``chunk_size``) of one call are in flight at once.
    """

    def __init__(self, client: SearchClient | None, spool: Spool | None = None, *, url: str | None = None,
                 chunk_size: int = 500, max_retries: int = 3, backoff: float = 0.5,
                 reconnect_every: float = 30.0, refresh: bool | str = False, concurrency: int = 2) -> None:
        self.client = client
        self.spool = spool if spool is not None else Spool()
        self.url = url
        self.chunk_size = chunk_size
        self.max_retries = max_retries
        self.backoff = backoff
        self.reconnect_every = reconnect_every
        self.refresh = refresh
        self.concurrency = max(1, concurrency)
        self._lock = threading.RLock()  # client state, spool and dead letters, shared by the chunk threads
        self._last_connect = time.monotonic() if client is None else 0.0
        self._logged_reasons: set[str] = set()
        self._ensured = False
        self._bulk_loads = 0  # bulk_load() blocks open in this indexer (they nest)

    # -- public API -----------------------------------------------------------------------------------
    def index_articles(self, articles: Iterable[Mapping[str, Any]]) -> IndexResult:
        """Index or update ``articles`` (dicts or ArticleItems); see the module docstring for the outcomes.

        ``articles`` may be a generator over a file of any size: it is read chunk by chunk as the engine
        takes them (see :meth:`_write`); ``aggregator index load`` streams JSON-lines files that way,
        inside :meth:`bulk_load`.
        """
        now = utcnow()
        result = IndexResult()

        def documents() -> Iterator[dict]:
            for article in articles:
                doc = article_document(article)
                doc.setdefault(INDEXED_AT, now)
                if not doc.get("id"):
                    self._reject("articles", doc, "no id and no URL to derive one from", result)
                    continue
                yield doc

        result += self._write("articles", documents(), spool=True)  # documents() adds its rejects to result
        return result

    def upsert_stories(self, stories: Iterable[Any]) -> IndexResult:
        """Write story documents (dicts from :func:`story_document`, or Story objects, converted here)."""
        docs = []
        result = IndexResult()
        for story in stories:
            doc = dict(story) if isinstance(story, Mapping) and "member_count" in story else story_document(story)
            if not doc.get("story_id"):
                self._reject("stories", doc, "no story_id", result)
                continue
            doc.setdefault("updated_at", utcnow())
            docs.append(doc)
        result += self._write("stories", docs, spool=True)
        return result

    def delete_stories(self, story_ids: Iterable[str]) -> IndexResult:
        """Remove story documents absorbed by a merge (the survivor lists them in ``merged_from``).

        Deletes are spooled like writes, so a merge during an outage does not leave a ghost story.
        """
        return self._write("stories:delete", [{"story_id": sid} for sid in dict.fromkeys(story_ids) if sid],
                           spool=True)

    def relabel_articles(self, labels: Iterable[Mapping[str, Any]]) -> IndexResult:
        """Set ``story_id``/``dup_id`` of already indexed articles (``{"id", "story_id", "dup_id"}``).

        Used when a merge moves earlier articles into another story; spooled like any write.
        """
        return self._write("articles:relabel", [dict(x) for x in labels if x.get("id")], spool=True)

    @contextmanager
    def bulk_load(self, kinds: Iterable[str] = ("articles",)) -> Iterator[None]:
        """Refresh off on the indices behind ``kinds`` while the block writes; back on afterwards, even on errors.

        For big loads: documents written inside become searchable at the end of the block (one refresh),
        not every second. Blocks nest; the outermost one restores each index's previous refresh interval.
        A process killed inside leaves refresh off: the next :func:`indices.ensure_indices` (any indexer's
        first write, e.g. the next crawl) turns it back on. With the engine away this does nothing (the
        writes spool).
        """
        kinds = list(kinds)
        with self._lock:
            self._bulk_loads += 1
            outermost = self._bulk_loads == 1
        client: SearchClient | None = None
        previous: dict[str, dict[str, Any]] = {}  # alias -> {concrete index: refresh_interval or None}
        try:
            client = self._client() if outermost else None
            for kind in kinds if client is not None else ():
                alias = indices.alias_name(kind)
                try:
                    targets = client.get_alias(alias)
                    was = client.get_settings(alias, "index.refresh_interval")
                    client.put_settings(alias, {"index.refresh_interval": indices.BULK_LOAD_REFRESH})
                except client.Errors as exc:
                    logger.warning("bulk load: could not turn refresh off on %s: %s", alias, exc)
                    continue
                previous[alias] = {index: was.get(index) for index in targets}
            yield
        finally:
            with self._lock:
                self._bulk_loads -= 1
            for alias, intervals in previous.items():
                try:
                    for index, interval in intervals.items():
                        client.put_settings(index, {"index.refresh_interval": interval})
                    client.refresh(alias)
                except client.Errors as exc:  # the engine went away: ensure_indices restores it later
                    logger.warning("bulk load: could not turn refresh back on for %s (the next start will): %s",
                                   alias, exc)

    def replay(self) -> ReplayResult:
        """Send the spool to the engine, oldest segment first; stops at the first segment it cannot deliver.

        Idempotent: a segment is deleted only once every document in it was acknowledged (written,
        unchanged, or dead-lettered), and sending a document twice changes nothing.
        """
        out = ReplayResult()
        with self.spool.draining() as mine:
            if not mine:
                out.segments_left = len(self.spool.segments())
                return out
            segments = self.spool.segments()
            for n, segment in enumerate(segments):
                if self._client() is None:
                    out.segments_left = len(segments) - n
                    break
                by_kind: dict[str, list[dict]] = {}
                for kind, doc in self.spool.read(segment):
                    by_kind.setdefault(kind, []).append(doc)
                part = IndexResult()
                for kind, docs in by_kind.items():
                    part += self._write(kind, docs, spool=False)
                if part.spooled:
                    # the engine went away again: keep the whole segment, the acknowledged part is idempotent
                    out.segments_left = len(segments) - n
                    out.errors.extend(part.errors)
                    break
                self.spool.ack(segment)
                out.segments_done += 1
                out.replayed += part.indexed + part.updated + part.unchanged
                out.indexed += part.indexed
                out.updated += part.updated
                out.unchanged += part.unchanged
                out.failed += part.failed
                out.errors.extend(part.errors)
        return out

    def replay_dead_letters(self) -> IndexResult:
        """Resubmit dead-lettered documents (after fixing the mapping); those rejected again stay dead."""
        result = IndexResult()
        for path in self.spool.dead_letter_files():
            taken = path.with_suffix(".replaying")
            path.rename(taken)
            by_kind: dict[str, list[dict]] = {}
            for kind, doc, _reason in self.spool.read_dead_letters(taken):
                by_kind.setdefault(kind, []).append(doc)
            for kind, docs in by_kind.items():
                result += self._write(kind, docs, spool=True)
            taken.unlink()
        return result

    # -- machinery ------------------------------------------------------------------------------------
    def _client(self) -> SearchClient | None:
        """The client, with the indices ensured once; None while the engine is known to be away."""
        with self._lock:
            if self.client is None and self.url and time.monotonic() - self._last_connect >= self.reconnect_every:
                self._last_connect = time.monotonic()
                try:
                    self.client = connect(self.url)
                    logger.info("search engine back at %s", self.url)
                except SearchUnavailable as exc:
                    logger.warning("search engine still unavailable: %s", exc)
            if self.client is not None and not self._ensured:
                try:
                    indices.ensure_indices(self.client)
                    self._ensured = True
                except self.client.Errors as exc:
                    if self.client.error_status(exc) is not None and self.client.error_status(exc) < 500:
                        raise
                    logger.warning("search engine unavailable while ensuring indices: %s", exc)
                    return None
            return self.client

    def _forget_client(self, client: SearchClient) -> None:
        """The engine is down, not just slow: spool from now on and reconnect later."""
        with self._lock:
            if self.client is client:
                self.client = None
                self._ensured = False
                self._last_connect = time.monotonic()

    def _actions(self, kind: str, docs: list[dict]) -> list[dict]:
        base, id_field = _KINDS[kind]
        alias = indices.alias_name(base)
        if kind.endswith(":delete"):
            return [{"_op_type": "delete", "_index": alias, "_id": doc[id_field]} for doc in docs]
        if kind == "articles:relabel":
            # indexed_at too: a crawl's reconcile after a crash finds what was written after its checkpoint
            now = utcnow()
            return [{"_op_type": "update", "_index": alias, "_id": doc[id_field], "retry_on_conflict": 3,
                     "_source": {"doc": {**{k: doc[k] for k in LABELS if doc.get(k)},
                                         INDEXED_AT: doc.get(INDEXED_AT) or now}}}
                    for doc in docs]
        return [{"_op_type": "index", "_index": alias, "_id": doc[id_field], "_source": doc} for doc in docs]

    @staticmethod
    def _story_decision(stored: Mapping[str, Any], doc: dict) -> dict | None:
        """A guarded ``index`` of what :func:`story_write` keeps, or nothing (an older state)."""
        write = story_write(stored, doc)
        return None if write is None else {"_op_type": "index", "_source": write}

    @staticmethod
    def _article_decision(stored: Mapping[str, Any], doc: dict) -> dict | None:
        """A guarded ``index`` of a newer article; for a current one only the labels that moved (a
        partial ``update``), or nothing."""
        if not article_is_current(stored, doc):
            return {"_op_type": "index", "_source": doc}
        moved = labels_moved(stored, doc)
        if not moved:
            return None
        return {"_op_type": "update", "_source": {"doc": {**moved, INDEXED_AT: doc.get(INDEXED_AT) or utcnow()}}}

    def _decided_actions(self, kind: str, client: SearchClient, pending: dict[str, dict], stored: set[str],
                         transient: dict[str, str], result: IndexResult) -> list[dict]:
        """Plain ops for ``pending`` articles or stories: ``create`` for ids not known to exist; for those in
        ``stored`` (their create conflicted) a read of the stored state and the kind's decision
        (:meth:`_article_decision`, :meth:`_story_decision`) give a write guarded by
        ``if_seq_no``/``if_primary_term``, or nothing.

        Unchanged (or older) documents leave ``pending`` counted as unchanged; ids the read could not answer
        for (the alias is missing) go to ``transient`` and are retried like a 404 from the bulk.
        """
        alias = indices.alias_name(kind)
        state_fields, decide = ((ARTICLE_STATE_FIELDS, self._article_decision) if kind == "articles"
                                else (STORY_STATE_FIELDS, self._story_decision))
        # the body goes under _source so the article's own "version" is never read as bulk metadata
        actions = [{"_op_type": "create", "_index": alias, "_id": doc_id, "_source": doc}
                   for doc_id, doc in pending.items() if doc_id not in stored]
        ids = [doc_id for doc_id in pending if doc_id in stored]
        for entry in client.mget_versions(alias, ids, state_fields) if ids else ():
            doc_id = entry.get("_id")
            doc = pending.get(doc_id)
            if doc is None:
                continue
            if entry.get("error"):
                transient[doc_id] = _item_reason(entry)
                continue
            if not entry.get("found"):  # deleted since the conflict
                actions.append({"_op_type": "create", "_index": alias, "_id": doc_id, "_source": doc})
                continue
            action = decide(entry.get("_source") or {}, doc)
            if action is None:
                del pending[doc_id]
                result.unchanged += 1
                continue
            actions.append({**action, "_index": alias, "_id": doc_id,
                            "if_seq_no": entry["_seq_no"], "if_primary_term": entry["_primary_term"]})
        return actions

    def _write(self, kind: str, docs: Iterable[dict], spool: bool) -> IndexResult:
        """Send ``docs`` in chunks, ``concurrency`` requests in flight; engine trouble spools (or, when
        replaying, reports) a chunk.

        ``docs`` is consumed as a stream: a chunk goes out as soon as it is full and the next one is built
        while the engine works, with no pause between the chunks of one call (a generator over a big
        file is never held in memory). Within a chunk the last copy of a document wins and earlier ones
        count as unchanged; a copy whose id is still being written by an earlier chunk waits for that
        chunk, so the last copy is also the last one written.
        """
        result = IndexResult()
        id_field = _KINDS[kind][1]
        chunks = self._chunks(docs, id_field, result)
        first, second = next(chunks, None), next(chunks, None)
        if second is None or self.concurrency == 1:  # one request, or one at a time: no threads
            for chunk in chain((first, second), chunks):
                if chunk is not None:
                    result += self._write_chunk(kind, chunk, spool)
            return result
        in_flight: dict[Future, list[str]] = {}
        writing: dict[str, Future] = {}  # id -> the in-flight chunk writing it

        def settle(done: Iterable[Future]) -> None:
            nonlocal result
            for future in done:
                for doc_id in in_flight.pop(future):
                    if writing.get(doc_id) is future:
                        del writing[doc_id]
                result += future.result()

        with ThreadPoolExecutor(self.concurrency, thread_name_prefix="indexer") as pool:
            try:
                for chunk in chain((first, second), chunks):
                    ids = [doc[id_field] for doc in chunk]
                    earlier = {writing[doc_id] for doc_id in ids if doc_id in writing}
                    if earlier:
                        wait(earlier)
                        settle(earlier)
                    if len(in_flight) >= self.concurrency:
                        settle(wait(in_flight, return_when=FIRST_COMPLETED).done)
                    future = pool.submit(self._write_chunk, kind, chunk, spool)
                    in_flight[future] = ids
                    writing.update(dict.fromkeys(ids, future))
            finally:
                # a chunk that raised (a request the engine refuses whole) re-raises here after the others
                settle(wait(in_flight).done)
        return result

    def _chunks(self, docs: Iterable[dict], id_field: str, result: IndexResult) -> Iterator[list[dict]]:
        latest: dict[str, dict] = {}
        for doc in docs:
            doc_id = doc[id_field]
            if doc_id in latest:
                result.unchanged += 1  # superseded by a later copy in the same chunk
                del latest[doc_id]  # keep the chunk in arrival order
            latest[doc_id] = doc
            if len(latest) >= self.chunk_size:
                yield list(latest.values())
                latest = {}
        if latest:
            yield list(latest.values())

    def _write_chunk(self, kind: str, chunk: list[dict], spool: bool) -> IndexResult:
        result = IndexResult()
        id_field = _KINDS[kind][1]
        pending = {doc[id_field]: doc for doc in chunk}
        stored: set[str] = set()  # articles whose create conflicted: they exist, read before writing
        attempt = conflict_rounds = 0
        while True:
            client = self._client()
            if client is None:
                break
            transient: dict[str, str] = {}
            conflicts = 0
            try:
                if kind in ("articles", "stories"):
                    actions = self._decided_actions(kind, client, pending, stored, transient, result)
                else:
                    actions = self._actions(kind, list(pending.values()))
                bulk = client.bulk(actions, chunk_size=max(len(actions), 1), refresh=self.refresh,
                                   require_alias=True) if actions else ()
                for ok, info in bulk:
                    item = next(iter(info.values()))
                    doc_id = item.get("_id")
                    doc = pending.pop(doc_id, None)
                    if doc is None:
                        continue
                    if ok:
                        outcome = _RESULTS.get(item.get("result"), "updated")
                        setattr(result, outcome, getattr(result, outcome) + 1)
                        continue
                    status = item.get("status")
                    if item.get("result") == "not_found":  # deleting what is already gone
                        result.unchanged += 1
                        continue
                    if kind == "articles:relabel" and status == 404:
                        # an article that never reached the index (dead-lettered) has nothing to relabel
                        result.unchanged += 1
                        continue
                    if kind in ("articles", "stories") and status == 409:
                        # it exists (create) or changed since our read (index): read and decide again
                        pending[doc_id] = doc
                        stored.add(doc_id)
                        conflicts += 1
                        continue
                    reason = _item_reason(item)
                    # 429/5xx: the engine is busy or half-up; 404: the alias vanished (require_alias) --
                    # all of them are the engine's trouble, not the document's, so retry and then spool
                    if status in (404, 429) or (isinstance(status, int) and status >= 500):
                        transient[doc_id] = reason
                        pending[doc_id] = doc
                    else:
                        self._reject(kind, doc, reason, result)
            except client.Errors as exc:
                status = client.error_status(exc)
                if status is not None and status < 500 and status != 429:
                    raise  # a request the engine refuses whole (bad credentials, no such alias...) is a bug
                logger.warning("bulk write of %d %s failed (attempt %d): %s", len(pending), kind, attempt + 1,
                               exc)
                if self.url and status is None and not client.ping():
                    self._forget_client(client)
                    break
            if not pending:
                return result
            if conflicts and not transient and len(pending) == conflicts and conflict_rounds < MAX_CONFLICT_ROUNDS:
                conflict_rounds += 1
                continue
            if attempt >= self.max_retries:
                break
            time.sleep(min(self.backoff * 2 ** attempt, 30.0))
            attempt += 1
        # whatever is still pending could not be delivered now
        reason = f"engine unavailable: {len(pending)} {kind} not delivered"
        if spool:
            with self._lock:
                self.spool.append(kind, pending.values())
            logger.warning("%s; spooled to %s", reason, self.spool.directory)
        result.spooled += len(pending)
        result.errors.append(reason)
        return result

    def _reject(self, kind: str, doc: dict, reason: str, result: IndexResult) -> None:
        result.failed += 1
        result.errors.append(f"{kind}/{doc.get('id') or doc.get('story_id')}: {reason}")
        with self._lock:
            self.spool.dead_letter(kind, doc, reason)
            key = reason.split(":", 1)[0]
            if key in self._logged_reasons:
                return
            self._logged_reasons.add(key)  # one line per kind of problem, not one per document
        logger.error("rejected %s %s: %s (dead-lettered in %s; further such errors are counted "
                     "only)", kind, doc.get("id") or doc.get("story_id"), reason, self.spool.directory)


def _item_reason(item: dict) -> str:
    error = item.get("error")
    if isinstance(error, dict):
        reason = f"{error.get('type')}: {error.get('reason')}"
        cause = error.get("caused_by")
        if isinstance(cause, dict) and cause.get("reason"):
            reason += f" ({cause.get('type')}: {cause.get('reason')})"
        return reason
    return str(error or item)
