"""A :class:`~aggregator.dedup.Deduplicator` in a process of its own, so a crawl's reactor thread does not spend
the GIL on clustering.

``Deduplicator.add`` is CPU-bound Python and numpy (~2-3 ms an article); run in the crawl process it holds
the GIL the reactor needs to download and to hand pages to the extraction workers. :class:`DedupWorker`
owns the Deduplicator (and, for ``file:``/``memory:`` stores, is the only writer of its state while it
runs) and serves requests in the order they were sent:

- :meth:`DedupWorker.add` returns a :class:`~concurrent.futures.Future` of :class:`Added` (the
  :class:`~aggregator.dedup.core.Assignment`, the article's story before the add, and the counts the crawl
  reports as stats); one queue and one consumer, so the ids are those of an in-process run over the same
  input order;
- :meth:`DedupWorker.call` runs one of the read/write methods (:data:`CALLS`) and waits for its result: a
  snapshot read after an add sees that add, a flush persists every add sent before it;
- :class:`RemoteDeduplicator` wraps both as the subset of the Deduplicator's interface the crawl uses.

A sender thread pickles requests (the caller never blocks on a full pipe) and a reader thread sets the
futures. A worker that dies (segfault, OOM kill, ``os._exit``) is noticed by the reader thread within
:data:`POLL` seconds: every pending and later request fails with :class:`WorkerDied` and ``on_death`` is
called once, never a hang. The worker ignores SIGINT and SIGTERM (the parent decides when it stops) and exits at once,
without flushing, when its parent is gone (e.g. SIGKILLed): a crash loses exactly what an in-process crash
would, the adds since the last flush.

Started with ``fork`` (the default where available) the worker inherits the parent's Deduplicator as it is
(no reload, no second copy of the state: the parent drops its own); with ``forkserver`` it opens the store
again from its URL, so the parent must flush first.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import pickle
import queue
import resource
import signal
import threading
import time
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

logger = logging.getLogger(__name__)

#: seconds between the reader thread's checks that the worker still runs (and the worker's that its parent does)
POLL = 0.5
START_METHODS = tuple(m for m in ("fork", "forkserver") if m in multiprocessing.get_all_start_methods())
#: the Deduplicator methods a :class:`RemoteDeduplicator` forwards (each returns picklable values)
CALLS = frozenset({"story", "story_of", "dup_of", "current_id", "flush", "expire", "apply_decision",
                   "links_of"})


class WorkerDied(RuntimeError):
    """The dedup worker process is gone; what it had not answered is not clustered."""


@dataclass
class Added:
    """What the worker answers to an add."""

    assignment: Any  # aggregator.dedup.core.Assignment
    before: str | None  # the story the article was in before this add (a changed article), None if new
    #: crawl stats the add earned, e.g. ``{"dedup/features_carried": 1}`` (counted in the worker's process)
    stats: dict[str, int] = field(default_factory=dict)


# -- the worker process -------------------------------------------------------------------------------------
def _exit_with_parent(parent: int) -> None:
    forked = os.getppid() == parent  # (a forkserver's child is the server's: then ask whether ``parent`` runs)
    while os.getppid() == parent if forked else _running(parent):
        time.sleep(POLL)
    os._exit(0)  # nothing flushed: what the last flush persisted is what a crash of the parent keeps


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class _Server:
    """The worker's side: the Deduplicator and the handlers of each request kind."""

    def __init__(self, dd: Any) -> None:
        self.dd = dd
        #: article id -> the story ids its last add touched, for adds since the last ``update_run``
        self.touched: dict[str, list[str]] = {}

    def add(self, article: dict) -> Added:
        from . import prepared
        from .embed import CARRIED_FIELD

        dd = self.dd
        aid = article.get("id")
        before = dd.story_of(aid) if aid else None
        emb = dd.embedding
        carried, used, encoded = emb.carried, prepared.counts["carried"], emb.computed
        a = dd.add(article)
        stats: dict[str, int] = {}
        if article.get(CARRIED_FIELD) is not None:
            stats["dedup/embedding_carried" if emb.carried > carried else "dedup/embedding_recomputed"] = 1
        if emb.computed > encoded:
            stats["dedup/embedding_encoded"] = emb.computed - encoded
        if article.get(prepared.FIELD) is not None:
            stats["dedup/features_carried" if prepared.counts["carried"] > used else "dedup/features_recomputed"] = 1
        left = [before] if before and before != a.story_id and before not in a.merged_story_ids else []
        self.touched[a.article_id] = [a.story_id, *a.merged_story_ids, *left]
        return Added(a, before, stats)

    def call(self, name: str, args: tuple) -> Any:
        if name not in CALLS:
            raise ValueError(f"not a dedup worker call: {name!r}")
        return getattr(self.dd, name)(*args)

    def call_iter(self, name: str) -> list[Any]:
        if name != "assignments":
            raise ValueError(f"not a dedup worker listing: {name!r}")
        return list(self.dd.assignments())

    def labels(self, article_ids: list[str]) -> list[tuple[str | None, str | None]]:
        return [(self.dd.story_of(a), self.dd.dup_of(a)) for a in article_ids]

    def stories(self, story_ids: list[str]) -> list[Any]:
        return [self.dd.story(s) for s in story_ids]

    def update_run(self, token: str, closing: bool, in_flight: dict[str, list[str]], pending: list[str],
                   now: str) -> None:
        """Write the crawl's record in ``meta:runs`` (see ``pipelines.dedup``): its articles clustered but not
        indexed are ``in_flight`` plus those whose answers the parent had not read yet (``pending``)."""
        touched, self.touched = self.touched, {}
        store = self.dd.store
        with store.lock():
            runs = dict(store.get("meta:runs") or {})
            if closing:
                runs.pop(token, None)
            elif token in runs:
                flight = {k: list(v) for k, v in in_flight.items()}
                flight.update((a, touched[a]) for a in pending if a in touched)
                runs[token] = dict(runs[token], checkpoint_at=now, in_flight=flight)
            store.put("meta:runs", runs)

    def close(self) -> float:
        close = getattr(self.dd.store, "close", None)
        if close is not None:
            close()
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime


def _serve(requests: Any, answers: Any, dd: Any, store_url: str | None, config: Any, parent: int,
           unused: list[Any]) -> None:
    """The worker's main loop: one request at a time, in the order sent."""
    # the parent decides when the worker stops: Ctrl-C or a SIGTERM to the process group makes the crawl close
    # gracefully, and its last checkpoint still needs the worker (which exits with its parent in any case)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    for conn in unused:  # the parent's ends, inherited by fork: closed so that EOF means the parent is gone
        conn.close()
    threading.Thread(target=_exit_with_parent, args=(parent,), name="exit-with-parent", daemon=True).start()
    try:
        if dd is None:
            from . import Deduplicator, open_store

            dd = Deduplicator(config, store=open_store(store_url))
        server = _Server(dd)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises it from start()
        answers.send((0, False, _picklable(exc)))
        return
    answers.send((0, True, os.getpid()))
    while True:
        try:
            seq, op, args = requests.recv()
        except (EOFError, OSError):
            return
        try:
            value = getattr(server, op)(*args)
            ok = True
        except BaseException as exc:  # noqa: BLE001 - every error goes back to the caller
            value, ok = _picklable(exc), False
        answers.send((seq, ok, value))
        if op == "close":
            return


def _picklable(exc: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:  # noqa: BLE001
        return RuntimeError(f"{type(exc).__name__}: {exc}")


# -- the parent's side ---------------------------------------------------------------------------------------
class DedupWorker:
    """A dedup worker process and the two threads that talk to it."""

    def __init__(self, dd: Any = None, store_url: str | None = None, config: Any = None,
                 start_method: str = START_METHODS[0], on_death: Any = None) -> None:
        if dd is None and store_url is None:
            raise ValueError("a dedup worker needs a Deduplicator (fork) or a store URL")
        if start_method != "fork" and store_url is None:
            raise ValueError(f"a {start_method!r} dedup worker opens its store again: give its URL")
        self.start_method = start_method
        self.on_death = on_death
        self.dead: str | None = None  # why the worker is gone, once it is
        self.cpu_seconds: float | None = None  # the worker's CPU time, read at close
        self._dd, self._store_url, self._config = dd, store_url, config
        self._seq = 0
        self._futures: dict[int, Future] = {}
        self._lock = threading.Lock()
        self._outbox: queue.SimpleQueue = queue.SimpleQueue()
        self._process: Any = None
        self._closing = False

    # -- life cycle -----------------------------------------------------------------------------------------
    def start(self, timeout: float = 300.0) -> DedupWorker:
        """Start the process; returns once it is ready to serve (raises what its start raised)."""
        ctx = multiprocessing.get_context(self.start_method)
        req_r, req_w = ctx.Pipe(duplex=False)
        ans_r, ans_w = ctx.Pipe(duplex=False)
        dd = self._dd if self.start_method == "fork" else None
        self._process = ctx.Process(target=_serve, name="dedup-worker", daemon=True,
                                    args=(req_r, ans_w, dd, self._store_url, self._config, os.getpid(),
                                          [req_w, ans_r] if self.start_method == "fork" else []))
        self._process.start()
        self._dd = None  # the worker owns the state from here
        req_r.close()
        ans_w.close()
        self._requests, self._answers = req_w, ans_r
        deadline = time.monotonic() + timeout
        while not ans_r.poll(POLL):
            if not self._process.is_alive() or time.monotonic() > deadline:
                self._process.kill()
                raise WorkerDied(f"the dedup worker did not start (exit code {self._process.exitcode})")
        _, ok, value = ans_r.recv()
        if not ok:
            self._process.join(5)
            raise value
        self.pid = value
        threading.Thread(target=self._send_loop, name="dedup-worker-send", daemon=True).start()
        threading.Thread(target=self._read_loop, name="dedup-worker-read", daemon=True).start()
        return self

    def close(self, timeout: float = 60.0) -> None:
        """Ask the worker to close its store and exit; kill it if it does not within ``timeout``."""
        if self._process is None:
            return
        if self.dead is None and not self._closing:
            self._closing = True  # from here the worker's exit is expected, not a death to report
            try:
                self.cpu_seconds = self.call("close", timeout=timeout)
            except (WorkerDied, TimeoutError) as exc:
                logger.warning("dedup worker did not close cleanly: %s", exc)
        self._closing = True
        self._process.join(timeout)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self._outbox.put(None)

    @property
    def alive(self) -> bool:
        return self.dead is None and self._process is not None and self._process.is_alive()

    # -- requests -------------------------------------------------------------------------------------------
    def submit(self, op: str, *args: Any) -> Future:
        """Queue a request; its answer sets the returned future (or :class:`WorkerDied` does)."""
        future: Future = Future()
        with self._lock:
            if self.dead is not None:
                future.set_exception(WorkerDied(self.dead))
                return future
            self._seq += 1
            self._futures[self._seq] = future
            self._outbox.put((self._seq, op, args))
        return future

    def add(self, article: dict) -> Future:
        """Cluster ``article`` in the worker: a future of :class:`Added`."""
        return self.submit("add", article)

    def call(self, op: str, *args: Any, timeout: float | None = None) -> Any:
        """A request answered before this returns (after every request sent before it)."""
        return self.submit(op, *args).result(timeout)

    # -- threads --------------------------------------------------------------------------------------------
    def _send_loop(self) -> None:
        while True:
            msg = self._outbox.get()
            if msg is None or self.dead is not None:
                return
            try:
                self._requests.send(msg)
            except Exception as exc:  # noqa: BLE001 - unpicklable request: its own future says why
                if isinstance(exc, (BrokenPipeError, ConnectionError, EOFError)):
                    self._died(f"the dedup worker is gone ({exc})", report=not self._closing)
                    return
                with self._lock:
                    future = self._futures.pop(msg[0], None)
                if future is not None:
                    future.set_exception(exc)

    def _read_loop(self) -> None:
        answers = self._answers
        while True:
            try:
                ready = answers.poll(POLL)
                if ready:
                    seq, ok, value = answers.recv()
            except (EOFError, OSError):
                self._process.join(1)
                self._died(f"the dedup worker (pid {self.pid}) is gone: exit code {self._process.exitcode}",
                           report=not self._closing)
                return
            if not ready:
                if not self._process.is_alive():
                    self._process.join(1)
                    self._died(f"the dedup worker (pid {self.pid}) died: exit code {self._process.exitcode}",
                               report=not self._closing)
                    return
                continue
            future = self._futures.pop(seq, None)
            if future is not None:
                if ok:
                    future.set_result(value)
                else:
                    future.set_exception(value)
            if seq is not None and self._closing and not self._futures:
                return

    def _died(self, reason: str, report: bool = True) -> None:
        """Fail every pending and later request; ``report``: call ``on_death`` (not when the exit was asked for)."""
        with self._lock:
            if self.dead is not None:
                return
            self.dead = reason
            futures, self._futures = self._futures, {}
        self._outbox.put(None)
        for future in futures.values():
            future.set_exception(WorkerDied(reason))
        if report and self.on_death is not None:
            try:
                self.on_death(reason)
            except Exception:  # noqa: BLE001 - the futures are failed already; the callback only reports
                logger.exception("dedup worker death callback failed")


class RemoteDeduplicator:
    """The part of :class:`~aggregator.dedup.Deduplicator`'s interface the crawl uses, served by a
    :class:`DedupWorker`: the methods in :data:`CALLS` wait for their answer; :meth:`add_async` does not."""

    def __init__(self, worker: DedupWorker, config: Any) -> None:
        self.worker = worker
        self.config = config
        #: article id -> adds sent whose answers the caller has not taken yet (kept by the caller)
        self.pending: Counter[str] = Counter()

    def __getattr__(self, name: str) -> Any:
        if name not in CALLS:
            raise AttributeError(name)
        return lambda *args: self.worker.call("call", name, args)

    def add_async(self, article: dict) -> Future:
        return self.worker.add(article)

    def add(self, article: dict) -> Any:
        return self.worker.add(article).result().assignment

    def labels(self, article_ids: list[str]) -> list[tuple[str | None, str | None]]:
        return self.worker.call("labels", list(article_ids))

    def stories(self, story_ids: list[str]) -> list[Any]:
        return self.worker.call("stories", list(story_ids))

    def assignments(self) -> list[tuple[str, str, str]]:
        return self.worker.call("call_iter", "assignments")

    def update_run(self, token: str, closing: bool, in_flight: dict[str, list[str]], pending: list[str],
                   now: str) -> None:
        self.worker.call("update_run", token, closing, in_flight, pending, now)
