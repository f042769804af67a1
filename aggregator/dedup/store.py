"""Where the dedup state lives: one narrow interface, three backends.

The :class:`~aggregator.dedup.core.Deduplicator` only ever needs

* ``lock()`` -- a critical section around one decision (cross-process for Redis);
* ``doc_number(article_id, create)`` -- a dense int per article (LSH stores int32, not strings);
* ``lsh_insert / lsh_query`` -- band keys -> document numbers, per named space;
* ``get / put / delete`` -- small pickled records (documents, clusters, decisions) by key;
* ``count_add / count_get`` -- integer counters (feature document frequencies, boilerplate).

Backends: :class:`MemoryStore` (tests, ``cluster_articles``), :class:`FileStore` (default: a
directory with numpy arrays + a pickle, replaced atomically on ``flush``; one writer at a
time) and :class:`RedisStore` (several crawler processes share one index; id allocation via a
Lua script, decisions serialised by a token lock released with compare-and-delete).
"""

from __future__ import annotations

import contextlib
import os
import pickle
import tempfile
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import numpy as np

from .lsh import BandIndex


def _vec_key(space: str, doc: int) -> str:
    """Where the key-value layout keeps document ``doc``'s vector of ``space``."""
    return f"vec:{space}:{doc}"


class Store(ABC):
    """The storage contract the deduplicator is written against."""

    @abstractmethod
    def lock(self) -> contextlib.AbstractContextManager[None]: ...

    @abstractmethod
    def doc_number(self, article_id: str, create: bool = True) -> int | None: ...

    @abstractmethod
    def lsh_insert(self, space: str, keys: np.ndarray, doc: int) -> None: ...

    @abstractmethod
    def lsh_query(self, space: str, keys: np.ndarray) -> set[int]: ...

    @abstractmethod
    def get(self, key: str) -> Any: ...

    @abstractmethod
    def put(self, key: str, value: Any) -> None: ...

    @abstractmethod
    def delete(self, key: str) -> None: ...

    @abstractmethod
    def count_add(self, space: str, keys: list[int], by: int = 1) -> None: ...

    @abstractmethod
    def count_get(self, space: str, keys: list[int]) -> list[int]: ...

    @abstractmethod
    def doc_count(self) -> int:
        """How many document numbers were handed out (they run from 1 to this)."""

    def vec_put(self, space: str, doc: int, vector: np.ndarray) -> None:
        """Store a fixed-length uint32 vector (a MinHash signature) for a document number."""
        self.put(_vec_key(space, doc), np.asarray(vector, dtype=np.uint32).tobytes())

    def vec_delete(self, space: str, doc: int) -> None:
        """Forget a document's vector: :meth:`vec_get` returns zeros for it again."""
        self.delete(_vec_key(space, doc))

    def lsh_drop(self, space: str, docs: np.ndarray) -> int:
        """Remove the LSH entries of ``docs`` where the layout allows it cheaply; returns entries removed.

        The default keeps them (a key -> documents layout cannot find a document's keys without
        recomputing them): queries still return those documents, and the deduplicator skips them.
        """
        return 0

    def vec_get(self, space: str, docs: np.ndarray, width: int) -> np.ndarray:
        """``(len(docs), width)`` uint32 rows; a document without a vector gets a row of zeros."""
        out = np.zeros((len(docs), width), dtype=np.uint32)
        for i, n in enumerate(np.asarray(docs).tolist()):
            raw = self.get(_vec_key(space, n))
            if raw is not None:
                out[i] = np.frombuffer(raw, dtype=np.uint32)[:width]
        return out

    def flush(self) -> None:
        """Persist (no-op unless the backend buffers)."""
        return None

    def close(self) -> None:
        self.flush()

    def lsh_bytes(self) -> int:
        """Bytes held by LSH structures (for the memory budget; 0 if not measurable)."""
        return 0


class CountTable:
    """``int key -> count`` as sorted ``uint64`` keys + ``int64`` counts (16 bytes an entry) and a small dict.

    Boilerplate counters get ~7 new keys per document (every head/tail line), so a plain dict
    (~100 bytes an entry) would be one of the larger per-document costs. Updates go to the dict
    and are folded into the arrays when it holds ``spill`` keys.
    """

    def __init__(self, items: dict[int, int] | None = None, spill: int = 8192) -> None:
        self.keys = np.empty(0, dtype=np.uint64)
        self.vals = np.empty(0, dtype=np.int64)
        self.pending: dict[int, int] = {}
        self.spill = spill
        if items:
            self.pending = dict(items)
            self._fold()

    def __len__(self) -> int:
        self._fold()
        return len(self.keys)

    def add(self, keys: list[int], by: int = 1) -> None:
        pend = self.pending
        for k in keys:
            pend[k] = pend.get(k, 0) + by
        if len(pend) >= self.spill:
            self._fold()

    def get(self, keys: list[int]) -> list[int]:
        out = [0] * len(keys)
        if len(self.keys):
            q = np.array(keys, dtype=np.uint64)
            pos = np.minimum(np.searchsorted(self.keys, q), len(self.keys) - 1)
            out = np.where(self.keys[pos] == q, self.vals[pos], 0).tolist()
        pend = self.pending
        if pend:
            for i, k in enumerate(keys):
                out[i] += pend.get(k, 0)
        return out

    def _fold(self) -> None:
        if not self.pending:
            return
        k = np.concatenate([self.keys, np.fromiter(self.pending.keys(), dtype=np.uint64, count=len(self.pending))])
        v = np.concatenate([self.vals, np.fromiter(self.pending.values(), dtype=np.int64, count=len(self.pending))])
        order = np.argsort(k, kind="stable")
        k, v = k[order], v[order]
        first = np.empty(len(k), dtype=bool)
        first[:1] = True
        np.not_equal(k[1:], k[:-1], out=first[1:])
        starts = np.flatnonzero(first)
        self.keys, self.vals = k[starts], np.add.reduceat(v, starts) if len(v) else v
        self.pending = {}

    def __getstate__(self) -> dict[str, Any]:
        self._fold()
        return {"keys": self.keys, "vals": self.vals, "spill": self.spill}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.keys, self.vals, self.spill = state["keys"], state["vals"], state["spill"]
        self.pending = {}


class MemoryStore(Store):
    """Everything in process memory; LSH in :class:`BandIndex` (12 bytes per band entry)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.ids: dict[str, int] = {}
        self.kv: dict[str, Any] = {}
        self.lsh: dict[str, BandIndex] = {}
        self.counts: dict[str, CountTable] = {}
        self.vecs: dict[str, np.ndarray] = {}  # space -> (capacity, width) uint32, row = doc number

    def vec_put(self, space: str, doc: int, vector: np.ndarray) -> None:
        m = self.vecs.get(space)
        if m is None or doc >= len(m) or m.shape[1] != len(vector):
            cap = max(doc + 1, 1024, (0 if m is None else len(m)) * 3 // 2)  # 1.5x: less slack than doubling
            grown = np.zeros((cap, len(vector)), dtype=np.uint32)
            if m is not None and m.shape[1] == len(vector):
                grown[: len(m)] = m
            m = self.vecs[space] = grown
        m[doc] = vector

    def lsh_drop(self, space: str, docs: np.ndarray) -> int:
        idx = self.lsh.get(space)
        return idx.drop(docs) if idx is not None else 0

    def vec_delete(self, space: str, doc: int) -> None:
        m = self.vecs.get(space)
        if m is not None and doc < len(m):
            m[doc] = 0  # rows are dense by document number: the row stays, zeroed

    def vec_get(self, space: str, docs: np.ndarray, width: int) -> np.ndarray:
        m = self.vecs.get(space)
        docs = np.asarray(docs, dtype=np.int64)
        if m is None or m.shape[1] != width:
            return np.zeros((len(docs), width), dtype=np.uint32)
        inside = docs < len(m)
        if inside.all():
            return m[docs]
        out = np.zeros((len(docs), width), dtype=np.uint32)
        out[inside] = m[docs[inside]]
        return out

    def lock(self) -> contextlib.AbstractContextManager[None]:
        return self._lock  # type: ignore[return-value]

    def doc_count(self) -> int:
        return len(self.ids)

    def doc_number(self, article_id: str, create: bool = True) -> int | None:
        n = self.ids.get(article_id)
        if n is None and create:
            n = self.ids[article_id] = len(self.ids) + 1
        return n

    def lsh_insert(self, space: str, keys: np.ndarray, doc: int) -> None:
        idx = self.lsh.get(space)
        if idx is None:
            idx = self.lsh[space] = BandIndex()
        idx.insert(keys, doc)

    def lsh_query(self, space: str, keys: np.ndarray) -> set[int]:
        idx = self.lsh.get(space)
        return idx.query(keys) if idx is not None else set()

    def get(self, key: str) -> Any:
        return self.kv.get(key)

    def put(self, key: str, value: Any) -> None:
        self.kv[key] = value

    def delete(self, key: str) -> None:
        self.kv.pop(key, None)

    def count_add(self, space: str, keys: list[int], by: int = 1) -> None:
        c = self.counts.get(space)
        if c is None:
            c = self.counts[space] = CountTable()
        c.add(keys, by)

    def count_get(self, space: str, keys: list[int]) -> list[int]:
        c = self.counts.get(space)
        return c.get(keys) if c is not None else [0] * len(keys)

    def lsh_bytes(self) -> int:
        return sum(i.nbytes() for i in self.lsh.values())


class FileStore(MemoryStore):
    """A :class:`MemoryStore` loaded from / saved to a directory.

    Layout: ``lsh-<space>.npz`` (sorted keys + ids per space) and ``state.pickle`` (records,
    id map, counters). Each file is written to a temp file in the same directory and
    ``os.replace``d, so a crash mid-flush leaves the previous state intact.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__()
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        state = self.path / "state.pickle"
        if state.exists():
            with state.open("rb") as fh:
                data = pickle.load(fh)
            self.ids, self.kv = data["ids"], data["kv"]
            self.counts = {space: c if isinstance(c, CountTable) else CountTable(c)  # dicts: older states
                           for space, c in data["counts"].items()}
            for space in data.get("vec_spaces", []):
                self.vecs[space] = np.load(self.path / f"vec-{space}.npy")
            for space in data.get("spaces", []):
                with np.load(self.path / f"lsh-{space}.npz") as z:
                    self.lsh[space] = BandIndex(z["keys"], z["ids"])

    def _atomic_write(self, name: str, write: Any) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.path, prefix=f".{name}.")
        try:
            with os.fdopen(fd, "wb") as fh:
                write(fh)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path / name)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def flush(self) -> None:
        with self._lock:
            for space, idx in self.lsh.items():
                idx.compact()
                self._atomic_write(f"lsh-{space}.npz", lambda fh, i=idx: np.savez(fh, keys=i.keys, ids=i.ids))
            for space, m in self.vecs.items():
                self._atomic_write(f"vec-{space}.npy", lambda fh, m=m: np.save(fh, m))
            data = {"ids": self.ids, "kv": self.kv, "counts": self.counts, "spaces": sorted(self.lsh),
                    "vec_spaces": sorted(self.vecs)}
            self._atomic_write("state.pickle", lambda fh: pickle.dump(data, fh, protocol=5))


# Allocate a document number once per article id, atomically (two processes adding the same
# id at once must get the same number).
_ALLOC_LUA = """
local n = redis.call('HGET', KEYS[1], ARGV[1])
if n then return tonumber(n) end
n = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], ARGV[1], n)
return n
"""
# Release the lock only if we still own it (a lock that expired and was re-taken by another
# process must not be deleted by us).
_UNLOCK_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


class RedisStore(Store):
    """Shared state in Redis, so several crawler processes cluster into one index.

    Every ``Deduplicator.add`` runs inside :meth:`lock` (``SET NX PX`` with a random token,
    released by a compare-and-delete Lua script), so reading candidates, choosing/merging
    clusters and writing them is one serialisable step across processes. Nothing is cached
    locally; LSH buckets are Redis sets (``SADD`` / pipelined ``SMEMBERS``).
    """

    def __init__(self, url: str, prefix: str = "agg", lock_timeout: float = 30.0) -> None:
        import redis  # the client is a project dependency; imported lazily for the other backends

        self.r = redis.Redis.from_url(url)
        self.p = prefix
        self.lock_timeout = lock_timeout
        self._alloc = self.r.register_script(_ALLOC_LUA)
        self._unlock = self.r.register_script(_UNLOCK_LUA)
        self._held = threading.local()

    def _k(self, *parts: str) -> str:
        return ":".join((self.p, *parts))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        depth = getattr(self._held, "depth", 0)
        if depth:  # re-entrant within one thread
            self._held.depth = depth + 1
            try:
                yield
            finally:
                self._held.depth -= 1
            return
        token = uuid.uuid4().hex
        key = self._k("lock")
        delay = 0.001
        while not self.r.set(key, token, nx=True, px=int(self.lock_timeout * 1000)):
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        self._held.depth = 1
        try:
            yield
        finally:
            self._held.depth = 0
            self._unlock(keys=[key], args=[token])

    def lock(self) -> contextlib.AbstractContextManager[None]:
        return self._locked()

    def doc_count(self) -> int:
        return int(self.r.get(self._k("seq")) or 0)

    def doc_number(self, article_id: str, create: bool = True) -> int | None:
        if not create:
            n = self.r.hget(self._k("ids"), article_id)
            return int(n) if n is not None else None
        return int(self._alloc(keys=[self._k("ids"), self._k("seq")], args=[article_id]))

    def lsh_insert(self, space: str, keys: np.ndarray, doc: int) -> None:
        pipe = self.r.pipeline(transaction=False)
        for k in keys.tolist():
            pipe.sadd(self._k("l", space, format(k, "x")), doc)
        pipe.execute()

    def lsh_query(self, space: str, keys: np.ndarray) -> set[int]:
        pipe = self.r.pipeline(transaction=False)
        for k in keys.tolist():
            pipe.smembers(self._k("l", space, format(k, "x")))
        out: set[int] = set()
        for members in pipe.execute():
            out.update(int(m) for m in members)
        return out

    def get(self, key: str) -> Any:
        raw = self.r.hget(self._k("kv"), key)
        return pickle.loads(raw) if raw is not None else None

    def put(self, key: str, value: Any) -> None:
        self.r.hset(self._k("kv"), key, pickle.dumps(value, protocol=5))

    def delete(self, key: str) -> None:
        self.r.hdel(self._k("kv"), key)

    def count_add(self, space: str, keys: list[int], by: int = 1) -> None:
        if not keys:
            return
        pipe = self.r.pipeline(transaction=False)
        h = self._k("c", space)
        for k in keys:
            pipe.hincrby(h, format(k, "x"), by)
        pipe.execute()

    def count_get(self, space: str, keys: list[int]) -> list[int]:
        if not keys:
            return []
        vals = self.r.hmget(self._k("c", space), [format(k, "x") for k in keys])
        return [int(v) if v is not None else 0 for v in vals]

    def close(self) -> None:
        self.r.close()


def open_store(spec: str = "memory:") -> Store:
    """``memory:``, ``file:<dir>`` (or a bare path), ``redis://host:port/db?prefix=agg``."""
    if spec in ("memory:", "memory", ""):
        return MemoryStore()
    if spec.startswith(("redis://", "rediss://", "unix://")):
        u = urlparse(spec)
        q = parse_qs(u.query)
        prefix = q.pop("prefix", ["agg"])[0]
        rest = "&".join(f"{k}={v}" for k, vs in q.items() for v in vs)
        url = u._replace(query=rest).geturl()
        return RedisStore(url, prefix=prefix)
    if spec.startswith("file:"):
        spec = spec[len("file:") :]
    return FileStore(spec)
