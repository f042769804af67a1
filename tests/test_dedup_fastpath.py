"""The dedup step's fast paths against the plain forms they replace: the same matches, features and columns.

Speed work must not change a single cluster, so each shortcut is compared with its reference on the
synthetic corpus plus edge cases: regexes whose look-behind moved after the first character, alias
regexes run only over the aliases present, quarter hints, boilerplate phrases as substring tests, the
kinds/years/periods columns of the story evidence as bit masks, and the per-document feature record.
"""

from __future__ import annotations

import json
import math
import pickle
import re
from pathlib import Path

import numpy as np
import pytest

from aggregator.dedup import features as F
from aggregator.dedup import story as S
from aggregator.dedup import text as T

ROWS = [json.loads(line) for line in
        (Path(__file__).parent / "data" / "dedup_corpus.jsonl").read_text(encoding="utf-8").splitlines()]
EDGE = [
    "", "1", "2019", "x2019 12019 2019x 20190 1999,2000", "1,2 Milliarden, 300.000 Autos, 1.500 € und 12,5 %",
    "Q3 2024, 3Q24, q1/2025, Q4-Zahlen, im 3. Quartal 2024, H1 2024, first half of 2023",
    "2023年11月 比亚迪 海豹06 销量30.5万辆 第三季度 前三季度 上半年 11月份",
    "EX30 SU7 e-2008 ID.4 A6 e-tron, EU-Kommission und General Motors; the European Commission",
    "Follow us on X\nfollow the news on twitter\n来源：新华社\nSubscribe now\n© 2024 All rights reserved",
    "AB CD EF-GH I, NIO ET5T, CATL-Zellen, Xpeng G6 and the IONIQ 5 N",
    "ｆｕｌｌ－ｗｉｄｔｈ １２３ Q３ ２０２４",
    "Škoda, Ørsted and Łódź; ÖBB-Übernahme, ščepán ÉTATS Đà Nẵng éBYD",
    "3.299万 1,250 Mrd. 25 000 30.5万 400 kW 200 Wh/kg",
]
TEXTS = EDGE + [r["title"] for r in ROWS] + [r["body"] for r in ROWS]
TEXTS += [F.nfkc(t) for t in TEXTS if not t.isascii()]

# the plain patterns (look-behind first), as they were before the fast forms
_SUFFIX_NUM = F._NUM_RE.pattern.split(r"(?:[.,](\d+))?", 1)[1]
REF_NUM = re.compile(r"(?<![A-Za-z0-9])(?<![0-9][.,])(\d{1,3}(?:(?:[.,]|\s|\u202f|\u00a0)\d{3})+|\d+)(?:[.,](\d+))?"
                     + _SUFFIX_NUM, re.IGNORECASE)
REF_CAP = re.compile(r"(?<![" + F._LATIN + r"])([" + F._CAP1 + r"][" + F._LATIN + r"\-]*[" + F._LATIN + r"]|["
                     + F._CAP1 + r"])"
                     + F._CAP_RE.pattern.split("?)", 1)[1])
REF_YEAR = re.compile(r"(?<!\d)((?:19|20)\d\d)(?!\d)")


def _matches(rx: re.Pattern[str], text: str) -> list[tuple[tuple[int, int], tuple[str | None, ...]]]:
    return [(m.span(), m.groups()) for m in rx.finditer(text)]


def test_fast_regexes_match_the_plain_forms() -> None:
    for t in TEXTS:
        assert _matches(F._NUM_RE, t) == _matches(REF_NUM, t), t[:80]
        assert _matches(F._CAP_RE, t) == _matches(REF_CAP, t), t[:80]
        assert [m.span() for m in F._YEAR4_RE.finditer(t)] == [m.span() for m in REF_YEAR.finditer(t)]
        assert S._YEAR_RE.findall(t) == REF_YEAR.findall(t)
    assert sum(len(REF_NUM.findall(t)) for t in TEXTS) > 500  # the texts exercise the patterns


def test_alias_prefilters_and_quarter_hints_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    phrases = 0
    unspaced = re.compile("|".join(re.escape(k) for k in F.ALIASES if F._unspaced_alias(k)))
    for t in TEXTS:
        present = tuple(k for k in F._PHRASES if k in t)
        fast = [m.span() for m in F._phrase_re(present).finditer(t)] if present else []
        assert fast == [m.span() for m in F._phrase_re(F._PHRASES).finditer(t)]  # every phrase's alternation
        phrases += len(fast)
        if t.isascii():
            assert unspaced.search(t) is None
    assert phrases >= 2
    fast_periods = [F.periods(t) for t in TEXTS]
    for k in list(F._PERIOD_HINTS):  # the reference: every period pattern on every text
        monkeypatch.setitem(F._PERIOD_HINTS, k, lambda t, y: True)
    assert fast_periods == [F.periods(t) for t in TEXTS]
    assert sum(bool(p) for p in fast_periods) >= 3


def test_boilerplate_phrases_as_substrings_flag_the_same_units() -> None:
    flagged = 0
    for t in TEXTS:
        norm = [T.normalize(u) for u in T.units(t)]
        if not norm:
            continue
        joined = "\n".join(norm)
        hits = [m.start() for m in T._GENERIC_BOILERPLATE.finditer(joined)]
        ref: set[int] = set()
        if hits:
            starts = np.cumsum([0] + [len(u) + 1 for u in norm[:-1]])
            idx = np.searchsorted(starts, hits, side="right") - 1
            ref = {i for i in set(idx.tolist()) if len(norm[i]) < 240}
        assert T.generic_boilerplate_units(norm) == ref
        flagged += len(ref)
    assert flagged >= 3


def test_extra_columns_equal_the_loop() -> None:
    extras = [S.pack_extra(F.deshout(F.nfkc(f"{r['title']}\n{r['body'][:1500]}")), r.get("language") or "")
              for r in ROWS] + [S.pack_extra(t, "") for t in EDGE] + ["", "t:15.5", "y:2024 c:recall q:?-3"]
    assert sum(bool(e) for e in extras) > 100
    for a in extras[::5] + EDGE[:1]:
        x_fast = np.zeros((len(extras), len(S.FEATURES)))
        x_ref = np.zeros_like(x_fast)
        assert S._extra_columns(x_fast, a, extras)
        S._extra_features_loop(x_ref, a, extras)
        assert np.array_equal(x_fast, x_ref)


def test_periods_conflict_from_parts_equals_the_pairwise_form() -> None:
    """The cached form reads each set's months and quarters once; the reference compares every pair."""
    import itertools

    sets = {frozenset(F.periods(t)) for t in TEXTS} | {frozenset(), frozenset({"m:11"}), frozenset({"q:?-h1"})}
    sets |= {frozenset(c) for c in itertools.combinations(
        ["ym:2024-11", "ym:2023-11", "m:11", "m:3", "q:2024-4", "q:?-4", "q:2023-2", "q:?-h2", "q:2024-h2"], 2)}
    sets = sorted(sets, key=sorted)
    assert sum(len(s) > 1 for s in sets) > 20
    for a, b in itertools.product(sets, repeat=2):
        assert F.periods_conflict_cached(a, b) == F.periods_conflict(set(a), set(b)), (a, b)


def test_count_table_merge_equals_a_dict() -> None:
    """CountTable folds pending counts into its sorted arrays by merging (no sort of the whole table)."""
    from aggregator.dedup.store import CountTable

    rng = np.random.default_rng(7)
    for spill in (1, 7, 500):
        table, ref = CountTable(spill=spill), {}
        for _ in range(60):
            keys = rng.integers(0, 2**63, size=int(rng.integers(0, 40))).tolist() + rng.integers(0, 50, 20).tolist()
            by = int(rng.choice([1, 1, 3, -1]))
            table.add(keys, by)
            for k in keys:
                ref[k] = ref.get(k, 0) + by
            probe = keys[:10] + [5, 2**62 + 1]
            assert table.get(probe) == [ref.get(k, 0) for k in probe]
        back = pickle.loads(pickle.dumps(table))  # (pickling folds)
        assert back.keys.tolist() == sorted(ref) and back.vals.tolist() == [ref[k] for k in sorted(ref)]


def test_extra_columns_from_the_column_store_equal_the_strings() -> None:
    """core._extra_columns_from_rows reads kinds/years masks and period/code set numbers from store.DocColumns
    rows; the same columns as story._extra_columns over the extra strings."""
    from aggregator.dedup.core import _extra_columns_from_rows
    from aggregator.dedup.store import DocColumns

    extras = [S.pack_extra(F.deshout(F.nfkc(f"{r['title']}\n{r['body'][:1500]}")), r.get("language") or "")
              for r in ROWS] + [S.pack_extra(t, "") for t in EDGE] + ["", "t:15.5", "y:2024 c:recall q:?-3 md:g6"]
    cols = DocColumns()
    nums = np.arange(1, len(extras) + 1)
    n = len(extras)
    cols.set_rows(nums.tolist(), [1] * n, [0.0] * n, [0.0] * n, [""] * n, [b""] * n, [b""] * n,
                  [S._extra_code(e) for e in extras])
    assert (cols.flags[nums] & DocColumns.CODED).all() and len(cols.sets) > 10
    for a in extras[::3]:
        x_rows = np.zeros((n, len(S.FEATURES)))
        x_ref = np.zeros_like(x_rows)
        _extra_columns_from_rows(x_rows, S._extra_code(a), cols, nums[::-1])
        assert S._extra_columns(x_ref, a, extras[::-1])
        assert np.array_equal(x_rows, x_ref), a


def test_resolved_story_ids_follow_alias_writes() -> None:
    """The per-process memo of resolved cluster ids is emptied whenever an alias is written or deleted."""
    from aggregator.dedup import Deduplicator, open_store

    dd = Deduplicator(store=open_store("memory:"))
    dd.store.put("alias:s-a", "s-b")
    assert dd._resolve("s-a") == "s-b" and dd.store.columns.resolved == {"s-a": "s-b"}
    dd.store.put("alias:s-b", "s-c")  # s-b merged on: the memo must not answer s-b for s-a
    assert not dd.store.columns.resolved and dd._resolve("s-a") == "s-c"
    dd.store.delete("alias:s-b")
    assert not dd.store.columns.resolved and dd._resolve("s-a") == "s-b"


def test_feature_record_is_derived_and_never_pickled() -> None:
    from aggregator.dedup import Deduplicator, open_store
    from aggregator.dedup.core import _EMPTY_BLOB, _feature_record

    dd = Deduplicator(store=open_store("memory:"))
    for r in ROWS[:20]:
        dd.add(r)
    d = dd.store.get("doc:5")
    fb = d.fb
    assert len(fb) % 8 == 0 and fb == _feature_record(d.blob)
    nums, names, w, kw = d.features()
    words = np.frombuffer(fb, dtype=np.uint64)
    assert np.array_equal(words[1 : 1 + len(nums)], nums)
    assert np.array_equal(words[1 + len(nums) : 1 + len(nums) + len(names)], names)
    back = pickle.loads(pickle.dumps(d))
    assert back._fb is None and back.fb == fb and back.blob == d.blob
    assert "_fb" not in d.__getstate__() and len(d.__getstate__()) == len(d._STATE)
    d.blob, d._fb = _EMPTY_BLOB, None  # what expire does
    assert d.fb == _feature_record(_EMPTY_BLOB)


def test_sentence_split_without_chinese_stops_is_the_same() -> None:
    lines = [t for t in TEXTS if t] + ["A. B!  C?\tD.\u3000E", "x. y", "Ende.\u00a0Neu", "a.b. c"]
    for t in lines:
        if not any(c in t for c in "。！？"):
            assert T._SENT_SPLIT_LATIN.split(t) == T._SENT_SPLIT.split(t)


def test_headline_and_date_caches_equal_their_references() -> None:
    """Doc.tg / Doc.unc (derived once per process, never pickled), the vectorised same-headline test and
    the vectorised time gaps give what title_overlap, parse_extra and time_gap_days give one by one."""
    from aggregator.dedup import Deduplicator, open_store
    from aggregator.dedup.core import _time_gaps

    dd = Deduplicator(store=open_store("memory:"))
    rows = [dict(r, id=f"{r['id']}-{i}") for i, r in enumerate(ROWS[:40])]
    rows[3] = dict(rows[3], title="!!!")  # a title without tokens: every candidate has the overlap it needs
    rows[4] = dict(rows[4], title=f"UPDATE 1-{rows[5]['title']}")  # a wire update of another's headline
    for r in rows:
        dd.add(r)
    docs = [dd.store.get(f"doc:{n}") for n in range(1, len(rows) + 1)]
    for d in docs:
        back = pickle.loads(pickle.dumps(d))
        assert back._tg is None and back._unc is None and "_tg" not in d.__getstate__()
        assert set(np.frombuffer(back.tg, dtype=np.int64).tolist()) == set(T.title_grams(d.title))
        assert back.unc == S.parse_extra(d.extra)[3]
    bar = dd.config.dup_title_overlap
    for d in docs:  # the reference: the loop the vectorised test replaced
        got = dd._same_headline(d, {o.number for o in docs if o is not d}, {})
        ga = T.title_grams(d.title)
        want = {o.number for o in docs if o is not d and ga and o.title
                and len(ga & (go := T.title_grams(o.title))) >= bar * min(len(ga), len(go))}
        assert got == want
    assert docs[5].number in dd._same_headline(docs[4], {docs[5].number}, {})
    dated = [o for o in docs if o.published is not None]
    others = dated[1:] + [d for d in docs if d.published is None][:2]
    gaps = _time_gaps(dated[0].published, dated[0].unc, others)
    for g, o in zip(gaps.tolist(), others, strict=True):
        ref = S.time_gap_days(dated[0].published, o.published, dated[0].unc, o.unc)
        assert (g != g) if ref is None else g == ref


def test_story_columns_give_the_reference_decisions() -> None:
    """The column store of story candidates (store.DocColumns: window test, same-headline test, evidence read
    by candidate number) against the reference path (one record per candidate): the same assignments, links
    and similarities, through re-added texts, merges and expired candidates (rows must follow their records)."""
    from aggregator.dedup import Deduplicator, open_store
    from aggregator.dedup.core import _parse_time

    rows = [dict(r, id=f"{r['id']}-{i}") for i, r in enumerate(ROWS)]
    times = sorted(t for r in rows if (t := _parse_time(r.get("published_at") or r.get("published"))) is not None)
    cut = times[len(times) // 3] + 1  # expire the oldest third half-way: later articles see expired candidates
    ref, cols = Deduplicator(store=open_store("memory:")), Deduplicator(store=open_store("memory:"))
    ref.use_columns = False
    # (re-adds with changed text in the middle: their records are rewritten, so their rows must be refilled)
    stream = rows[:120] + [dict(r, body=r["body"][: len(r["body"]) // 2]) for r in rows[10:40:3]] + rows[120:]
    for i, art in enumerate(stream):
        if i == 150:
            assert ref.expire(now=cut + 180 * 86400, force=True).expired == \
                cols.expire(now=cut + 180 * 86400, force=True).expired > 0
        a, b = ref.add(art), cols.add(art)
        assert a == b, art["id"]
        da, db = ref._get_doc(art["id"]), cols._get_doc(art["id"])
        assert (da.links, da.similarity) == (db.links, db.similarity), art["id"]
    c = cols.store.columns
    assert c.resolved and not ref.store.columns.resolved  # story ids resolved from the memo, emptied on merges
    assert c.valid.sum() > 50 and not ref.store.columns.valid.any()  # the column path did run, the reference not
    back = pickle.loads(pickle.dumps(cols.store))  # never pickled: a loaded store starts without rows
    assert not back.columns.valid.any() and back.kv.keys() == cols.store.kv.keys()


def _story_links_loop(dd, story_docs, probs, evidence, bar_dated, bar_undated, support_bar):  # noqa: ANN001, ANN202
    """The plain loop over candidates that Deduplicator._story_links replaces (main 01757ad's _place)."""
    from aggregator.dedup.core import _FIGURES

    fig_sids, story_hits, by_story, dated_best, resolved, support = set(), [], {}, {}, {}, {}
    for p, o, fig in zip(probs.tolist(), story_docs, evidence[:, _FIGURES].tolist(), strict=True):
        sid = resolved.get(o.story_id)
        if sid is None:
            sid = resolved[o.story_id] = dd._resolve(o.story_id)
        by_story.setdefault(sid, []).append(p)
        if o.published is not None:
            bar = bar_dated
            if p > dated_best.get(sid, -1.0):
                dated_best[sid] = p
        else:
            bar = bar_undated
        if p >= bar:
            story_hits.append((p, o))
        elif p >= support_bar:
            support.setdefault(sid, []).append((p, o))
        if fig > 0:
            fig_sids.add(sid)
    return story_hits, by_story, dated_best, resolved, support, fig_sids


@pytest.mark.parametrize("columns", [True, False])
def test_story_links_equal_the_loop(columns: bool) -> None:
    """_place's bookkeeping of scored story candidates as array steps: the same hits, groups (values and order),
    best dated links, resolved ids, support and figure stories as the loop, with aliases, undated candidates and
    probabilities exactly at the bars."""
    from aggregator.dedup import Deduplicator, open_store
    from aggregator.dedup.core import _FIGURES, Doc

    dd = Deduplicator(store=open_store("memory:"))
    dd.use_columns = columns
    rng = np.random.default_rng(7)
    for s in range(0, 40, 3):  # merged stories: their ids resolve to another one's (one through a chain)
        dd.store.put(f"alias:s{s}", f"s{s + 1}")
    dd.store.put("alias:s1", "s2")
    bars = (0.6, 0.75, 0.3)
    for trial in range(60):
        m = int(rng.integers(0, 80))
        docs = [Doc(n, f"a{n}", "src", "t", None if rng.random() < 0.3 else 1e9 + n, "en", b"", b"",
                    story_id=f"s{int(rng.integers(0, 45))}") for n in range(m)]
        probs = rng.choice(np.array([0.0, 0.3, 0.6, 0.75, 1.0, *rng.random(6)]), size=m)
        evidence = np.zeros((m, _FIGURES + 3))
        evidence[:, _FIGURES] = rng.choice([0.0, 0.0, 1.0, 2.0], size=m)
        support_bar = bars[2] if trial % 3 else math.inf
        got = dd._story_links(docs, probs, evidence, bars[0], bars[1], support_bar)
        want = _story_links_loop(dd, docs, probs, evidence, bars[0], bars[1], support_bar)
        assert got == want
        assert [list(g) for g in got] == [list(w) for w in want]  # and the dicts' orders
        assert all(list(a) == list(b) for a, b in zip(got[1].values(), want[1].values(), strict=True))


def test_containment_estimate_from_columns_equals_the_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    """The dup tier's containment estimate read from the column store (flags, shingle counts) picks on every add
    the candidates the loop over their records picks, excerpts of long articles among them."""
    from aggregator.dedup import Deduplicator, open_store

    dd = Deduplicator(store=open_store("memory:"))
    orig = Deduplicator._contained_estimate
    picked: list[int] = []

    def both(self, d, nums, est, story_cand, docs):  # noqa: ANN001, ANN202
        got = orig(self, d, nums, est, story_cand, docs)
        self.use_columns = False
        try:
            assert got == orig(self, d, nums, est, story_cand, {})
        finally:
            del self.use_columns
        picked.append(len(got))
        return got

    monkeypatch.setattr(Deduplicator, "_contained_estimate", both)
    longest = sorted(ROWS, key=lambda r: -len(r["body"]))[:12]
    excerpts = [dict(r, id=f"{r['id']}-x", title=f"Partner: {r['title'][::-1]}", body=r["body"][: len(r["body"]) // 8])
                for r in longest]
    for art in ROWS[:150] + excerpts:
        dd.add(art)
    assert len(picked) > 100 and sum(picked) > 0


def test_story_links_from_the_story_id_column_equal_the_loop() -> None:
    """_story_links over candidates given as numbers (core._Candidates), their story ids read from the column store
    (DocColumns.sid), each distinct id resolved once: the same hits, groups (values and order), best dated links,
    resolved ids, support and figure stories as the loop over the records; a candidate whose record was written
    since its row was filled sends the call back to the records."""
    from aggregator.dedup import Deduplicator, open_store
    from aggregator.dedup.core import _EMPTY_BLOB, _FIGURES, Doc, _Candidates

    dd = Deduplicator(store=open_store("memory:"))
    cols = dd.store.columns
    rng = np.random.default_rng(11)
    for s in range(0, 40, 3):
        dd.store.put(f"alias:s{s}", f"s{s + 1}")
    dd.store.put("alias:s1", "s2")
    docs = [Doc(n, f"a{n}", "src", "t", None if rng.random() < 0.3 else 1e9 + n, "en", b"", _EMPTY_BLOB,
                story_id=f"s{int(rng.integers(0, 45))}") for n in range(200)]
    for o in docs:
        dd.store.put(f"doc:{o.number}", o)
    fast = 0
    for trial in range(60):
        m = int(rng.integers(1, 120))
        nums = sorted(rng.choice(200, size=m, replace=False).tolist())
        dd._column_rows(cols, np.array(nums, dtype=np.int64))
        if trial % 10 == 9:  # a record rewritten after its row was filled (a merge moves it): rows stale
            o = docs[nums[0]]
            o.story_id = f"s{int(rng.integers(0, 45))}"
            dd.store.put(f"doc:{o.number}", o)
        cands = _Candidates(nums, lambda n: dd.store.get(f"doc:{n}"))
        fast += dd._story_id_rows(cols, cands) is not None
        probs = rng.choice(np.array([0.0, 0.3, 0.6, 0.75, 1.0, *rng.random(6)]), size=m)
        evidence = np.zeros((m, _FIGURES + 3))
        evidence[:, _FIGURES] = rng.choice([0.0, 0.0, 1.0, 2.0], size=m)
        support_bar = 0.3 if trial % 3 else math.inf
        got = dd._story_links(cands, probs, evidence, 0.6, 0.75, support_bar)
        want = _story_links_loop(dd, [docs[n] for n in nums], probs, evidence, 0.6, 0.75, support_bar)
        assert got == want
        assert [list(g) for g in got] == [list(w) for w in want]  # and the dicts' orders
        assert all(list(a) == list(b) for a, b in zip(got[1].values(), want[1].values(), strict=True))
    assert 40 <= fast < 60  # the column path ran, and the stale rows went to the records


def test_scores_of_candidates_that_can_link_only_are_the_full_scores(monkeypatch: pytest.MonkeyPatch) -> None:
    """_place scores only the candidates that share a strong name or a specific figure with the article (the rest
    get p = 0 and a zero row): on every add of the corpus, the same probabilities as the full evidence (the same
    candidates as a list of records), the same figures column, and the same rows wherever anything was computed."""
    from aggregator.dedup import Deduplicator, open_store
    from aggregator.dedup.core import _FIGURES, _Candidates

    dd = Deduplicator(store=open_store("memory:"))
    orig = Deduplicator._story_scores
    seen = [0, 0]

    def both(self, d, cands):  # noqa: ANN001, ANN202
        p, x = orig(self, d, cands)
        if isinstance(cands, _Candidates):
            fp, fx = orig(self, d, list(cands))
            assert np.array_equal(p, fp) and np.array_equal(x[:, _FIGURES], fx[:, _FIGURES])
            live = x.any(axis=1)
            assert np.array_equal(x[live], fx[live]) and not p[~live].any()
            seen[0] += len(p)
            seen[1] += int((~live).sum())
        return p, x

    monkeypatch.setattr(Deduplicator, "_story_scores", both)
    for art in ROWS:
        dd.add(art)
    assert seen[0] > 500 and seen[1] > 50  # candidates were scored, and some were left out


def test_headline_rows_filled_later_equal_rows_filled_at_once() -> None:
    """DocColumns rows filled without headline bigrams (tg_n -1) and given them later (set_headlines) read the same
    bigrams as rows filled with them."""
    from aggregator.dedup.store import DocColumns

    rng = np.random.default_rng(3)
    tgs = [np.sort(rng.integers(0, 1 << 40, size=int(rng.integers(0, 9)))).astype(np.int64).tobytes()
           for _ in range(50)]
    args = ([0] * 50, [1.0] * 50, [0.0] * 50, ["en"] * 50, [b""] * 50)
    a, b = DocColumns(), DocColumns()
    a.set_rows(list(range(50)), *args, tgs, [None] * 50)
    b.set_rows(list(range(50)), *args, [t if i % 3 == 0 else None for i, t in enumerate(tgs)], [None] * 50)
    assert (b.tg_n[[i for i in range(50) if i % 3]] == -1).all()
    late = np.array([i for i in range(50) if i % 3], dtype=np.int64)
    b.set_headlines(late, [tgs[i] for i in late.tolist()])
    for x in (a, b):
        assert [x.tg[x.tg_at[i]: x.tg_at[i] + x.tg_n[i]].tobytes() for i in range(50)] == tgs


def test_fragment_groups_from_the_story_id_column_equal_the_records() -> None:
    """_merge_fragments' candidates per story, read off the story-id column (records a merge rewrote since their rows
    were filled are read), give the same best three per story, or set of stories, as grouping the records."""
    from aggregator.dedup import Deduplicator, open_store
    from aggregator.dedup.core import _EMPTY_BLOB, Doc, _Candidates

    dd = Deduplicator(store=open_store("memory:"))
    cols = dd.store.columns
    rng = np.random.default_rng(5)
    for s in range(0, 40, 3):
        dd.store.put(f"alias:s{s}", f"s{s + 1}")
    resolved = {f"s{i}": dd._resolve(f"s{i}") for i in range(45)}
    docs = [Doc(n, f"a{n}", "src", "t", 1e9 + n, "en", b"", _EMPTY_BLOB, story_id=f"s{int(rng.integers(0, 45))}")
            for n in range(300)]
    for o in docs:
        dd.store.put(f"doc:{o.number}", o)
    for _trial in range(30):
        nums = sorted(rng.choice(300, size=int(rng.integers(1, 200)), replace=False).tolist())
        dd._column_rows(cols, np.array(nums, dtype=np.int64))
        for n in rng.choice(nums, size=min(3, len(nums)), replace=False).tolist():  # merged since: rows stale
            docs[n].story_id = f"s{int(rng.integers(0, 45))}"
            dd.store.put(f"doc:{n}", docs[n])
        cands = _Candidates(nums, lambda n: dd.store.get(f"doc:{n}"))
        probs = rng.choice(np.array([0.0, 0.5, 0.9, *rng.random(5)]), size=len(nums))
        got = dd._candidates_by_story(cands, resolved)
        want: dict[str, list[tuple[float, Doc]]] = {}
        for p, o in zip(probs.tolist(), [docs[n] for n in nums], strict=True):
            want.setdefault(resolved[o.story_id], []).append((p, o))
        for sids in ([s] for s in set(resolved.values())):
            mine = [got[s] for s in sids if s in got]
            ref = sorted((x for s in sids for x in want.get(s, ())), key=lambda x: (-x[0], x[1].number))[:3]
            assert dd._best_three(cands, probs, mine) == ref
        pair = list(want)[:2]
        assert dd._best_three(cands, probs, [got[s] for s in pair]) == sorted(
            (x for s in pair for x in want[s]), key=lambda x: (-x[0], x[1].number))[:3]
