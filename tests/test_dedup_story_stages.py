"""Stages of a saga (``names.json`` ``stages``, ``DedupConfig.story_stage_members``): a joiner whose headline names
a stage (the talks' end, the apology, the probe...) that no headline of a story's members names does not join it."""

from __future__ import annotations

import numpy as np
import pytest

from aggregator.dedup import Deduplicator, open_store
from aggregator.dedup import story as S
from aggregator.dedup.core import DedupConfig


def test_headlines_name_stages_in_several_languages() -> None:
    assert S.stages("Honda and Nissan Terminate Merger Talks") == {"collapse"}  # talks: minor, the end wins
    assert S.stages("日産、ホンダとの経営統合に向けた基本合意書を撤回へ") == {"collapse"}
    assert S.stages("Honda und Nissan wollen über Fusion verhandeln") == {"talks"}
    assert S.stages("South Korea lithium battery plant CEO apologises after fire kills 23") == {"apology"}
    assert S.stages("South Korea battery factory fire: shutdown order and investigation") == {"order", "probe"}
    assert S.stages("SK온·SK엔무브 합병 완료") == {"completed"}
    assert S.stages("GM expands Chevy Bolt EV recall to cover all model years") == {"expansion"}
    assert S.stages("Lithium battery factory fire in Hwaseong kills 22") == frozenset()
    assert S.stages("THE TALKS ARE OFF: HONDA WITHDRAWS") == {"collapse"}  # all-caps headlines read alike
    # closing a site is the halt a shutdown is, in every language (half b's Great Wall reports: results "u15recall")
    for headline in ("Great Wall Motor closes European headquarters", "GWM to close European base",
                     "Great Wall Motor to shut down its European headquarters", "Great Wall schließt Europazentrale",
                     "长城汽车将关闭欧洲总部", "Stellantis annonce la fermeture de l'usine"):
        assert S.stages(headline) == {"halt"}, headline
    assert S.stages("Shares close higher after results") == frozenset()  # "close" alone is no closure
    # a word inside another is not a stage ("haltbar", "probeweise" are no halt or probe)
    assert S.stages("Akku haltbar, probeweise geladen") == frozenset()
    assert S.stages_new(frozenset({"apology"}), [frozenset(), frozenset({"probe"})]) == {"apology"}
    assert S.stages_new(frozenset({"apology"}), [frozenset({"apology"})]) == frozenset()
    # talks are the background of any deal story: new only against a story whose headlines name their end
    assert S.stages_new(frozenset({"talks"}), [frozenset()]) == frozenset()
    assert S.stages_new(frozenset({"talks"}), [frozenset({"collapse"})]) == {"talks"}


FIRE = ("A fire at the Aricell lithium battery plant in Hwaseong killed 22 workers on Monday, most of them "
        "Chinese nationals, the Gyeonggi fire service said. Batteries exploded in a storage room.")
HEADS = {
    "f1": "Lithium battery factory fire in Hwaseong kills 22",
    "f2": "Battery factory fire in South Korea kills 22 workers",
    "ap": "Battery maker CEO apologises after Hwaseong fire kills 23",
    "ap2": "Aricell chief apologizes to families of Hwaseong fire victims",
}


class FixedLinks(Deduplicator):
    """The real evidence, with every link at p = 0.9: the stage rule alone decides."""

    def _story_scores(self, d, cands):  # type: ignore[no-untyped-def]
        _p, x = super()._story_scores(d, cands)
        return np.full(len(cands), 0.9), x


@pytest.mark.parametrize("columns", [True, False])
def test_an_apology_headline_stays_out_of_the_fire_story(columns: bool) -> None:
    def run(members: int) -> dict[str, str]:
        dd = FixedLinks(DedupConfig(story_stage_members=members, story_embedding_weight=0.0), open_store("memory:"))
        dd.use_columns = columns
        for i, (aid, head) in enumerate(HEADS.items()):
            # each body its own wording (no copies), the same facts
            body = f"{head}. " + " ".join(FIRE.split()[i:]) + f" Report {i} by outlet {i}."
            dd.add({"id": aid, "title": head, "body": body, "source": f"outlet{i}", "language": "en",
                    "published_at": f"2024-06-2{4 + i // 2}T0{i}:00:00Z"})
        return {aid: dd.story_of(aid) or "" for aid in HEADS}

    on, off = run(1), run(0)
    assert off["f1"] == off["f2"] == off["ap"] == off["ap2"]  # the rule off: one story
    assert on["f1"] == on["f2"] != on["ap"]  # the apology is another stage ...
    assert on["ap2"] == on["ap"]  # ... and a second apology headline joins it


class TableLinks(Deduplicator):
    """The real evidence, with the link probabilities of the table."""

    table: dict[frozenset[str], float] = {}

    def _story_scores(self, d, cands):  # type: ignore[no-untyped-def]
        _p, x = super()._story_scores(d, cands)
        return np.array([self.table.get(frozenset((d.article_id, o.article_id)), 0.0) for o in cands]), x


@pytest.mark.parametrize("store", ["memory:", "redis"])
def test_a_report_without_a_stage_prefers_the_story_whose_members_name_none(store: str,
                                                                          request: pytest.FixtureRequest) -> None:
    """An undated fire report links best to the lone apology report (its own story: another stage) and also to
    the fire report: it joins the fire story, whose headlines name no stage it lacks (in memory and on a shared
    store, where the members' headlines come in one round trip)."""
    spec = f"{request.getfixturevalue('redis_url')}?prefix=stages" if store == "redis" else store
    dd = TableLinks(DedupConfig(story_embedding_weight=0.0), open_store(spec))
    dd.table = {frozenset(("ap", "f1")): 0.9, frozenset(("f3", "ap")): 0.95, frozenset(("f3", "f1")): 0.8}
    heads = {"f1": HEADS["f1"], "ap": HEADS["ap"], "f3": "Aricell battery plant fire: toll rises to 22"}
    for i, (aid, head) in enumerate(heads.items()):
        body = f"{head}. " + " ".join(FIRE.split()[i:]) + f" Report {i} by outlet {i}."
        dd.add({"id": aid, "title": head, "body": body, "source": f"outlet{i}", "language": "en",
                "published_at": None if aid == "f3" else f"2024-06-2{4 + i}T0{i}:00:00Z"})
    assert dd.story_of("ap") != dd.story_of("f1")
    assert dd.story_of("f3") == dd.story_of("f1")
