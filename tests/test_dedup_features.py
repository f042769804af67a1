"""Names and kinds of news read from a page (aggregator.dedup.features): what m14recall changed."""

from __future__ import annotations

from aggregator.dedup import features as F


def test_ev_after_a_word_is_no_model_name() -> None:
    # "Chinese EV maker" named a strong "chinese ev" and "ev" that every kind of EV page shared: now weak / none
    got = F.names("The Chinese EV maker Zeekr and the Federal EV tax credit", "en")
    assert "ev" not in got and got["chinese ev"] < 1.0 and got["federal ev"] < 1.0
    assert got["zeekr"] == 1.0
    # after a strong name it is a model ("Zeekr EV"), and other suffixes stay as they were
    assert F.names("the Zeekr EV and the German VW", "en").keys() >= {"zeekr ev", "german vw", "volkswagen"}
    assert not {"file", "photo"} & set(F.names("FILE PHOTO: A BYD dealership", "en"))


def test_subsidies_are_one_kind_of_news_across_languages() -> None:
    for text, lang in (("Federal EV tax credit set to expire September 30", "en"),
                       ("Bundesregierung stellt Umweltbonus quasi sofort ein", "de"),
                       ("Incentivi auto elettriche 2025: fondi esauriti in un giorno", "it"),
                       ("El Gobierno amplía el Plan Moves III hasta final de año", "es"),
                       ("전기차 보조금 조기 소진", "ko")):
        assert "subsidy" in F.concepts(text, lang), text
    assert "subsidy" not in F.concepts("EU opens anti-subsidy probe into Chinese EV makers", "en")
