"""Fragments of one event (``DedupConfig.story_merge_link``): two stories that formed early merge when a later article
links strongly to a member of each, their headlines name the same stages and their members link with each other."""

from __future__ import annotations

import numpy as np
import pytest

from aggregator.dedup import Deduplicator, open_store
from aggregator.dedup.core import DedupConfig

FIRE = ("A fire at the Aricell lithium battery plant in Hwaseong killed 22 workers on Monday, most of them "
        "Chinese nationals, the Gyeonggi fire service said. Batteries exploded in a storage room while "
        "firefighters searched the building for missing workers until late in the evening.")


class TableLinks(Deduplicator):
    """The real evidence, with the link probabilities of the table (0 for a pair not in it)."""

    table: dict[frozenset[str], float] = {}

    def _story_scores(self, d, cands):  # type: ignore[no-untyped-def]
        _p, x = super()._story_scores(d, cands)
        return np.array([self.table.get(frozenset((d.article_id, o.article_id)), 0.0) for o in cands]), x


# f1 and g1 link under the bar (two stories); f2 joins f1's story (its best link) while linking g1 too; f3 links
# f2 and g1: f2 and g1 agree, so the two stories are fragments of one event
TABLE = {("f1", "g1"): 0.3, ("f2", "f1"): 0.9, ("f2", "g1"): 0.8, ("f3", "f2"): 0.9, ("f3", "g1"): 0.85}


def _run(heads: dict[str, str], store: str = "memory:", columns: bool = True, days: dict[str, int] | None = None,
         extra: dict[str, str] | None = None, opening: dict[str, str] | None = None, undated: bool = False,
         **cfg: float) -> dict[str, str]:
    # (the story-level joins off unless a case sets them: g1 linking under the bar with the whole of f's story would
    # join it without a merge, results "v16centroid"; these test the fragment merge)
    cfg = {"story_centroid_link": 0.0, "story_near_link": 0.0, **cfg}
    dd = TableLinks(DedupConfig(story_embedding_weight=0.0, **cfg), open_store(store))  # type: ignore[arg-type]
    dd.use_columns = columns
    dd.table = {frozenset(k): v for k, v in TABLE.items()}
    for i, (aid, head) in enumerate(heads.items()):
        words = FIRE.split()
        body = f"{head}. " + " ".join(words[i * 7:] + words[:i * 7][::-1]) + f" Report {i} by outlet {i}."
        body = (opening or {}).get(aid, "") + body + (extra or {}).get(aid, "")
        dd.add({"id": aid, "title": head, "body": body, "source": f"outlet{i}", "language": "en",
                "published_at": None if undated else f"2024-06-{(days or {}).get(aid, 24 + i // 2)}T0{i}:00:00Z"})
    assert len({dd.dup_of(aid) for aid in heads}) == len(heads)  # no copies: the story links alone decide
    return {aid: dd.story_of(aid) or "" for aid in heads}


HEADS = {"f1": "Lithium battery factory fire in Hwaseong kills 22",
         "g1": "Hwaseong battery plant blaze leaves 22 dead",
         "f2": "Battery factory fire in South Korea kills 22 workers",
         "f3": "Aricell battery plant fire: toll rises to 22"}


@pytest.mark.parametrize(("store", "columns"), [("memory:", True), ("memory:", False), ("redis", False)])
def test_two_fragments_of_one_event_merge_through_a_later_report(store: str, columns: bool,
                                                                 request: pytest.FixtureRequest) -> None:
    spec = f"{request.getfixturevalue('redis_url')}?prefix=fragments" if store == "redis" else store
    off = _run(HEADS, "memory:", columns, story_merge_link=0.0)
    assert off["f1"] == off["f2"] == off["f3"] != off["g1"]  # a story link never merges stories
    on = _run(HEADS, spec, columns, story_merge_link=0.65)
    assert on["f1"] == on["f2"] == on["f3"] == on["g1"]
    assert on["f1"] == off["f1"]  # the older story keeps its id


def test_fragments_whose_headlines_name_other_stages_stay_apart() -> None:
    heads = dict(HEADS, g1="Battery maker CEO apologises after Hwaseong fire kills 22")  # another stage
    on = _run(heads, story_merge_link=0.65)
    assert on["f1"] == on["f2"] == on["f3"] != on["g1"]
    # and members that agree too weakly are no evidence of one event either
    weak = dict(TABLE)
    TABLE[("f2", "g1")] = 0.5
    try:
        on = _run(HEADS, story_merge_link=0.65)
    finally:
        TABLE.clear()
        TABLE.update(weak)
    assert on["f1"] == on["f2"] == on["f3"] != on["g1"]


def test_fragments_further_apart_merge_only_through_a_dated_report_within_its_span() -> None:
    """f1 on the 21st, g1 on the 26th (5 days and an hour), the bridging reports in between: over the span of 5 days,
    within the 7 days a dated bridge may span (``story_merge_span_days_dated``)."""
    days = {"f1": 21, "g1": 26, "f2": 23, "f3": 24}
    on = _run(HEADS, days=days, story_merge_link=0.65, story_merge_span_days_dated=0.0)
    assert on["f1"] == on["f2"] == on["f3"] != on["g1"]
    on = _run(HEADS, days=days, story_merge_link=0.65, story_merge_span_days_dated=7.0)
    assert on["f1"] == on["f2"] == on["f3"] == on["g1"]


# years the texts mention: f1 and g1 name none in common (``years_disjoint``, a sign of another event)
YEARS = {"f1": " The plant had passed a safety check in 2019.", "g1": " Regulators had inspected it in 2023."}


@pytest.mark.parametrize("columns", [True, False])
def test_a_sign_on_a_weaker_cross_pair_does_not_keep_fragments_apart(columns: bool) -> None:
    """At f3 the cross pairs are f2-g1 (p 0.8, no sign) and f1-g1 (p 0.3, years disjoint): the best-linked pair
    is what speaks for one event (``story_merge_conflict_margin`` 0.05); with a margin of 1 any pair's sign keeps them
    apart."""
    on = _run(HEADS, columns=columns, extra=YEARS, story_merge_link=0.65)
    assert on["f1"] == on["f2"] == on["f3"] == on["g1"]
    off = _run(HEADS, columns=columns, extra=YEARS, story_merge_link=0.65, story_merge_conflict_margin=1.0)
    assert off["f1"] == off["f2"] == off["f3"] != off["g1"]


def test_a_sign_on_the_best_cross_pair_keeps_fragments_apart() -> None:
    """f2 (the member of f3's story that links g1 best) names another year than g1: apart, as before."""
    years = dict(YEARS, f2=" The plant had passed a safety check in 2019.")
    on = _run(HEADS, extra=years, story_merge_link=0.65)
    assert on["f1"] == on["f2"] == on["f3"] != on["g1"]


def test_a_sign_on_a_cross_pair_nearly_as_strong_as_the_best_keeps_fragments_apart() -> None:
    """f1-g1 links at 0.62 (under the bar: g1 does not join f1) with years disjoint, within the margin of the best
    cross pair (f2-g1, 0.66): apart."""
    before = dict(TABLE)
    TABLE[("f1", "g1")] = 0.62
    TABLE[("f2", "g1")] = 0.66
    try:
        on = _run(HEADS, extra=YEARS, story_merge_link=0.65)
        clean = _run(HEADS, story_merge_link=0.65)  # the same links without the years: one story
    finally:
        TABLE.clear()
        TABLE.update(before)
    assert on["f1"] == on["f2"] == on["f3"] != on["g1"]
    assert clean["f1"] == clean["f2"] == clean["f3"] == clean["g1"]


def test_another_latest_year_named_does_not_keep_fragments_apart() -> None:
    """f2 (the best-linked cross member) names the plan's end year besides this one, g1 only this one: the latest
    years differ, a year is shared. No sign of another event (the link model weighs it +0.14): one story. Years
    with none in common still keep them apart (``years_disjoint``)."""
    years = {"f2": " The site is to be rebuilt from 2024 to 2030.", "g1": " It opened in 2024."}
    on = _run(HEADS, extra=years, story_merge_link=0.65)
    assert on["f1"] == on["f2"] == on["f3"] == on["g1"]
    disjoint = {"f2": " The site is to be rebuilt by 2030.", "g1": " It opened in 2021."}
    apart = _run(HEADS, extra=disjoint, story_merge_link=0.65)
    assert apart["f1"] == apart["f2"] == apart["f3"] != apart["g1"]


def test_undated_fragments_whose_openings_name_the_days_merge_as_dated_ones_do() -> None:
    """No page states a date; each opening names the day of the fire (textdates' lead day). Counted as dates, the two
    undated stories are fragments of one event; without them an undated story has no span to compare and never
    merges. Openings three weeks apart are another time: apart."""
    opening = {aid: "Hwaseong, June 24, 2024 - " for aid in HEADS}
    on = _run(HEADS, undated=True, opening=opening, story_merge_link=0.65)
    assert on["f1"] == on["f2"] == on["f3"] == on["g1"]
    off = _run(HEADS, undated=True, opening=opening, story_merge_link=0.65, story_merge_text_days=False)
    assert off["f1"] == off["f2"] == off["f3"] != off["g1"]
    none = _run(HEADS, undated=True, story_merge_link=0.65)  # no day named anywhere: no merge
    assert none["f1"] == none["f2"] == none["f3"] != none["g1"]
    later = dict(opening, g1="Hwaseong, July 15, 2024 - ")
    apart = _run(HEADS, undated=True, opening=later, story_merge_link=0.65)
    assert apart["f1"] == apart["f2"] == apart["f3"] != apart["g1"]
