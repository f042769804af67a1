"""The copy tier's evidence: verbatim passages, headlines, short excerpts, re-cased reprints, near misses."""

from __future__ import annotations

import numpy as np

from aggregator.dedup import DedupConfig, Deduplicator
from aggregator.dedup.minhash import sorted_unique
from aggregator.dedup.text import count_runs, in_runs, longest_passage, ordered_shingles, title_overlap

STORY = [
    "Volta Motors said on Tuesday it would recall 48,213 electric sedans built between March and June "
    "because a software fault can switch off the rear camera display while reversing.",
    "The carmaker said owners would receive an over-the-air update free of charge from next week and "
    "that no crashes or injuries linked to the fault had been reported so far.",
    "The recall covers about 9% of the sedans Volta has delivered since the model went on sale, the "
    "company said in a filing with the national safety regulator.",
    "Shares of the company fell 1.8% in early trading in Frankfurt after the announcement.",
    "Analysts said the cost of the fix should be small because no visit to a workshop is needed.",
    "Volta plans to start building a cheaper compact model at its plant in Saxony later this year.",
]
TITLE = "Volta Motors recalls 48,213 sedans over rear camera fault"


def _art(i: str, title: str, paras: list[str], src: str, when: str = "2025-03-04T09:00:00Z") -> dict:
    return {"id": i, "title": title, "body": "\n\n".join(paras), "source": src, "published_at": when,
            "language": "en"}


def _dups(arts: list[dict], config: DedupConfig | None = None) -> dict[str, str]:
    dd = Deduplicator(config or DedupConfig())
    return {a["id"]: dd.add(a).dup_id for a in arts}


def test_ordered_shingles_are_the_stored_set_in_order() -> None:
    dd = Deduplicator()
    body = "\n".join([*STORY[:3], "特斯拉上海超級工廠10月出口超3.5萬輛，創2年單月最高紀錄。",
                      "ÉLAN Straße ＢＹＤ 2024"])
    kept, stored, _, _ = dd._analyse(body, set())
    seq, offsets = ordered_shingles(kept, dd.config.shingle_size)
    assert np.array_equal(sorted_unique(seq), stored)
    assert len(offsets) == len(seq) + dd.config.shingle_size and np.all(np.diff(offsets) > 0)


def test_longest_passage_counts_consecutive_shared_shingles() -> None:
    seq, offsets = ordered_shingles(["one two three four five six seven eight nine ten"], 3)
    other, _ = ordered_shingles(["zero one two three four five", "seven eight nine ten"], 3)
    # "one two three four five" (3 shingles) and "seven eight nine ten" (2): the longer passage wins
    assert longest_passage(seq, offsets, sorted_unique(other), 3) == len("one two three four five ")
    assert longest_passage(seq, offsets, sorted_unique(other[-1:]), 3) == len("eight nine ten")
    assert longest_passage(seq, offsets, np.empty(0, dtype=np.uint32), 3) == 0


def test_in_runs_counts_distinct_shared_shingles_of_long_runs_only() -> None:
    seq, _ = ordered_shingles(["a b c d e f g x h i j a b c d e f g"], 3)  # "a..g" twice, a run of 5 shingles
    other, _ = ordered_shingles(["a b c d e f g", "h i j"], 3)
    shared = np.intersect1d(sorted_unique(seq), sorted_unique(other))
    assert in_runs(seq, shared, 5) == 5  # the repeat counted once; "h i j" (1 shingle) too short
    assert in_runs(seq, shared, 1) == 6 and in_runs(seq, shared, 6) == 0


def test_title_overlap_ignores_wire_version_marks() -> None:
    assert title_overlap("UPDATE 1-" + TITLE, TITLE.upper()) == 1.0
    assert title_overlap("ROUNDUP: Porsche senkt Prognose", "Porsche senkt Prognose (aktualisiert)") == 1.0
    # a word of the headline, not a mark: the two monthly releases stay apart
    assert title_overlap("NIO Inc. Provides October 2024 Delivery Update",
                         "NIO Inc. Provides September 2024 Delivery Update") < 0.8
    assert title_overlap("", TITLE) == 0.0


def test_short_excerpt_and_recased_reprint_are_copies() -> None:
    short = STORY[:4]  # a short page: its first two paragraphs are ~60 shingles, too few for the old bar
    arts = [_art("orig", TITLE, short, "volta-news.example"),
            _art("excerpt", TITLE, short[:1], "partner.example", "2025-03-04T10:00:00Z"),
            _art("recase", TITLE.upper(), [short[0].upper(), *short[1:], "Republished with permission."],
                 "reprints.example", "2025-03-04T11:00:00Z")]
    dup = _dups(arts)
    assert dup["excerpt"] == dup["orig"] == dup["recase"]


def test_reprint_behind_page_furniture_under_the_same_headline_is_a_copy() -> None:
    furniture = [f"Form 6-K cover page item {k}: registrant address, commission file number 00{k}-3{k}1, "
                 f"annual report form check boxes and the signature block of the chief financial officer."
                 for k in range(1, 6)]
    arts = [_art("release", TITLE, STORY, "wire.example"),
            _art("filing", "UPDATE 1-" + TITLE, furniture + STORY[:2], "filings.example", "2025-03-04T12:00:00Z")]
    dd = Deduplicator()
    a = dd.add(arts[0])
    b = dd.add(arts[1])
    da, db = dd._get_doc("release"), dd._get_doc("filing")
    jac = len(np.intersect1d(da.shingles, db.shingles)) / len(np.union1d(da.shingles, db.shingles))
    assert jac < 0.35  # not a Jaccard or containment match: the headline and the passage decide
    assert a.dup_id == b.dup_id


def test_articles_quoting_one_notice_and_same_headline_near_misses_stay_apart() -> None:
    notice = STORY[0] + " " + STORY[1]
    own_a = ["Our reporter asked dealers in Munich how many customers had called about the fault.",
             "Most said the update would be installed overnight and that nobody had cancelled an order.",
             "One dealer said the camera had failed twice on a demonstration car during the winter.",
             "Another pointed out that owners can still use the parking sensors while the fix is pending.",
             "The regulator publishes all recall notices on its website every Thursday afternoon."]
    own_b = ["Industry experts pointed to a series of software recalls across the sector this year.",
             "Several rivals had to fix driver assistance systems, one of them twice within a month.",
             "Insurers say repairs after minor parking accidents have become more expensive since cameras spread.",
             "A consumer group asked for longer warranties on the electronics of new cars.",
             "Volta's chief executive is due to present the annual results to investors next week."]
    other = [p.replace("48,213", "17,090").replace("9%", "3%").replace("1.8%", "0.6%") for p in STORY]
    arts = [_art("a", "Dealers stay calm after Volta camera recall", [own_a[0], notice, *own_a[1:]], "city.example"),
            _art("b", "Software recalls pile up for carmakers", [own_b[0], notice, *own_b[1:]], "trade.example",
                 "2025-03-04T10:00:00Z"),
            _art("c", TITLE, STORY, "wire.example", "2025-03-04T11:00:00Z"),
            # the same headline template and prose a week later, other figures: another recall
            _art("d", TITLE.replace("48,213", "17,090"), other, "wire.example", "2025-03-11T11:00:00Z")]
    dup = _dups(arts)
    assert len({dup["a"], dup["b"], dup["d"]}) == 3
    assert dup["d"] != dup["c"]


FLASH = ("Volta Motors will recall 48,213 electric sedans over a rear camera fault, the carmaker said on "
         "Tuesday. Owners get a free software update from next week.")


def test_short_flash_and_rewritten_update_under_one_headline_are_copies_templated_flash_is_not() -> None:
    # a two-sentence flash (~25 shingles: under every overlap bar) reprinted with its second word changed
    # (no 150-character passage left) inside a longer article; the same template a week later with other
    # figures (another recall) stays apart
    reprint = [FLASH.replace("will recall", "is to recall"), *STORY[1:]]
    other = FLASH.replace("48,213", "17,090")
    dup = _dups([_art("flash", TITLE, [FLASH], "dpa.example"),
                 _art("reprint", TITLE, reprint, "regional.example", "2025-03-04T09:30:00Z"),
                 _art("templated", TITLE.replace("48,213", "17,090"), [other], "dpa.example",
                      "2025-03-11T09:00:00Z")])
    assert dup["flash"] == dup["reprint"] != dup["templated"]
    # an update that keeps only the lead sentence (~170 characters) below the same headline
    update = [STORY[0], "Owners were told by letter that the fix takes about ten minutes and needs no visit "
              "to a workshop, a spokeswoman said on Wednesday.", "Dealers in Munich said few customers had called."]
    dup = _dups([_art("orig", TITLE, STORY, "wire.example"),
                 _art("update", TITLE + " (aktualisiert)", update, "wire.example", "2025-03-05T08:00:00Z"),
                 _art("other", TITLE.replace("48,213", "17,090"), [other, *update[1:]], "wire.example",
                      "2025-03-11T08:00:00Z")])
    assert dup["update"] == dup["orig"] != dup["other"]


def test_pinyin_glosses_after_ideographs_are_folded_away() -> None:
    from aggregator.dedup.text import fold_chinese

    assert fold_chinese("特斯拉發(fā)布生產(chǎn)報告") == fold_chinese("特斯拉發布生產報告") == "特斯拉发布生产报告"
    assert fold_chinese("大众汽车(vwagy.us)与小鹏(xpev)") == "大众汽车(vwagy.us)与小鹏(xpev)"  # tickers stay


def test_a_missing_opencc_table_is_said_once_and_folds_nothing(monkeypatch, caplog) -> None:  # noqa: ANN001
    import importlib.resources

    from aggregator.dedup import text

    assert text.T2S  # the installed package's table: traditional characters fold
    def gone(_name: str) -> None:
        raise ModuleNotFoundError("No module named 'opencc'")

    monkeypatch.setattr(importlib.resources, "files", gone)
    with caplog.at_level("WARNING", logger="aggregator.dedup.text"):
        assert text._t2s_table() == {}
    assert [r.message for r in caplog.records if "opencc" in r.message.lower()] != []
    assert "No module named 'opencc'" in caplog.text


BACKGROUND = [
    "The plant on the edge of the city opened in 1939 and built small cars for most of its history; since "
    "the group was formed by the merger of two carmakers it has made only the electric city car and a few "
    "luxury models, and it has run far below capacity for years.",
    "Unions have long asked the group for a second model to fill the lines, and the regional government "
    "has offered subsidies for a battery workshop next to the body shop, so far without an answer.",
]


def test_one_outlets_reports_of_two_events_sharing_its_background_paragraphs_are_not_copies() -> None:
    # an outlet repeats its own background paragraphs in every article on one subject: two of its reports of
    # different events (a halt, then its extension) share half their text, as two excerpts of one wire text cut
    # at different points do; across outlets that is a copy, within one outlet only under the same headline/lead
    halt = ["The carmaker said on Thursday it would halt production of its electric city car at the plant "
            "until the middle of next month because demand in Europe has fallen.", *BACKGROUND,
            "Workers will be paid from a short-time fund while the lines stand still."]
    extension = ["The carmaker has extended the halt at the plant by another three weeks, it told the unions "
                 "on Wednesday, citing orders that have not picked up.", *BACKGROUND,
                 "The unions called a meeting with the regional government for next week."]
    dup = _dups([_art("halt", "Carmaker halts electric car production at its oldest plant", halt, "post.example"),
                 _art("ext", "Carmaker extends the production halt by three weeks", extension, "post.example",
                      "2025-03-25T09:00:00Z")])
    assert dup["halt"] != dup["ext"]
    # nor through a syndicator's reprints of either: the refusal keeps the two copy clusters apart
    reprint = [*halt, "Republished with permission."]
    dup = _dups([_art("halt", "Carmaker halts electric car production at its oldest plant", halt, "post.example"),
                 _art("halt-r", "CARMAKER HALTS ELECTRIC CAR PRODUCTION AT ITS OLDEST PLANT", reprint, "feed.example",
                      "2025-03-04T12:00:00Z"),
                 _art("ext", "Carmaker extends the production halt by three weeks", extension, "post.example",
                      "2025-03-25T09:00:00Z"),
                 _art("ext-r", "Carmaker extends the production halt by three weeks", [*extension, reprint[-1]],
                      "feed.example", "2025-03-25T12:00:00Z")])
    assert dup["halt"] == dup["halt-r"] != dup["ext"] == dup["ext-r"]
    # the same two texts on two outlets: page excerpts of one text behind different furniture
    dup = _dups([_art("halt", "Carmaker halts electric car production at its oldest plant", halt, "post.example"),
                 _art("ext", "Carmaker extends the production halt by three weeks", extension, "mirror.example",
                      "2025-03-25T09:00:00Z")])
    assert dup["halt"] == dup["ext"]
    # the outlet's own republication of a page (a corrected version under the same headline) stays a copy
    fixed = [halt[0].replace("the middle of next month", "mid-April"), *halt[1:]]
    dup = _dups([_art("halt", "Carmaker halts electric car production at its oldest plant", halt, "post.example"),
                 _art("again", "Carmaker halts electric car production at its oldest plant", fixed, "post.example",
                      "2025-03-04T15:00:00Z")])
    assert dup["halt"] == dup["again"]


def test_cluster_states_without_the_apart_list_load() -> None:
    # a dup cluster pickled before Cluster.apart existed (Redis / file stores) comes back with an empty list
    import pickle

    from aggregator.dedup.core import Cluster

    cl = Cluster("d-1", [1, 2], 0.0, 1, apart=[7])
    state = cl.__getstate__()
    del state["apart"]
    old = Cluster.__new__(Cluster)
    old.__setstate__(state)
    assert old.apart == [] and old.members == [1, 2]
    assert pickle.loads(pickle.dumps(cl)).apart == [7]


def test_excerpt_of_a_long_article_under_its_own_headline_is_a_copy() -> None:
    # a partner prints the first three paragraphs of a long wire story under its own headline: a Jaccard of
    # ~0.06 (far under the prefilter); the estimate read with both set sizes sends it to exact verification
    import random

    rng = random.Random(11)
    vocab = ("battery cell module pack plant line shift supplier order contract price margin quarter dealer "
             "fleet charger grid tariff subsidy model sedan van truck software update sensor camera brake "
             "motor inverter factory worker union board investor analyst market share forecast cost").split()
    rest = [" ".join(rng.choice(vocab) for _ in range(40)).capitalize() + "." for _ in range(30)]
    long_story = _art("wire", TITLE, [*STORY, *rest], "wire.example")
    excerpt = _art("partner", "Camera fault: Volta calls back its sedans", STORY[:3], "partner.example",
                   "2025-03-04T10:00:00Z")
    dd = Deduplicator(DedupConfig())
    a, b = dd.add(long_story), dd.add(excerpt)
    da, db = dd._get_doc("wire"), dd._get_doc("partner")
    assert len(np.intersect1d(da.shingles, db.shingles)) / len(np.union1d(da.shingles, db.shingles)) < 0.1
    assert a.dup_id == b.dup_id and a.story_id == b.story_id
    # the same pair with the size-aware prefilter off: never verified, so not a copy (what the check adds)
    off = _dups([long_story, excerpt], DedupConfig(dup_prefilter_share=2.0))
    assert off["wire"] != off["partner"]
    # verified is not taken: a report quoting the first three paragraphs around text of its own (a share of ~0.65;
    # with ~0.75 of it the quoted paragraphs, whole, it would be taken as an excerpt with lines of its own, "runs")
    own = ["Dealers in Munich said few customers had called about the fault since the weekend.",
           "Most expect the update to be installed overnight and nobody has cancelled an order yet.",
           "One of them said the camera had failed twice on a demonstration car during the winter."]
    quote = _art("quote", "Dealers stay calm after the Volta camera recall", [own[0], *STORY[:3], *own[1:]],
                 "city.example", "2025-03-04T11:00:00Z")
    calls: list[set[int]] = []
    dd = Deduplicator(DedupConfig())
    seen = dd._contained_estimate
    dd._contained_estimate = lambda *a: calls.append(seen(*a)) or calls[-1]  # type: ignore[method-assign]
    assert dd.add(long_story).dup_id != dd.add(quote).dup_id
    assert calls[-1]  # (it was sent to exact verification, and refused there)


def test_a_roundup_quoting_several_flashes_does_not_make_them_copies_of_each_other() -> None:
    # a digest page holds three wire flashes about three makers whole: each flash lies inside it, but the
    # second and third must not join the copy cluster the first joined (they share nothing with it)
    flashes = [
        "Kestrel Auto said on Monday it would recall 31,877 delivery vans because a loose connector can cut "
        "power to the heating system in cold weather. Owners will be contacted by letter from next month.",
        "Norrland EV will build a second battery plant near Umea for about 1.4 billion euros, the company "
        "said, creating 900 jobs once cell production reaches full capacity in two years.",
        "Sunbay Cars lowered its annual delivery forecast to 210,000 vehicles after weak demand in Europe and "
        "higher freight costs, sending its shares down 6.2% in early trading in Hong Kong.",
    ]
    digest = _art("digest", "The week in electric cars", [*flashes, *STORY[3:]], "digest.example")
    arts = [digest] + [_art(f"f{i}", f.split(" said")[0].split(" will")[0], [f], f"wire{i}.example",
                            "2025-03-04T10:00:00Z") for i, f in enumerate(flashes)]
    dup = _dups(arts)
    assert len({dup["f0"], dup["f1"], dup["f2"]}) == 3


def test_excerpt_with_a_sentence_of_its_own_is_a_copy_a_rewrite_keeping_phrases_is_not() -> None:
    # a partner prints three paragraphs of the story with one line of its own in between: ~3/4 of its text lies
    # in the original, under the containment bar, but as whole verbatim passages ("runs")
    own = ("The regulator said on Wednesday that it had received eleven complaints from owners about the display. "
           "None of them described an accident, according to a summary published on its website.")
    # (the original goes on for twice as long: a Jaccard of ~0.2, under the bar of two excerpts cut elsewhere)
    more = ["Volta's rivals have recalled cars over camera faults too, though most of them needed a workshop visit.",
            "The national safety regulator opened a review of reversing cameras across the industry last year.",
            "Owners' groups say the software of new cars is updated far more often than most drivers notice."]
    orig = _art("orig", TITLE, [*STORY, *BACKGROUND, *more], "wire.example")
    excerpt = _art("excerpt", "Camera fault: Volta calls back its sedans", [STORY[0], own, *STORY[1:3]],
                   "partner.example", "2025-03-04T10:00:00Z")
    # a rewrite of those three paragraphs with every tenth word changed (figures kept): a share as large, in
    # runs of a few words only
    words = " ".join(STORY[:3]).split(" ")
    rewrite = _art("rewrite", "Camera fault: Volta calls back its sedans",
                   [" ".join("indeed" if k % 10 == 5 else w for k, w in enumerate(words))], "rewrites.example",
                   "2025-03-04T10:00:00Z")
    dd = Deduplicator(DedupConfig())
    dd.add(orig)
    for art in (excerpt, rewrite):
        a, b = dd._get_doc("orig"), dd.add(art) and dd._get_doc(art["id"])
        inter = len(np.intersect1d(a.shingles, b.shingles))
        assert 0.7 <= inter / min(len(a.shingles), len(b.shingles)) < dd.config.dup_containment
    # (`close` off: the rewrite is a light edit of the excerpt -- Jaccard 0.42 with it, no sentence whole -- which
    # that rule takes as a copy of it, see test_a_light_edit_dropping_some_figures_...; what is tested here is
    # that the rewrite's share of the original in short runs is no `runs` copy)
    dup = _dups([orig, excerpt, rewrite], DedupConfig(dup_close_jaccard=0))
    assert dup["excerpt"] == dup["orig"] != dup["rewrite"]
    alone = _dups([orig, rewrite])
    assert alone["rewrite"] != alone["orig"]  # against the original alone: under every bar
    off = _dups([orig, excerpt], DedupConfig(dup_run_containment=1.0, dup_lead_passage=0))
    assert off["excerpt"] != off["orig"]  # (the rule off: what it adds)
    # (the excerpt opens with the original's lead, so `lead` takes it too once `runs` is off)
    lead_only = _dups([orig, excerpt], DedupConfig(dup_run_containment=1.0))
    assert lead_only["excerpt"] == lead_only["orig"]


def test_update_under_the_same_headline_joins_its_first_version_whose_excerpt_it_does_not_hold() -> None:
    # the first version, a partner's excerpt of its opening (a copy of it), then the wire's update: the top
    # rewritten, the same headline, later paragraphs kept. The update shares half the excerpt or nothing of it;
    # neither says anything against it being a copy of the first version (the guards against reports quoting
    # one notice and against compilations hold back only a hit one text of which holds the other)
    lead = ("Volta Motors is recalling 48,213 electric sedans, it confirmed on Wednesday, after a software fault "
            "switched off rear camera displays.")
    tail = "A spokeswoman said the update would reach most cars within a week."
    for kept in ([STORY[1], STORY[2]], [STORY[2]]):
        dup = _dups([_art("first", TITLE, STORY, "wire.example"),
                     _art("excerpt", TITLE, STORY[:2], "partner.example", "2025-03-04T10:00:00Z"),
                     _art("update", "UPDATE 1-" + TITLE, [lead, *kept, tail], "wire.example", "2025-03-05T08:00:00Z")])
        assert dup["update"] == dup["first"] == dup["excerpt"]


# a Korean report of a plant plan (written for this test), a reprint of it behind other page lines, and another
# outlet's light rewrite of the same release: a particle or an ending changed in every sentence
KO = ["현대자동차는 5일 울산에 새 전기차 전용 공장을 짓는다고 밝혔다.",
      "이 공장은 2조원을 투자해 2026년부터 연간 20만대의 전기차를 생산할 예정이다.",
      "회사는 공장 건설로 약 2천 명의 일자리가 새로 생길 것으로 내다봤다.",
      "새 공장에서는 대형 전기 스포츠유틸리티차가 먼저 생산될 계획이다.",
      "현대차 관계자는 \"울산은 우리 전기차 전략의 중심이 될 것\"이라고 말했다.",
      "업계에서는 이번 투자가 국내 배터리 협력사들에도 도움이 될 것으로 보고 있다."]
KO_REWRITE = ["현대자동차가 5일 울산에 새 전기차 전용 공장을 짓겠다고 밝혔다.",
              "이 공장에는 2조원이 투자되며 2026년부터 연간 20만대의 전기차가 생산될 예정이다.",
              "회사 측은 공장 건설로 약 2천 명의 일자리가 새로 생겨날 것으로 내다봤다.",
              "새 공장에서는 대형 전기 스포츠유틸리티차를 먼저 생산할 계획이다.",
              "현대차 관계자는 \"울산이 우리 전기차 전략의 중심이 될 것\"이라고 설명했다.",
              "업계에서는 이번 투자가 국내 배터리 협력사들에게도 도움이 될 것으로 보고 있다."]


def _ko(i: str, title: str, paras: list[str], src: str) -> dict:
    return dict(_art(i, title, paras, src, "2026-03-05T09:00:00Z"), language="ko")


def test_korean_is_shingled_by_words_a_rewrite_of_one_release_is_no_copy_a_reprint_is() -> None:
    from aggregator.dedup.text import normalize, shingle_set, token_classes, token_hashes_normalized

    def share(words: bool) -> float:
        a, b = (shingle_set(token_hashes_normalized(normalize("\n".join(p)), token_classes(words))[0], 3)
                for p in (KO, KO_REWRITE))
        return len(np.intersect1d(a, b)) / min(len(a), len(b))

    # syllable trigrams are about one word: the rewrite keeps most of them; word trigrams break at every edit
    assert share(False) > 0.7 and share(True) < 0.5
    arts = [_ko("a", "현대차, 울산에 전기차 전용 공장 짓는다", KO, "one.example"),
            _ko("c", "현대차 울산 새 공장", ["실시간 뉴스", *KO, "기자 이메일"], "two.example"),
            _ko("b", "현대차, 울산 전기차 공장 건설 발표", KO_REWRITE, "three.example")]
    words = _dups(arts, DedupConfig(story_embedding_weight=0))
    assert words["c"] == words["a"] and words["b"] != words["a"]
    # read by syllables (states built before words) the rewrite was taken for a copy
    syllables = _dups(arts, DedupConfig(story_embedding_weight=0, dup_hangul_words=False))
    assert syllables["c"] == syllables["a"] == syllables["b"]


def test_a_state_keeps_the_hangul_tokenisation_it_was_built_with() -> None:
    import pytest

    from aggregator.dedup.store import MemoryStore

    store = MemoryStore()
    dd = Deduplicator(DedupConfig(story_embedding_weight=0), store=store)
    assert dd.hangul_words and store.get("meta:hangul_tokens") == "words"
    # a state with articles and no record was built before the setting: it keeps reading syllables
    old = MemoryStore()
    Deduplicator(DedupConfig(story_embedding_weight=0), store=old).add(_ko("a", "현대차 공장", KO, "one.example"))
    old.delete("meta:hangul_tokens")
    assert not Deduplicator(DedupConfig(story_embedding_weight=0), store=old).hangul_words
    with pytest.raises(ValueError, match="Hangul"):
        Deduplicator(DedupConfig(story_embedding_weight=0, dup_hangul_words=True), store=old)
    # the compiled and the numpy tokenisers agree under both readings (the hashes are persisted)
    from aggregator.dedup import text as T

    norm = T.normalize(" ".join(KO) + " 比亚迪 Seal")
    for words in (True, False):
        fast, slow = T.token_hashes_normalized(norm, T.token_classes(words)), T._token_hashes_numpy(
            norm, T.token_classes(words))
        assert np.array_equal(fast[0], slow[0]) and np.array_equal(fast[1], slow[1])
        assert fast[0].tolist() == [T.token_hash64(t) for t in T.tokenize(norm, T.token_classes(words))]


NAV = ["Home", "Markets", "Autos", "Electric cars", "4 March 2025 · 3 min read"]
RELATED = ["Related articles", "Solar maker Brightfield opens its second plant near Lyon",
           "Charging network Voltway adds 300 stations along the A7 motorway",
           "Battery startup Cellora raises new funds from two pension investors",
           "City council approves electric bus depot after a two-year delay",
           "Scooter rental firm Zipp leaves three cities at the end of the year",
           "Most read"]


def test_excerpt_between_page_furniture_is_a_copy_a_report_quoting_it_is_not() -> None:
    # a partner prints the first two paragraphs between its navigation and a list of other headlines: half of the
    # page is its own furniture, so containment (0.8 of the smaller text) does not hold; left out, it does
    original = _art("orig", TITLE, STORY, "wire.example")
    furnished = _art("part", "Rear camera fault: Volta calls back sedans", [*NAV, *STORY[:2], *RELATED],
                     "partner.example")
    # a report of its own quoting the same two paragraphs: its own lines are sentences, never furniture
    report = _art("rep", "Volta recall: what owners should know", [
        "Owners of the affected sedans do not need to book a workshop visit, according to the statement.",
        *STORY[:2],
        "Our reporter asked three dealers in Munich, and none had seen a car with the fault so far this week.",
        "Dealers said they expected questions from customers but no extra work for their service teams."],
        "local.example")
    on = _dups([original, furnished, report])
    assert on["part"] == on["orig"] and on["rep"] != on["orig"]
    off = _dups([original, furnished, report], DedupConfig(dup_furnished_chars=0))
    assert off["part"] != off["orig"] and off["rep"] != off["orig"]


def test_an_article_added_again_with_a_new_text_is_verified_on_its_new_text() -> None:
    # the placed text's shingles in order are made once per article: an article added again under its id with its
    # text changed (its number is the same) must be read anew, not as the text it had before
    dd = Deduplicator(DedupConfig(story_embedding_weight=0))
    orig = dd.add(_art("orig", TITLE, STORY, "wire.example"))
    own = ["Dealers in Munich said on Wednesday that they had not seen a single car with the fault so far this week.",
           "Several owners told our reporter that they would wait for the update before driving at night again."]
    first = dd.add(_art("part", "Rear camera fault: Volta calls back sedans", [*NAV, STORY[4], *own, *RELATED],
                        "partner.example"))
    assert first.dup_id != orig.dup_id
    again = dd.add(_art("part", "Rear camera fault: Volta calls back sedans", [*NAV, *STORY[:2], *RELATED],
                        "partner.example"))
    assert again.dup_id == dd.dup_of("orig")


def test_count_runs_counts_maximal_runs_of_shared_shingles() -> None:
    seq, _ = ordered_shingles(["a b c d e f g x h i j k l y a b c"], 3)
    other, _ = ordered_shingles(["a b c d e f g", "h i j k l"], 3)
    shared = np.intersect1d(sorted_unique(seq), sorted_unique(other))
    # runs of 5 ("a..g"), 3 ("h..l") and 1 ("a b c" again) consecutive shared shingles
    assert count_runs(seq, shared, 1) == 3 and count_runs(seq, shared, 3) == 2 and count_runs(seq, shared, 4) == 1
    assert count_runs(seq, np.empty(0, dtype=np.uint32), 1) == 0


WIRE = [
    "Volta Motors will build its second battery plant in the Polish city of Wroclaw, the carmaker said on "
    "Monday, putting 2.4 billion euros into a site that is to supply cells for its compact models from 2027.",
    "The plant is planned to reach an annual capacity of 32 gigawatt hours once its third production hall "
    "opens, enough for roughly 400,000 small electric cars a year, according to the company's statement.",
    "Volta chose Wroclaw over rival bids from Hungary and Slovakia because of the region's supply of "
    "engineers and a rail link to its assembly plant in Saxony, chief executive Marta Lindqvist told reporters.",
    "The Polish government has agreed to grant about 310 million euros in state aid for the project, which "
    "still has to be approved by the European Commission under the bloc's rules for regional investment.",
    "Construction is due to begin in the spring, and the first of the three halls should start trial "
    "production of cells with a lithium iron phosphate chemistry about eighteen months later.",
    "The carmaker expects to hire about 2,100 workers at the site, most of them trained at a vocational "
    "centre it plans to open together with the city's technical university before the end of next year.",
    "Volta's first battery plant, near Dresden, makes nickel-rich cells for its larger sedans and has run "
    "below capacity this year as demand for premium electric cars in Europe cooled after subsidies were cut.",
    "Analysts at several banks said cheaper cells made closer to its car plants should help Volta compete "
    "with Chinese rivals whose compact models undercut European prices by several thousand euros.",
    "Shares of the company rose 3.1% in Frankfurt after the announcement, their biggest daily gain in a "
    "month, while the shares of its main cell supplier fell by nearly 5% on the news.",
    "The company said it would keep buying cells from outside suppliers for its sedans until at least the "
    "end of the decade and that the new plant would not change its earnings outlook for this year.",
]


def _edit(s: str) -> str:
    # a partner's copy desk touches a sentence: every third word dropped (no three-word shingle survives whole)
    return " ".join(w for i, w in enumerate(s.split()) if i % 3 != 2)


def test_reprint_under_a_new_top_keeping_paragraphs_is_a_copy_a_report_quoting_one_passage_is_not() -> None:
    top = ["Good news for the region's job market arrived on Monday from an unexpected direction.",
           "A German carmaker picked our city for a project that local politicians had courted for two years.",
           "Here is what we know so far about the plans and what they mean for people living nearby.",
           "The mayor called it the biggest investment since the old steel works closed three decades ago.",
           "Shopkeepers on the market square said they hoped the new workers would bring life back to the centre.",
           "Not everyone is pleased: farmers near the planned site fear for the groundwater their fields depend on.",
           "We spoke to people on both sides and will follow the project closely in the coming months."]
    # the wire story under the partner's own top and headline: its opening two sentences and three more kept whole
    # (four verbatim passages), the other five edited
    kept = {0, 1, 4, 7, 9}
    body = [*top, *[WIRE[i] if i in kept else _edit(WIRE[i]) for i in range(len(WIRE))]]
    # a report of its own quoting the statement's two opening sentences whole (one verbatim passage, half of it)
    # (under its own opening: opening with the reprint's first sentence too, three of its five sentences would be
    # the reprint's, its lead among them -- a cut of the reprint, which `lead` takes as a copy)
    report = ["Residents near the planned site met on Monday evening to discuss what the factory would change.",
              WIRE[0] + " " + WIRE[1],
              "Local officials welcomed the plan but warned that housing near the site was already scarce.",
              "Unions said they would push for a collective agreement before the first workers are hired.",
              "Economists expect suppliers of chemicals and machinery to follow the carmaker to the region."]
    title = "Volta Motors picks Wroclaw for 2.4 billion euro battery plant"
    arts = [_art("wire", title, WIRE, "wire.example"),
            _art("reprint", "Battery jobs are coming: what the plant means for us", body, "city.example",
                 "2025-03-04T10:00:00Z"),
            _art("report", "Housing and traffic worries follow the battery plant", report, "region.example",
                 "2025-03-04T11:00:00Z")]
    dd = Deduplicator()
    dup = {a["id"]: dd.add(a).dup_id for a in arts}
    w, r = dd._get_doc("wire"), dd._get_doc("reprint")
    inter = len(np.intersect1d(w.shingles, r.shingles))
    # neither holds most of the other, and too little is shared for the Jaccard-type rules
    assert inter < 0.55 * min(len(w.shingles), len(r.shingles))
    assert inter < 0.33 * len(np.union1d(w.shingles, r.shingles))
    assert dup["reprint"] == dup["wire"]
    assert dup["report"] not in (dup["wire"], dup["reprint"])
    off = _dups(arts, DedupConfig(dup_kept_runs=0))
    assert off["reprint"] != off["wire"]  # the rule, not another, takes the reprint
    one = _dups(arts, DedupConfig(dup_kept_runs=1))
    assert one["report"] == one["wire"]  # the one passage is all that keeps the report apart
    # the reprint crawled first: the wire story, placed later, holds the same runs
    late = _dups([dict(arts[1], published_at="2025-03-04T08:00:00Z"), arts[0]])
    assert late["wire"] == late["reprint"]


_SWAP = {"said": "stated", "the": "this", "of": "for", "a": "one", "to": "towards", "its": "the firm's", "and": "plus",
         "in": "within", "about": "around", "which": "that", "for": "of", "from": "since", "with": "using"}


def _light(s: str, every: int) -> str:
    # a spinner's edit: every ``every``-th word swapped for another (figures and names kept), so no sentence survives
    # whole while most of its three-word shingles do
    words = s.split()
    return " ".join(_SWAP.get(w, "quite " + w) if i % every == every // 2 and not any(c.isdigit() for c in w)
                    and not w[:1].isupper() else w for i, w in enumerate(words))


def test_a_light_edit_of_every_sentence_keeping_all_figures_is_a_copy_a_heavier_rewrite_is_not() -> None:
    title = "Volta Motors picks Wroclaw for 2.4 billion euro battery plant"
    wire = _art("wire", title, WIRE, "wire.example")
    light = _art("light", "Volta Motors selects Wroclaw for its 2.4 billion euro battery plant",
                 [_light(s, 7) for s in WIRE], "spin.example", "2025-03-04T10:00:00Z")
    heavy = _art("heavy", "Wroclaw wins Volta's 2.4 billion euro battery plant",
                 [_light(s, 4) for s in WIRE], "rewrite.example", "2025-03-04T11:00:00Z")
    # the light edit with two figures changed: another plan's numbers, the same wording
    other = _art("other", "Volta Motors selects Wroclaw for its 2.4 billion euro battery plant",
                 [_light(s, 7).replace("32 gigawatt", "20 gigawatt").replace("2,100", "1,400") for s in WIRE],
                 "spin2.example", "2025-03-04T12:00:00Z")
    dd = Deduplicator()
    dup = {a["id"]: dd.add(a).dup_id for a in (wire, light, heavy)}
    w = dd._get_doc("wire")

    def jac(x: str) -> float:
        o = dd._get_doc(x)
        inter = len(np.intersect1d(w.shingles, o.shingles))
        return inter / len(np.union1d(w.shingles, o.shingles))

    # a third of the union and more shared, but no whole sentence (what the passage bar asks): the light edit is
    # taken by its figures and names alone; the heavier rewrite keeps them too, under the bar, and stays apart
    assert jac("light") >= 0.33 > jac("heavy") >= dd.config.dup_fact_threshold
    assert dup["light"] == dup["wire"]
    assert dup["heavy"] != dup["wire"]
    # the figures are the rule's evidence: two changed, `facts` refuses it (`close`, its Jaccard alone, is off here)
    changed = _dups([wire, other], DedupConfig(dup_close_jaccard=0))
    assert changed["other"] != changed["wire"]
    off = _dups([wire, light], DedupConfig(dup_fact_free_jaccard=0, dup_close_jaccard=0))
    assert off["light"] != off["wire"]  # without the bar the passage is asked, and none is kept
    ja = _dups([dict(wire, language="ja"), dict(light, language="ja")], DedupConfig(dup_close_jaccard=0))
    assert ja["light"] == ja["wire"]  # (`facts` is asked of every script)


def test_a_light_edit_dropping_some_figures_is_a_copy_by_its_jaccard_in_spaced_scripts_only() -> None:
    title = "Volta Motors picks Wroclaw for 2.4 billion euro battery plant"
    wire = _art("wire", title, WIRE, "wire.example")
    # the light edit without the sentence on the plant's capacity (two of the five figures its opening states): not
    # every figure kept, so `facts` does not take it; most of its shingles are the wire's, no sentence whole
    spun = _art("spun", "Volta Motors selects Wroclaw for its 2.4 billion euro battery plant",
                [_light(s, 7) for i, s in enumerate(WIRE) if i != 1], "spin.example", "2025-03-04T10:00:00Z")
    dd = Deduplicator()
    dup = {a["id"]: dd.add(a).dup_id for a in (wire, spun)}
    w, o = dd._get_doc("wire"), dd._get_doc("spun")
    inter = len(np.intersect1d(w.shingles, o.shingles))
    assert inter / len(np.union1d(w.shingles, o.shingles)) >= dd.config.dup_close_jaccard
    assert not dd._facts_agree(o, w)
    assert dup["spun"] == dup["wire"]
    off = _dups([wire, spun], DedupConfig(dup_close_jaccard=0))
    assert off["spun"] != off["wire"]  # the rule, not another, takes it
    # the same pair said to be Japanese: ideograph shingles are not read against this bar
    ja = _dups([dict(wire, language="ja"), dict(spun, language="ja")])
    assert ja["spun"] != ja["wire"]


def test_same_headline_pair_sharing_a_145_character_passage_is_a_copy_one_sharing_122_is_not() -> None:
    """``title``'s passage bar is 145 characters (copyset K097/K098: an AP first version and its fuller one
    under one headline share 148; the closest same-headline pair labelled not a copy, B168/B071, shares 134).
    The shared passage sits below each text's own opening, so the lead does not decide."""
    head = "Lumen Auto and Norrcell pick Georgia for a $4.1 billion battery plant"
    start = "Lumen Auto and the battery maker Norrcell said they will jointly invest $4.1 billion in Georgia to build "

    def pair(shared: str) -> list[dict]:
        a = _art("a", head, ["The plant near the coast would hire a projected 3,500 employees and start in 2027.",
                             shared, "Officials said incentives were still being negotiated with the county board.",
                             "The companies gave no figure for the capacity of the first production line."],
                 "first.example")
        b = _art("b", head, ["Construction is to begin in the autumn on a site west of the interstate.", shared,
                             "A spokesman declined to say which models the cells would power first.",
                             "The announcement followed months of talks with several states in the region."],
                 "second.example", when="2025-03-04T11:00:00Z")
        return [a, b]

    longer, shorter = start + "a new plant that would supply its vans.", start + "a plant for vans."
    assert 144 <= len(longer) < 150 and 120 <= len(shorter) < 135
    dups = _dups(pair(longer))
    assert dups["a"] == dups["b"]
    assert len(set(_dups(pair(longer), DedupConfig(dup_title_passage=150)).values())) == 2  # the old bar refused it
    assert len(set(_dups(pair(shorter)).values())) == 2


def test_edited_cut_of_a_wire_text_under_its_own_opening_is_a_copy_a_rewrite_opening_otherwise_is_not() -> None:
    """``lead``: a paper's shortened light edit of a wire text (a word changed in every sentence, so no verbatim
    run but the opening; copyset K020/K019, K147/K146 are of this kind) is a copy when it opens with the wire
    text's lead; the same edited sentences under a paper's own opening sentence are a same-event rewrite."""
    wire = ["Harbor Motors will stop making its Vela compact at the Kessel plant at the end of the year, the company "
            "said on Tuesday.",
            "About 1,200 workers are affected; the works council said talks on their future would start next week.",
            "The plant will instead assemble electric delivery vans from 2027, according to a company spokeswoman.",
            "Sales of the Vela fell by a third last year as buyers turned to cheaper models from Asian rivals.",
            "The regional premier called the decision a hard blow and demanded guarantees for the site."]
    edit = ["Harbor Motors will stop making its Vela compact at the Kessel plant at the end of the year, the carmaker "
            "announced.",
            "Some 1,200 employees are affected; the works council said negotiations about their future would begin "
            "next week.",
            "Instead the plant will assemble electric delivery vans from 2027, according to a spokeswoman."]
    rewrite = ["The end of the Vela: a blow for Kessel, where the compact has rolled off the line since 2011.", *edit]

    def same(second: list[str], config: DedupConfig | None = None) -> bool:
        dups = _dups([_art("w", "Harbor Motors ends Vela production in Kessel", wire, "wire.example"),
                      _art("e", "Kessel plant loses the Vela", second, "paper.example", when="2025-03-04T12:00:00Z")],
                     config)
        return dups["w"] == dups["e"]

    assert same(edit)
    assert not same(edit, DedupConfig(dup_lead_passage=0))  # no other rule takes it: the lead rule does
    assert not same(rewrite)


def test_in_sentences_counts_shared_shingles_of_nearly_whole_sentences_only() -> None:
    """A sentence with most of its shingles shared counts whole-sentence overlap; one sharing a phrase does not."""
    dd = Deduplicator()
    text = ["Harbor Motors will stop making its Vela compact at the Kessel plant at the end of the year. "
            "Analysts were not surprised by the news on Tuesday."]
    other = dd._analyse("Harbor Motors will stop making its Vela compact at the Kessel plant at the end of the "
                        "year. Many were not surprised.", set())[1]
    dd.add(_art("x", "Vela", text, "x.example"))
    a = dd._get_doc("x")  # the text just placed: its ordered shingles are at hand
    shared = np.intersect1d(dd._effective(a, set()), other, assume_unique=True)
    # the first sentence is shared whole; of the second only "were not surprised" (one shingle), not counted
    assert dd._in_sentences(a, shared) == len(shared) - 1 > 10
    dd.config.dup_sentence_hit = 1.01  # no sentence can keep more than all of its shingles
    assert dd._in_sentences(a, shared) == 0


def test_figures_an_excerpt_adds_do_not_veto_it_a_figure_changed_in_a_kept_sentence_does() -> None:
    """The figures veto asked of the placed text's shared sentences (``dup_facts_sentence_hit``): a partner's excerpt
    with a sentence of figures of its own (copyset K056/K055) states figures the original's top never had, which
    read as a conflict over the whole text; the same excerpt with a count changed inside a kept sentence (a
    templated notice of another recall) still conflicts."""
    wire = ["Volta Motors will build its compact electric van at the Kessel plant from next spring, the company "
            "said on Tuesday, ending months of talks with the works council.",
            "The van is to be sold in three lengths and with two battery sizes, and the first deliveries to fleet "
            "customers are planned for the summer.",
            "The regional government welcomed the decision and said it would support the training of the staff "
            "who move from the old engine line.",
            "Production of the combustion model at Kessel ends this year after 16,700 units were made in 2024.",
            "Analysts said the van would compete with models from three Asian makers already on sale."]
    own = "Registrations of electric vans reached 57,232 in May, against 50,122 a year earlier, figures show."
    excerpt = [wire[0], wire[1], own, wire[2]]
    changed = [wire[0].replace("next spring", "next spring with 48,213 vans a year"), wire[1], wire[2]]
    orig_changed = [wire[0].replace("next spring", "next spring with 52,910 vans a year"), *wire[1:]]

    def same(first: list[str], second: list[str], config: DedupConfig | None = None) -> bool:
        dups = _dups([_art("w", "Volta to build electric van at Kessel", first, "wire.example"),
                      _art("p", "Kessel gets Volta's electric van", second, "partner.example",
                           when="2025-03-04T12:00:00Z")], config)
        return dups["w"] == dups["p"]

    assert same(wire, excerpt)
    assert not same(wire, excerpt, DedupConfig(dup_facts_sentence_hit=0))  # the whole-text veto refused it
    assert not same(orig_changed, changed)  # the changed count lies in a kept sentence: still a conflict


def test_an_article_copying_two_texts_by_partial_and_by_title_merges_their_copy_clusters() -> None:
    """``dup_title_symmetric``: a wire text's first short version under the wire headline shares one long passage
    with the full text (no copy of the full text by itself: the headlines differ, most of it is its own); a
    reprint of the full text under the wire headline is a copy of both, and ties the three into one copy
    cluster (copyset K001-K003) -- a containment-type hit would have left the first version apart."""
    head = "Harbor Motors to end Vela production at Kessel plant"
    full = _art("full", "Vela production ends in Kessel", STORY, "wire.example")
    first = _art("first", head, ["A worker walks past a line of finished sedans at the plant on Monday.", STORY[0],
                                 "Further details were not immediately available.",
                                 "This is a developing story and will be updated."],
                 "tv.example", when="2025-03-04T09:30:00Z")
    reprint = _art("reprint", head, STORY, "paper.example", when="2025-03-04T11:00:00Z")

    def final(config: DedupConfig | None = None, arts: tuple[dict, ...] = (full, first, reprint)) -> dict[str, str]:
        dd = Deduplicator(config or DedupConfig())
        for art in arts:
            dd.add(art)
        return {art["id"]: dd.dup_of(art["id"]) for art in arts}  # (after the merge the reprint made)

    dups = final()
    assert dups["full"] == dups["first"] == dups["reprint"]
    off = final(DedupConfig(dup_title_symmetric=False))
    assert off["full"] == off["reprint"] != off["first"]
    alone = final(arts=(full, first))
    assert alone["full"] != alone["first"]

