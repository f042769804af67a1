"""Kinds of news read from a page (aggregator.dedup.features, names.json): what m14recall added."""

from __future__ import annotations

from aggregator.dedup import features as F


def test_subsidies_are_one_kind_of_news_across_languages() -> None:
    for text, lang in (("Federal EV tax credit set to expire September 30", "en"),
                       ("Bundesregierung stellt Umweltbonus quasi sofort ein", "de"),
                       ("Incentivi auto elettriche 2025: fondi esauriti in un giorno", "it"),
                       ("El Gobierno amplía el Plan Moves III hasta final de año", "es"),
                       ("전기차 보조금 조기 소진", "ko")):
        assert "subsidy" in F.concepts(text, lang), text
    assert "subsidy" not in F.concepts("EU opens anti-subsidy probe into Chinese EV makers", "en")
