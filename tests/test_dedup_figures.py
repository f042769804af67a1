"""One fact reads as one figure in every language (issue #14): scales, separators, rounding, clocks."""

import unicodedata

import pytest

from aggregator.dedup.features import numbers


@pytest.mark.parametrize("forms", [
    # one amount in several languages and scale words
    [("3,5 Mrd. Euro", "de"), ("3.5 billion euros", "en"), ("35亿欧元", "zh"), ("3,5 milliards d'euros", "fr"),
     ("3.500 millones de euros", "es"), ("3,5 miliardi di euro", "it"), ("$3.5b", "en"), ("3,5 miljard euro", "nl")],
    [("1조 원", "ko"), ("1 trillion won", "en"), ("1兆円", "ja")],
    [("3000억 원", "ko"), ("300 billion won", "en"), ("3000亿韩元", "zh")],
    [("30.2万辆", "zh"), ("302,000 units", "en"), ("302.000 Fahrzeuge", "de"), ("30.2만 대", "ko")],
    [("1.000 Autos", "de"), ("1,000 cars", "en"), ("1 000 voitures", "fr")],
    [("700 miljoen euro", "nl"), ("700 Millionen Euro", "de"), ("€700m", "en"), ("7亿欧元", "zh")],
    # thousands as Italian ("mila", plural of "mille"), German ("Tsd.") and Polish ("tys.") write them (clusterset3's
    # Italian incentive reports: "40 mila voucher" / "40.000 auto"; results "u15recall")
    [("oltre 40 mila voucher", "it"), ("40.000 auto elettriche", "it"), ("40 Tsd. Anträge", "de"),
     ("40 tys. wniosków", "pl"), ("40,000 vouchers", "en"), ("4万份", "zh")],
])
def test_one_amount_is_one_figure_in_every_language(forms: list[tuple[str, str]]) -> None:
    found = [numbers(text, lang) for text, lang in forms]
    shared = set.intersection(*found)
    assert shared, list(zip(forms, found, strict=True))


def test_a_group_before_a_scale_word_follows_the_language_decimal_mark() -> None:
    assert numbers("1.500 millones", "es") == numbers("1,500 million", "en") == {"1.5e+09"}
    assert numbers("1,5 millones", "es") == numbers("1.5 million", "en") == {"1.5e+06"}
    assert numbers("3.299万辆", "zh") == {"3.3e+04", "3.29e+04"}  # a point before 万 is a decimal: 32,990


def test_an_exact_figure_also_meets_its_rounded_down_report() -> None:
    exact = numbers("Rückruf für 116.887 Fahrzeuge", "de")
    assert numbers("over 116,000 vehicles", "en") <= exact  # cut to three digits
    assert numbers("召回11.7万辆", "zh") <= exact  # rounded to three digits
    assert not numbers("recalls 118,000 vehicles", "en") & exact  # another figure stays another
    assert numbers("sold 300,000 cars, up 24.5%", "en") == {"3e+05", "p:24.5"}  # round: nothing added


def test_times_of_day_are_not_figures() -> None:
    assert numbers("Die Show startete um 4.53 Uhr MESZ", "de") == set()
    assert numbers("rendez-vous à 14h30", "fr") == set()
    assert numbers("at 9.45 a.m. on Friday", "en") == set()
    assert numbers("4.53 Milliarden Euro", "de") == {"4.53e+09"}


def test_scale_glyph_of_a_unit_stays_the_unit() -> None:
    assert numbers("最大功率350千瓦", "zh") == {"350", "u:350kw"}


def test_east_asian_compound_amounts_are_one_figure() -> None:
    assert "8.75e+12" in numbers("매출 8조7471억 원", "ko") & numbers("revenue of 8.75 trillion won", "en")
    assert numbers("投资3亿5000万元", "zh") == numbers("invests 350 million yuan", "en") == {"3.5e+08"}


def test_a_count_in_ten_thousands_with_its_remainder_is_one_figure() -> None:
    """"20만8000대" is 208,000 cars, as the English reports of the same recall say; read apart, the 만 was lost and
    the figure was 8,000 (a conflict with every report of 208,000, a shared 8,000 with unrelated ones)."""
    recall = numbers("Hyundai and Kia are recalling 208,000 electric vehicles", "en")
    for text, lang in [("전기차 20만8000대를 리콜한다", "ko"), ("전기차 20만 8000대를 리콜", "ko"),
                       ("电动车20万8000辆", "zh"), ("20万8000台をリコール", "ja")]:
        assert numbers(text, lang) == recall == {"2.08e+05"}, text
    assert numbers("직원 3만5천명", "ko") == numbers("35,000 employees", "en") == {"3.5e+04"}
    assert numbers("1万2345人", "ja") == numbers("12,345 people", "en")
    assert numbers("연간 20만대", "ko") == {"2e+05"}  # a round count alone, as before


def test_a_count_in_year_range_is_a_figure_when_grouped_or_counting_people() -> None:
    """"2,000 employees" is a count, not the year 2000: written in thousands groups, or followed by a word that
    counts people, in every language; a bare year stays no figure."""
    count = {"2e+03"}
    for text, lang in [("rund 2.000 Mitarbeiter", "de"), ("nearly 2,000 employees", "en"), ("2 000 salariés", "fr"),
                       ("nearly 2000 employees", "en"), ("约2000名员工", "zh"), ("약 2000명의 직원", "ko"),
                       ("2000 Mitarbeitern", "de")]:
        assert numbers(text, lang) == count, text
    for text, lang in [("in 2000, the plant", "en"), ("2024年", "zh"), ("bis 2030 Stellen abbauen", "de"),
                       ("2030 jobsite", "en"), ("25.09.2025 / Bosch", "de")]:
        assert numbers(text, lang) == set(), text


@pytest.mark.parametrize("text, lang", [
    ("10 प्रतिशत", "hi"), ("10 फ़ीसदी", "hi"), ("10శాతం", "te"), ("10 เปอร์เซ็นต์", "th"), ("10 في المئة", "ar"),
    ("10 phần trăm", "vi"), ("10%", "en"),
])
def test_a_percent_written_as_a_word_after_the_figure_is_a_percent(text: str, lang: str) -> None:
    """Hindi, Telugu, Thai, Arabic and Vietnamese write the word after the figure; a bare 10 is no specific figure,
    so such a page shared no figure with the English "10%" (a Telugu report of a layoff of 10%: results "w16names").
    The text is read after NFKC (the nukta of "फ़" decomposes), as extract() reads it."""
    assert numbers(unicodedata.normalize("NFKC", text), lang) == {"p:10"}
