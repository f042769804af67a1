"""A joiner dated only to the month (``DedupConfig.story_period_slack_days``): it joins a story only if the story's
members dated to the day lie within that month or at most the slack outside it."""

from __future__ import annotations

import numpy as np
import pytest

from aggregator.dedup import Deduplicator, open_store
from aggregator.dedup.core import DedupConfig

# three reports in their own words (no copies), naming the same companies
BODIES = ("Seres will buy the AITO trademark and related patents from Huawei for 2.5 billion yuan, the carmaker said "
          "in a filing on Wednesday, as the two companies deepen their partnership on smart electric vehicles.",
          "Chinese automaker Seres agreed to acquire Huawei's AITO brand rights. Analysts in Shenzhen expect the deal "
          "to lift margins next year while Huawei keeps supplying driving software for the cars.",
          "Huawei says nothing changes for AITO owners. A spokesman in Dongguan told reporters that service centres "
          "stay open and that Seres remains the partner building the vehicles in Chongqing.")


class FixedLinks(Deduplicator):
    """The real evidence, with every link at p = 0.9: the date tests alone decide."""

    def _story_scores(self, d, cands):  # type: ignore[no-untyped-def]
        _p, x = super()._story_scores(d, cands)
        return np.full(len(cands), 0.9), x


def _run(month: str, slack: float) -> tuple[str, str]:
    dd = FixedLinks(DedupConfig(story_embedding_weight=0.0, story_period_slack_days=slack), open_store("memory:"))
    for i, (aid, when) in enumerate((("s1", "2024-07-03T08:00:00Z"), ("s2", "2024-07-04T08:00:00Z"),
                                     ("m", month))):
        dd.add({"id": aid, "title": f"Seres and the AITO trademark, report {i}", "body": BODIES[i],
                "source": f"outlet{i}", "language": "en", "published_at": when})
    assert len({dd.dup_of(a) for a in ("s1", "s2", "m")}) == 3  # no copies: the story links alone decide
    return dd.story_of("s1") or "", dd.story_of("m") or ""


@pytest.mark.parametrize(("month", "slack", "joins"), [
    ("2024-06", -1.0, True),   # off: the span test (5 days around the month) lets a June page join July 4 reports
    ("2024-06", 2.0, False),   # on: July 3 and 4 lie more than 2 days outside June
    ("2024-07", 2.0, True),    # a July page joins them
    ("2024", 2.0, True),       # as does a page dated to the year
])
def test_a_month_dated_joiner_needs_the_story_within_its_month(month: str, slack: float, joins: bool) -> None:
    story, joined = _run(month, slack)
    assert (story == joined) is joins
