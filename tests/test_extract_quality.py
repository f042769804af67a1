"""Quality floor over every fixture article (the full report is benchmarks/extraction_quality.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _quality():
    spec = importlib.util.spec_from_file_location("extraction_quality", ROOT / "benchmarks" / "extraction_quality.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fixture_web_extraction_quality():
    quality = _quality()
    cases = quality.load_cases()
    assert len(cases) >= 30
    result = quality.score(cases, quality.run_ours)
    assert result["errors"] == 0
    assert result["body_f1_mean"] >= 0.9, result
    assert result["body_f1_min"] >= 0.8, [r for r in result["rows"] if r["body_f1"] < 0.8]
    assert result["date_accuracy"] >= 0.95
    assert result["title_exact"] >= 0.95 and result["author_accuracy"] >= 0.9


def test_token_f1_metric():
    quality = _quality()
    assert quality.token_f1("a b c", "a b c") == 1.0
    assert quality.token_f1("", "a") == 0.0
    assert round(quality.token_f1("a b", "a b c d"), 3) == 0.667
    assert quality.token_f1("宁德时代", "宁德时代") == 1.0
