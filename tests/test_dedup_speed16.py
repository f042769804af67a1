"""Session-16 compiled story scoring (``_jit.story_rows``, ``_jit.link_scores``) against the numpy reference path.

The compiled link model sums the logit in column order and takes LLVM's ``exp``, so its probabilities may differ
from numpy's (BLAS ``dgemv``, numpy's ``exp``) by an ulp or so; the rule for speed work is that they stay within
1e-9 and that no clustering decision changes. Both are checked on the pairs of the test corpus (real-shaped
articles in several languages, dated and undated), with numba on and off in one process.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from aggregator.dedup import Deduplicator, _jit, open_store
from aggregator.dedup import story as S

ROWS = [json.loads(line) for line in
        (Path(__file__).parent / "data" / "dedup_corpus.jsonl").read_text(encoding="utf-8").splitlines()]

pytestmark = pytest.mark.skipif(not _jit.ENABLED, reason="numba off: the numpy path is the only one")

# every bar a decision reads p against (DedupConfig: story_link, story_link_undated, story_merge_link,
# story_merge_agree, the undated-join mean...): a pair on one side of any of them must stay there
_BARS = (0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9)


def _scores(dd: Deduplicator, d: object, cands: list, monkeypatch: pytest.MonkeyPatch, compiled: bool
            ) -> tuple[np.ndarray, np.ndarray]:
    with monkeypatch.context() as m:
        if not compiled:
            m.setattr(_jit, "ENABLED", False)  # core reads the flag per call: the whole numpy path
        return dd._story_scores(d, cands)


def test_compiled_story_scores_match_the_numpy_path_on_corpus_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each article against every other stored one: the same evidence matrix byte for byte (story_rows is
    elementwise), p within 1e-9, and every pair on the same side of every bar."""
    dd = Deduplicator(store=open_store("memory:"))
    for r in ROWS:
        dd.add(r)
    docs = [o for o in (dd.store.get(f"doc:{n}") for n in range(len(ROWS))) if o is not None]
    assert dd._columns() is not None  # the compiled path reads the column store
    pairs = linked = moved = 0
    worst = 0.0
    for d in docs[::3]:
        cands = [o for o in docs if o.number != d.number]
        p_ref, x_ref = _scores(dd, d, cands, monkeypatch, compiled=False)
        p_jit, x_jit = _scores(dd, d, cands, monkeypatch, compiled=True)
        assert x_jit.tobytes() == x_ref.tobytes()
        worst = max(worst, float(np.abs(p_jit - p_ref).max()))
        for bar in _BARS:
            assert np.array_equal(p_jit >= bar, p_ref >= bar), bar
        assert np.array_equal(p_jit == 0.0, p_ref == 0.0)
        pairs += len(cands)
        linked += int((p_ref >= 0.65).sum())
        moved += int(((p_ref > 0) & (p_ref < 1) & (x_ref[:, S._SAME] > 0)).sum())
    assert worst <= 1e-9
    assert pairs > 10_000 and linked > 50 and moved > 200  # linked pairs and wording-boosted ones were compared


def test_link_scores_match_link_probability_and_the_open_masks() -> None:
    """_jit.link_scores on varied rows (vetoes, blocked rows, rows with no evidence, other languages) against
    story.link_probability and story.open_to_wording with the embedding's vetoes."""
    from aggregator.dedup import core

    rng = np.random.default_rng(11)
    m = 2000
    x = rng.choice(np.array([0.0, 0.0, 0.25, 0.5, 1.0, 2.0]), size=(m, len(S.FEATURES)))
    # the signs of another event rarer than the rest, as in real pairs (else nearly every row is vetoed)
    signs = [S.FEATURES.index(k) for k in S.FEATURES if "conflict" in k or "disjoint" in k]
    x[:, signs] *= rng.random((m, len(signs))) < 0.15
    w = S.weight_vector()
    left = np.flatnonzero(rng.random(m) < 0.1)
    emb_veto = np.array([S.FEATURES.index(k) for k in ("kinds_conflict", "periods_conflict")], dtype=np.int64)
    p = np.empty(m)
    ol, oe = np.empty(m, dtype=np.int64), np.empty(m, dtype=np.int64)
    n_lex, n_emb = _jit.link_scores(x, w, S.BIAS, left, core._LINK_SIGNS, S._SAME, core._LEX_VETOES, emb_veto,
                                    p, ol, oe)
    ref = S.link_probability(x)
    ref[left] = 0.0
    assert np.abs(p - ref).max() <= 1e-12
    assert np.array_equal(p == 0.0, ref == 0.0)
    assert np.array_equal(ol[:n_lex], S.open_to_wording(ref, x, same_language=True))
    assert np.array_equal(oe[:n_emb], S.open_to_wording(ref, x, same_language=False, vetoes=emb_veto.tolist()))
    assert n_lex > 20 and n_emb > 20 and (ref == 0).sum() > 100


def test_compiled_and_numpy_paths_cluster_alike(monkeypatch: pytest.MonkeyPatch) -> None:
    """The whole stream through Deduplicator.add with numba on and off: every dup and story assignment equal."""
    got = {}
    for compiled in (True, False):
        with monkeypatch.context() as m:
            if not compiled:
                m.setattr(_jit, "ENABLED", False)
            dd = Deduplicator(store=open_store("memory:"))
            got[compiled] = [(a.dup_id, a.story_id) for a in (dd.add(r) for r in ROWS)]
    assert got[True] == got[False]
    assert len({s for _d, s in got[True]}) < len(ROWS) - 30  # stories formed, not only singletons
