"""Assign ``dup_id`` and ``story_id`` with the MinHash/LSH deduplicator; honour editors' decisions."""

from __future__ import annotations

import logging
import os
import socket
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from scrapy import signals
from scrapy.exceptions import NotConfigured

from aggregator.dedup import prepared
from aggregator.dedup.embed import CARRIED_FIELD
from aggregator.engine import pid_alive
from pipelines.signals import articles_checkpointed, articles_indexed

logger = logging.getLogger(__name__)


class _SharedDeduplicators:
    """One Deduplicator per store URL in a process, shared by every crawler that runs in it.

    ``aggregator crawl --all`` runs many spiders in one process; separate instances over one file
    store would each load the state at start and overwrite each other's clusters at close.
    (Separate processes share clusters through the Redis store instead.)
    """

    def __init__(self) -> None:
        self._open: dict[str, list] = {}

    def acquire(self, store_url: str, config=None):
        """The process's Deduplicator over ``store_url``; the first acquirer's ``config`` builds it."""
        from aggregator.dedup import Deduplicator, open_store

        entry = self._open.get(store_url)
        if entry is None:
            entry = self._open[store_url] = [Deduplicator(config, store=open_store(store_url)), 0, {}, None]
        entry[1] += 1
        return entry[0]

    def current(self, store_url: str):
        """The Deduplicator over ``store_url`` as it is now: a :class:`~aggregator.dedup.worker.RemoteDeduplicator`
        once a dedup process took over the state (:meth:`start_worker`)."""
        return self._open[store_url][0]

    def start_worker(self, store_url: str, on_death) -> object:
        """Hand the state over ``store_url`` to a dedup process of its own (once per process and store; later
        callers get the same one); returns the :class:`~aggregator.dedup.worker.RemoteDeduplicator`.
        Raises if no kind of worker process can start (the caller then keeps clustering in-process)."""
        from aggregator.dedup.worker import START_METHODS, DedupWorker, RemoteDeduplicator

        entry = self._open[store_url]
        if entry[3] is not None:
            return entry[0]
        dd, errors = entry[0], []
        for method in START_METHODS:
            if method != "fork":
                if store_url.startswith("memory:"):  # nothing to open again: only a forked worker has the state
                    errors.append(f"{method}: a memory: store cannot be reopened")
                    continue
                dd.flush()  # the worker opens the store again
            try:
                worker = DedupWorker(dd, store_url, dd.config, start_method=method, on_death=on_death).start()
            except Exception as exc:  # noqa: BLE001 - try the next start method
                errors.append(f"{method}: {exc!r}")
                continue
            remote = RemoteDeduplicator(worker, dd.config)
            remote._aggregator_opened = True
            entry[0], entry[3] = remote, worker
            return remote
        raise RuntimeError("; ".join(errors) or "no start method")

    def users(self, store_url: str) -> int:
        """How many crawlers of this process hold the Deduplicator over ``store_url``."""
        entry = self._open.get(store_url)
        return entry[1] if entry else 0

    def in_flight(self, store_url: str) -> dict[str, list[str]]:
        """Article id -> story ids it touched, for articles clustered but not yet indexed (any crawler of
        the process): what a crash would leave the indices without, though the state may hold it."""
        return self._open[store_url][2]

    def release(self, store_url: str) -> None:
        entry = self._open[store_url]
        entry[1] -= 1
        if entry[1] == 0:
            del self._open[store_url]
            if entry[3] is not None:  # the worker closes the store
                entry[3].close()
                return
            close = getattr(entry[0].store, "close", None)
            if close is not None:
                close()


_shared = _SharedDeduplicators()


class StoryRef(str):
    """The id of the story an article joined, which reads the story from the dedup state when the index
    pipeline writes it (:meth:`snapshot`).

    A snapshot per article cost O(members) (every member's document, read again for each article that
    joins), quadratic in a story's size over a crawl, and was wasted when indexing is off. Read at write
    time, once per story and batch, it also holds every article placed since: several crawlers' index
    pipelines flush in any order, and the later read, which carries the later ``updated_at``, is the
    newer state. A ``str`` so that whatever serialises the item (a feed export told to write every key)
    writes the story id.
    """

    def __new__(cls, dd, story_id: str) -> StoryRef:
        ref = super().__new__(cls, story_id)
        ref._dd = dd
        return ref

    @property
    def story_id(self) -> str:
        return str(self)

    def snapshot(self):
        """The story's current state (:class:`aggregator.dedup.Story`), None if it no longer exists."""
        return self._dd.story(str(self))

    def labels(self, article_id: str) -> tuple[str | None, str | None]:
        """``(story_id, dup_id)`` the state gives ``article_id`` now: a merge made since the article was
        clustered (by another article, or another crawler of the process) moved it."""
        if hasattr(self._dd, "worker"):  # one request to the dedup process, not two
            return self._dd.labels([article_id])[0]
        return self._dd.story_of(article_id), self._dd.dup_of(article_id)

    def __reduce__(self):  # a copy or pickle of the item keeps the id, not the live state behind it
        return str, (str(self),)


class DedupPipeline:
    """Thin adapter over :class:`aggregator.dedup.Deduplicator`.

    Settings: ``AGGREGATOR_DEDUP_STORE`` (``file:<AGGREGATOR_VAR>/dedup`` by default, or
    ``redis://host:port/db?prefix=NAME`` when several crawler processes share one index),
    ``AGGREGATOR_DEDUP_ENABLED``, ``AGGREGATOR_CHECKPOINT_INTERVAL`` (seconds between persisting the
    clusters; default 30), ``AGGREGATOR_DEDUP_RETENTION_DAYS`` (default 180; 0 keeps every fingerprint):
    on open, at most once a day, articles published longer ago are expired
    (:meth:`~aggregator.dedup.Deduplicator.expire`: they stay in their stories but no longer match new
    articles), which bounds the state's memory in a long-running deployment.
    ``AGGREGATOR_DEDUP_STORY_EMBEDDING_WEIGHT`` (default 8; 0 turns it off): the story tier's
    multilingual embedding evidence (:mod:`aggregator.dedup.embed`, ~8 ms of CPU per article that meets a
    candidate in another language, spent here; ``AGGREGATOR_EXTRACT_EMBEDDING`` on spends it on every article
    in the extraction workers instead).

    On open, every editor decision in the ``reviews`` index is applied (idempotently) so a split or a
    merge made in the review page holds on this run too. The state keeps a record of each crawling
    process; finding the record of one that is gone (killed), or decisions new to the state, the open
    replays the spool and reconciles the indices with the state around what changed
    (:mod:`aggregator.search.consistency`). Stats: ``dedup/new_story``,
    ``dedup/joined_story``, ``dedup/new_dup``, ``dedup/joined_dup``, ``dedup/merged_stories``,
    ``dedup/merged_dups``, ``dedup/decisions_applied``, ``dedup/checkpoints``, ``dedup/expired``,
    ``dedup/reconciled_runs``, ``dedup/reconcile_<what was written>``, ``dedup/reconcile_drift_left``,
    ``dedup/embedding_encoded`` (vectors encoded in this process: an article's is made the first time one
    of its pairs in two languages needs it, :mod:`aggregator.dedup.embed`; a crawl in one language makes none),
    ``dedup/embedding_carried`` (the item's ``_embedding``, computed by the extraction worker when
    ``AGGREGATOR_EXTRACT_EMBEDDING`` is on, was kept) and ``dedup/embedding_recomputed`` (it was not made from
    the text the state embeds, e.g. a learned boilerplate line at the top: the text is kept instead). The
    ``_embedding`` key is removed from the item once used.
    ``dedup/features_carried`` / ``dedup/features_recomputed``: the same for the article's own features
    (:mod:`aggregator.dedup.prepared`, computed in the extraction workers too; key ``_dedup_features``).

    ``AGGREGATOR_DEDUP_PROCESS`` (default off): the Deduplicator moves to a process of its own when the first
    crawler of the process opens (after the run's record, expiry, editor decisions and reconciling are done
    here): :mod:`aggregator.dedup.worker`. ``process_item`` then sends the article (with its carried features)
    and awaits its ids; story snapshots, labels, checkpoints and the run's record are requests answered after
    every article sent before them. Stats ``dedup/process_cpu_seconds`` (its CPU time, at close),
    ``dedup/process_died`` (the crawl stops with finish reason ``dedup_process_died``; what was not
    checkpointed is fetched again next run), ``dedup/process_unavailable`` (it could not start: in-process).

    The item goes on carrying ``_story`` (a :class:`StoryRef` to the story it joined) for the index
    pipeline, which upserts the story document; ``_merged_story_ids`` and ``_merged_dup_ids`` list
    clusters this article merged into its own, ``_left_story_ids`` the story a changed article left.
    None of them is exported by feed exports (``FEED_EXPORT_FIELDS`` lists the article fields).
    """

    def __init__(self, store_url: str, search_url: str | None, stats, signals_, interval: float,
                 config=None, process: bool = False, crawler=None) -> None:
        self.store_url = store_url
        self.process = process  # AGGREGATOR_DEDUP_PROCESS: cluster in a dedup process of its own
        self.crawler = crawler
        self.search_url = search_url
        self.stats = stats
        self.signals = signals_
        self.interval = interval
        self.dd = _shared.acquire(store_url, config)
        self.in_flight = _shared.in_flight(store_url)
        self.spool_dir: Path | None = None
        self._pending: list[dict] = []
        self._last_checkpoint = time.monotonic()

    @classmethod
    def from_crawler(cls, crawler):
        settings = crawler.settings
        if not settings.getbool("AGGREGATOR_DEDUP_ENABLED", True):
            raise NotConfigured
        store = settings.get("AGGREGATOR_DEDUP_STORE") or f"file:{Path(settings.get('AGGREGATOR_VAR')) / 'dedup'}"
        indexing = settings.getbool("AGGREGATOR_INDEX_ENABLED", True)
        config = None  # DedupConfig's own defaults, unless the setting says otherwise
        if settings.get("AGGREGATOR_DEDUP_RETENTION_DAYS") is not None:
            from aggregator.dedup import DedupConfig

            config = DedupConfig(retention_days=settings.getfloat("AGGREGATOR_DEDUP_RETENTION_DAYS") or None)
        if settings.get("AGGREGATOR_DEDUP_STORY_EMBEDDING_WEIGHT") is not None:  # 0 turns the embedding evidence off
            from aggregator.dedup import DedupConfig

            config = config or DedupConfig()
            config.story_embedding_weight = settings.getfloat("AGGREGATOR_DEDUP_STORY_EMBEDDING_WEIGHT")
        pipe = cls(store, settings.get("AGGREGATOR_SEARCH_URL") if indexing else None, crawler.stats,
                   crawler.signals, settings.getfloat("AGGREGATOR_CHECKPOINT_INTERVAL", 30.0), config,
                   process=settings.getbool("AGGREGATOR_DEDUP_PROCESS", False), crawler=crawler)
        var = settings.get("AGGREGATOR_VAR")
        if var:
            pipe.spool_dir = Path(var) / "spool"
        if pipe.process:  # Scrapy reads the method when it builds the pipeline chain, before open_spider
            pipe.process_item = pipe._process_item_remote  # type: ignore[method-assign]
        crawler.signals.connect(pipe.indexed, signal=articles_indexed)
        crawler.signals.connect(pipe.spider_closed, signal=signals.spider_closed)
        return pipe

    def open_spider(self) -> None:
        self.dd = _shared.current(self.store_url)  # another crawler of the process may have started the worker
        self._open()
        if self.process and not hasattr(self.dd, "worker"):
            try:
                self.dd = _shared.start_worker(self.store_url, _on_worker_death)
                logger.info("dedup process started (pid %d, %s)", self.dd.worker.pid, self.dd.worker.start_method)
            except Exception as exc:  # noqa: BLE001 - clustering in-process is slower, not wrong
                logger.warning("dedup process not started (%s); clustering in the crawl process", exc)
                self.stats.inc_value("dedup/process_unavailable")
                self.process = False
        if self.process:
            _death_watch.append(self)

    def _open(self) -> None:
        first = not getattr(self.dd, "_aggregator_opened", False)
        crashed = self._register_run() if first else []
        expired = self.dd.expire()
        if expired.expired:
            logger.info("dedup: expired %d articles published over %g days ago (%.1f MB of fingerprints)",
                        expired.expired, self.dd.config.retention_days, expired.freed_bytes / 1e6)
            self.stats.inc_value("dedup/expired", expired.expired)
        if not self.search_url:
            return
        from aggregator.decisions import load_decisions
        from aggregator.search.client import SearchUnavailable, connect

        try:
            client = connect(self.search_url)
            decisions = load_decisions(client)
        except SearchUnavailable as exc:
            # the decisions stay in the engine; the next run that reaches it applies them (and reconciles)
            logger.warning("editor decisions not loaded (%s); a later run will apply them", exc)
            self.stats.inc_value("dedup/decisions_unavailable")
            return
        touched: set[str] = set()
        for decision in decisions:
            touched.update(self.dd.apply_decision(decision.to_doc()))
            self.stats.inc_value("dedup/decisions_applied")
        if crashed or touched:
            self._reconcile(client, crashed, touched)

    # -- crash recovery ---------------------------------------------------------------------------------
    # The state keeps a record per crawling process ("meta:runs"): when it opened, when it last
    # checkpointed, and which articles it had clustered but not yet indexed at that checkpoint. A clean
    # close removes the record; a record whose process is gone is a crash, and the next crawl to open
    # reconciles the indices with the state around what that run may have left half-written.

    def _token(self) -> str:
        return f"{socket.gethostname()}:{os.getpid()}"

    def _register_run(self) -> list[dict]:
        """Record this process's run in the state; returns the records of runs that crashed."""
        self.dd._aggregator_opened = True  # one record per process, however many crawlers share the state
        store, host = self.dd.store, socket.gethostname()
        now = _utcnow()
        with store.lock():
            runs = dict(store.get("meta:runs") or {})
            crashed = [dict(r, token=t) for t, r in runs.items()
                       if r.get("host") == host and t != self._token() and not _alive(r.get("pid"))]
            runs[self._token()] = {"host": host, "pid": os.getpid(), "opened_at": now, "checkpoint_at": now,
                                   "in_flight": {}}
            store.put("meta:runs", runs)
        # a run killed before its first checkpoint must still leave its record behind
        self.dd.flush()
        return crashed

    def _update_run(self, closing: bool = False) -> None:
        if hasattr(self.dd, "worker"):  # the dedup process owns the store: it writes the record
            pending = [a for a, n in self.dd.pending.items() if n > 0]
            self.dd.update_run(self._token(), closing, {k: list(v) for k, v in self.in_flight.items()}, pending,
                               _utcnow())
            return
        store = self.dd.store
        with store.lock():
            runs = dict(store.get("meta:runs") or {})
            if closing:
                runs.pop(self._token(), None)
            elif self._token() in runs:
                runs[self._token()] = dict(runs[self._token()], checkpoint_at=_utcnow(),
                                           in_flight={k: list(v) for k, v in self.in_flight.items()})
            store.put("meta:runs", runs)

    def _reconcile(self, client, crashed: list[dict], touched: set[str]) -> None:
        """Make the indices agree with the state around crashed runs' last checkpoints and around
        stories editors' decisions changed: documents written after the checkpoint, and articles then
        clustered but not yet indexed. The spool is replayed first, so nothing older lands afterwards."""
        from aggregator.dedup.store import RedisStore
        from aggregator.search.consistency import (
            Consistency,
            Scope,
            articles_written_since,
            stories_written_since,
        )
        from aggregator.search.indexer import Indexer
        from aggregator.search.spool import Spool

        indexer = Indexer(client, Spool(self.spool_dir) if self.spool_dir else None, url=self.search_url)
        try:
            indexer.replay()
            scope: Scope | None = Scope(story_ids=set(touched))
            if crashed and isinstance(self.dd.store, RedisStore):
                scope = None  # Redis holds every change at once: what a crash lost is index writes, anywhere
            elif crashed:
                # the margin covers the clock steps between the checkpoint's time and the writes after it
                since = min(r["checkpoint_at"] for r in crashed)
                since = (datetime.fromisoformat(since.replace("Z", "+00:00")) - timedelta(seconds=5))
                since_iso = since.isoformat().replace("+00:00", "Z")
                scope.article_ids |= articles_written_since(client, since_iso)
                scope.story_ids |= stories_written_since(client, since_iso)
                for r in crashed:
                    for article_id, story_ids in (r.get("in_flight") or {}).items():
                        scope.article_ids.add(article_id)
                        scope.story_ids.update(story_ids)
            report = Consistency(self.dd, client, indexer).check(repair=True, scope=scope)
        except client.Errors as exc:
            logger.warning("indices not reconciled with the dedup state (%s); the next run will", exc)
            self.stats.inc_value("dedup/reconcile_failed")
            return
        self.dd.flush()
        if crashed:
            with self.dd.store.lock():
                runs = dict(self.dd.store.get("meta:runs") or {})
                for r in crashed:
                    runs.pop(r["token"], None)
                self.dd.store.put("meta:runs", runs)
            self.dd.flush()
            logger.warning("reconciled the indices after %d crashed run(s): %s (%d articles and %d stories "
                           "read)", len(crashed), dict(report.repaired) or "nothing to repair",
                           report.articles_indexed, report.stories_indexed)
        self.stats.inc_value("dedup/reconciled_runs", len(crashed))
        for kind, n in report.repaired.items():
            self.stats.inc_value(f"dedup/reconcile_{kind}", n)
        if report.drift:
            logger.warning("drift left after reconciling: %s", report.summary())
            self.stats.inc_value("dedup/reconcile_drift_left", report.drift)

    # -- items ------------------------------------------------------------------------------------------
    def process_item(self, item: dict) -> dict:
        before = self.dd.story_of(item["id"]) if item.get("id") else None
        emb = self.dd.embedding
        carried, used, encoded = emb.carried, prepared.counts["carried"], emb.computed
        assignment = self.dd.add(item)
        if item.pop(CARRIED_FIELD, None) is not None:  # computed by the extraction worker: used, or stale
            self.stats.inc_value("dedup/embedding_carried" if emb.carried > carried else "dedup/embedding_recomputed")
        if emb.computed > encoded:  # vectors a two-language pair needed, encoded here (this article's, candidates')
            self.stats.inc_value("dedup/embedding_encoded", emb.computed - encoded)
        if item.pop(prepared.FIELD, None) is not None:  # the same for the article's features
            self.stats.inc_value("dedup/features_carried" if prepared.counts["carried"] > used
                                 else "dedup/features_recomputed")
        self._label(item, assignment, before)
        return item

    async def _process_item_remote(self, item: dict) -> dict:
        """:meth:`process_item` with the clustering done in the dedup process (``AGGREGATOR_DEDUP_PROCESS``):
        the article's fields and carried features go there, the crawl waits for the answer without holding
        the GIL. Answers come back in the order the articles were sent, so the ids are an in-process run's."""
        from scrapy.exceptions import DropItem
        from scrapy.utils.defer import maybe_deferred_to_future
        from twisted.internet import defer, reactor

        from aggregator.dedup.worker import WorkerDied

        remote = self.dd
        if not hasattr(remote, "worker"):  # the worker could not start: in-process
            return self._process_item_local(item)
        if not item.get("id"):
            raise ValueError("article needs an id")
        article = {k: v for k, v in item.items() if not k.startswith("_")}
        for key in (CARRIED_FIELD, prepared.FIELD):  # shipped with the article, not kept on the item
            value = item.pop(key, None)
            if value is not None:
                article[key] = value
        aid = str(item["id"])
        remote.pending[aid] += 1
        d: defer.Deferred = defer.Deferred()
        future = remote.add_async(article)
        future.add_done_callback(lambda f: reactor.callFromThread(_settle, d, f))
        try:
            added = await maybe_deferred_to_future(d)
        except WorkerDied as exc:
            # logged once and counted by _on_worker_death; the crawl state does not record the article (no
            # checkpoint reaches it), so the next run fetches it again
            raise DropItem(f"not clustered: {exc}", log_level="DEBUG") from None
        finally:
            remote.pending[aid] -= 1
            if remote.pending[aid] <= 0:
                del remote.pending[aid]
        assignment = added.assignment
        for key, n in added.stats.items():
            self.stats.inc_value(key, n)
        self._label(item, assignment, added.before)
        return item

    def _process_item_local(self, item: dict) -> dict:
        return DedupPipeline.process_item(self, item)

    def _label(self, item: dict, assignment, before: str | None) -> None:
        item["dup_id"] = assignment.dup_id
        item["story_id"] = assignment.story_id
        self.stats.inc_value("dedup/new_story" if assignment.new_story else "dedup/joined_story")
        self.stats.inc_value("dedup/new_dup" if assignment.new_dup else "dedup/joined_dup")
        if assignment.merged_story_ids:
            self.stats.inc_value("dedup/merged_stories", len(assignment.merged_story_ids))
        if assignment.merged_dup_ids:
            self.stats.inc_value("dedup/merged_dups", len(assignment.merged_dup_ids))
        item["_story"] = StoryRef(self.dd, assignment.story_id)
        item["_merged_story_ids"] = list(assignment.merged_story_ids)
        item["_merged_dup_ids"] = list(assignment.merged_dup_ids)
        # a changed article that moved to another story leaves its old one: that document is rewritten too
        left = [before] if before and before != assignment.story_id and before not in assignment.merged_story_ids \
            else []
        item["_left_story_ids"] = [StoryRef(self.dd, sid) for sid in left]
        self.in_flight[assignment.article_id] = [assignment.story_id, *assignment.merged_story_ids, *left]
        if not self.search_url:  # nothing downstream makes it durable: our own checkpoint does
            self.indexed([item])

    def indexed(self, items: list[dict]) -> None:
        for item in items:
            self.in_flight.pop(item.get("id"), None)
        self._pending.extend(items)
        if time.monotonic() - self._last_checkpoint >= self.interval:
            self.checkpoint()

    def checkpoint(self, closing: bool = False) -> None:
        """Persist the clusters, then let the crawl state record the articles as done."""
        from aggregator.dedup.worker import WorkerDied

        try:
            self._update_run(closing)
            self.dd.flush()
        except WorkerDied:  # counted and logged once (_on_worker_death); nothing pending is recorded as done
            return
        self.stats.inc_value("dedup/checkpoints")
        self._last_checkpoint = time.monotonic()
        pending, self._pending = self._pending, []
        if pending:
            self.signals.send_catch_log(articles_checkpointed, items=pending)

    def spider_closed(self) -> None:
        self.checkpoint(closing=_shared.users(self.store_url) == 1)
        if self in _death_watch:
            _death_watch.remove(self)
        worker = getattr(self.dd, "worker", None)
        last = _shared.users(self.store_url) == 1
        _shared.release(self.store_url)
        if last and worker is not None and worker.cpu_seconds is not None:
            self.stats.set_value("dedup/process_cpu_seconds", round(worker.cpu_seconds, 3))


#: pipelines clustering through a dedup process: each is told when it dies
_death_watch: list[DedupPipeline] = []


def _settle(d, future) -> None:
    """Fire ``d`` (in the reactor thread) with what the worker answered."""
    exc = future.exception()
    if exc is not None:
        d.errback(exc)
    else:
        d.callback(future.result())


def _on_worker_death(reason: str) -> None:
    """(reader thread) Log once, then in the reactor count it in every crawl that used the worker and stop them:
    what was not clustered is not checkpointed either, so the next run fetches it again."""
    from twisted.internet import reactor

    logger.error("the dedup process died (%s): stopping the crawl; articles not yet checkpointed are fetched "
                 "again by the next run", reason)
    reactor.callFromThread(_stop_watchers)


def _stop_watchers() -> None:
    from scrapy.utils.defer import deferred_from_coro

    for pipe in list(_death_watch):
        pipe.stats.inc_value("dedup/process_died")
        engine = getattr(pipe.crawler, "engine", None)
        if engine is not None and getattr(engine, "spider", None) is not None:
            deferred_from_coro(engine.close_spider_async(reason="dedup_process_died"))


def _utcnow() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _alive(pid: object) -> bool:
    """Whether the run's process still runs on this host (a crashed run's pid is gone)."""
    return isinstance(pid, int) and pid_alive(pid)
