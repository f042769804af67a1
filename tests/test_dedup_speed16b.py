"""Session-16 round-2 speed cuts that must not change a decision: the name index's bounded lookups
(``Store.lsh_query_bounded``) and the headline-object veto read lazily (``story.objects_apart``). Each is checked
against the path it replaced, on the test corpus (real-shaped articles in several languages, dated and undated)
where that path still runs."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from aggregator.dedup import Deduplicator
from aggregator.dedup import story as S
from aggregator.dedup.core import NAME_SPACE, DedupConfig
from aggregator.dedup.store import MemoryStore, Store

ROWS = [json.loads(line) for line in
        (Path(__file__).parent / "data" / "dedup_corpus.jsonl").read_text(encoding="utf-8").splitlines()]


class _Counting(MemoryStore):
    """The in-process store, counting the name lookups it answered with None (a list over the bound)."""

    def __init__(self) -> None:
        super().__init__()
        self.skipped = 0
        self.small = 0

    def lsh_query_bounded(self, space: str, keys: np.ndarray, most: int) -> set[int] | None:
        out = super().lsh_query_bounded(space, keys, most)
        if out is None:
            self.skipped += 1
        else:
            self.small += 1
        return out


class _Batched(MemoryStore):
    """The in-process store without its bounded lookup: core then asks the name index in the batch of
    ``lsh_query_many`` and reads every list whole, as before the cut (what a shared store still does)."""

    lsh_query_bounded = Store.lsh_query_bounded


def _run(store: Store, cap: int) -> list[tuple[str, str, str]]:
    dd = Deduplicator(config=DedupConfig(story_name_candidates=cap), store=store)
    out = []
    for r in ROWS:
        a = dd.add(r)
        out.append((a.article_id, a.dup_id, a.story_id))
    for r in ROWS[:40]:  # re-adds: the article's own number is in the index and must not count against the cap
        a = dd.add(r)
        out.append((a.article_id, a.dup_id, a.story_id))
    return out


def test_bounded_name_lookups_cluster_as_the_batched_ones() -> None:
    """Every assignment equal with the bounded and the whole-list lookups, at caps where lists are skipped and
    where they are read (the default 10), and the bounded path did skip some lists (else it proves nothing)."""
    for cap in (1, 2, 10):
        fast = _Counting()
        assert _run(fast, cap) == _run(_Batched(), cap), cap
        assert fast.small > 0
        if cap <= 2:
            assert fast.skipped > 0, cap


def test_lsh_query_bounded_is_the_set_or_none() -> None:
    """The in-process answer and the base class's default (a shared store's) agree with ``lsh_query``: the set
    when at most ``most`` documents share a key, else None; an unknown space is the empty set."""
    rng = np.random.default_rng(7)
    store = MemoryStore()
    keys = rng.integers(0, 2**63, size=30, dtype=np.uint64)
    for doc in range(1, 200):
        store.lsh_insert(NAME_SPACE, rng.choice(keys, size=3, replace=False), doc)
    for _ in range(200):
        q = rng.choice(keys, size=int(rng.integers(1, 4)), replace=False)
        whole = store.lsh_query(NAME_SPACE, q)
        for most in (0, 5, 20, 40, len(whole) - 1, len(whole), len(whole) + 1, 10_000):
            want = whole if len(whole) <= most else None
            assert store.lsh_query_bounded(NAME_SPACE, q, most) == want
            assert Store.lsh_query_bounded(store, NAME_SPACE, q, most) == want
    assert store.lsh_query_bounded("nowhere", keys[:2], 0) == set()


def _objects_apart_reference(joiner: frozenset[str], members: list[frozenset[str]]) -> bool:
    """The definition before the cut: every member read, then the union tested."""
    if not joiner:
        return False
    named: set[str] = set()
    for m in members:
        named |= m
    return bool(named) and not joiner & named


def test_objects_apart_lazy_equals_the_union_test() -> None:
    """On every small combination of makers: the same answer as the union test, and a member after the first
    that shares a maker with the joiner is never read."""
    makers = ["tesla", "byd", "nio", "xpeng", "ford"]
    sets = [frozenset(c) for r in range(3) for c in itertools.combinations(makers, r)]
    rng = random.Random(3)
    for _ in range(3000):
        joiner = rng.choice(sets)
        members = [rng.choice(sets) for _ in range(rng.randint(0, 5))]
        read: list[int] = []

        def lazy(ms: list[frozenset[str]] = members, log: list[int] = read) -> Iterator[frozenset[str]]:
            for i, m in enumerate(ms):
                log.append(i)
                yield m

        assert S.objects_apart(joiner, lazy()) == _objects_apart_reference(joiner, members)
        first = next((i for i, m in enumerate(members) if joiner & m), None)
        if first is not None:
            assert read[-1] == first  # stopped there


def test_name_keys_many_is_name_keys_per_salt() -> None:
    """The broadcast keys equal :func:`.lsh.name_keys` salt by salt (day buckets, the undated and any-time salts,
    far buckets), for one name and many; ``Deduplicator._name_keys`` of the corpus articles equals its per-salt
    composition (the ask keys per name, the insert keys salt by salt)."""
    from aggregator.dedup.lsh import name_keys, name_keys_many

    rng = np.random.default_rng(11)
    for n in (1, 2, 7, 40):
        names = rng.integers(0, 2**64 - 1, size=n, dtype=np.uint64)
        salts = tuple(int(s) for s in rng.integers(-2, 1 << 40, size=5)) + (-1, -2, 0)
        got = name_keys_many(names, salts)
        assert got.shape == (n, len(salts))
        for j, s in enumerate(salts):
            assert np.array_equal(got[:, j], name_keys(names, s))
    dd = Deduplicator()
    for r in ROWS:
        dd.add(r)
    checked = 0
    for num in range(1, len(ROWS) + 1):
        d = dd.store.get(f"doc:{num}")
        if d is None:
            continue
        ask, put = dd._name_keys(d)
        _n, names, weights, _k = d.features()
        strong = names[weights >= 10]
        if not len(strong):
            assert ask == [] and not len(put)
            continue
        if dd._precise(d):
            bucket = int(d.published // (dd.config.story_window_days * 86400))
            salts_ask, salts_put = (bucket - 1, bucket, bucket + 1, -1), (bucket, -2)
        else:
            salts_ask, salts_put = (-1, -2), (-1,)
        want_ask = list(np.stack([name_keys(strong, s) for s in salts_ask], axis=1))
        assert len(ask) == len(want_ask) and all(np.array_equal(a, b) for a, b in zip(ask, want_ask, strict=True))
        assert np.array_equal(put, np.concatenate([name_keys(strong, s) for s in salts_put]))
        checked += 1
    assert checked > 20
