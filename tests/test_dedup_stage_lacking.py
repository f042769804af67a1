"""``DedupConfig.story_stage_undated_lacking`` (measured in benchmarks/results.md, s14prec; off by default): an
undated joiner whose headline names none of the stages every member of a story names stays out of that story."""

from __future__ import annotations

from aggregator.dedup import Deduplicator
from aggregator.dedup import story as S
from aggregator.dedup.core import DedupConfig


def test_stages_every_member_names() -> None:
    off = frozenset({"collapse"})
    assert S.stages_lacking(frozenset(), [off, off]) == {"collapse"}
    assert S.stages_lacking(frozenset({"talks"}), [off]) == {"collapse"}
    assert S.stages_lacking(off, [off]) == frozenset()
    # a member that names no stage: the story is not that stage
    assert S.stages_lacking(frozenset(), [off, frozenset()]) == frozenset()
    # talks are minor: a story of talks reports does not refuse a joiner for lacking them
    assert S.stages_lacking(frozenset(), [frozenset({"talks"})]) == frozenset()


END = ("Honda and Nissan said on Thursday that their merger talks were called off after Nissan rejected becoming a "
       "subsidiary. Mitsubishi Motors also left the plan for a joint holding company.")
START = ("Nissan and Honda plan to merge under a joint holding company by August 2026, the two carmakers told "
         "reporters in Tokyo. Mitsubishi Motors may join the group later, executives said.")


def _run(lacking: int) -> tuple[str, str]:
    dd = Deduplicator(DedupConfig(story_stage_undated_lacking=lacking))
    end = dd.add({"id": "end", "source": "one.example", "language": "en", "published_at": "2025-02-13T06:00:00Z",
                  "title": "Honda and Nissan call off merger talks",
                  "body": END})
    start = dd.add({"id": "start", "source": "two.example", "language": "en",
                    "title": "Honda and Nissan plan to merge",
                    "body": START})
    return end.story_id, start.story_id


def test_an_undated_report_of_the_talks_stays_out_of_the_story_of_their_end() -> None:
    a, b = _run(0)
    assert a == b  # without the rule the undated report joins: the pair links as one event would
    a, b = _run(1)
    assert a != b
