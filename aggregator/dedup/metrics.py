"""Clustering quality: pairwise P/R/F1, B-cubed P/R/F1 and the Adjusted Rand Index.

All three are computed from the contingency table ``n_ij`` (items in true cluster ``i`` and
predicted cluster ``j``), so cost is linear in the number of items, not quadratic in pairs:

* pairwise: true-positive pairs ``sum_ij C(n_ij, 2)`` over predicted pairs
  ``sum_j C(b_j, 2)`` (precision) and true pairs ``sum_i C(a_i, 2)`` (recall);
* B-cubed: per item, the share of its predicted cluster that is in its true cluster
  (precision) and vice versa (recall), averaged over items;
* ARI (Hubert & Arabie): the Rand index corrected for chance,
  ``(sum C(n_ij,2) - E) / (0.5 (sum C(a_i,2) + sum C(b_j,2)) - E)`` with
  ``E = sum C(a_i,2) sum C(b_j,2) / C(n,2)``.

Only ids present in both maps are scored.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping


def _c2(n: int) -> float:
    return n * (n - 1) / 2


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def evaluate(labels: Mapping[str, str], predicted: Mapping[str, str]) -> dict[str, float]:
    ids = [i for i in labels if i in predicted]
    pair = Counter((labels[i], predicted[i]) for i in ids)
    a = Counter(labels[i] for i in ids)
    b = Counter(predicted[i] for i in ids)
    tp = sum(_c2(v) for v in pair.values())
    true_pairs = sum(_c2(v) for v in a.values())
    pred_pairs = sum(_c2(v) for v in b.values())
    p = tp / pred_pairs if pred_pairs else 1.0
    r = tp / true_pairs if true_pairs else 1.0
    n = len(ids)
    bp = sum(v * v / b[j] for (_i, j), v in pair.items()) / n if n else 0.0
    br = sum(v * v / a[i] for (i, _j), v in pair.items()) / n if n else 0.0
    expected = true_pairs * pred_pairs / _c2(n) if n > 1 else 0.0
    denom = 0.5 * (true_pairs + pred_pairs) - expected
    ari = (tp - expected) / denom if denom else 1.0
    return {
        "n": float(n),
        "pairwise_precision": p, "pairwise_recall": r, "pairwise_f1": _f1(p, r),
        "bcubed_precision": bp, "bcubed_recall": br, "bcubed_f1": _f1(bp, br),
        "ari": ari,
    }
