"""The story tier's support rule (``DedupConfig.story_support_link``): a story two of whose members, not copies
of one text, each agree moderately with a new article is joinable though no single link reaches the bar."""

from __future__ import annotations

import numpy as np

from aggregator.dedup import Deduplicator, open_store
from aggregator.dedup.core import DedupConfig

BODIES = {
    "a1": "BYD unveiled its Super e-Platform in Shenzhen on Monday, with 1,000 kW charging for the Han L and "
          "Tang L. The carmaker said 400 km of range can be added in five minutes.",
    "a2": "Chinese carmaker BYD showed a megawatt charging system at an event in Shenzhen. Chairman Wang Chuanfu "
          "said BYD will build more than 4,000 flash-charging stations across China.",
    "a3": "BYD shares rose in Hong Kong after the Shenzhen launch of flash charging for the Han L and Tang L; "
          "Wang Chuanfu promised thousands of megawatt chargers.",
}


class FixedLinks(Deduplicator):
    """The real evidence matrix, with the link probabilities of the table (the rule under test reads only them)."""

    table: dict[frozenset[str], float] = {}

    def _story_scores(self, d, cands):  # type: ignore[no-untyped-def]
        _p, x = super()._story_scores(d, cands)
        return np.array([self.table.get(frozenset((d.article_id, o.article_id)), 0.0) for o in cands]), x


def _run(support: float, links: dict[tuple[str, str], float], dated: tuple[str, ...] = tuple(BODIES),
         support_dated: bool = True) -> dict[str, str]:
    # (the story-level rules off: a3's links to the whole story would carry it there on their own, results
    # "v16centroid"; this tests the support rule alone)
    dd = FixedLinks(DedupConfig(story_support_link=support, story_support_dated=support_dated,
                                story_embedding_weight=0.0, story_centroid_link=0.0, story_near_link=0.0),
                    open_store("memory:"))
    dd.table = {frozenset(k): v for k, v in links.items()}
    for i, (aid, body) in enumerate(BODIES.items()):
        dd.add({"id": aid, "title": body[:60], "body": body, "source": f"outlet{i}", "language": "en",
                "published_at": f"2025-03-1{7 + i // 2}T0{i}:00:00Z" if aid in dated else None})
    return {aid: dd.story_of(aid) for aid in BODIES}


def test_two_moderate_links_join_a_story_that_no_single_link_reaches() -> None:
    links = {("a1", "a2"): 0.9, ("a3", "a1"): 0.5, ("a3", "a2"): 0.45}
    on, off = _run(0.4, links), _run(0.0, links)
    assert on["a1"] == on["a2"] == on["a3"]
    assert off["a1"] == off["a2"] != off["a3"]  # the rule off: each link is under story_link (0.6)
    # one moderate link is not support, nor two under the support bar
    one = _run(0.4, {("a1", "a2"): 0.9, ("a3", "a1"): 0.55})
    low = _run(0.4, {("a1", "a2"): 0.9, ("a3", "a1"): 0.39, ("a3", "a2"): 0.39})
    assert one["a3"] != one["a1"] and low["a3"] != low["a1"]


def test_support_from_copies_of_one_text_counts_once() -> None:
    dd = Deduplicator(DedupConfig(story_embedding_weight=0.0), open_store("memory:"))
    for i, aid in enumerate(("a1", "a2")):
        dd.add({"id": aid, "title": BODIES[aid][:60], "body": BODIES[aid], "source": f"s{i}", "language": "en",
                "published_at": "2025-03-17T00:00:00Z"})
    d1, d2 = dd._get_doc("a1"), dd._get_doc("a2")
    d2.story_id = d1.story_id
    support = {d1.story_id: [(0.5, d1), (0.45, d2)]}
    assert dd._supported_stories([], support) == [(0.5, d1)]
    d2.dup_id = d1.dup_id  # a copy of a1: one text, one agreement
    assert dd._supported_stories([], support) == []
    # a story already linked at the bar is not listed twice
    d2.dup_id = "d-other"
    assert dd._supported_stories([(0.7, d1)], support) == [(0.7, d1)]


def test_a_story_with_a_dated_member_takes_support_only_from_its_dated_members() -> None:
    """``story_support_dated``: a2 (undated) sits in a1's story on its link alone; the undated a3's moderate
    links to a1 and through a2 are not two agreements with the dated story, but in a story of undated members
    only, the same links still are."""
    links = {("a1", "a2"): 0.9, ("a3", "a1"): 0.5, ("a3", "a2"): 0.5}
    on, off = _run(0.4, links, dated=("a1",)), _run(0.4, links, dated=("a1",), support_dated=False)
    assert on["a1"] == on["a2"] != on["a3"]
    assert off["a1"] == off["a2"] == off["a3"]
    none_dated = _run(0.4, links, dated=())
    assert none_dated["a1"] == none_dated["a2"] == none_dated["a3"]
    # an undated article's links to two dated members still count
    both = _run(0.4, links, dated=("a1", "a2"))
    assert both["a1"] == both["a2"] == both["a3"]
