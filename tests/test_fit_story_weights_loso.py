"""``fit_story_weights --loso``: the leave-one-set-out estimate never fits on the set it scores.

Run on the synthetic corpus (``tests/data/dedup_corpus.jsonl``) split into groups by story, so the check
is of the real pipeline (pair features, fit, clustering, scoring), only small.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the benchmarks package sits beside the installed one
    sys.path.insert(0, str(ROOT))

from aggregator.dedup import story as S  # noqa: E402
from benchmarks.devsets import fit_story_weights as fsw  # noqa: E402


def _corpus() -> list[dict]:
    rows = [json.loads(line) for line in (ROOT / "tests" / "data" / "dedup_corpus.jsonl").read_text(
        encoding="utf-8").splitlines() if line.strip()]
    return [{**r, "event": r["story_label"]} for r in rows]


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_each_fold_fits_on_the_other_groups_only(tmp_path: Path) -> None:
    rows = _corpus()
    stories = sorted({r["event"] for r in rows})
    first = [r for r in rows if r["event"] in stories[:12]]  # halves a and b of it
    third = [r for r in rows if r["event"] in stories[12:18]]
    groups = fsw.loso_groups([_write(tmp_path / "first.jsonl", first)], [("X", _write(tmp_path / "x.jsonl", third))])
    assert set(groups) == {"a", "b", "X"} and all(groups[g].pages for g in groups)
    mats = {g: fsw.pair_matrix([], "all", ds.pages) for g, ds in groups.items()}
    folds = fsw.loso(groups, mats, None, fsw.Recipe(synthetic=0, never_train=frozenset({"X"})), orders=1)
    assert [f["scored"] for f in folds] == ["a", "b", "X"]
    assert {f["scored"]: f["trained_on"] for f in folds} == {"a": ["b"], "b": ["a"], "X": ["a", "b"]}
    # the fold that scores X is fitted on a and b exactly: the same weights as a fit on their pairs alone
    assert folds[2]["weights"] == fsw.fit_parts([mats["a"], mats["b"]], None, fsw.Recipe(synthetic=0))[0]
    for f in folds:
        for k in ("dated", "undated"):
            assert 0.0 <= f[k]["pairwise_precision"] <= 1.0 and 0.0 <= f[k]["pairwise_f1"] <= 1.0
    means = fsw.loso_means(folds)
    assert means["dated_f1"] == pytest.approx(np.mean([f["dated"]["pairwise_f1"] for f in folds]))


def test_groups_sharing_an_event_are_refused(tmp_path: Path) -> None:
    rows = _corpus()[:20]
    first = _write(tmp_path / "first.jsonl", rows)
    clash = _write(tmp_path / "clash.jsonl", [{**rows[0], "id": "other-id"}])
    with pytest.raises(SystemExit, match="share"):
        fsw.loso_groups([first], [("X", clash)])


def _part(rng: np.random.Generator, n: int, sign: float) -> tuple[np.ndarray, np.ndarray]:
    """Pairs whose label follows column 0 positively and column 1 with ``sign``."""
    x = np.zeros((n, len(S.FEATURES)))
    x[:, 0] = rng.random(n)
    x[:, 1] = rng.random(n)
    y = (rng.random(n) < 1 / (1 + np.exp(-(4 * x[:, 0] + sign * 4 * x[:, 1] - 2)))).astype(float)
    return x, y


def test_balance_makes_a_group_count_once_whatever_its_size() -> None:
    rng = np.random.default_rng(3)
    small, large = _part(rng, 300, 1.0), _part(rng, 300, -1.0)
    tripled = (np.vstack([large[0]] * 3), np.concatenate([large[1]] * 3))
    # (no L2: its strength is relative to the real pairs' count, which the repetition changes)
    balanced = fsw.Recipe(synthetic=0, balance=True, l2=0.0)
    # balanced, a group repeated three times weighs what it weighed once; unbalanced it outweighs the other
    w3, b3 = fsw.fit_parts([small, tripled], None, balanced)
    w1, b1 = fsw.fit_parts([small, large], None, balanced)
    assert w3 == pytest.approx(w1, abs=0.011) and b3 == pytest.approx(b1, abs=0.011)
    plain = fsw.Recipe(synthetic=0, l2=0.0)
    assert fsw.fit_parts([small, tripled], None, plain)[0][S.FEATURES[1]] < \
        fsw.fit_parts([small, large], None, plain)[0][S.FEATURES[1]]


def test_a_feature_whose_sign_depends_on_the_set_is_dropped() -> None:
    rng = np.random.default_rng(5)
    up, down = _part(rng, 600, 1.0), _part(rng, 600, -1.0)
    dropped = fsw.flipping_features([up, down], None, fsw.Recipe(synthetic=0))
    assert S.FEATURES[1] in dropped and S.FEATURES[0] not in dropped
    weights, _ = fsw.fit_parts([up, down], None, fsw.Recipe(synthetic=0), dropped)
    assert weights[S.FEATURES[1]] == 0.0 and weights[S.FEATURES[0]] > 0
