"""Extraction in a pool of worker processes, so a crawl's reactor thread never does the CPU work.

Extraction is CPU-bound Python (lxml, trafilatura, our own passes); in a thread it holds the GIL the
reactor needs for downloading. Here ``extract_article`` runs in a
:class:`~concurrent.futures.ProcessPoolExecutor` awaited through :func:`asyncio.wrap_future`:

- :func:`acquire` / :func:`release` share one pool per process between the crawlers of a
  ``CrawlerProcess`` (the last release shuts it down);
- workers are forked (they inherit the imported extraction chain: no start-up cost, and unlike
  ``forkserver``/``spawn`` they do not re-run the parent's ``__main__``, which an unguarded script
  would not survive); ``forkserver`` is the fallback. They start when the pool is created, before
  the crawl needs them (a crawler creates it in ``from_crawler``, before the reactor runs);
- :class:`~aggregator.extract.ExtractionError` crosses the process boundary with its ``reason``;
  any other exception in a worker comes back as a :class:`RuntimeError` naming it;
- a worker that dies (segfault, OOM kill, ``os._exit``) breaks the pool for every page in flight:
  the pool is recreated and each of those pages is tried once more; a page that breaks it again
  raises :class:`WorkerCrashed`. Workers ignore SIGINT, so Ctrl-C lets the crawl finish its pages,
  and exit when their parent is gone.
"""

from __future__ import annotations

import asyncio
import gc
import importlib
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .article import extract_article
from .errors import ExtractionError

logger = logging.getLogger(__name__)

#: Imported before the workers start: the extraction chain and what it imports lazily on its first page
#: (extruct pulls in mf2py, BeautifulSoup and soupsieve, which compile dozens of regexes). Imported
#: in the parent, they are shared copy-on-write by forked workers instead of paid for by each worker.
PRELOAD = ["aggregator.extract.article", "aggregator.extract.pool", "aggregator.sources", "extruct.jsonld",
           "extruct.w3cmicrodata", "charset_normalizer"]
START_METHODS = tuple(m for m in ("fork", "forkserver") if m in multiprocessing.get_all_start_methods())


class WorkerCrashed(Exception):
    """The worker process died while extracting this page (twice: once more on a fresh pool)."""


def default_workers() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _preload() -> None:
    for name in PRELOAD:
        try:
            importlib.import_module(name)
        except ImportError:  # an optional module: the worker imports it (or does without) as before
            logger.debug("could not preload %s for the extraction workers", name, exc_info=True)


def _init_worker(embedding: bool = False) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when the pool stops
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), name="exit-with-parent", daemon=True).start()
    if embedding:
        # the encoder reads its weights on its first text (~2 s of CPU): at start, while the crawl fetches
        # robots.txt, feeds and sitemaps, not on the worker's first article
        _warming.acquire()  # released by the thread once the model is loaded
        threading.Thread(target=_warm_encoder, name="warm-encoder", daemon=True).start()


_warming = threading.Lock()  # held while a worker warms the encoder: its first article waits, not loads it twice


def _warm_encoder() -> None:
    try:
        _warm()
    finally:
        _warming.release()


def _warm() -> None:
    try:
        from aggregator.dedup.embed import encoder

        encoder().encode(["warm up"])
    except Exception:  # noqa: BLE001 - the first article tries again, and says why
        logger.debug("story embedding not warmed in the extraction worker", exc_info=True)


def _exit_with_parent(parent: int) -> None:
    """End this worker once its parent is gone (e.g. SIGKILLed): an orphan would wait for work
    forever, holding the crawl's stdout open."""
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def _ready() -> int:
    return os.getpid()


def run_extract(html: bytes | str, url: str, kwargs: dict) -> dict:
    """The worker's job: ``extract_article`` with exceptions that survive pickling.

    ``kwargs["dedup"]`` (popped): also compute the article's dedup features here
    (:func:`aggregator.dedup.prepared.prepare`), for the same reason.
    ``kwargs["embedding"]`` (popped, not passed on): also compute the article's story embedding here
    (:func:`aggregator.dedup.core.carry_embedding`), so the crawl's dedup step does not encode it on its
    thread. The model loads in the worker on its first such article.
    """
    kwargs = dict(kwargs)
    embedding = kwargs.pop("embedding", False)
    dedup = kwargs.pop("dedup", False)
    try:
        article = extract_article(html, url, **kwargs)
    except ExtractionError:
        raise
    except Exception as exc:  # noqa: BLE001 - arbitrary exceptions may not pickle; their text does
        raise RuntimeError(f"{type(exc).__name__}: {exc}") from None
    if embedding:
        _attach_embedding(article)
    if dedup:
        _attach_features(article)
    return article


def _attach_features(article: dict) -> None:
    """Add the carried dedup features (:mod:`aggregator.dedup.prepared`) to ``article``; on any failure leave
    them out (the dedup step computes them itself, as for every article without them)."""
    from aggregator.dedup import prepared

    try:
        article[prepared.FIELD] = prepared.prepare(article)
    except Exception:  # noqa: BLE001 - an optimisation only: the article is extracted whatever happens here
        logger.warning("dedup features not computed in the extraction worker for %s", article.get("url"),
                       exc_info=True)


def _attach_embedding(article: dict) -> None:
    """Add the carried story embedding to ``article``; on any failure leave it out (the dedup step then
    encodes the article itself, as it does for every article without one)."""
    from aggregator.dedup.core import carry_embedding
    from aggregator.dedup.embed import CARRIED_FIELD, supported

    if not supported(str(article.get("language") or "")):
        return  # the dedup step keeps no vector for a language the model does not know (embed.LANGUAGES)
    try:
        with _warming:  # the model is loaded by then (see _init_worker)
            pass
        article[CARRIED_FIELD] = carry_embedding(article)
    except Exception:  # noqa: BLE001 - an optimisation only: the article is extracted whatever happens here
        logger.warning("story embedding not computed in the extraction worker for %s", article.get("url"),
                       exc_info=True)


_frozen = False  # the pool's start moved the process's objects out of the collector's passes (gc.freeze)


def _warm_dedup() -> None:
    try:
        from aggregator.dedup import prepared

        prepared.warm()
    except Exception:  # noqa: BLE001 - an optimisation only: each process loads them on first use instead
        logger.debug("dedup kernels not warmed before the extraction workers start", exc_info=True)


def _freeze() -> None:
    """Move every object the process holds now out of the cyclic collector's passes (:func:`gc.freeze`).

    What is loaded before the workers fork (Scrapy, the extraction chain and, with dedup on, numba's typing
    registries and kernels: ~10^5 objects) lives as long as the process; left in the oldest generation, every
    full collection of the crawl traversed it again (dedup on: 0.37-0.41 s of a 300-article crawl's thread,
    off: 0.23 s). Frozen before the fork, as the gc module's documentation advises for pre-fork servers, so
    neither the crawl nor the workers pay for it; the last release unfreezes (a test process makes many pools).
    """
    global _frozen
    gc.freeze()
    _frozen = True


class ExtractPool:
    """A restartable process pool running ``func(html, url, kwargs)`` (default :func:`run_extract`)."""

    def __init__(self, workers: int, func: Callable[[Any, str, dict], dict] = run_extract,
                 start_method: str = START_METHODS[0], embedding: bool = False) -> None:
        if workers < 1:
            raise ValueError("an extraction pool needs at least one worker")
        self.workers = workers
        self.func = func
        self.start_method = start_method
        self.embedding = embedding  # workers load the story-embedding model as they start
        self.restarts = 0
        self._executor: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()
        self._closed = False

    def _context(self):
        ctx = multiprocessing.get_context(self.start_method)
        if self.start_method == "forkserver":
            ctx.set_forkserver_preload(PRELOAD)
        else:
            _preload()
        return ctx

    def executor(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._closed:
                raise RuntimeError("the extraction pool is shut down")
            if self._executor is None:
                self._executor = ProcessPoolExecutor(self.workers, mp_context=self._context(),
                                                     initializer=_init_worker, initargs=(self.embedding,))
            return self._executor

    def start(self) -> None:
        """Start every worker now rather than on the first page; raises if they cannot run.

        (Under ``forkserver``/``spawn`` a worker re-imports the parent's ``__main__``, which fails
        when that is e.g. stdin.)
        """
        executor = self.executor()
        try:
            for future in [executor.submit(_ready) for _ in range(self.workers)]:
                future.result(timeout=60)
        except BaseException:
            self._replace(executor, quiet=True)
            raise

    def _replace(self, broken: ProcessPoolExecutor, quiet: bool = False) -> None:
        with self._lock:
            if self._executor is not broken:
                return  # another page replaced it already
            self._executor = None
            self.restarts += not quiet
        if not quiet:
            logger.warning("an extraction worker died; starting a new pool (restart %d)", self.restarts)
        broken.shutdown(wait=False, cancel_futures=True)

    async def extract(self, html: bytes | str, url: str, **kwargs: Any) -> dict:
        """``extract_article(html, url, **kwargs)`` in a worker; raises what it raises, or
        :class:`WorkerCrashed`."""
        for _attempt in range(2):
            executor = self.executor()
            try:
                future = executor.submit(self.func, html, url, kwargs)
                return await asyncio.wrap_future(future)
            except BrokenProcessPool:
                self._replace(executor)
        raise WorkerCrashed(f"the extraction worker died on {url} (twice)")

    def shutdown(self, wait: bool = True) -> None:
        with self._lock:
            self._closed = True
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=wait, cancel_futures=True)


# -- one pool per process ---------------------------------------------------------------------------
_shared: ExtractPool | None = None
_users = 0
_shared_lock = threading.Lock()


def acquire(workers: int, embedding: bool = False, dedup: bool = False) -> ExtractPool | None:
    """The process's pool (created and started on first use, with ``workers`` workers; ``embedding``: they
    load the story-embedding model as they start; ``dedup``: the dedup modules and kernels are loaded before
    they are forked, see :func:`run_extract`).

    None if no kind of worker process can be started here (the caller extracts in a thread).
    """
    global _shared, _users
    with _shared_lock:
        if _shared is None:
            if dedup:
                _warm_dedup()
            _freeze()
            for method in START_METHODS:
                pool = ExtractPool(workers, start_method=method, embedding=embedding)
                try:
                    pool.start()
                except Exception as exc:  # noqa: BLE001 - try the next start method
                    pool.shutdown(wait=False)
                    logger.warning("extraction workers could not start with %r: %r", method, exc)
                    continue
                _shared = pool
                break
            else:
                return None
        _users += 1
        return _shared


def release(pool: ExtractPool) -> None:
    """Give back a pool from :func:`acquire`; the last user shuts it down."""
    global _shared, _users, _frozen
    with _shared_lock:
        if pool is not _shared:
            pool.shutdown()
            return
        _users -= 1
        if _users > 0:
            return
        _shared = None
    pool.shutdown()
    if _frozen:
        _frozen = False
        gc.unfreeze()
