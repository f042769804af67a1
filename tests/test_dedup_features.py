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


def test_stock_market_listings_are_one_kind_of_news_across_languages() -> None:
    # o14kinds: listing days were read as no kind at all outside English, so same-day reports never shared one
    for text, lang in (("The carmaker's IPO priced at the top of its range", "en"),
                       ("VinFast chào sàn Nasdaq trong phiên đầu tiên", "vi"),
                       ("현대차 인도법인 상장 첫날 주가 하락", "ko"),
                       ("新興EVメーカーが東証に上場へ", "ja"),
                       ("Porsche plant den Börsengang im Herbst", "de")):
        assert "listing" in F.concepts(text, lang), text
    # a car going on sale (上市 in Chinese) is a launch, not a listing
    assert F.concepts("新款车型正式上市", "zh") == {"launch"}
    assert "listing" not in F.concepts("The crossover is listed at 30,000 dollars", "en")
