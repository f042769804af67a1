"""Where the dedup state lives: one narrow interface, three backends.

The :class:`~aggregator.dedup.core.Deduplicator` only ever needs

* ``lock()`` -- a critical section around one decision (cross-process for Redis);
* ``atomic(fn)`` -- one add as a serialisable step (the lock by default; optimistic for Redis);
* ``doc_number(article_id, create)`` -- a dense int per article (LSH stores int32, not strings);
* ``lsh_insert / lsh_query`` -- band keys -> document numbers, per named space;
* ``get / put / delete`` -- small pickled records (documents, clusters, decisions) by key;
* ``count_add / count_get`` -- integer counters (feature document frequencies, boilerplate).

Backends: :class:`MemoryStore` (tests, ``cluster_articles``), :class:`FileStore` (default: a
directory with numpy arrays + a pickle, replaced atomically on ``flush``; one writer at a
time) and :class:`RedisStore` (several crawler processes share one index; each add is an optimistic
transaction committed by a Lua script that validates what it read; other decisions take a token lock).
"""

from __future__ import annotations

import array
import contextlib
import functools
import itertools
import operator
import os
import pickle
import struct
import sys
import tempfile
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlparse

import numpy as np

from .lsh import BandIndex

T = TypeVar("T")


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
    def count_get(self, space: str, keys: list[int], bar: int | None = None, approx: bool = False) -> list[int]:
        """The counts of ``keys``. With ``bar``, the caller only uses whether each count reaches ``bar``:
        a shared store may answer from an older read and check, when the add commits, that no count
        crossed ``bar`` meanwhile (instead of checking the exact value). With ``approx``, the caller
        takes any recent value (statistics such as document frequencies): never checked at commit."""

    def lsh_query_many(self, queries: list[tuple[str, np.ndarray]],
                       counts: list[tuple[str, list[int]]] | None = None) -> list[set[int]]:
        """:meth:`lsh_query` of each ``(space, keys)``; ``counts`` are read next (a shared store fetches
        the buckets of all queries and those counters in one round trip)."""
        return [self.lsh_query(space, keys) for space, keys in queries]

    def lsh_query_bounded(self, space: str, keys: np.ndarray, most: int) -> set[int] | None:
        """:meth:`lsh_query`, or None when more than ``most`` documents share a key with ``keys`` (for a caller
        that skips long lists: an in-process index counts them without building the set). A store that batches
        its queries in one round trip (:meth:`lsh_query_many`) keeps this default, and its callers the batch."""
        found = self.lsh_query(space, keys)
        return found if len(found) <= most else None

    def prefetch(self, keys: list[str], vecs: tuple[str, list[int]] | None = None, recheck: bool = False) -> None:
        """A hint: the records ``keys`` (and the vectors of ``vecs`` = ``(space, docs)``) are read next,
        so a shared store fetches the ones it lacks in one round trip instead of one by one; with
        ``recheck``, with those also the ones it holds that another process may have changed since (records
        that change often, such as clusters gaining members: reading them stale costs the add a rerun)."""
        return None

    def atomic(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` as one serialisable step over the state (an add: read, decide, write).

        The default runs it under :meth:`lock`; a shared store may run it optimistically instead
        (run, validate what it read, commit, or run again), so ``fn`` must not have effects outside
        the store.
        """
        with self.lock():
            return fn(*args)

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


_FEW_KEYS = 64  # CountTable.get: lists up to this long are read through the per-key memo of the arrays
_FOLDED_MAX = 1 << 16  # ... which is emptied past this many keys


class CountTable:
    """``int key -> count`` as sorted ``uint64`` keys + ``int64`` counts (16 bytes an entry) and a small dict.

    Boilerplate counters get ~7 new keys per document (every head/tail line), so a plain dict
    (~100 bytes an entry) would be one of the larger per-document costs. Updates go to the dict
    and are folded into the arrays when it holds ``spill`` keys.
    """

    def __init__(self, items: dict[int, int] | None = None, spill: int = 8192) -> None:
        self.keys = np.empty(0, dtype=np.uint64)
        self.vals = np.empty(0, dtype=np.int64)
        self.pending: Counter[int] = Counter()  # (a Counter: update() counts a list in one C loop)
        self.spill = spill
        # key -> its count in the sorted arrays, for the keys short reads asked for since the arrays last changed
        # (the idf of a document's ~20 names is read several times an add, and the names recur across adds: a
        # dict probe a key instead of the array steps' fixed cost); emptied whenever the arrays change
        self._folded: dict[int, int] = {}
        if items:
            self.pending = Counter(items)
            self._fold()

    def __len__(self) -> int:
        self._fold()
        return len(self.keys)

    def add(self, keys: list[int], by: int = 1) -> None:
        pend = self.pending
        if by == 1:
            pend.update(keys)
        else:
            for k in keys:
                pend[k] = pend.get(k, 0) + by
        if len(pend) >= self.spill:
            self._fold()

    def get(self, keys: list[int]) -> list[int]:
        if len(keys) <= _FEW_KEYS and len(self.keys):
            return self._get_few(keys)
        out = [0] * len(keys)
        if len(self.keys):
            q = np.array(keys, dtype=np.uint64)
            pos = np.minimum(np.searchsorted(self.keys, q), len(self.keys) - 1)
            out = np.where(self.keys[pos] == q, self.vals[pos], 0).tolist()
        pend = self.pending
        if pend:
            # (map over the dict's C method: the lexical df reads hundreds of keys per article)
            late = list(map(pend.get, keys, itertools.repeat(0)))
            out = late if not len(self.keys) else list(map(operator.add, out, late))
        return out

    def _get_few(self, keys: list[int]) -> list[int]:
        """:meth:`get` of a short list through :attr:`_folded` (the same counts)."""
        folded = self._folded
        miss = [k for k in keys if k not in folded]
        if miss:
            if len(folded) > _FOLDED_MAX:
                folded.clear()
            q = np.array(miss, dtype=np.uint64)
            pos = np.minimum(np.searchsorted(self.keys, q), len(self.keys) - 1)
            folded.update(zip(miss, np.where(self.keys[pos] == q, self.vals[pos], 0).tolist(), strict=True))
        pend = self.pending
        if not pend:
            return [folded[k] for k in keys]
        return [folded[k] + pend.get(k, 0) for k in keys]

    def _fold(self) -> None:
        if not self.pending:
            return
        self._folded = {}
        pend = self.pending
        pk = np.fromiter(pend.keys(), dtype=np.uint64, count=len(pend))
        pv = np.fromiter(pend.values(), dtype=np.int64, count=len(pend))
        order = np.argsort(pk)
        pk, pv = pk[order], pv[order]
        if len(self.keys):
            # merge the few sorted pending keys into the long sorted arrays (no sort of the whole table:
            # ~a million document-frequency keys at 100k articles)
            pos = np.searchsorted(self.keys, pk)
            hit = pos < len(self.keys)
            hit[hit] = self.keys[pos[hit]] == pk[hit]
            vals = self.vals.copy()
            vals[pos[hit]] += pv[hit]
            new = ~hit
            self.keys = np.insert(self.keys, pos[new], pk[new])
            self.vals = np.insert(vals, pos[new], pv[new])
        else:
            self.keys, self.vals = pk, pv
        self.pending = Counter()

    def __getstate__(self) -> dict[str, Any]:
        self._fold()
        return {"keys": self.keys, "vals": self.vals, "spill": self.spill}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.keys, self.vals, self.spill = state["keys"], state["vals"], state["spill"]
        self.pending = Counter()
        self._folded = {}


class DocColumns:
    """A per-process column store of what the story tier reads of each candidate, by document number.

    The story window of a large index holds hundreds of candidates per article; touching a Python record
    per candidate per add (fetch, date, uncertainty, feature record, headline bigrams) cost more than the
    arithmetic. Here each document's scalars are one row of a few arrays and its variable-length parts
    (feature record, headline bigrams) are slices of two append-only arenas, so a whole candidate list
    is read with fancy indexing and compiled kernels (:mod:`._jit`).

    Rows are filled lazily by the caller (:meth:`set_rows`) from the record it fetched, and dropped
    (:meth:`invalidate`) whenever the store writes or deletes that record, so a row never outlives the
    record it was read from. Never pickled: a loaded store starts with no rows. Only the in-process
    stores keep one (another writer of a shared store could change a record behind it).

    ``flags``: :data:`EXISTS` (a record), :data:`EXPIRED` (its fingerprint dropped), :data:`TITLED`
    (a headline), :data:`READ_DAYS` (days read from its text: ``e:``/``l:`` in its extra), :data:`CODED`
    (its extra's kinds, years, periods and model codes are in ``km``/``ym``/``ymax``/``pid``/``mid``: the
    masks of :func:`.story._extra_code`, and the periods and codes as numbers into ``sets``, 0 for none).
    ``sid``: the story id the record carries (before aliases are resolved), a number into ``story_ids``
    (-1: not given).
    """

    EXISTS, EXPIRED, TITLED, READ_DAYS, CODED = 1, 2, 4, 8, 16
    _ROWS = ("valid", "flags", "pub", "unc", "lang", "fb_at", "tg_at", "tg_n", "km", "ym", "ymax", "pid", "mid",
             "nsh", "sid")

    def __init__(self) -> None:
        self.valid = np.zeros(0, dtype=bool)
        self.flags = np.zeros(0, dtype=np.uint8)
        self.pub = np.zeros(0)  # publication time (NaN: undated)
        self.unc = np.zeros(0)  # its uncertainty in days
        self.lang = np.zeros(0, dtype=np.int32)  # language number (self.langs)
        self.fb_at = np.zeros(0, dtype=np.int64)  # first word of the feature record in self.fb
        self.tg_at = np.zeros(0, dtype=np.int64)  # headline bigrams: self.tg[tg_at : tg_at + tg_n]
        self.tg_n = np.zeros(0, dtype=np.int64)
        self.km = np.zeros(0, dtype=np.uint64)  # kinds of news, one bit each
        self.ym = np.zeros(0, dtype=np.uint64)  # years named, bit y - 2000
        self.ymax = np.zeros(0, dtype=np.int64)  # the latest year named (0: none)
        self.pid = np.zeros(0, dtype=np.int32)  # its set of periods: self.sets[pid]
        self.mid = np.zeros(0, dtype=np.int32)  # its set of model codes: self.sets[mid]
        self.nsh = np.zeros(0, dtype=np.int64)  # the size of its shingle set (the dup tier's containment bar)
        self.sid = np.zeros(0, dtype=np.int32)  # the record's story id: self.story_ids[sid] (-1: not given)
        self.story_ids: list[str] = []
        self.story_nums: dict[str, int] = {}
        self.sets: list[frozenset[str]] = [frozenset()]
        self.set_ids: dict[frozenset[str], int] = {frozenset(): 0}
        self.fb = np.zeros(4096, dtype=np.uint64)
        self.tg = np.zeros(4096, dtype=np.int64)
        self.fb_used = self.tg_used = 0
        self.langs: dict[str, int] = {}
        # cluster id -> the id it resolves to through its aliases (resolved_to: the other way); a new alias of X
        # drops the ids that resolved to X, any other alias write or delete empties it
        self.resolved: dict[str, str] = {}
        self.resolved_to: dict[str, list[str]] = {}
        self.stale = 0  # rows invalidated since the arenas were last cleared (their slices are garbage)

    def lang_id(self, lang: str, create: bool = False) -> int:
        i = self.langs.get(lang)
        if i is None:
            if not create:
                return -1
            i = self.langs[lang] = len(self.langs)
        return i

    def invalidate(self, n: int) -> None:
        if n < len(self.valid) and self.valid[n]:
            self.valid[n] = False
            self.stale += 1

    def tidy(self, live_hint: int) -> None:
        """Drop every row once more rows were invalidated than ``live_hint`` (the store's documents) and at
        least 65,536: their arena slices are garbage, and rows refill lazily. Call before filling rows."""
        if self.stale > max(65536, live_hint):
            self.clear()
        elif len(self.resolved) > max(65536, 2 * live_hint):  # (ids of stories long gone)
            self.forget_resolved()

    def remember(self, cid: str, to: str) -> None:
        """``cid`` resolves to ``to`` (until an alias write says otherwise)."""
        self.resolved[cid] = to
        self.resolved_to.setdefault(to, []).append(cid)

    def forget_resolved(self, target: str | None = None) -> None:
        """Forget the ids that resolved to ``target`` (it just got an alias of its own: their chains now go on
        through it; no other id's chain passes through an id that had none), or every resolution (None)."""
        if target is None:
            self.resolved.clear()
            self.resolved_to.clear()
            return
        memo = self.resolved
        for k in self.resolved_to.pop(target, ()):
            if memo.get(k) == target:
                del memo[k]

    def missing(self, numbers: np.ndarray) -> np.ndarray:
        """Those of ``numbers`` without a current row."""
        inside = numbers < len(self.valid)
        if inside.all():
            return numbers[~self.valid[numbers]]
        out = numbers[~inside]
        ins = numbers[inside]
        return np.concatenate([ins[~self.valid[ins]], out])

    def _grow_rows(self, n: int) -> None:
        cap = max(n + 1, 1024, len(self.valid) * 3 // 2)
        for name in self._ROWS:
            old = getattr(self, name)
            new = np.zeros(cap, dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)

    @staticmethod
    def _append(arena: np.ndarray, used: int, data: np.ndarray) -> np.ndarray:
        if used + len(data) > len(arena):
            grown = np.zeros(max(used + len(data), len(arena) * 2), dtype=arena.dtype)
            grown[:used] = arena[:used]
            arena = grown
        arena[used : used + len(data)] = data
        return arena

    def set_id(self, items: frozenset[str]) -> int:
        """The number of a set of periods or model codes (equal sets, one number)."""
        i = self.set_ids.get(items)
        if i is None:
            i = self.set_ids[items] = len(self.sets)
            self.sets.append(items)
        return i

    def set_rows(self, numbers: list[int], flags: list[int], pubs: list[float], uncs: list[float], langs: list[str],
                 fbs: list[bytes], tgs: list[bytes | None],
                 codes: list[tuple[int, int, int, frozenset[str], frozenset[str]] | None],
                 sizes: list[int] | None = None, story_ids: list[str] | None = None) -> None:
        """Rows ``numbers`` from their records (``pubs``: NaN for undated; ``fbs`` feature records, whole uint64
        words; ``tgs`` sorted int64 headline bigrams, None where not read yet (``tg_n`` -1 until
        :meth:`set_headlines`); ``codes`` what :func:`.story._extra_code` makes of their
        extras, None where it does not fit the masks; ``sizes`` their shingle counts, 0 if not given; ``story_ids``
        the story ids their records carry, -1 in ``sid`` if not given): one append per arena."""
        if not numbers:
            return
        nums = np.array(numbers, dtype=np.int64)
        top = int(nums.max())
        if top >= len(self.valid):
            self._grow_rows(top)
        fl = np.fromiter((len(f) >> 3 for f in fbs), dtype=np.int64, count=len(fbs))
        self.fb_at[nums] = self.fb_used + np.cumsum(fl) - fl
        self.fb = self._append(self.fb, self.fb_used, np.frombuffer(b"".join(fbs), dtype=np.uint64))
        self.fb_used += int(fl.sum())
        if any(t is None for t in tgs):
            self.tg_n[nums] = -1
            have = [i for i, t in enumerate(tgs) if t is not None]
            if have:
                self.set_headlines(nums[have], [tgs[i] for i in have])  # type: ignore[misc]
        else:
            self.set_headlines(nums, tgs)  # type: ignore[arg-type]
        self.flags[nums] = flags
        self.pub[nums] = pubs
        self.unc[nums] = uncs
        lang_id = self.lang_id
        self.lang[nums] = [lang_id(x, create=True) for x in langs]
        fit = [c if c is not None else (0, 0, 0, frozenset(), frozenset()) for c in codes]
        km, ym, ymax, ps, ms = zip(*fit, strict=True)
        set_id = self.set_id
        self.km[nums] = np.array(km, dtype=np.uint64)
        self.ym[nums] = np.array(ym, dtype=np.uint64)
        self.ymax[nums] = ymax
        self.pid[nums] = [set_id(x) for x in ps]
        self.mid[nums] = [set_id(x) for x in ms]
        self.flags[nums] |= np.array([self.CODED if c is not None else 0 for c in codes], dtype=np.uint8)
        self.nsh[nums] = sizes if sizes is not None else 0
        self.sid[nums] = -1 if story_ids is None else [self.story_num(x) for x in story_ids]
        self.valid[nums] = True

    def story_num(self, story_id: str) -> int:
        """The number of ``story_id`` in :attr:`story_ids` (given one the first time it is seen)."""
        i = self.story_nums.get(story_id)
        if i is None:
            i = self.story_nums[story_id] = len(self.story_ids)
            self.story_ids.append(story_id)
        return i

    def set_headlines(self, nums: np.ndarray, tgs: list[bytes]) -> None:
        """The headline bigrams of rows ``nums`` (sorted int64 bytes each), one append to the arena."""
        tl = np.fromiter((len(t) >> 3 for t in tgs), dtype=np.int64, count=len(tgs))
        self.tg_at[nums] = self.tg_used + np.cumsum(tl) - tl
        self.tg_n[nums] = tl
        self.tg = self._append(self.tg, self.tg_used, np.frombuffer(b"".join(tgs), dtype=np.int64))
        self.tg_used += int(tl.sum())

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]

    def nbytes(self) -> int:
        return sum(getattr(self, k).nbytes for k in (*self._ROWS, "fb", "tg"))


class MemoryStore(Store):
    """Everything in process memory; LSH in :class:`BandIndex` (12 bytes per band entry)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self.ids: dict[str, int] = {}
        self.kv: dict[str, Any] = {}
        self.lsh: dict[str, BandIndex] = {}
        self.counts: dict[str, CountTable] = {}
        self.vecs: dict[str, np.ndarray] = {}  # space -> (capacity, width) uint32, row = doc number
        self.columns = DocColumns()  # per process, never pickled: rows follow put/delete of "doc:" records

    # pickled without the per-process parts: the column store and the lock
    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k not in ("columns", "_lock")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        if getattr(self, "_lock", None) is None:
            self._lock = threading.RLock()
        self.columns = DocColumns()

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

    def lsh_query_bounded(self, space: str, keys: np.ndarray, most: int) -> set[int] | None:
        idx = self.lsh.get(space)
        if idx is None:
            return set()
        found = idx.query_array(keys)  # each number once: its length is the set's size
        return set(found.tolist()) if len(found) <= most else None

    def get(self, key: str) -> Any:
        return self.kv.get(key)

    def _written(self, key: str, new_alias: bool = False) -> None:
        """A record was written or deleted: its column row (or the alias resolutions it changes) is stale.
        ``new_alias``: an alias was written for an id that had none (only ids resolving to it change)."""
        if key.startswith("doc:"):
            self.columns.invalidate(int(key[4:]))
        elif key.startswith("alias:"):
            self.columns.forget_resolved(key[6:] if new_alias else None)

    def put(self, key: str, value: Any) -> None:
        new_alias = key.startswith("alias:") and key not in self.kv
        self.kv[key] = value
        self._written(key, new_alias)

    def delete(self, key: str) -> None:
        self.kv.pop(key, None)
        self._written(key)

    def count_add(self, space: str, keys: list[int], by: int = 1) -> None:
        c = self.counts.get(space)
        if c is None:
            c = self.counts[space] = CountTable()
        c.add(keys, by)

    def count_get(self, space: str, keys: list[int], bar: int | None = None, approx: bool = False) -> list[int]:
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
# id at once must get the same number). Returns {number, 1 if it was allocated now}.
_ALLOC_LUA = """
local n = redis.call('HGET', KEYS[1], ARGV[1])
if n then return {tonumber(n), 0} end
n = redis.call('INCR', KEYS[2])
redis.call('HSET', KEYS[1], ARGV[1], n)
return {n, 1}
"""
# Release the lock only if we still own it (a lock that expired and was re-taken by another
# process must not be deleted by us).
_UNLOCK_LUA = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""
# LSH buckets are strings of little-endian uint32 document numbers (APPEND to insert). A read of buckets
# (lsh_query_many) sends this script, then the MGET of the buckets and the HMGET of the counters, in one
# write: the epoch and the change feed are read atomically, the buckets and counters after them (so never
# older than the epoch: a commit that finds the epoch unchanged knows they are current).
# ARGV: the epoch key, the epoch the caller last saw, its writer id, the change-feed list, the record hash
# and the version hash. Returns {epoch, feed}: the records other writers' commits wrote since the epoch the
# caller last saw, as {fields, values, versions} ({} if none); left out when the list no longer reaches
# back that far.
_FEED_LUA = """
local now = tonumber(redis.call('GET', ARGV[1]) or '0')
local since, me = tonumber(ARGV[2]), ARGV[3]
if since < 0 or now <= since then return {now, {}} end
if now - since > 256 then return {now} end  -- the list keeps the last 256 commits: too far back
-- the last (now - since) entries hold every commit after since (one entry per commit at most; a list
-- shorter than that was never trimmed)
local entries = redis.call('LRANGE', ARGV[4], since - now, -1)
local seen, fields = {}, {}
for _, e in ipairs(entries) do
  local ep, who, rest = string.match(e, '^(%d+) (%S+) (.*)$')
  if tonumber(ep) > since and who ~= me then
    for f in string.gmatch(rest, '%S+') do
      if not seen[f] then seen[f] = true; fields[#fields + 1] = f end
    end
  end
end
if #fields == 0 then return {now, {}} end
return {now, {fields, redis.call('HMGET', ARGV[5], unpack(fields)), redis.call('HMGET', ARGV[6], unpack(fields))}}
"""
# Read records with their versions, atomically, and the epoch they are current at. ARGV: (field,
# version the caller holds, -1 for none) x n. Returns {epoch, versions of all, (index, value) of each
# field whose version differs from the one held, back to back}.
_FETCH_LUA = """
local fields, held = {}, {}
for j = 1, #ARGV, 2 do fields[#fields + 1] = ARGV[j]; held[#held + 1] = tonumber(ARGV[j + 1]) end
local vers = redis.call('HMGET', KEYS[2], unpack(fields))
local want, idx = {}, {}
for j = 1, #fields do
  if tonumber(vers[j] or '0') ~= held[j] then want[#want + 1] = fields[j]; idx[#idx + 1] = j end
end
local out = {redis.call('GET', KEYS[3]) or '0', vers}
if #want > 0 then
  local vals = redis.call('HMGET', KEYS[1], unpack(want))
  for k = 1, #want do out[#out + 1] = idx[k]; out[#out + 1] = vals[k] end
end
return out
"""
# Commit one optimistic transaction (see RedisStore): validate everything it read, then apply its
# writes, atomically (a script runs alone on the server).
# KEYS: 1 the lock, 2 the record hash, 3 the record version hash, 4 the article id -> number hash.
# ARGV: 1 key prefix; 2 counts below this are validated exactly (see RedisStore);
#       3 records read: (uint32 length, uint32 version, field) packed back to back;
#       4 the epoch the buckets below were read at (-1: several): while it is still the epoch, no
#         bucket can have grown (every insert bumps it), so they are not read again;
#       5 the writer's id (the change feed names it, so a writer skips its own commits);
#       then n, (bucket prefix, hex keys, uint32 bytes) x n   LSH buckets read (they only grow)
#                                                             (hex keys: 16 digits each, back to back)
#       then n, (counter hash, 'hexfield value bar pending ...') x n   counters read: the stored value read, and
#                                                             bar 0: checked exactly below ARGV[2]; bar > 0: only
#                                                             whether value + pending (this add's increment)
#                                                             reaches bar is checked
#       then n, (article id, number) x n                      document numbers claimed
#       then n, (bucket prefix, hex keys, uint32 member) x n  LSH inserts
#       then n, (counter hash, 'hexfield by ...') x n         counter increments
#       then n, (field, op, value) x n                        record writes, op 's' set / 'd' delete
# Returns {1, the new epoch (commit count), new version of each written record...}; {0, stale names...}
# where a name is a record field, '#' (a bucket), '=' + counter hash or 'id:' + article id; or {-1}
# while a process holds the lock (its multi-step operation must not interleave with a commit).
_COMMIT_LUA = """
if redis.call('EXISTS', KEYS[1]) == 1 then return {-1} end
local stale = {}
local exact = tonumber(ARGV[2])
local blob, pos, fields, vers = ARGV[3], 1, {}, {}
while pos <= #blob do
  local len, ver
  len, ver, pos = struct.unpack('<I4I4', blob, pos)
  fields[#fields + 1] = string.sub(blob, pos, pos + len - 1)
  vers[#fields] = ver
  pos = pos + len
end
if #fields > 0 then
  local now = redis.call('HMGET', KEYS[3], unpack(fields))
  for j = 1, #fields do
    if tonumber(now[j] or '0') ~= vers[j] then stale[#stale + 1] = fields[j] end
  end
end
local i = 6
local n = tonumber(ARGV[i]); i = i + 1
if tonumber(redis.call('GET', ARGV[1] .. 'epoch') or '0') == tonumber(ARGV[4]) then i = i + 3 * n; n = 0 end
for _ = 1, n do
  local names, hex = {}, ARGV[i + 1]
  for j = 1, #hex, 16 do names[#names + 1] = ARGV[i] .. string.sub(hex, j, j + 15) end
  local vals, sizes = redis.call('MGET', unpack(names)), ARGV[i + 2]
  for j = 1, #names do
    local v = vals[j]
    if (v and #v or 0) ~= struct.unpack('<I4', sizes, 4 * j - 3) then stale[#stale + 1] = '#'; break end
  end
  i = i + 3
end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local h = ARGV[1] .. ARGV[i]
  for f, v, bar, pend in string.gmatch(ARGV[i + 1], '(%S+) (%S+) (%S+) (%S+)') do
    local cur = tonumber(redis.call('HGET', h, f) or '0')
    v, bar, pend = tonumber(v), tonumber(bar), tonumber(pend)
    local moved
    if bar == 0 then moved = math.min(cur, exact) ~= math.min(v, exact)
    else moved = (cur + pend >= bar) ~= (v + pend >= bar) end
    if moved then stale[#stale + 1] = '=' .. ARGV[i]; break end
  end
  i = i + 2
end
n = tonumber(ARGV[i]); i = i + 1
local claims = i
for _ = 1, n do
  local have = redis.call('HGET', KEYS[4], ARGV[i])
  if have and have ~= ARGV[i + 1] then stale[#stale + 1] = 'id:' .. ARGV[i] end
  i = i + 2
end
if #stale > 0 then return {0, unpack(stale)} end
for j = claims, i - 1, 2 do redis.call('HSET', KEYS[4], ARGV[j], ARGV[j + 1]) end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local hex = ARGV[i + 1]
  for j = 1, #hex, 16 do redis.call('APPEND', ARGV[i] .. string.sub(hex, j, j + 15), ARGV[i + 2]) end
  i = i + 3
end
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  local h = ARGV[1] .. ARGV[i]
  for f, by in string.gmatch(ARGV[i + 1], '(%S+) (%S+)') do redis.call('HINCRBY', h, f, by) end
  i = i + 2
end
local out = {1, redis.call('INCR', ARGV[1] .. 'epoch')}
local written = {}
n = tonumber(ARGV[i]); i = i + 1
for _ = 1, n do
  if ARGV[i + 1] == 's' then redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])
  else redis.call('HDEL', KEYS[2], ARGV[i]) end
  out[#out + 1] = redis.call('HINCRBY', KEYS[3], ARGV[i], 1)
  written[#written + 1] = ARGV[i]
  i = i + 3
end
if #written > 0 then  -- the change feed: which records this commit wrote (see _FEED_LUA)
  local log = ARGV[1] .. 'log'
  redis.call('RPUSH', log, out[2] .. ' ' .. ARGV[5] .. ' ' .. table.concat(written, ' '))
  redis.call('LTRIM', log, -256, -1)
end
return out
"""
@functools.cache
def _connection_class() -> type:
    """redis-py's TCP connection, sending each command in one write: it hands a command with a large
    argument (a pickled record) to the socket in pieces, one system call each, which on a busy
    machine costs more than copying the pieces into one buffer."""
    import redis

    class OneWriteConnection(redis.Connection):
        def send_packed_command(self, command: Any, check_health: bool = True) -> None:
            if isinstance(command, list) and len(command) > 1:
                command = [b"".join(command)]
            super().send_packed_command(command, check_health)

    return OneWriteConnection


def _hex(keys: np.ndarray) -> str:
    """Band keys as 16-digit hex numbers back to back (one string; the scripts cut it)."""
    return np.asarray(keys, dtype=">u8").tobytes().hex()


def _split16(hexkeys: str) -> list[str]:
    return [hexkeys[j : j + 16] for j in range(0, len(hexkeys), 16)]


def _kind(key: str, counter: bool = False) -> str:
    """What kind of record or counter a key is: ``doc:17`` -> ``doc``, counter ``c:bpc:electrek`` -> ``=bpc``."""
    return "=" + key.split(":", 2)[1] if counter else key.split(":", 1)[0]


_BIG_ENDIAN = sys.byteorder == "big"  # (the scripts read little-endian uint32)
_NEVER = 1 << 62  # "known at" of a record nobody else can write (a document number reserved here)
_LAYOUT = 2  # 1: LSH buckets as Redis sets (before optimistic transactions); 2: packed uint32 strings


class _Tx:
    """One optimistic transaction: what it read (at which version) and what it will write."""

    __slots__ = ("read_epoch", "reads", "buckets", "count_reads", "count_bars", "claims", "writes", "inserts", "counts",
                 "objs")

    def __init__(self) -> None:
        self.read_epoch: int | None = None  # the epoch all buckets were read at (-1: not one)
        self.reads: dict[str, int] = {}  # record field -> version it was read at
        self.buckets: list[tuple[str, str, bytes]] = []  # (bucket prefix, hex keys, their sizes then)
        self.count_reads: dict[str, dict[str, int]] = {}  # counter hash -> field -> stored value read
        self.count_bars: dict[str, dict[str, int]] = {}  # the fields only read against a bar (count_get)
        self.claims: dict[str, int] = {}  # article id -> the document number this add gives it
        self.writes: dict[str, bytes | None] = {}  # record field -> pickled value, None = delete
        self.inserts: list[tuple[str, str, int]] = []  # (bucket prefix, hex keys, document)
        self.counts: dict[str, dict[str, int]] = {}  # counter hash (unprefixed) -> field -> increment
        self.objs: dict[str, Any] = {}  # record field -> the value put (get() returns it, as put)


class RedisStore(Store):
    """Shared state in Redis, so several crawler processes cluster into one index.

    ``Deduplicator.add`` runs through :meth:`atomic` as an *optimistic transaction*: it reads
    without a lock, buffers its writes, and commits them with one Lua script that first checks that
    nothing it read has changed since: every record carries a version (a counter bumped by every
    write), an LSH bucket only grows (an unchanged length is an unchanged bucket), and a document
    number claimed for a new article id must still be free. When something changed -- another
    process placed a related article meanwhile -- the stale entries are fetched again and the add
    runs again on the fresh state. Writers wait for each other only when their articles touch the
    same clusters, buckets or rare counters.

    Round trips are what an add costs here, so reads go to Redis only when this process cannot know
    the answer: records come from a local cache of (version, value) that the commit validates
    anyway; a record this process has never seen is assumed absent when most first reads under its
    key prefix turned out absent (the ids of new clusters; a wrong guess costs one more attempt);
    document numbers come from blocks of 64 reserved at once; all LSH buckets of a query come in one
    scripted call, which also returns the commit count (the epoch): counters come from a local cache
    that is dropped whenever another process has committed since this one last looked, and a counter
    field never seen, of a kind mostly absent (new names, new lines), is guessed zero. An add by a
    warm process is two round trips: one scripted read of the buckets of all its LSH queries with the
    counters it names (:meth:`lsh_query_many`), and the commit. Records other processes wrote reach the
    cache through a *change feed*: every commit logs the fields it wrote (``log``, the last 256 commits)
    and every bucket read returns the records committed by others since this process last looked; a
    process further behind marks its cache suspect and re-reads what it needs (:meth:`prefetch`).

    The result is serialisable: every committed add saw the state it was applied to, as under one
    global lock, except that a counter is validated exactly only while it is below
    ``count_exact_below`` (3: the count at which a head or tail line becomes boilerplate); above, a
    count (the document count, a common name's document frequency, an idf weight) may lag by what
    other processes committed while this add ran (milliseconds), as another arrival order would; and a
    count read against a bar (``count_get(..., bar=)``: boilerplate lines) is validated by which side
    of the bar it is on once this add's increments are in, which is all its reader uses.
    Which of two racing related articles lands first follows arrival order, and so do cluster ids (a
    cluster is named after its first article) and document numbers; the partition does not.

    Operations other than an add (editor decisions, retention, the scheme check) take :meth:`lock`
    (``SET NX PX`` with a random token, released by a compare-and-delete script) and read and write
    Redis directly, bumping versions; commits wait while the lock is held. An add that loses
    ``max_attempts`` races in a row runs under the lock.

    Layout under the prefix: ``kv`` (pickled records) and ``kvv`` (their versions), ``ids`` / ``seq``
    (document numbers), ``lb:<space>:<hex key>`` (LSH buckets, packed uint32), ``c:<space>``
    (counters), ``epoch`` (the commit count), ``log`` (the change feed), ``lock``, ``layout``.
    """

    def __init__(self, url: str, prefix: str = "agg", lock_timeout: float = 30.0, cache_bytes: int = 256 << 20,
                 max_attempts: int = 20, count_exact_below: int = 3) -> None:
        import redis  # the client is a project dependency; imported lazily for the other backends

        extra = {"connection_class": _connection_class()} if url.startswith("redis://") else {}
        self.r = redis.Redis.from_url(url, **extra)
        self.p = prefix
        self.lock_timeout = lock_timeout
        self.max_attempts = max_attempts
        self.cache_bytes = cache_bytes
        self.count_exact_below = count_exact_below
        self._alloc = self.r.register_script(_ALLOC_LUA)
        self._unlock = self.r.register_script(_UNLOCK_LUA)
        self._feed_script = self.r.register_script(_FEED_LUA)
        self._conns = threading.local()  # a connection per thread for _send
        self._fetch_script = self.r.register_script(_FETCH_LUA)
        self._commit_script = self.r.register_script(_COMMIT_LUA)
        self._held = threading.local()
        self._kv_key, self._ver_key, self._lock_key = self._k("kv"), self._k("kvv"), self._k("lock")
        self._ids_key = self._k("ids")
        # local cache: record field -> (version, pickled value or None)
        self._cache: dict[str, tuple[int, bytes | None]] = {}
        # record field -> (the cached pickled value, it unpickled): what get() hands out while the value is
        # current (the same object each time, as from the in-memory store; derived state such as a
        # document's feature record is kept with it instead of being rebuilt on every add)
        self._objs: dict[str, tuple[bytes, Any]] = {}
        self._known_at: dict[str, int] = {}  # record field -> an epoch its cached value was current at
        self._foreign = -1  # the last epoch by which another process is known to have committed
        self._epoch_complete = False  # this process's records are current as of self._epoch (change feed)
        self._id = uuid.uuid4().hex[:12]
        self._cache_size = 0
        self._misses: dict[str, list[int]] = {}  # key prefix -> [first reads found absent, found present]
        self._counts: dict[str, dict[str, int]] = {}  # counter hash -> field -> stored value (see count_get)
        self._floors: dict[str, dict[str, int]] = {}  # counter hash -> field -> last value seen (counts only grow)
        self._epoch = -1  # the commit count when this process last looked (see count_get)
        self._epoch_key = self._k("epoch")
        self._ids: dict[str, int] = {}  # article id -> document number (never changes once given)
        self._claimed: dict[str, int] = {}  # numbers given to new ids by attempts not committed yet
        self._block = (1, 0)  # next reserved document number, last reserved
        self._lock_seen = False
        self.last_epoch = -1  # the commit count of this process's last commit
        self.stats = {"commits": 0, "conflicts": 0, "lock_waits": 0, "fallbacks": 0, "round_trips": 0}
        self._upgrade_layout()

    def _k(self, *parts: str) -> str:
        return ":".join((self.p, *parts))

    def _send(self, commands: list[tuple[Any, ...]], retry: bool = True) -> list[Any]:
        """``commands`` in one write (packed by hiredis, in C: an add sends hundreds of small arguments)
        and their replies: one round trip. A script the server lost (restarted) is loaded again and the
        commands sent again -- none of them ran. ``retry``: send again once after a dropped connection
        (only for reads: a write may have been applied before the connection dropped)."""
        import hiredis
        import redis

        conn = getattr(self._conns, "conn", None)
        if conn is None or self._conns.pid != os.getpid():  # (a forked child opens its own)
            conn = self._conns.conn = self.r.connection_pool.make_connection()
            self._conns.pid = os.getpid()
        packed = b"".join(hiredis.pack_command(c) for c in commands)
        for attempt in range(3):
            try:
                conn.send_packed_command([packed])
                replies, errors = [], []
                for _ in commands:
                    try:
                        replies.append(conn.read_response())
                    except redis.ResponseError as exc:  # read the others: the connection stays in step
                        replies.append(exc)
                        errors.append(exc)
            except (redis.ConnectionError, redis.TimeoutError):
                conn.disconnect()
                if not retry or attempt:
                    raise
                continue
            if not errors:
                return replies
            if attempt or not all(isinstance(e, redis.exceptions.NoScriptError) for e in errors):
                raise errors[0]
            for script in (self._feed_script, self._fetch_script, self._commit_script):
                self.r.script_load(script.script)
        raise AssertionError("unreachable")

    def _upgrade_layout(self) -> None:
        """States written before layout 2 kept LSH buckets as sets: convert them once."""
        if int(self.r.get(self._k("layout")) or 0) >= _LAYOUT:
            return
        with self.lock():
            if int(self.r.get(self._k("layout")) or 0) >= _LAYOUT:
                return
            old = self._k("l", "")
            for key in self.r.scan_iter(match=old + "*", count=1000):
                members = np.array(sorted(int(m) for m in self.r.smembers(key)), dtype="<u4")
                pipe = self.r.pipeline()
                space, _, hexkey = key.decode()[len(old):].rpartition(":")
                pipe.set(self._k("lb", space, format(int(hexkey, 16), "016x")), members.tobytes())
                pipe.delete(key)
                pipe.execute()
            self.r.set(self._k("layout"), _LAYOUT)
            self.r.incr(self._epoch_key)

    # -- locking and transactions -------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        depth = getattr(self._held, "depth", 0)
        if depth:  # re-entrant within one thread, and a no-op inside a transaction
            self._held.depth = depth + 1
            try:
                yield
            finally:
                self._held.depth -= 1
            return
        token = uuid.uuid4().hex
        delay = 0.001
        while not self.r.set(self._lock_key, token, nx=True, px=int(self.lock_timeout * 1000)):
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        self._held.depth = 1
        try:
            yield
        finally:
            self._held.depth = 0
            self._unlock(keys=[self._lock_key], args=[token])

    def lock(self) -> contextlib.AbstractContextManager[None]:
        return self._locked()

    def atomic(self, fn: Callable[..., T], *args: Any) -> T:
        if getattr(self._held, "depth", 0):
            return fn(*args)  # already inside a lock or a transaction
        delay = 0.0005
        for _attempt in range(self.max_attempts):
            tx = self._held.tx = _Tx()
            self._held.depth = 1
            failed: Exception | None = None
            try:
                result = fn(*args)
            except Exception as exc:  # noqa: BLE001 - a read across two commits can make the decision fail
                failed = exc
            finally:
                self._held.depth = 0
                self._held.tx = None
            if failed is not None:
                self._forget_objs(tx)
                tx.writes.clear()
                tx.inserts.clear()
                tx.counts.clear()
                tx.claims.clear()
                if self._commit(tx, force=True):  # it read a consistent state: the error is real
                    raise failed
                continue
            if self._commit(tx):
                return result
            self._forget_objs(tx)
            if self._lock_seen:
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        self.stats["fallbacks"] += 1
        with self.lock():
            return fn(*args)

    def _forget_objs(self, tx: _Tx) -> None:
        """An attempt that does not commit may have changed the objects it read in place: unpickle again."""
        for field in itertools.chain(tx.reads, tx.writes):
            self._obj_drop(field)

    def _tx(self) -> _Tx | None:
        return getattr(self._held, "tx", None)

    def _commit(self, tx: _Tx, force: bool = False) -> bool:
        """Validate and apply ``tx``; False (stale entries fetched again) when it must run again."""
        self._lock_seen = False
        if not (tx.writes or tx.inserts or tx.counts or tx.claims or force):
            return True  # read only (an unchanged article): nothing to apply, nothing to protect
        reads = b"".join(struct.pack("<II", len(f := field.encode()), ver) + f for field, ver in tx.reads.items())
        argv: list[Any] = [self._k(""), self.count_exact_below, reads,
                           -1 if tx.read_epoch is None else tx.read_epoch, self._id, len(tx.buckets)]
        for triple in tx.buckets:
            argv += triple
        small = {}
        for h, fields in tx.count_reads.items():
            bars, pending = tx.count_bars.get(h) or {}, tx.counts.get(h) or {}
            checks = []
            for f, v in fields.items():
                bar, by = bars.get(f, 0), pending.get(f, 0)
                # a count at or past its bar stays there: counts only grow
                if (v < self.count_exact_below) if not bar else (v + by < bar):
                    checks.append(f"{f} {v} {bar} {by}")
            if checks:
                small[h] = " ".join(checks)
        argv.append(len(small))
        for h, text in small.items():
            argv += (h, text)
        argv.append(len(tx.claims))
        for aid, n in tx.claims.items():
            argv += (aid, n)
        argv.append(len(tx.inserts))
        for prefix, hexkeys, doc in tx.inserts:
            argv += (prefix, hexkeys, struct.pack("<I", doc))
        argv.append(len(tx.counts))
        for h, fields in tx.counts.items():
            argv += (h, " ".join(f"{f} {by}" for f, by in fields.items()))
        writes = list(tx.writes.items())
        argv.append(len(writes))
        for field, raw in writes:
            argv += (field, "d", "") if raw is None else (field, "s", raw)
        self.stats["round_trips"] += 1
        out = self._send([("EVALSHA", self._commit_script.sha, 4, self._lock_key, self._kv_key, self._ver_key,
                           self._ids_key, *argv)], retry=False)[0]
        status = int(out[0])
        if status == 1:
            self.stats["commits"] += 1
            self.last_epoch = int(out[1])  # the commit count this add took (the order of a serial run)
            epoch = int(out[1])
            for (field, raw), ver in zip(writes, out[2:], strict=True):
                self._cache_put(field, int(ver), raw, epoch)
                if raw is not None and tx.objs.get(field) is not None:
                    self._objs[field] = (raw, tx.objs[field])
                    self._cache_size += len(raw)
            for h, fields in tx.counts.items():  # a lower bound plus what this add added is one still
                floors = self._floors.get(h)
                if floors is not None:
                    for f, by in fields.items():
                        if f in floors:
                            floors[f] += by
            if epoch == self._epoch + 1:  # nobody else committed since this process last looked: counters
                for h, fields in tx.counts.items():  # cached are current once this add's are applied
                    cached = self._counts.get(h)
                    if cached is not None:
                        for f, by in fields.items():
                            if f in cached:
                                cached[f] += by
                self._epoch = epoch
            else:  # others committed meanwhile: the next read brings what they wrote (the change feed)
                self._counts.clear()
                if not self._epoch_complete:
                    self._foreign = max(self._foreign, epoch - 1)
                    self._epoch = epoch
            for aid, n in tx.claims.items():
                self._ids[aid] = n
                self._claimed.pop(aid, None)
            return True
        if status == -1:
            self.stats["lock_waits"] += 1
            self._lock_seen = True
            return False
        self.stats["conflicts"] += 1
        fields_again = []
        counts_again = False
        for raw_name in out[1:]:
            name = raw_name.decode() if isinstance(raw_name, bytes) else str(raw_name)
            why = "stale " + ("bucket" if name == "#" else "id" if name.startswith("id:")
                              else "counter" if name.startswith("=") else _kind(name))
            self.stats[why] = self.stats.get(why, 0) + 1  # what moved under the adds that ran again
            if name.startswith("="):  # a counter of this hash moved: read all of this add's counters again
                counts_again = True
            elif name.startswith("id:"):
                aid = name[3:]
                self._claimed.pop(aid, None)
                self.stats["round_trips"] += 1
                self._ids[aid] = int(self.r.hget(self._ids_key, aid))
            elif name != "#":
                fields_again.append(name)
        if fields_again:  # fetch them now: the next attempt must not guess them absent again
            self._fetch_many(fields_again)
        if counts_again:
            self._fetch_all_counts({h: list(read) for h, read in tx.count_reads.items()})
        return False

    # -- the local cache ----------------------------------------------------------------------
    def _cache_put(self, field: str, ver: int, raw: bytes | None, at: int = -1) -> None:
        old = self._cache.get(field)
        if old is not None:
            self._cache_size -= len(old[1] or b"") + 64
            if old[1] is not raw:
                self._obj_drop(field)
        self._cache[field] = (ver, raw)
        self._known_at[field] = at
        self._cache_size += len(raw or b"") + 64
        if self._cache_size > self.cache_bytes:
            for f in list(itertools.islice(self._cache, len(self._cache) // 2)):  # the oldest half
                self._cache_drop(f)

    def _obj_drop(self, field: str) -> None:
        o = self._objs.pop(field, None)
        if o is not None:
            self._cache_size -= len(o[0])

    def _obj(self, field: str, raw: bytes) -> Any:
        """``raw`` unpickled, once per cached value."""
        o = self._objs.get(field)
        if o is not None and o[0] is raw:
            return o[1]
        value = pickle.loads(raw)
        self._obj_drop(field)
        self._objs[field] = (raw, value)
        self._cache_size += len(raw)  # about what the unpickled value holds
        return value

    def _cache_drop(self, field: str) -> None:
        self._known_at.pop(field, None)
        self._obj_drop(field)
        old = self._cache.pop(field, None)
        if old is not None:
            self._cache_size -= len(old[1] or b"") + 64

    def _fetch_many(self, fields: list[str], held: list[int] | None = None) -> list[tuple[int, bytes | None]]:
        """Records (version, value) as they stand, in one scripted call (a version and its value are read
        together); ``held``: the versions this process caches, whose values are not sent again."""
        args: list[Any] = []
        prior = [None] * len(fields) if held is None else [self._cache.get(f) for f in fields]
        for j, f in enumerate(fields):
            held_j = -1 if held is None or prior[j] is None else held[j]
            args += (f, held_j)
        self.stats["round_trips"] += 1
        reply = self._send([("EVALSHA", self._fetch_script.sha, 3, self._kv_key, self._ver_key, self._epoch_key,
                             *args)])[0]
        epoch = int(reply[0])
        if epoch != self._epoch and not self._epoch_complete:  # (else the next read's change feed tells)
            self._foreign = max(self._foreign, epoch)
        sent = {int(reply[k]) - 1: reply[k + 1] for k in range(2, len(reply), 2)}
        out = []
        for j, (field, ver) in enumerate(zip(fields, reply[1], strict=True)):
            if j in sent:
                entry = (int(ver or 0), sent[j])
                if prior[j] is None:
                    seen = self._misses.setdefault(_kind(field), [0, 0])
                    seen[entry[1] is not None] += 1
                self._cache_put(field, *entry, epoch)
            else:  # the cached value is current
                entry = prior[j]  # type: ignore[assignment]
                self._cache_put(field, *entry, epoch)
            out.append(entry)
        return out

    def _see_epoch(self, epoch: int) -> None:
        """Another process committed since this one last looked: cached counters may be behind, and
        cached records known only at an older epoch are checked again before they are read (prefetch)."""
        self._counts.clear()
        self._foreign = max(self._foreign, epoch)
        self._epoch = epoch

    def _fetch_counts(self, h: str, fields: list[str]) -> None:
        self.stats["round_trips"] += 1
        self._learn_counts(h, fields, self.r.hmget(self._k(h), fields))

    def _fetch_all_counts(self, wanted: dict[str, list[str]]) -> None:
        pipe = self.r.pipeline(transaction=False)
        for h, fields in wanted.items():
            pipe.hmget(self._k(h), fields)
        self.stats["round_trips"] += 1
        for (h, fields), values in zip(wanted.items(), pipe.execute(), strict=True):
            self._learn_counts(h, fields, values)

    def _learn_counts(self, h: str, fields: list[str], values: list[bytes | None]) -> None:
        """Stored counter values read at the current epoch: cached, and kept as lower bounds."""
        cached = self._counts.setdefault(h, {})
        floors = self._floors.setdefault(h, {})
        if len(floors) > 1_000_000:
            floors.clear()
        seen = self._misses.setdefault(_kind(h, counter=True), [0, 0])
        ints = [int(v) if v is not None else 0 for v in values]
        cached.update(zip(fields, ints, strict=True))
        floors.update(zip(fields, ints, strict=True))
        present = len(values) - values.count(None)
        seen[1] += present
        seen[0] += len(values) - present

    def _guess_absent(self, kind: str) -> bool:
        """Most first reads of this kind of key found nothing (decided on the last ~100 of them)."""
        absent, present = self._misses.get(kind, (0, 0))
        if absent + present > 100:
            self._misses[kind] = [absent // 2, present // 2]
        return absent >= 10 and present * 20 < absent

    # -- the Store interface --------------------------------------------------------------------
    def doc_count(self) -> int:
        return int(self.r.get(self._k("seq")) or 0)

    def doc_number(self, article_id: str, create: bool = True) -> int | None:
        n = self._ids.get(article_id)
        if n is not None:
            return n
        tx = self._tx()
        if create and tx is not None:
            # a new id to this process: claim a reserved number; the commit checks nobody gave the id
            # another one meanwhile (else the add runs again with that one)
            n = self._claimed.get(article_id)
            if n is None:
                n = self._claimed[article_id] = self._reserve()
                self._cache_put(f"doc:{n}", 0, None, _NEVER)  # nobody can have written this number's record
            tx.claims[article_id] = n
            return n
        self.stats["round_trips"] += 1
        if not create:
            raw = self.r.hget(self._ids_key, article_id)
            if raw is None:
                return None
            n = int(raw)
        else:
            n, new = (int(x) for x in self._alloc(keys=[self._ids_key, self._k("seq")], args=[article_id]))
            if new:
                self._cache_put(f"doc:{n}", 0, None, _NEVER)
        if len(self._ids) < 1_000_000:
            self._ids[article_id] = n
        return n

    def _reserve(self) -> int:
        nxt, last = self._block
        if nxt > last:
            self.stats["round_trips"] += 1
            last = int(self.r.incrby(self._k("seq"), 64))
            nxt = last - 63
        self._block = (nxt + 1, last)
        return nxt

    def lsh_insert(self, space: str, keys: np.ndarray, doc: int) -> None:
        prefix, hexkeys = self._k("lb", space, ""), _hex(keys)
        tx = self._tx()
        if tx is not None:
            tx.inserts.append((prefix, hexkeys, doc))
            return
        member = struct.pack("<I", doc)
        pipe = self.r.pipeline(transaction=False)
        for j in range(0, len(hexkeys), 16):
            pipe.append(prefix + hexkeys[j : j + 16], member)
        pipe.incr(self._epoch_key)  # buckets grew: commits validate buckets read at an older epoch
        self.stats["round_trips"] += 1
        pipe.execute()

    def lsh_query(self, space: str, keys: np.ndarray) -> set[int]:
        return self.lsh_query_many([(space, keys)])[0]

    def lsh_query_many(self, queries: list[tuple[str, np.ndarray]],
                       counts: list[tuple[str, list[int]]] | None = None) -> list[set[int]]:
        spec, names = [], []
        for space, keys in queries:
            prefix, hexkeys = self._k("lb", space, ""), _hex(keys)
            spec.append((prefix, hexkeys, len(names)))
            names += [prefix + hexkeys[j : j + 16] for j in range(0, len(hexkeys), 16)]
        wanted = [(f"c:{space}", [format(k, "x") for k in keys]) for space, keys in counts or () if len(keys)]
        cmds: list[tuple[Any, ...]] = [("EVALSHA", self._feed_script.sha, 0, self._epoch_key, self._epoch, self._id,
                                        self._k("log"), self._kv_key, self._ver_key)]
        if names:
            cmds.append(("MGET", *names))
        cmds += [("HMGET", self._k(h), *fields) for h, fields in wanted]
        self.stats["round_trips"] += 1
        replies = self._send(cmds)
        feed, buckets = replies[0], replies[1] if names else []
        epoch = int(feed[0])
        fed = len(feed) > 1
        if fed and feed[1]:  # what other writers committed since this process last looked
            for field, raw, ver in zip(*feed[1], strict=True):
                self._cache_put(field.decode(), int(ver or 0), raw, epoch)
        if epoch != self._epoch:  # another process committed
            foreign = self._foreign
            self._see_epoch(epoch)
            if fed and self._epoch_complete:
                self._foreign = foreign  # the feed brought every record written since: the cache is current
        # from here on the change feed of each read brings what others commit (or the read says it cannot)
        self._epoch_complete = True
        for (h, fields), vals in zip(wanted, replies[1 + bool(names):], strict=True):
            self._learn_counts(h, fields, vals)
        tx = self._tx()
        out = []
        for prefix, hexkeys, at in spec:
            vals = buckets[at : at + len(hexkeys) // 16]
            sizes = array.array("I", [len(v) if v else 0 for v in vals])
            if _BIG_ENDIAN:
                sizes.byteswap()
            found = set(np.unique(np.frombuffer(b"".join(v for v in vals if v), dtype="<u4")).tolist())
            if tx is not None:
                tx.read_epoch = epoch if tx.read_epoch in (None, epoch) else -1
                tx.buckets.append((prefix, hexkeys, sizes.tobytes()))
                for p, h, doc in tx.inserts:  # this add's own inserts (none before its queries, as it is)
                    if p == prefix and set(_split16(h)) & set(_split16(hexkeys)):
                        found.add(doc)
            out.append(found)
        return out

    def prefetch(self, keys: list[str], vecs: tuple[str, list[int]] | None = None, recheck: bool = False) -> None:
        tx = self._tx()
        fields = list(keys) + ([_vec_key(vecs[0], n) for n in vecs[1]] if vecs else [])
        ask, held = [], []
        for f in dict.fromkeys(fields):
            if tx is not None and (f in tx.writes or f in tx.reads):
                continue
            entry = self._cache.get(f)
            if entry is not None:
                if recheck and self._known_at.get(f, -1) < self._foreign:  # another process may have written it
                    ask.append(f)
                    held.append(entry[0])
                continue
            if tx is not None and self._guess_absent(_kind(f)):
                continue  # get() will guess it absent without asking (see _guess_absent)
            ask.append(f)
            held.append(-1)
        if any(v == -1 for v in held):  # a round trip is due: the suspect ones ride along
            self._fetch_many(ask, held)

    def get(self, key: str) -> Any:
        tx = self._tx()
        if tx is None:
            _ver, raw = self._fetch_many([key])[0]
        elif key in tx.writes:
            return tx.objs.get(key)
        else:
            entry = self._cache.get(key)
            if entry is None:
                if self._guess_absent(_kind(key)):
                    entry = (0, None)
                    self._cache_put(key, *entry)
                else:
                    entry = self._fetch_many([key])[0]
            tx.reads.setdefault(key, entry[0])
            raw = entry[1]
            return self._obj(key, raw) if raw is not None else None
        return pickle.loads(raw) if raw is not None else None

    def vec_get(self, space: str, docs: np.ndarray, width: int) -> np.ndarray:
        # the vectors of all LSH candidates at once: the ones this process has not seen in one round trip
        fields = [_vec_key(space, n) for n in np.asarray(docs).tolist()]
        tx = self._tx()
        if tx is None:
            entries = self._fetch_many(fields) if fields else []
        else:
            missing = [f for f in fields if f not in self._cache and f not in tx.writes]
            if missing:
                self._fetch_many(missing)
            entries = []
            for f in fields:
                if f in tx.writes:
                    entries.append((0, tx.writes[f]))
                    continue
                entry = self._cache.get(f) or self._fetch_many([f])[0]  # evicted meanwhile: rare
                tx.reads.setdefault(f, entry[0])
                entries.append(entry)
        out = np.zeros((len(fields), width), dtype=np.uint32)
        for i, (_ver, raw) in enumerate(entries):
            if raw is not None:
                out[i] = np.frombuffer(pickle.loads(raw), dtype=np.uint32)[:width]
        return out

    def _write(self, key: str, raw: bytes | None, value: Any = None) -> None:
        tx = self._tx()
        if tx is not None:
            tx.writes[key] = raw
            tx.objs[key] = value
            return
        pipe = self.r.pipeline(transaction=False)
        if raw is None:
            pipe.hdel(self._kv_key, key)
        else:
            pipe.hset(self._kv_key, key, raw)
        pipe.hincrby(self._ver_key, key, 1)
        self.stats["round_trips"] += 1
        _, ver = pipe.execute()
        self._cache_put(key, int(ver), raw, self._epoch)

    def put(self, key: str, value: Any) -> None:
        self._write(key, pickle.dumps(value, protocol=5), value)

    def delete(self, key: str) -> None:
        self._write(key, None)

    def count_add(self, space: str, keys: list[int], by: int = 1) -> None:
        if not keys:
            return
        h = f"c:{space}"
        tx = self._tx()
        if tx is not None:
            fields = tx.counts.setdefault(h, {})
            for k in keys:
                f = format(k, "x")
                fields[f] = fields.get(f, 0) + by
            return
        self._counts.pop(h, None)
        pipe = self.r.pipeline(transaction=False)
        for k in keys:
            pipe.hincrby(self._k(h), format(k, "x"), by)
        pipe.incr(self._epoch_key)  # other processes' cached counters are behind now
        self.stats["round_trips"] += 1
        pipe.execute()

    def count_get(self, space: str, keys: list[int], bar: int | None = None, approx: bool = False) -> list[int]:
        if not keys:
            return []
        h = f"c:{space}"
        fields = [format(k, "x") for k in keys]
        tx = self._tx()
        if tx is None:
            self.stats["round_trips"] += 1
            return [int(v) if v is not None else 0 for v in self.r.hmget(self._k(h), fields)]
        cached = self._counts.setdefault(h, {})
        if approx:
            # statistics (the lexical document frequencies): the cached value (current as of this process's
            # last LSH read) or one fetch, and no check at commit: every add moves these counts, so checking
            # them would make two writers rerun each other's adds for a rounding change in an idf
            need = [f for f in fields if f not in cached]
            if need:
                self._fetch_counts(h, need)
            pending = tx.counts.get(h) or {}
            return [cached.get(f, 0) + pending.get(f, 0) for f in fields]
        floors = self._floors.setdefault(h, {})
        # Cached counts are current: every LSH read returns the commit count (the epoch), and when another
        # process committed since this one last looked, the cached counts are dropped and read again as
        # needed (the deduplicator reads the ones it needs exactly with its LSH buckets, lsh_query_many);
        # so a single writer reads counters from Redis only for fields new to it. A read against a bar
        # takes the last value this process saw (a lower bound: counts only grow) and the commit checks
        # that the count did not cross the bar meanwhile. A field this process never read, of a kind mostly
        # absent (new names, new lines), is guessed zero (the commit checks small counts exactly, so a
        # wrong guess only costs another attempt).
        guess = self._guess_absent(_kind(h, counter=True))
        need = []
        values = []
        for f in fields:
            v = cached.get(f)
            if v is None and bar:
                v = floors.get(f)
            if v is None:
                if guess and f not in floors:
                    v = cached[f] = floors[f] = 0
                else:
                    need.append(f)
            values.append(v)
        if need:
            self._fetch_counts(h, need)
            values = [cached[f] if v is None else v for f, v in zip(fields, values, strict=True)]
        read = tx.count_reads.setdefault(h, {})
        bars = tx.count_bars.setdefault(h, {}) if bar else None
        pending = tx.counts.get(h) or {}
        out = []
        for f, v in zip(fields, values, strict=True):
            if f not in read:
                read[f] = v
                if bars is not None:
                    bars[f] = bar  # type: ignore[assignment]
            elif bars is None:
                (tx.count_bars.get(h) or {}).pop(f, None)  # read exactly too: checked exactly
            out.append(read[f] + pending.get(f, 0))  # with this add's own increments, not committed yet
        return out

    def close(self) -> None:
        conn = getattr(self._conns, "conn", None)
        if conn is not None and self._conns.pid == os.getpid():
            conn.disconnect()
            self._conns.conn = None
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
