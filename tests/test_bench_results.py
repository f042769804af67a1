"""``python -m benchmarks.run`` rewrites the table of ``benchmarks/results.md`` and keeps its written sections."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the benchmarks package sits beside the installed one (as in test_index_consistency)
    sys.path.insert(0, str(ROOT))

from benchmarks.run import keep_sections  # noqa: E402

OLD = ("# Benchmark results\n\nRun yesterday\n\n| Stage | old row |\n\n"
       "## What branch x measured\n\ntext x\n\n## y\n\ntext y\n")


def test_a_run_replaces_the_table_and_keeps_every_written_section() -> None:
    new = keep_sections("# Benchmark results\n\nRun today\n\n| Stage | new row |\n", OLD)
    assert new.startswith("# Benchmark results\n\nRun today\n\n| Stage | new row |\n")
    assert "old row" not in new and "Run yesterday" not in new
    assert new.endswith("## What branch x measured\n\ntext x\n\n## y\n\ntext y\n")


def test_a_new_file_is_the_table_alone() -> None:
    assert keep_sections("# Benchmark results\n\n| t |\n", "") == "# Benchmark results\n\n| t |\n"
