"""An article linked to no story over the bar may join one on the evidence of the story as a whole
(``DedupConfig.story_centroid_link`` / ``story_centroid_mean``): its best link reaches the lower bar and its mean link
over every member of the story reaches the mean bar."""

from __future__ import annotations

import numpy as np
import pytest

from aggregator.dedup import Deduplicator, open_store
from aggregator.dedup.core import DedupConfig

# four reports in their own words (no copies), naming the same companies
BODIES = ("Seres will buy the AITO trademark and related patents from Huawei for 2.5 billion yuan, the carmaker said "
          "in a filing on Wednesday, as the two companies deepen their partnership on smart electric vehicles.",
          "Chinese automaker Seres agreed to acquire Huawei's AITO brand rights. Analysts in Shenzhen expect the deal "
          "to lift margins next year while Huawei keeps supplying driving software for the cars.",
          "Huawei says nothing changes for AITO owners. A spokesman in Dongguan told reporters that service centres "
          "stay open and that Seres remains the partner building the vehicles in Chongqing.",
          "Investors cheered as Seres shares rose in Shanghai trading after news of the AITO purchase from Huawei, "
          "with brokers calling the price a bargain for a brand that sells well.")


class TableLinks(Deduplicator):
    """The real evidence, with the link probabilities of a table: the story members link with each other at 0.9,
    the last article ``m`` with each member at the table's value (the placement's rules alone decide)."""

    links: dict[str, float] = {}

    def _story_scores(self, d, cands):  # type: ignore[no-untyped-def]
        _p, x = super()._story_scores(d, cands)
        if d.article_id != "m":
            return np.full(len(cands), 0.9), x
        return np.array([self.links.get(o.article_id, 0.0) for o in cands]), x


def _run(links: dict[str, float], m_day: str = "2024-07-04", **cfg: float) -> tuple[str, str]:
    TableLinks.links = links
    # each rule off unless the case sets it (the default config has both on)
    cfg = {"story_centroid_link": 0.0, "story_near_link": 0.0, **cfg}
    dd = TableLinks(DedupConfig(story_embedding_weight=0.0, **cfg), open_store("memory:"))
    for i, aid in enumerate(("s1", "s2", "s3", "m")):
        dd.add({"id": aid, "title": f"Seres and the AITO trademark, report {i}", "body": BODIES[i],
                "source": f"outlet{i}", "language": "en",
                "published_at": f"{m_day}T08:00:00Z" if aid == "m" else f"2024-07-0{3 + i % 2}T08:00:00Z"})
    assert len({dd.dup_of(a) for a in ("s1", "s2", "s3", "m")}) == 4  # no copies: the story links alone decide
    assert dd.story_of("s1") == dd.story_of("s2") == dd.story_of("s3")
    return dd.story_of("s1") or "", dd.story_of("m") or ""


# one member at 0.55 (under the bar 0.65, and no second at story_support_link 0.5): no single pair carries the link
AGREE = {"s1": 0.55, "s2": 0.45, "s3": 0.4}  # mean over the story 0.467
ONE = {"s1": 0.55, "s2": 0.3}  # s3 at 0: mean 0.283 (the join mean over scored members, 0.25, holds)


@pytest.mark.parametrize(("links", "cfg", "joins"), [
    (AGREE, {}, False),  # off: m founds a story of its own
    (AGREE, {"story_centroid_link": 0.3, "story_centroid_mean": 0.45}, True),
    (AGREE, {"story_centroid_link": 0.3, "story_centroid_mean": 0.5}, False),  # the mean bar
    (AGREE, {"story_centroid_link": 0.6, "story_centroid_mean": 0.45}, False),  # the best link's bar
    (ONE, {"story_centroid_link": 0.3, "story_centroid_mean": 0.28}, True),
    (ONE, {"story_centroid_link": 0.3, "story_centroid_mean": 0.3}, False),  # one agreeing member is not the story
])
def test_an_article_under_the_bar_joins_a_story_that_agrees_as_a_whole(links: dict[str, float], cfg: dict[str, float],
                                                                       joins: bool) -> None:
    story, joined = _run(links, **cfg)
    assert (story == joined) is joins


def test_a_story_linked_over_the_bar_is_chosen_first() -> None:
    """The story-level join is asked only when no story links over the bar: a linked one is taken as before."""
    story, joined = _run({"s1": 0.9}, story_centroid_link=0.3, story_centroid_mean=0.45)
    assert story == joined


# links under every other bar (the mean over the story 0.317 passes the join mean 0.25)
NEAR = {"s1": 0.35, "s2": 0.3, "s3": 0.3}


@pytest.mark.parametrize(("m_day", "cfg", "joins"), [
    ("2024-07-04", {}, False),  # off: links at 0.3-0.35 carry nothing
    ("2024-07-04", {"story_near_link": 0.3}, True),  # on the day of the story's members
    ("2024-07-05", {"story_near_link": 0.3}, True),  # a day after its last member
    ("2024-07-06", {"story_near_link": 0.3}, False),  # two days after: the full bar
    ("2024-07-06", {"story_near_link": 0.3, "story_near_days": 2.0}, True),
    ("2024-07-04", {"story_near_link": 0.4}, False),  # the decayed bar still holds: 0.35 < 0.4
])
def test_a_dated_article_joins_a_story_of_its_day_on_a_lower_bar(m_day: str, cfg: dict[str, float],
                                                                 joins: bool) -> None:
    story, joined = _run(NEAR, m_day, **cfg)
    assert (story == joined) is joins


def test_an_undated_article_gets_no_decayed_bar() -> None:
    """Without a day there is no time to the story: the decayed bar is for articles dated to the day."""
    story, joined = _run(NEAR, "2024-07", story_near_link=0.3)  # dated to the month only
    assert story != joined


def test_the_shipped_config() -> None:
    """The shipped config: the decayed bar at 0.5 within a day; the centroid rule off (on top of round 1's other
    changes it lowered precision on four of the eight gate runs for +0.0004 of mean F1: results "v16centroid"),
    its mean 0.5 in stories of two or more when turned on."""
    cfg = DedupConfig()
    assert (cfg.story_centroid_link, cfg.story_centroid_mean, cfg.story_centroid_members, cfg.story_near_link,
            cfg.story_near_days) == (0.0, 0.5, 2, 0.5, 1.0)
    # two days after the story (past the decayed bar's day), one link at or over story_support_link
    story, joined = _run({"s1": 0.6, "s2": 0.48, "s3": 0.45}, "2024-07-06", story_centroid_link=0.5,
                         story_near_link=0.5)
    assert story == joined  # mean 0.51 over the story


def test_a_story_of_one_needs_the_full_bar_when_members_are_required() -> None:
    """``story_centroid_members=2``: the mean over a story of one is its one link, a lowered bar, not a centroid."""
    one = {"s1": 0.55}
    TableLinks.links = one
    for members, joins in ((1, True), (2, False)):
        dd = TableLinks(DedupConfig(story_embedding_weight=0.0, story_near_link=0.0, story_centroid_link=0.5,
                                    story_centroid_members=members), open_store("memory:"))
        for i, aid in enumerate(("s1", "m")):
            dd.add({"id": aid, "title": f"Seres and the AITO trademark, report {i}", "body": BODIES[i],
                    "source": f"outlet{i}", "language": "en", "published_at": "2024-07-03T08:00:00Z"})
        assert (dd.story_of("s1") == dd.story_of("m")) is joins
