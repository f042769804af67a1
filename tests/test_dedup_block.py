"""The story tier's blocking step (``DedupConfig.story_candidates``): of the in-window candidates that can link,
only the K with the most shared evidence get the full evidence and the link model.

Checked for real on the synthetic corpus with its dates squeezed into a few days, so that every window is full
(the case the cap is for): a cap above every window's size gives exactly the clusters of the cap off (0); a small cap
scores no more than K candidates per placement, and exactly those ``story.shared_evidence`` ranks first.
"""

from __future__ import annotations

import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import numpy as np
import pytest

from aggregator.dedup import DedupConfig, Deduplicator
from aggregator.dedup import core as C
from aggregator.dedup import story as S

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the benchmarks package sits beside the installed one (as in test_bench_results)
    sys.path.insert(0, str(ROOT))
from benchmarks.corpus import generate  # noqa: E402


def _squeezed(n: int) -> list[dict]:
    """``n`` synthetic articles published within three days (full story windows from the first hundred on)."""
    rng = random.Random(5)
    t0 = datetime(2025, 3, 1, tzinfo=timezone.utc)
    out = []
    for i, art in enumerate(generate(n, seed=9)):
        art = dict(art)
        art["published_at"] = (t0 + timedelta(minutes=10 * i + rng.randint(0, 9))).isoformat().replace("+00:00", "Z")
        out.append(art)
    return out


ARTS = _squeezed(260)


def _run(cfg: DedupConfig) -> list[tuple]:
    """Every assignment, with the article's links (ids and scores), in input order."""
    dd = Deduplicator(cfg)
    out = []
    for art in ARTS:
        a = dd.add(art)
        i = dd._get_doc(a.article_id).number
        out.append((a.article_id, a.dup_id, a.story_id, a.new_dup, a.new_story, a.confidence,
                    tuple(a.merged_story_ids), tuple(a.merged_dup_ids), tuple(dd.store.get(f"doc:{i}").links)))
    return out


def test_block_keeps_the_best_k_ties_to_the_newer() -> None:
    # ev columns: numbers score, shared specific figures, candidate's specific, name weight, candidate's strong
    # names, shared strong names, shared keywords
    ev = np.zeros((6, 7))
    ev[:, 3] = [0.0, 8.0, 2.0, 8.0, 5.0, 1.0]  # name weight
    ev[:, 5] = [1, 2, 1, 2, 1, 1]  # shared strong names
    ev[4, 1] = ev[4, 0] = 3  # three shared specific figures
    lens = np.zeros((6, 3), dtype=np.int64)
    nums = np.array([10, 11, 12, 13, 14, 15], dtype=np.int64)
    live = np.array([1, 2, 3, 4, 5])
    score = S.shared_evidence(ev[live], lens[live], 0)
    assert score[0] == score[2]  # rows 1 and 3 tie ...
    kept, left = C._block(live, ev, lens, nums, 0, 2, None)
    # row 4 (names 5.0 + three figures) first, then of the tied 1 and 3 the newer document (13)
    assert sorted(score, reverse=True)[:2] == sorted(score[[3, 2]], reverse=True)
    assert kept.tolist() == [3, 4] and left.tolist() == [1, 2, 5]
    kept, left = C._block(live, ev, lens, nums, 0, 3, None)
    assert kept.tolist() == [1, 3, 4] and left.tolist() == [2, 5]


def test_shared_evidence_is_the_models_shared_part() -> None:
    # the same arithmetic as pair_features' columns 0-4 times their weights
    rng = np.random.default_rng(3)
    ev = rng.integers(0, 6, size=(40, 7)).astype(float)
    ev[:, 0] = ev[:, 1] + 0.5 * rng.integers(0, 4, size=40)
    lens = rng.integers(0, 8, size=(40, 3))
    x = S.pair_features(ev, lens, 5, 3, 2, 4, "", [""] * 40, np.zeros(40), np.ones(40, dtype=bool))
    want = x[:, :5] @ S.weight_vector()[:5]
    assert np.allclose(S.shared_evidence(ev, lens, 4), want)


@pytest.fixture(scope="module")
def off() -> list[tuple]:
    """Every candidate scored: the placement as it was before the cap (the code path is the one main runs; the
    same outputs as main's were checked on the development sets and 1,300 adds after a 30k state, results)."""
    return _run(DedupConfig(story_candidates=0))


def test_a_cap_above_every_window_changes_nothing(off: list[tuple]) -> None:
    assert _run(DedupConfig(story_candidates=100_000)) == off


def test_the_default_cap_binds_here_and_keeps_the_copies(monkeypatch: pytest.MonkeyPatch, off: list[tuple]) -> None:
    # the last placements here have more live candidates than the default cap: it leaves some out, and the copy
    # (dup) clusters stay those of the cap off
    binding: list[int] = []
    orig = C._block

    def spy(live: np.ndarray, *args: object) -> tuple[np.ndarray, np.ndarray]:
        binding.append(len(live))
        return orig(live, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(C, "_block", spy)
    capped = _run(DedupConfig())
    assert DedupConfig().story_candidates > 0
    assert binding and min(binding) > DedupConfig().story_candidates
    assert [a[1] for a in capped] == [a[1] for a in off]


def test_a_small_cap_scores_only_the_best_k(monkeypatch: pytest.MonkeyPatch, off: list[tuple]) -> None:
    k = 3
    seen: list[tuple[int, int]] = []
    orig = C.Deduplicator._scored_features

    def spy(self: C.Deduplicator, d: C.Doc, cands: list, numbers: list | None = None, scored_only: bool = False
            ) -> tuple[np.ndarray, np.ndarray]:
        x, left = orig(self, d, cands, numbers, scored_only)
        if scored_only:
            scored = np.flatnonzero(x[:, [0, 1, 13, 17]].any(axis=1) & ~np.isin(np.arange(len(x)), left))
            seen.append((len(scored), len(left)))
            if len(left):
                # every candidate left out shares no more than the weakest one kept
                full = Deduplicator(DedupConfig(story_candidates=0), store=self.store)
                xf = full._story_features(d, cands, numbers)
                sh = xf[:, :5] @ S.weight_vector()[:5]
                assert sh[left].max() <= sh[scored].min() + 1e-12
        return x, left

    monkeypatch.setattr(C.Deduplicator, "_scored_features", spy)
    capped = _run(DedupConfig(story_candidates=k))
    assert max(s for s, _l in seen) <= k
    assert sum(1 for _s, left in seen if left) > 50  # the cap was binding in most placements
    assert len(capped) == len(off)
    assert capped != off  # a cap of 3 in windows of hundreds does change placements (the test can fail)
