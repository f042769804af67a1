"""Shortcuts taken for the crawl's dedup step (issue 14 item 5) against what they replace: the same clusters.

- a fragment merge's cross test stops at the first pair that shows a sign of another event (the merge is refused
  whatever the other members would score): random fragment scenarios with conflicting figures give the clusters
  of the full loop, with fewer cross scores;
- numba's library loads without cffi (no kernel types a cffi function): the kernels run, and cffi imports later.
"""

from __future__ import annotations

import random
import subprocess
import sys
import textwrap

import numpy as np

from aggregator.dedup import Deduplicator, open_store
from aggregator.dedup import core as C
from aggregator.dedup.core import DedupConfig

FIRE = ("A fire at the Aricell lithium battery plant in Hwaseong killed 22 workers on Monday; the plant made {n} "
        "million cells a year. Most of the dead were "
        "Chinese nationals, the Gyeonggi fire service said. Batteries exploded in a storage room while "
        "firefighters searched the building for missing workers until late in the evening.")
HEADS = ["Lithium battery factory fire in Hwaseong", "Hwaseong battery plant blaze", "Aricell battery plant fire",
         "Battery factory fire in South Korea", "Fire at Korean battery maker's plant", "Hwaseong blaze at plant"]
# (each report's own wording: random words after the shared facts, so that no two reports are copies)
FILLER = ("rescue smoke crews families officials police labour ministry inspection safety rules warehouse cells "
          "investigation company statement victims hospital injured employees contract agency shift morning "
          "evacuation flames hours water chemicals district mayor president visit condolences owners").split()


class _Table(Deduplicator):
    """The real evidence (output figures that differ conflict), with link probabilities from a table."""

    table: dict[frozenset[str], float] = {}
    cross_calls = 0

    def _story_scores(self, d, cands):  # type: ignore[no-untyped-def]
        _p, x = super()._story_scores(d, cands)
        return np.array([self.table.get(frozenset((d.article_id, o.article_id)), 0.0) for o in cands]), x


class _Counting(_Table):
    def _merge_fragments(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        real = self._story_scores

        def counted(d, cands):  # type: ignore[no-untyped-def]
            self.cross_calls += 1
            return real(d, cands)

        self._story_scores = counted  # type: ignore[method-assign]
        try:
            return super()._merge_fragments(*args, **kwargs)
        finally:
            del self._story_scores


class _FullLoop(_Counting):
    """``_merge_fragments`` as it was before the early stop (main 3e47289): every cross pair scored."""

    def _merge_fragments(self, d, story_cl, allowed, story_docs, probs, resolved, merged):  # type: ignore[no-untyped-def]
        cfg, store = self.config, self.store
        if allowed[0][0] < cfg.story_merge_link:
            return story_cl
        span = cfg.story_merge_span_days if d.published is None else max(cfg.story_merge_span_days,
                                                                          cfg.story_merge_span_days_dated)
        by_sid = None
        mine = {story_cl.cid}
        newest: dict = {}
        real = self._story_scores
        for p, sid in allowed[1:]:
            if p >= 2.0 or p < cfg.story_merge_link:
                continue
            sid = self._resolve(sid)
            other = store.get(f"c:{sid}")
            if sid in mine or other is None or not self._can_merge_stories(story_cl.cid, sid):
                continue
            members = []
            for c in (story_cl, other):
                if c.cid not in newest:
                    newest[c.cid] = self._newest_members(c)
                members.append(newest[c.cid])
            sides = [[(o.published, o.unc * C.DAY) for o in ms if o.published is not None] for ms in members]
            if cfg.story_merge_dated and not (sides[0] and sides[1]):
                continue
            dated = sides[0] + sides[1]
            if dated and (max(t - u for t, u in dated) - min(t + u for t, u in dated)) / C.DAY > span:
                continue
            named_a, named_b = ([C.S.stages(o.title) for o in ms] for ms in members)
            if frozenset().union(*named_a) != frozenset().union(*named_b):
                continue
            if by_sid is None:
                by_sid = self._candidates_by_story(story_docs, resolved)
            ma = self._best_three(story_docs, probs, [by_sid[s] for s in mine if s in by_sid])
            mb = self._best_three(story_docs, probs, [by_sid[sid]] if sid in by_sid else [])
            if not ma or not mb:
                continue
            cross, conflict = 0.0, False
            for _p, oa in ma:
                self.cross_calls += 1
                cp, cx = real(oa, [o for _p, o in mb])
                cross = max(cross, float(cp.max()))
                conflict = conflict or bool(cx[:, C._MERGE_CONFLICTS].any())
            if cross < cfg.story_merge_agree or (cfg.story_merge_no_conflict and conflict):
                continue
            keep, gone = self._older(story_cl, other)
            self._merge(keep, gone, "story_id")
            newest.clear()
            merged.append(gone.cid)
            mine.add(sid)
            story_cl = keep
            mine.add(keep.cid)
        return story_cl


def _scenario(cls: type[_Table], seed: int) -> tuple[list[tuple[str, str]], int]:
    """Two groups of reports of one fire (links 0.9 within a group), added in turns; across the groups some pairs
    link (0.8) and most do not (0.3), so the groups form two stories that later reports may find to be fragments
    of one event; the plant's output (12 or 35 million cells) makes some cross pairs conflict."""
    rng = random.Random(seed)
    ids = [f"{'fg'[i % 2]}{i}" for i in range(rng.randint(8, 14))]
    dd = cls(DedupConfig(story_embedding_weight=0.0, story_merge_link=0.65), open_store("memory:"))
    dd.table = {frozenset((a, b)): 0.9 if a[0] == b[0] else rng.choice([0.3, 0.3, 0.8])
                for i, a in enumerate(ids) for b in ids[:i]}
    out = []
    for i, aid in enumerate(ids):
        body = FIRE.format(n=rng.choice([12, 35])) + " " + " ".join(rng.choice(FILLER) for _ in range(80))
        a = dd.add({"id": aid, "title": rng.choice(HEADS), "body": body, "source": f"outlet{i}", "language": "en",
                    "published_at": f"2024-06-{20 + rng.randint(0, 3)}T{i % 24:02d}:00:00Z"})
        out.append((a.story_id, a.dup_id))
    return out + [(aid, dd.story_of(aid) or "") for aid in ids], dd.cross_calls


def test_fragment_cross_test_stops_at_a_conflict_and_decides_as_the_full_loop() -> None:
    saved = full = 0
    for seed in range(60):
        got, calls = _scenario(_Counting, seed)
        want, calls_full = _scenario(_FullLoop, seed)
        assert got == want, seed
        assert calls <= calls_full
        saved += calls_full - calls
        full += calls_full
    assert full > 0 and saved > 0  # the scenarios reach the cross test and stop early in some of them


def test_numba_library_loads_without_cffi() -> None:
    """A fresh process: the Deduplicator's kernels run with numba's cffi support left off, and cffi imports later."""
    code = textwrap.dedent("""
        import sys
        from aggregator.dedup import Deduplicator, _jit
        dd = Deduplicator()
        for i in range(3):
            dd.add({"id": f"x{i}", "title": "Battery plant opens", "body": "A battery plant opens with 4 GWh. " * 9,
                    "source": f"s{i}", "language": "en", "published_at": "2026-01-02T00:00:00Z"})
        assert dd.story_of("x0") == dd.story_of("x2")
        if _jit.ENABLED:
            from numba.core.typing import cffi_utils
            assert "pycparser" not in sys.modules and not cffi_utils.SUPPORTED
            assert sys.modules.get("cffi", 0) is not None  # no None left behind: a later import works
        try:
            import cffi  # noqa: F401
        except ImportError:  # not installed here
            pass
        print("ok")
    """)
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0 and p.stdout.strip() == "ok", p.stderr[-2000:]
