"""aggregator eval on a labelled development set: scoring, split, baselines, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from aggregator.dedup.devset import Devset, DevsetError, load_devset, score


def _page(i: str, event: str, topic: str, lang: str = "en", copy_of: str | None = None,
          text: str = "some text", published: str | None = "2024-03-01") -> dict:
    return {"id": i, "url": f"https://x.example/{i}", "source": "x.example", "title": i, "language": lang,
            "published": published, "event": event, "topic": topic, "copy_of": copy_of, "query": "q", "text": text}


def test_score_counts_cross_language_pairs_and_near_misses() -> None:
    pages = [_page("1", "e1", "t"), _page("2", "e1", "t", "de"), _page("3", "e1", "t", copy_of="1"),
             _page("4", "e2", "t"), _page("5", "e3", "u")]
    ds = Devset([dict(p, body=p["text"]) for p in pages])
    assert ds.copies == {"1": "1", "2": "2", "3": "1", "4": "4", "5": "5"}
    # story: 1, 2 (German) and 4 (same topic, other event) together; 3 alone
    r = score(ds, {"1": "s", "2": "s", "3": "x", "4": "s", "5": "y"}, {i: i for i in "12345"})
    st = r["story"]
    assert st["cross_language_pairs"] == 2  # (1,2) and (2,3)
    assert st["cross_language_recall"] == 0.5
    assert st["same_language_recall"] == 0.0  # (1,3) missed
    assert st["near_miss_pairs"] == 3 and st["near_misses_merged"] == 2  # (1,4) and (2,4)
    assert st["pairwise_precision"] == pytest.approx(1 / 3)
    assert r["dup"]["copy_pairs"] == 1 and r["dup"]["pairwise_recall"] == 0.0


def test_load_split_and_bad_lines(tmp_path: Path) -> None:
    f = tmp_path / "set.jsonl"
    rows = [_page(str(i), f"e{i % 7}", f"t{i % 5}") for i in range(40)]
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\nnot json\n" + json.dumps({"id": "z"}) + "\n")
    full = load_devset([f])
    assert len(full.pages) == 40 and full.skipped == 2
    a, b = load_devset([f], "a"), load_devset([f], "b")
    assert sorted(p["id"] for p in a.pages + b.pages) == sorted(p["id"] for p in full.pages)
    topics_a = {p["topic"] for p in a.pages}
    assert topics_a and not topics_a & {p["topic"] for p in b.pages}  # a topic never straddles the halves
    facts = tmp_path / "facts.jsonl"
    facts.write_text(json.dumps({k: v for k, v in rows[0].items() if k != "text"}) + "\n")
    with pytest.raises(DevsetError):
        load_devset([facts])


def test_eval_cli_on_devset_with_baselines(tmp_path: Path) -> None:
    from aggregator.dedup.cli import app

    base = ("Tesla recalled 125,227 Model S and Model X cars in the United States over a seat belt warning "
            "chime, the NHTSA said on Friday. ")
    other = ("BYD sold 301,903 new energy vehicles in October, a record, as exports to Europe climbed "
             "to 31,192 units from a year earlier. ")
    filler = " ".join(f"Paragraph {k} adds detail number {k * 37} about the market." for k in range(12))
    rows = [_page("a1", "recall", "tesla", text=base + filler),
            _page("a2", "recall", "tesla", copy_of="a1", text=base + filler + " UPDATE adds a comment."),
            _page("a3", "recall", "tesla", "de", text="Tesla ruft 125.227 Model S und Model X zurück, "
                                                      "meldet die NHTSA. Der Gurtwarnton fehlt."),
            _page("b1", "sales", "byd", text=other + filler[::-1])]
    f = tmp_path / "set.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    res = CliRunner().invoke(app(), ["eval", str(f), "--baselines", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    methods = [r["method"] for r in out["rows"]]
    assert methods[0].startswith("ours") and len(methods) == 3
    assert all("threshold" in r["story"] for r in out["rows"][1:])  # baselines say their oracle threshold
    assert out["rows"][0]["dup"]["pairwise_recall"] == 1.0  # the update is a copy
    res = CliRunner().invoke(app(), ["eval", str(f), "--half", "c"])
    assert res.exit_code == 2
    res = CliRunner().invoke(app(), ["eval", str(f)])
    assert res.exit_code == 0 and "story tier" in res.output and "oracle" not in res.output


# --- articles without a date ---------------------------------------------------------------------------

_BYD = ("BYD said on Friday it delivered 412,310 vehicles in October, up 31.5% from a year earlier. "
        "Overseas shipments reached 31,204 units as the company expands in Europe.")
_TESLA = ("Tesla is recalling 27,185 Cybertruck vehicles in the United States because a rear-view camera "
          "image may be delayed, the NHTSA said on Thursday.")


def _a(i: str, body: str, title: str, when: str | None, lang: str = "en", src: str = "x") -> dict:
    return {"id": i, "title": title, "body": body, "source": src, "published_at": when, "language": lang}


def test_undated_article_joins_its_story_on_strong_evidence() -> None:
    from aggregator.dedup import Deduplicator

    dd = Deduplicator()
    a = dd.add(_a("en", _BYD, "BYD October deliveries rise 31.5%", "2024-11-01T08:00:00Z"))
    # no date, other language, same facts (figures, maker, kind of news, period): joins
    z = dd.add(_a("zh", "比亚迪10月交付41.231万辆，同比增长31.5%，海外销量3.1204万辆。", "比亚迪10月销量", None, "zh",
                  "sina"))
    assert z.story_id == a.story_id


def test_undated_article_does_not_glue_two_stories() -> None:
    from aggregator.dedup import Deduplicator

    dd = Deduplicator()
    s1 = dd.add(_a("byd", _BYD, "BYD October deliveries rise 31.5%", "2024-11-01T08:00:00Z")).story_id
    s2 = dd.add(_a("tsla", _TESLA, "Tesla recalls 27,185 Cybertrucks", "2024-11-01T09:00:00Z")).story_id
    assert s1 != s2
    # an undated roundup naming both events' facts: it may join one story, never merge the two
    r = dd.add(_a("roundup", _BYD + " " + _TESLA, "EV news roundup", None, src="blog"))
    assert dd.story_of("byd") != dd.story_of("tsla")
    assert r.merged_story_ids == []
    # and a later, dated report of the Tesla recall still finds its own story
    t2 = dd.add(_a("tsla2", "Tesla recalls 27,185 Cybertrucks over a delayed rear camera image, NHTSA says.",
                   "Tesla Cybertruck recall: 27,185 trucks", "2024-11-01T15:00:00Z", src="y"))
    assert t2.story_id == dd.story_of("tsla")


def test_dated_articles_weeks_apart_never_share_a_story_month_dates_carry_uncertainty() -> None:
    from aggregator.dedup import Deduplicator

    dd = Deduplicator()
    a = dd.add(_a("nov", _BYD, "BYD October deliveries rise 31.5%", "2024-11-01T08:00:00Z"))
    rewrite = ("Deliveries at BYD climbed 31.5% year on year to 412,310 cars in October, the carmaker reported, "
               "with 31,204 of them shipped abroad.")
    far = dd.add(_a("dec", rewrite, "BYD deliveries up 31.5% in October", "2024-12-20T08:00:00Z", src="late"))
    assert far.story_id != a.story_id  # the same facts told seven weeks later: not linked by the story tier
    near = dd.add(_a("nov2", "October: BYD handed over 412,310 cars (+31.5%), 31,204 of them abroad.",
                     "BYD deliveries up 31.5% in October", "2024-11-01T18:00:00Z", src="y"))
    assert near.story_id == a.story_id
    month = dd.add(_a("month", _BYD, "BYD October deliveries rise 31.5%", "2024-11", src="m"))
    assert month.story_id == a.story_id  # "2024-11" may be the 1st: within the window


def test_hard_synthetic_copies_are_found() -> None:
    """A wire update with added paragraphs, an all-caps republication and an excerpt of one text."""
    from aggregator.dedup.core import cluster_story_and_dup
    from aggregator.dedup.devset import Devset, hard_copies, score

    paras = [f"Volkswagen said on Tuesday it would cut {n:,} jobs at its plant in Zwickau by 2027, after "
             f"sales of the ID.{k} fell {p}% in the third quarter. Works council head Daniela Cavallo said "
             f"talks would resume on {d} November." for n, k, p, d in ((2_000, 3, 12, 4), (1_500, 4, 9, 11))]
    body = "\n\n".join(paras + ["The carmaker, Europe's largest, is under pressure from Chinese rivals, "
                                "higher energy costs and weak demand for electric models at home.",
                                "Shares in Volkswagen closed 1.8% lower in Frankfurt on the news."])
    page = {"id": "p1", "title": "VW to cut jobs at Zwickau EV plant", "body": body, "language": "en",
            "published_at": "2024-11-05T10:00:00Z", "source": "wire", "event": "e", "copy_of": None}
    ds = hard_copies(Devset([page]))
    assert len(ds.pages) == 4
    story, dup = cluster_story_and_dup(ds.pages)
    r = score(ds, story, dup)
    assert r["dup"]["pairwise_f1"] == 1.0 and r["story"]["pairwise_f1"] == 1.0, r


def test_undated_article_joins_only_a_story_whose_members_agree_on_average() -> None:
    """An undated saga stage (the end of merger talks) links to one or two members of the story of their
    start but not to the rest: below ``story_undated_join_mean`` on average, it starts its own story."""
    from aggregator.dedup import Deduplicator
    from aggregator.dedup.core import DedupConfig

    start = [("Honda and Nissan sign merger memorandum", "Honda and Nissan signed a memorandum of understanding on "
              "Monday to start merger talks, aiming at a joint holding company by August 2026 with combined sales "
              "of 30 trillion yen."),
             ("Honda, Nissan begin merger talks", "Honda Motor and Nissan Motor said they had started talks on a "
              "merger under a holding company, a deal that would create sales of 30 trillion yen and operating "
              "profit above 3 trillion yen."),
             ("Nissan and Honda to combine", "Nissan and Honda agreed to explore a combination, listing a holding "
              "company in August 2026; Mitsubishi Motors will decide by the end of January whether to join."),
             ("Honda Nissan holding company planned", "The holding company of Honda and Nissan is to be listed in "
              "August 2026, the companies said, with 30 trillion yen in revenue."),
             ("Holding company to list in August 2026", "Shares of the planned Honda Nissan holding company are to "
              "list in August 2026; the group expects 30 trillion yen of sales and 3 trillion yen of operating "
              "profit."),
             ("Mitsubishi Motors weighs joining", "Mitsubishi Motors will decide by end-January 2025 whether to join "
              "the Honda Nissan holding company planned for August 2026 with 30 trillion yen in sales.")]
    end = ("Honda and Nissan terminated their merger talks on Thursday, ending the memorandum of understanding "
           "after Nissan rejected becoming a subsidiary of Honda.")
    figure = " Nissan booked 12,684 units of restructuring charges, the memorandum of understanding said."
    stories = {}
    for bar, extra in ((0.0, ""), (0.6, ""), (0.9, figure)):
        # (the object rule off: "Mitsubishi Motors weighs joining" names a maker no other headline of the start
        # names, and would stay out of the story; this test is about the undated mean)
        dd = Deduplicator(DedupConfig(story_undated_join_mean=bar, story_object_members=0))
        sids = {dd.add(_a(f"m{k}", b + (extra if k == 0 else ""), t, f"2024-12-23T0{k + 1}:00:00Z", src=f"s{k}"))
                .story_id for k, (t, b) in enumerate(start)}
        assert len(sids) == 1
        stories[bar] = (dd.add(_a("end", end + extra, "Honda and Nissan end merger talks", None, src="late"))
                        .story_id in sids)
    # its best link clears the bar; the story's mean does not, unless a member shares a specific figure with it.
    # The mean is ~0.55 with the shipped weights, so at the shipped bar (0.35) this saga stage still joins: one
    # of the failure kinds the README lists (undated stages of one saga)
    assert stories == {0.0: True, 0.6: False, 0.9: True}


def test_undated_article_joins_a_dated_story_only_agreeing_with_a_dated_member() -> None:
    """An undated report that links to the story only through an undated member (which joined on facts of
    its own: job cuts beside the merger talks) and not to the story's dated member does not join:
    ``story_undated_dated_agree`` (0 turns the rule off)."""
    from aggregator.dedup import Deduplicator
    from aggregator.dedup.core import DedupConfig

    dated = ("Honda and Nissan signed a memorandum of understanding on Monday to start merger talks, aiming at a "
             "joint holding company by August 2026 with combined sales of 30 trillion yen.")
    undated = ("Honda and Nissan started merger talks under a memorandum of understanding signed on Monday, aiming "
               "at a joint holding company by August 2026 with 30 trillion yen of sales. Nissan also cut 9,000 jobs "
               "and trimmed output by 20 percent at its Smyrna and Canton plants, chief executive Makoto Uchida said.")
    other = ("Nissan chief executive Makoto Uchida confirmed 9,000 job cuts and a 20 percent cut in output at the "
             "Smyrna and Canton plants of Nissan.")
    joined = {}
    for bar in (0.0, 0.3):
        dd = Deduplicator(DedupConfig(story_undated_dated_agree=bar))
        sid = dd.add(_a("d", dated, "Honda and Nissan sign merger memorandum", "2024-12-23T08:00:00Z")).story_id
        assert dd.add(_a("u", undated, "Honda, Nissan begin merger talks", None, src="y")).story_id == sid
        joined[bar] = dd.add(_a("v", other, "Nissan to cut 9,000 jobs", None, src="z")).story_id == sid
        assert [a for a, kind, _ in dd.links_of("v") if kind == "story"] == ["u"]  # the one link it has
    assert joined == {0.0: True, 0.3: False}
