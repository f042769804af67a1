"""The action and the object a headline names (issue 14 item 3, results "v16stage"): the action as a stage of a saga
(``names.json`` ``stages``: a proposal and the vote on it, a lawsuit and the ruling, pre-orders, a site chosen) and
the object as the makers named (:func:`.story.headline_objects`, ``names.json`` ``owners``,
``DedupConfig.story_object_members``): the same action done by or to another maker is another event."""

from __future__ import annotations

import numpy as np
import pytest

from aggregator.dedup import Deduplicator, open_store
from aggregator.dedup import story as S
from aggregator.dedup.core import DedupConfig


def test_headlines_name_the_action_in_several_languages() -> None:
    for headline, stage in (
            ("EU proposes 'breathing space' for carmakers to hit CO2 targets", "proposal"),
            ("Brüssel schlägt vor: drei Jahre für die CO2-Ziele", "proposal"),
            ("欧盟委员会提议放宽汽车碳排放目标", "proposal"),
            ("EU Parliament gives the nod on softened EU CO2 targets", "vote"),
            ("El Congreso aprueba la renovación de las ayudas del Moves III", "vote"),
            ("Bundestag billigt neue E-Auto-Prämie", "vote"),
            ("欧洲议会投票通过2035年禁售燃油车", "vote"),
            ("SAIC to take legal action against EU special tariffs", "lawsuit"),
            ("上汽就欧盟关税提起诉讼", "lawsuit"),
            ("Court ruling: Tesla must pay damages", "ruling"),
            ("Gericht: Urteil gegen Tesla in Grünheide", "ruling"),
            ("特斯拉焕新版Model Y在美国市场正式启动预售", "presale"),
            ("Sony Honda opens pre-orders for the Afeela 1", "presale"),
            ("La société Verkor a choisi Dunkerque pour sa première usine", "site"),
    ):
        assert stage in S.stages(headline), (headline, S.stages(headline))
    # reports of the event itself name no action of another stage
    assert S.stages("Tesla Gigafactory Mexico will build the company's next-generation vehicle") == frozenset()
    # "if ratified" is a condition, no vote (the UAW's tentative deals: results "v16stage")
    assert S.stages("The UAW and Ford reached a tentative agreement that, if ratified, ends the strike") == frozenset()


def test_headline_objects_are_makers_with_their_owners() -> None:
    assert S.headline_objects("Xpeng delivers more than 10,000 cars in October", "en") == {"xpeng"}
    # places are no object: every story filed from there names them
    assert S.headline_objects("Chinese electric carmaker Nio sees deliveries drop in October", "en") == {"nio"}
    assert "china" not in S.headline_objects("BYD to build a plant in China", "en")
    # a brand or a chief executive counts as its carmaker too (names.json owners)
    assert S.headline_objects("Some 2017-2019 Chevrolet Bolts recalled due to fire risk", "en") >= {"chevrolet", "gm"}
    assert "tesla" in S.headline_objects("Elon Musk stellt Robotaxi vor", "de")
    assert "tesla" in S.headline_objects("特斯拉发布Cybercab", "zh")
    assert S.objects_apart(frozenset({"ford"}), [frozenset({"gm"}), frozenset()])
    assert not S.objects_apart(frozenset({"chevrolet", "gm"}), [frozenset({"gm"})])
    assert not S.objects_apart(frozenset({"ford"}), [frozenset(), frozenset()])  # members that name none: no sign
    assert not S.objects_apart(frozenset(), [frozenset({"gm"})])


class FixedLinks(Deduplicator):
    """The real evidence, with every link at p = 0.9: the join rules alone decide."""

    def _story_scores(self, d, cands):  # type: ignore[no-untyped-def]
        _p, x = super()._story_scores(d, cands)
        return np.full(len(cands), 0.9), x


# each report in its own words (no copies), the same facts of the union's strike
BODIES = [
    "The United Auto Workers union reached a tentative agreement to end the six-week strike, with a 25% wage "
    "increase for 57,000 members over the contract.",
    "Workers could return to plants next week. Union leaders said members still have to ratify the contract, "
    "which lifts pay by a quarter for the 57,000 workers it covers.",
    "Negotiators agreed late on Monday. Pay rises 25% over four years for the union's 57,000 members under the "
    "deal, which still needs a ratification vote.",
    "The walkout that began in September ends with a contract worth 25% more pay to 57,000 hourly workers, the "
    "union said, if its members ratify it.",
]
HEADS = {
    "f1": "UAW reaches tentative deal with Ford to end strike",
    "f2": "Ford and UAW strike tentative agreement",
    "g1": "UAW reaches tentative deal with GM to end strike",
    "g2": "General Motors and UAW reach tentative agreement",
}


@pytest.mark.parametrize("members", [0, 1])
def test_the_same_action_on_another_maker_is_another_story(members: int) -> None:
    dd = FixedLinks(DedupConfig(story_object_members=members, story_embedding_weight=0.0), open_store("memory:"))
    for i, (aid, head) in enumerate(HEADS.items()):
        body = f"{head}. {BODIES[i]} Report {i} by outlet {i}."
        dd.add({"id": aid, "title": head, "body": body, "source": f"outlet{i}", "language": "en",
                "published_at": f"2023-10-2{5 + i // 2}T0{i}:00:00Z"})
    got = {aid: dd.story_of(aid) or "" for aid in HEADS}
    if members == 0:  # the rule off: the union's deals are one story
        assert got["f1"] == got["f2"] == got["g1"] == got["g2"]
    else:
        assert got["f1"] == got["f2"] != got["g1"]
        assert got["g1"] == got["g2"]  # "General Motors" is GM: the second GM report joins the first
