"""Publication dates read from a page's text (aggregator.dedup.textdates), and what the story tier does with
them: an undated follow-up naming a later day does not join the earlier event."""

from __future__ import annotations

from datetime import date

import pytest

from aggregator.dedup import textdates as T


@pytest.mark.parametrize(("text", "expected"), [
    # English: "Dec. 3, 2024", "December 3rd, 2024", "3 December 2024", ISO
    ("Tesla said on Dec. 3, 2024 that it had recalled 2,431 Cybertrucks.", date(2024, 12, 3)),
    ("WASHINGTON, December 3rd, 2024 -- The NHTSA opened a probe.", date(2024, 12, 3)),
    ("Stellantis announced on Sunday 1 December 2024 that Carlos Tavares had resigned.", date(2024, 12, 1)),
    ("Published 2024-12-03 08:14 | Ford recalls 20,484 Mustang Mach-E", date(2024, 12, 3)),
    # German: "3. Dezember 2024", "03.12.2024"
    ("Wolfsburg. Am 3. Dezember 2024 einigten sich VW und die IG Metall auf Eckpunkte.", date(2024, 12, 3)),
    ("Stand: 03.12.2024, 14:05 Uhr. Der Autobauer ruft 20.000 Fahrzeuge zurück.", date(2024, 12, 3)),
    # French, Spanish, Italian
    ("Renault a annoncé le 3 décembre 2024 une baisse de ses ventes.", date(2024, 12, 3)),
    ("La empresa informó el 3 de diciembre de 2024 que llamará a revisión 20.000 coches.", date(2024, 12, 3)),
    ("Il gruppo ha comunicato il 3 dicembre 2024 i dati di vendita.", date(2024, 12, 3)),
    # Chinese / Japanese: 2024年12月3日; Korean: 2024년 12월 3일
    ("比亚迪2024年12月3日公告，11月新能源汽车销量50.68万辆。", date(2024, 12, 3)),
    ("ホンダと日産は2024年12月23日、経営統合に向けた協議を始めると発表した。", date(2024, 12, 23)),
    ("현대차는 2024년 12월 3일 아이오닉 5 1만 대를 리콜한다고 밝혔다.", date(2024, 12, 3)),
])
def test_days_with_a_year_in_each_language(text: str, expected: date) -> None:
    assert [m.day for m in T.day_mentions(text)] == [expected]
    inf = T.infer(text)
    assert inf is not None and inf.named == inf.lead == T._noon(expected)


def test_a_day_without_a_year_takes_the_year_of_a_stated_day() -> None:
    zh = "IT之家 2024年12月1日消息，小米汽车12月3日宣布，SU7交付量突破13万辆。"
    ko = "2024년 12월 1일 발표에 이어 현대차는 12월 3일 리콜을 시작했다."
    fr = "Publié le 1 décembre 2024. Le 3 décembre, Renault a confirmé le rappel."
    es = "Madrid, 1 de diciembre de 2024. El 3 de diciembre, Seat presentó el nuevo modelo."
    for text in (zh, ko, fr, es):
        assert T.infer(text) is not None
        assert [m.day for m in T.day_mentions(text)] == [date(2024, 12, 1), date(2024, 12, 3)], text
    # "last year" before a year-less day: the year before
    assert T.day_mentions("2025年1月25日发布。小米召回去年2月6日生产的SU7。")[-1].day == date(2024, 2, 6)
    # no day states its year (only "2030" as a target): the year is not guessed from the text's years; the
    # opening's day is kept without one, placed in the year nearest to whatever it is compared with
    inf = T.infer("零跑5月8日消息，目标是2030年销量100万辆。")
    assert inf.named is None and inf.lead is None and inf.lead_md == (5, 8)
    assert T.token(inf) == "l:--05-08" and T.lead_md("c:deal l:--05-08") == (5, 8)
    day = 86400.0
    may9 = T._noon(date(2024, 5, 9))
    assert T.pair_days_after(may9, 0.0, "", None, 0.0, "l:--05-08") == 0.0
    assert T.pair_days_after(may9 + 40 * day, 0.0, "", None, 0.0, "l:--05-08") > 30
    # across the new year: 30 December against a day dated 2 January
    assert T.pair_days_after(T._noon(date(2025, 1, 2)), 0.0, "", None, 0.0, "l:--12-30") == 0.0
    assert T.pair_days_after(None, 0.0, "l:--12-30", None, 0.0, "l:--01-02") == 0.0
    assert T.pair_days_after(None, 0.0, "l:--12-30", None, 0.0, "l:--03-02") > 50


def test_plans_and_words_are_not_past_days() -> None:
    text = ("Xpeng delivered 23,917 cars in November 2024, it said on Dec. 1, 2024. Deliveries of the Mona M03 "
            "Max will start on January 15, 2025. Musk said he may 3 times repeat it.")
    ms = T.day_mentions(text)
    assert [(m.day, m.future) for m in ms] == [(date(2024, 12, 1), False), (date(2025, 1, 15), True)]
    assert T.infer(text).named == T._noon(date(2024, 12, 1))
    assert T.day_mentions("特斯拉计划于10月10日发布Robotaxi。2024年8月31日消息")[0].future
    # a month and year alone is a period, not a day
    assert T.infer("BYD sold 506,804 vehicles in November 2024.") is None


def test_a_day_after_a_publication_label_is_the_pages_own_day() -> None:
    # a plan's word before the label ("计划" in the headline, "due to" in a recall's title) does not make the
    # dateline a plan; a time before the day and a comma before the year are read through
    for text, expected in (
            ("长城汽车将关闭欧洲总部 取消扩张计划 发布时间:2024-06-01 11:04:41 来源:", date(2024, 6, 1)),
            ("Ford recalls 60,000 vehicles due to rearview camera | Date:2025-04-14 15:14:47", date(2025, 4, 14)),
            ("Lordstown files for bankruptcy | Bloomberg | Updated: 7:15pm, 28 Jun, 2023", date(2023, 6, 28)),
            ("Tesla will Werk ausbauen | Veröffentlicht am 3. Dezember 2024", date(2024, 12, 3))):
        inf = T.infer(text)
        assert inf is not None and inf.named == inf.lead == T._noon(expected), text
    # without the label the plan's word still rules the day out
    assert T.infer("长城汽车将关闭欧洲总部 取消扩张计划 2024-06-01 11:04:41") is None


def test_numeric_day_month_year_only_where_the_day_is_told_from_the_month() -> None:
    assert [m.day for m in T.day_mentions("BYD comenzará la producción en Szeged. 23/05/2025")] == [date(2025, 5, 23)]
    assert [m.day for m in T.day_mentions("Posted 5/23/2025 by staff")] == [date(2025, 5, 23)]
    assert T.day_mentions("Il manifesto 02/10/2024: lo schema") == []  # 2 October or February 10
    assert T.day_mentions("a ratio of 3/4/2024 units") == []  # (no day over 12: not read)


def test_a_report_on_a_period_has_no_lead_day_on_its_last_day() -> None:
    text = "NIO Q3 2024 Earnings Report | Report Published: Sep 30, 2024 | Revenue rose 2.1%."
    inf = T.infer(text, periods={"q:2024-3"})
    assert inf is not None and inf.named == T._noon(date(2024, 9, 30)) and inf.lead is None
    assert T.infer(text).lead == T._noon(date(2024, 9, 30))  # (no period read: the day stands)


def test_effective_scheduled_and_range_start_days_are_no_lead_day() -> None:
    # "3月31日付で" is the day a change takes effect (announced on the 11th); "原定于8月8日" was a plan
    inf = T.infer("日産自動車は11日、3月31日付で内田誠社長(58)が退任すると発表した。後任は4月1日付で就任する。")
    assert inf is not None and (inf.lead_md, inf.lead_dom) == (None, 11)
    assert T.infer("特斯拉原定于8月8日推出 Robotaxi,但推迟至10月。") is None
    # a range's start is a lower bound of the publication, never an estimate of it
    text = ("El MOVES III se extiende hasta el 31 de diciembre de 2025, para compras efectuadas desde el pasado "
            "1 de enero de 2025.")
    inf = T.infer(text)
    assert inf is not None and inf.named == T._noon(date(2025, 1, 1)) and inf.lead is None
    assert T.pair_days_after(T._noon(date(2025, 4, 2)), 0.0, "", None, 0.0, T.token(inf)) == 0.0
    assert T.infer("Tesla said on Jan. 2, 2025 that deliveries fell.").lead == T._noon(date(2025, 1, 2))


def test_a_photo_captions_day_is_not_the_day_reported() -> None:
    text = ("GM recalls all Chevy Bolts | FILE - This Thursday, Feb. 13, 2020 file photo shows a 2020 Chevrolet "
            "Bolt EV on display in Pittsburgh. | The Chevrolet logo is displayed at a dealership Sunday, Nov. 8, "
            "2020, in Englewood. | GM said on Aug. 20, 2021 it recalls every Bolt.")
    ms = T.day_mentions(text)
    assert [(m.day, m.future) for m in ms] == [(date(2020, 2, 13), True), (date(2020, 11, 8), True),
                                               (date(2021, 8, 20), False)]
    assert T.infer(text).lead == T._noon(date(2021, 8, 20))
    # a caption cue of another sentence does not reach the day, nor does "Feb." end a sentence before it
    assert not T.day_mentions("A photo of the plant. Lordstown filed on June 27, 2023 for Chapter 11.")[0].future
    assert T.day_mentions("Cars seen at the port on Oct.\n24, 2024.")[0].future



def test_a_day_of_the_month_alone_in_the_opening_is_placed_in_the_nearest_month() -> None:
    # Korean, Japanese, Chinese reports name the event's day alone ("14일", "13日", "本月24日")
    for text, dom in (("아산 아파트 벤츠 화재 | 14일 새벽 2시쯤 충남 아산시의 한 아파트에서", 14),
                      ("日産自動車は13日、2027年度までに7工場を閉鎖すると発表した。", 13),
                      ("哪吒汽车本月24日消息，合众新能源被申请破产审查。", 24)):
        inf = T.infer(text)
        assert inf is not None and (inf.named, inf.lead, inf.lead_md, inf.lead_dom) == (None, None, None, dom)
        assert T.lead_dom(f"c:fire {T.token(inf)}") == dom and T.lead_day(T.token(inf)) is None
    # counts of days, Japan, a plan: no day
    for text in ("노조는 3일간 파업했다. 3일 만에 재개", "日本の7日間の販売",
                 "현대차는 20일부터 판매를 시작할 예정이다"):
        assert T.infer(text) is None, text
    nov15 = T._noon(date(2024, 11, 15))
    assert T.pair_days_after(nov15, 0.0, "", None, 0.0, "l:----14") == 0.0
    assert T.pair_days_after(nov15, 0.0, "", None, 0.0, "l:----30") > 10  # Oct 30 or Nov 30: half a month off
    assert T.pair_days_after(None, 0.0, "l:----30", None, 0.0, "l:----14") == 0.0  # no time on either side


def test_named_day_bounds_lead_day_estimates_and_both_round_trip_through_the_extra_string() -> None:
    text = ("Ford recalls 20,484 Mach-E, the NHTSA said on 2 December 2024. The fault was first reported "
            + "by owners in forums. " * 12 + "A first recall of the model was filed on Nov. 28, 2024, and a "
            "software update followed on December 5, 2024.")
    assert T.infer(text, month="2024-11").named == T._noon(date(2024, 11, 28))
    inf = T.infer(text)
    assert inf.named == T._noon(date(2024, 12, 5)) and inf.lead == T._noon(date(2024, 12, 2))
    tok = T.token(inf)
    assert tok == "e:2024-12-05 l:2024-12-02"
    extra = f"c:recall {tok} y:2024"
    assert T.named_day(extra) == inf.named and T.lead_day(extra) == inf.lead
    assert T.named_day("c:recall ye:2024") is None
    day = 86400.0
    # a stated date well before the named day: far; a stated date well after it: the lead day says far too
    assert T.pair_days_after(inf.named - 60 * day, 0.0, "", None, 0.0, extra) > 50
    assert T.pair_days_after(inf.named + 60 * day, 0.0, "", None, 0.0, extra) > 50
    assert T.pair_days_after(inf.named, 0.0, "", None, 0.0, extra) == 0.0  # 3 days after the lead day: within
    # without a lead day, a later stated date is no evidence (the named day is only a lower bound)
    assert T.pair_days_after(inf.named + 60 * day, 0.0, "", None, 0.0, "e:2024-12-05") == 0.0
    # two undated pages: their lead days, either way
    assert T.pair_days_after(None, 0.0, "e:2025-02-13 l:2025-02-13", None, 0.0, extra) > 60
    assert T.pair_days_after(None, 0.0, "", None, 0.0, extra) == 0.0


def _a(i: str, body: str, title: str, when: str | None, src: str) -> dict:
    return {"id": i, "title": title, "body": body, "source": src, "published_at": when, "language": "en"}


def test_undated_follow_up_naming_a_later_day_does_not_join_the_earlier_event() -> None:
    from aggregator.dedup import Deduplicator
    from aggregator.dedup.core import DedupConfig

    start = [("Ford recalls 20,484 Mustang Mach-E over 12-volt battery", "Ford Motor is recalling 20,484 Mustang "
              "Mach-E SUVs because the 12-volt battery can lose charge, the NHTSA said on Dec. 2, 2024."),
             ("Ford Mach-E recall: 20,484 SUVs", "The NHTSA said Ford will recall 20,484 Mustang Mach-E vehicles "
              "for a 12-volt battery fault that can cut power, in a filing dated Dec. 2, 2024."),
             ("NHTSA: Ford Mustang Mach-E recall", "Ford recalls 20,484 Mustang Mach-E cars: the 12-volt battery "
              "may discharge, the NHTSA said.")]
    follow = ("Ford expanded its recall of the Mustang Mach-E over the 12-volt battery on Jan. 21, 2025: the NHTSA "
              "said 20,484 SUVs of the first recall need a second software fix.")
    joined = {}
    for slack in (-1.0, 7.0):  # without and with the days read from the text
        dd = Deduplicator(DedupConfig(story_undated_join_mean=0.0, story_inferred_slack_days=slack,
                                      story_stage_members=0))  # ("expands": the stage rule alone would refuse it)
        sids = {dd.add(_a(f"f{k}", b, t, f"2024-12-02T1{k}:00:00Z", f"s{k}")).story_id
                for k, (t, b) in enumerate(start)}
        assert len(sids) == 1
        joined[slack] = dd.add(_a("later", follow, "Ford expands Mach-E recall", None, "late")).story_id in sids
        # an undated report of the first recall itself still joins
        same = ("Ford is recalling 20,484 Mustang Mach-E SUVs as the 12-volt battery may lose charge, the NHTSA "
                "said on Dec. 2, 2024.")
        assert dd.add(_a("same", same, "Ford recalls 20,484 Mach-E", None, "other")).story_id in sids
    assert joined == {-1.0: True, 7.0: False}



def test_an_undated_story_with_a_member_far_by_its_days_is_not_joined() -> None:
    """With no dates stated, the story's span cannot tell a later stage; a member whose text names a day far
    from the newcomer's vetoes the whole story, not only the link with that member."""
    from aggregator.dedup import Deduplicator
    from aggregator.dedup.core import DedupConfig

    first = ("Ford Motor is recalling 20,484 Mustang Mach-E SUVs because the 12-volt battery can lose charge, "
             "the NHTSA said on Dec. 2, 2024.")
    plain = ("Ford recalls 20,484 Mustang Mach-E cars: the 12-volt battery may discharge and cut power, the "
             "NHTSA said. Ford will fix the 12-volt battery software.")
    follow = ("Ford expanded its recall of the Mustang Mach-E over the 12-volt battery on Jan. 21, 2025: the NHTSA "
              "said 20,484 SUVs need a second 12-volt battery software fix.")
    joined = {}
    for slack in (-1.0, 7.0):
        dd = Deduplicator(DedupConfig(story_undated_join_mean=0.0, story_inferred_slack_days=slack,
                                      story_stage_members=0))  # ("expands": the stage rule alone would refuse it)
        sid = dd.add(_a("f0", first, "Ford recalls 20,484 Mustang Mach-E over 12-volt battery", None, "s0")).story_id
        assert dd.add(_a("f1", plain, "NHTSA: Ford Mustang Mach-E 12-volt battery recall", None, "s1")).story_id == sid
        joined[slack] = dd.add(_a("later", follow, "Ford expands Mach-E 12-volt battery recall", None,
                                  "late")).story_id == sid
    assert joined == {-1.0: True, 7.0: False}


def test_drop_dates_empties_the_date_and_cuts_the_stored_date_marker_only() -> None:
    from aggregator.dedup.devset import Devset, drop_dates

    pages = [{"id": "1", "event": "e", "published": "2024-12-03", "published_at": "2024-12-03",
              "body": " date 2024-12-03 Ford said on Dec. 3, 2024 it recalls 20,484 cars."},
             {"id": "2", "event": "e", "published": "2024-12", "published_at": "2024-12",
              "body": "Updated: the date 2024-12-03 stays in the text."}]
    ds = drop_dates(Devset(pages, 1))
    assert [(p["published"], p["published_at"]) for p in ds.pages] == [(None, None), (None, None)]
    assert ds.pages[0]["body"] == "Ford said on Dec. 3, 2024 it recalls 20,484 cars."
    assert ds.pages[1]["body"] == pages[1]["body"] and ds.skipped == 1
    assert pages[0]["published"] == "2024-12-03"  # the input is left as it was


def test_undated_reports_whose_days_lie_two_weeks_apart_are_not_one_event() -> None:
    """The days two undated texts name are estimates good to a few days (lead days within -3..+1 of the stated
    date on most pages): a report whose text names 13 December (a lower bound of its publication) is not a report
    of the event its 2 December opening names, though it shares the maker, the model, the kind and the figures: 11
    days apart, 8 beyond the other's estimate. The default slack (4 days beyond the window) keeps them apart; the
    old 7 did not (y17undated, results.md)."""
    from aggregator.dedup import Deduplicator
    from aggregator.dedup.core import DedupConfig

    first = ("Ford Motor is recalling 20,484 Mustang Mach-E SUVs because the 12-volt battery can lose charge, "
             "the NHTSA said on Dec. 2, 2024.")
    later = ("Ford Motor recalled 20,484 Mustang Mach-E SUVs over the 12-volt battery, and the NHTSA opened a "
             "review of the fix on Dec. 13, 2024.")
    assert DedupConfig().story_inferred_slack_days == 4.0
    joined = {}
    for slack in (7.0, 4.0):
        dd = Deduplicator(DedupConfig(story_undated_join_mean=0.0, story_inferred_slack_days=slack,
                                      story_stage_members=0))
        sid = dd.add(_a("f0", first, "Ford recalls 20,484 Mustang Mach-E over 12-volt battery", None, "s0")).story_id
        joined[slack] = dd.add(_a("f1", later, "Ford Mustang Mach-E 12-volt battery recall: 20,484 SUVs", None,
                                  "s1")).story_id == sid
    assert joined == {7.0: True, 4.0: False}
