"""The story tier's name index (``DedupConfig.story_name_candidates``): a second source of story candidates, in
union with the story LSH, over the articles naming one of the new article's strong names in its window.

Checked for real (no mocks): which candidates a placement scores is read by wrapping ``_story_scores`` (the same
call, its arguments recorded). The story LSH is made strict (``story_lsh_threshold`` high: it then offers only
near-identical feature sets) where a test needs a pair it does not offer, as real two-language reports of one event
often are (results "v16cand": their story-signature estimates are 0-0.05).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from aggregator.dedup import DedupConfig, Deduplicator, open_store
from aggregator.dedup import core as C
from aggregator.dedup.lsh import name_keys

CORPUS = Path(__file__).parent / "data" / "dedup_corpus.jsonl"

# one event (an insolvency filing) in English and in French: the maker's name is a name-table id in both
# ("Lion Electric", "Compagnie Électrique Lion"), the rest of the two feature sets differs
EN = {"id": "en1", "title": "Lion Electric seeks creditor protection in Canada", "language": "en",
      "source": "wire-en", "published_at": "2024-12-18T10:00:00Z",
      "body": "The Quebec maker of electric school buses Lion Electric said on Wednesday it had filed for creditor "
              "protection under the CCAA after lenders refused to extend its credit lines. Shares were halted in "
              "Toronto and New York. Marc Bedard said the Joliet plant in Illinois, which employs 1,400 people, "
              "would cut 350 jobs; Goldman Sachs, RBC and BMO had lent $412 million since 2021."}
FR = {"id": "fr1", "title": "Le fabricant d'autobus scolaires se place à l'abri de ses créanciers", "language": "fr",
      "source": "journal-fr", "published_at": "2024-12-18T15:00:00Z",
      "body": "La Compagnie Électrique Lion a obtenu mercredi une ordonnance en vertu de la LACC, la loi sur les "
              "arrangements avec les créanciers des compagnies. Investissement Québec, la Caisse de dépôt et "
              "Fondaction détiennent 37,5 % du capital; Pierre Fitzgibbon avait salué en 2019 une usine de "
              "batteries à Mirabel de 185 millions de dollars."}
STRICT = 0.9  # a story LSH that offers only near-identical feature sets


@pytest.fixture
def scored() -> Iterator[dict[str, set[int]]]:
    """Per placed article, the numbers of the candidates its placement scored (``_story_scores``' rows)."""
    seen: dict[str, set[int]] = {}
    original = C.Deduplicator._story_scores

    def recording(self: Deduplicator, d: C.Doc, cands: list[C.Doc] | C._Candidates) -> tuple[np.ndarray, np.ndarray]:
        nums = cands.nums if isinstance(cands, C._Candidates) else [o.number for o in cands]
        seen.setdefault(d.article_id, set()).update(nums)
        return original(self, d, cands)

    C.Deduplicator._story_scores = recording  # type: ignore[method-assign]
    try:
        yield seen
    finally:
        C.Deduplicator._story_scores = original  # type: ignore[method-assign]


def _corpus() -> list[dict]:
    rows = [json.loads(x) for x in CORPUS.read_text(encoding="utf-8").splitlines() if x.strip()]
    for r in rows:
        r["published_at"] = r["published"]
    return sorted(rows, key=lambda r: (r["published"], r["id"]))


def test_name_keys_part_names_and_buckets() -> None:
    names = np.array([11, 12], dtype=np.uint64)
    a, b = name_keys(names, 5), name_keys(names, 6)
    assert a[0] != a[1] and a[0] != b[0]
    assert np.array_equal(a, name_keys(names, 5))  # keys are persisted: the same on every call


def test_the_name_index_offers_a_pair_the_story_lsh_does_not(scored: dict[str, set[int]]) -> None:
    off = Deduplicator(DedupConfig(story_lsh_threshold=STRICT, story_name_candidates=0))
    off.add(EN), off.add(FR)
    assert not scored.get("fr1")  # the strict story LSH does not offer the English report
    scored.clear()
    on = Deduplicator(DedupConfig(story_lsh_threshold=STRICT, story_name_candidates=5))
    on.add(EN), on.add(FR)
    assert scored["fr1"] == {on.store.doc_number("en1", create=False)}


def test_a_name_in_more_articles_of_the_window_than_the_cap_offers_none(scored: dict[str, set[int]]) -> None:
    def others(k: int) -> list[dict]:  # k more reports naming what EN and FR share (Lion Electric, the CCAA) on
        # the same day, each in other words
        return [dict(EN, id=f"en{i + 2}", source=f"outlet{i}", title=f"Lion Electric note {i}",
                     body=f"Lion Electric item {i} on the CCAA: figure {1000 + 37 * i:,} and code X{i}Q{i}.")
                for i in range(k)]

    for cap, offered in ((4, True), (3, False)):
        scored.clear()
        dd = Deduplicator(DedupConfig(story_lsh_threshold=STRICT, story_name_candidates=cap))
        for art in [EN, *others(3), FR]:  # four articles carry the name when FR is placed
            dd.add(art)
        assert (dd.store.doc_number("en1", create=False) in scored.get("fr1", set())) is offered, cap


def test_the_union_keeps_every_story_lsh_candidate(scored: dict[str, set[int]]) -> None:
    rows = _corpus()
    off = Deduplicator(DedupConfig(story_name_candidates=0))
    for r in rows:
        off.add(r)
    lsh_only = {k: set(v) for k, v in scored.items()}
    scored.clear()
    on = Deduplicator(DedupConfig(story_name_candidates=20))
    for r in rows:
        on.add(r)
    assert all(lsh_only[k] <= scored.get(k, set()) for k in lsh_only)
    assert sum(map(len, scored.values())) > sum(map(len, lsh_only.values()))  # and it adds some


def test_every_store_gives_the_same_stories_and_a_rerun_the_same_ids(tmp_path: Path) -> None:
    rows = _corpus()
    cfg = DedupConfig(story_name_candidates=20)
    memory = Deduplicator(cfg)
    first = [memory.add(r).story_id for r in rows]
    again = Deduplicator(DedupConfig(story_name_candidates=20))
    assert [again.add(r).story_id for r in rows] == first  # rerun-stable story ids
    half = len(rows) // 2
    with Deduplicator(DedupConfig(story_name_candidates=20), open_store(f"file:{tmp_path}")) as dd:
        filed = [dd.add(r).story_id for r in rows[:half]]
    reloaded = Deduplicator(DedupConfig(story_name_candidates=20), open_store(f"file:{tmp_path}"))
    assert len(reloaded.store.lsh[C.NAME_SPACE].query(reloaded._name_keys(reloaded._get_doc("a0000"))[1]))
    filed += [reloaded.add(r).story_id for r in rows[half:]]
    assert filed == first


@pytest.mark.redis
def test_the_redis_store_gives_the_same_stories(redis_url: str) -> None:
    rows = _corpus()[:120]
    memory = Deduplicator(DedupConfig(story_name_candidates=20))
    expect = [memory.add(r).story_id for r in rows]
    shared = Deduplicator(DedupConfig(story_name_candidates=20), open_store(f"{redis_url}?prefix=names"))
    assert [shared.add(r).story_id for r in rows] == expect


def test_expire_drops_the_name_index_entries() -> None:
    dd = Deduplicator(DedupConfig(story_name_candidates=5, retention_days=30.0))
    dd.add(EN)
    n = dd.store.doc_number("en1", create=False)
    keys = np.concatenate(dd._name_keys(dd._get_doc("en1"))[0])
    assert n in dd.store.lsh_query(C.NAME_SPACE, keys)
    assert dd.expire(now=C._parse_time(EN["published_at"]) + 40 * C.DAY, force=True).expired == 1
    assert n not in dd.store.lsh_query(C.NAME_SPACE, keys)
