"""Shortcuts taken for the crawl's dedup step (issue 14 item 5): numba's library loads without cffi (no kernel
types a cffi function), the kernels run, and cffi imports later.

(s14crawl's early stop of a fragment merge's cross test at the first conflicting pair was dropped in the merge with
s14recall: a sign now refuses the merge only on a pair linked within ``story_merge_conflict_margin`` of the best,
which is known only once every cross pair is scored.)
"""

from __future__ import annotations

import subprocess
import sys
import textwrap


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
