"""Kinds of news read from a page (aggregator.dedup.features, names.json): what m14recall added."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from aggregator.dedup import features as F
from aggregator.dedup import story as S


def test_subsidies_are_one_kind_of_news_across_languages() -> None:
    for text, lang in (("Federal EV tax credit set to expire September 30", "en"),
                       ("Bundesregierung stellt Umweltbonus quasi sofort ein", "de"),
                       ("Incentivi auto elettriche 2025: fondi esauriti in un giorno", "it"),
                       ("El Gobierno amplía el Plan Moves III hasta final de año", "es"),
                       ("전기차 보조금 조기 소진", "ko")):
        assert "subsidy" in F.concepts(text, lang), text
    assert "subsidy" not in F.concepts("EU opens anti-subsidy probe into Chinese EV makers", "en")


def _sample(form: str) -> str:
    """A text holding ``form`` as the table means it: a word or phrase between other words (a prefix form
    with a letter more), a form in an unspaced script inside a run of that script."""
    stem = form.rstrip("*")
    if F._UNSPACED_RE.search(stem):
        return f"{stem[0]}{stem}{stem[-1]}"
    return f"- {stem}{stem[-1] if form.endswith('*') else ''} -"


def test_every_form_of_a_kind_or_a_stage_can_match() -> None:
    # names.json read as the file it is: a form the readers can never find (a phrase ending in "*", a prefix
    # longer than the reader's lengths, a Thai word cut at its tone mark) is found here by its table path
    table = json.loads((Path(F.__file__).parent / "names.json").read_text(encoding="utf-8"))
    dead = []
    for section, read in (("concepts", F.concepts), ("stages", None)):
        for kind, per_lang in table[section].items():
            if kind.startswith("_"):
                continue
            for lang, forms in per_lang.items():
                for form in forms:
                    text = _sample(form)
                    got = read(text, "" if lang == "*" else lang) if read else S.stages_named(text)
                    if kind not in got:
                        dead.append((section, kind, lang, form, sorted(got)))
    assert not dead


def test_words_keep_their_combining_marks() -> None:
    # Thai writes vowel and tone signs as combining marks and no space between words; Devanagari its vowel
    # signs; NFD Vietnamese its accents: each a whole word (or, in Thai, a form found inside the run)
    assert "fire" in F.concepts("เกิดเหตุไฟไหม้โรงงานแบตเตอรี่ลิเธียมในเกาหลีใต้", "th")
    assert "fire" not in F.concepts("ไฟฟ้าและรถยนต์ไฟฟ้า", "th")  # "electric", no fire
    assert "मोटर्स" in F.keywords("टाटा मोटर्स ने नई इलेक्ट्रिक कार लॉन्च की")
    nfc = "VinFast công bố doanh số xe điện tháng 11"
    assert F.keywords(unicodedata.normalize("NFD", nfc)) == F.keywords(nfc)
    assert F.concepts(unicodedata.normalize("NFD", "Rückruf"), "de") == {"recall"}


def test_kinds_and_stages_inside_cjk_runs_in_either_chinese_script() -> None:
    assert "sales" in F.concepts("比亚迪11月銷售創新高", "zh")  # the table writes 销售 only
    assert "plant_closure" in F.concepts("大眾擬關閉工廠", "zh")
    assert "merger" in F.concepts("日産とホンダ、経営統合の協議を打ち切り", "ja")
    assert S.stages("日産とホンダ、経営統合の協議を打ち切り") == {"collapse"}
    assert S.stages("本田日产合并谈判破裂") == {"collapse"}
    assert S.stages("現代汽車暫停韓國工廠生產") == {"halt"}


def test_a_starred_phrase_takes_an_ending_and_a_long_prefix_counts() -> None:
    assert "charging" in F.concepts("Ionna opens two charging stations in Georgia", "en")
    assert "job_cuts" in F.concepts("VW: Stellenstreichungen in Zwickau", "de")  # a prefix of 17 letters


def test_kinds_of_news_in_more_languages_we_crawl() -> None:
    for text, lang, kind in (("VinFast triệu hồi hơn 2.000 xe VF 8 tại Mỹ", "vi", "recall"),
                             ("Penjualan mobil listrik BYD di Indonesia naik", "id", "sales"),
                             ("ओला इलेक्ट्रिक ने 500 कर्मचारियों की छंटनी की", "hi", "job_cuts"),
                             ("Tesla отзывает более 2 млн автомобилей в США", "ru", "recall"),
                             ("ارتفاع والمبيعات للسيارات الكهربائية", "ar", "sales"),  # a clitic before the word
                             ("BYD Manisa fabrikasına 1 milyar dolarlık yatırım", "tr", "investment"),
                             ("Pożar w fabryce baterii w Korei", "pl", "fire"),
                             ("ยอดขายรถยนต์ไฟฟ้าในไทยพุ่ง", "th", "sales")):
        assert kind in F.concepts(text, lang), text
    assert "recall" not in F.concepts("Отзыв владельца о Tesla Model 3", "ru")  # a review, no recall


def test_latin_forms_inside_chinese_runs_and_a_title_is_no_kind() -> None:
    # a Latin word between Chinese characters has no space around it: read as a word all the same
    assert "robotaxi" in F.concepts("特斯拉宣布Robotaxi计划", "zh")
    assert "software" in F.concepts("小米SU7推送OTA升级", "zh")
    # "CEO" is on every page that quotes an executive: no kind of news (a resignation is)
    assert "leadership" not in F.concepts("Tesla CEO Elon Musk unveils the Cybercab", "en")
    assert "leadership" in F.concepts("Stellantis CEO Carlos Tavares resigns", "en")
