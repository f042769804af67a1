"""The dated-member bar of an undated joiner (``DedupConfig.story_undated_dated_agree``): an article without a date
joins a story with dated members only if its best link to one of them reaches the bar, 0.2 since y17undated
(results.md)."""

from __future__ import annotations

import numpy as np

from aggregator.dedup import Deduplicator
from aggregator.dedup.core import DedupConfig

BODIES = (
    "Xiaomi is recalling 116,887 SU7 sedans in China because the driver assistance system may fail to warn in some "
    "conditions, the State Administration for Market Regulation said on its website.",
    "Owners of the SU7 will get an over-the-air software update free of charge, Xiaomi said, after regulators found "
    "that its highway assistant could miss hazards at night; the fix covers 116,887 cars built since launch.",
    "Analysts said the recall of 116,887 cars is the largest for Xiaomi's young car business, whose shares fell in "
    "Hong Kong trading as investors weighed the cost of the remote update for the SU7.")


class TableLinks(Deduplicator):
    """The real evidence, with the link probabilities of the table (0 for a pair not in it)."""

    table: dict[frozenset[str], float] = {}

    def _story_scores(self, d, cands):  # type: ignore[no-untyped-def]
        _p, x = super()._story_scores(d, cands)
        return np.array([self.table.get(frozenset((d.article_id, o.article_id)), 0.0) for o in cands]), x


def _joins(dated_link: float, **cfg: float) -> bool:
    """Whether ``u2`` (undated) joins the story of ``d`` (dated) and ``u1`` (undated, linked to ``d`` at 0.9) when it
    links to ``u1`` at 0.9 and to ``d`` at ``dated_link``."""
    dd = TableLinks(DedupConfig(story_embedding_weight=0.0, story_near_link=0.0, **cfg))  # type: ignore[arg-type]
    dd.table = {frozenset(("u1", "d")): 0.9, frozenset(("u2", "u1")): 0.9, frozenset(("u2", "d")): dated_link}
    for i, (aid, when) in enumerate((("d", "2025-09-19T08:00:00Z"), ("u1", None), ("u2", None))):
        body = BODIES[i]
        dd.add({"id": aid, "title": f"Xiaomi SU7 recall, report {i}", "body": body, "source": f"outlet{i}",
                "language": "en", "published_at": when})
    assert len({dd.dup_of(a) for a in ("d", "u1", "u2")}) == 3  # no copies: the story links alone decide
    assert dd.story_of("u1") == dd.story_of("d")
    return dd.story_of("u2") == dd.story_of("d")


def test_an_undated_report_joins_through_a_dated_member_linked_at_the_new_bar() -> None:
    assert DedupConfig().story_undated_dated_agree == 0.2
    assert _joins(0.25)  # the default bar (0.2): a moderate link to the dated member is enough
    assert not _joins(0.25, story_undated_dated_agree=0.3)  # the old bar refused it
    assert not _joins(0.1)  # agreeing with the undated member alone still does not glue it on
    assert _joins(0.1, story_undated_dated_agree=0.0)  # (0: the rule off)
