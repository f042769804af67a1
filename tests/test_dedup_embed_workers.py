"""The story embedding computed in the extraction workers and carried with the item (``_embedding``).

``Deduplicator.add`` keeps a carried vector only when its tag names this recipe and the very text the
state embeds; otherwise it keeps the text and encodes it the first time a pair in two languages needs the
vector. A crawl with workers gives the story ids (and stores the vectors) that encoding in-process gives
(real encoder, real Scrapy crawls of the fixture web, no mocks).
"""

from __future__ import annotations

import json

from crawling import crawl

from aggregator.dedup import DedupConfig, Deduplicator, open_store
from aggregator.dedup import embed as E
from aggregator.dedup.core import carry_embedding, embedding_input
from aggregator.fixtureweb import FixtureWeb

ART = {"id": "a", "source": "autonews.example", "language": "en", "published_at": "2025-03-04T09:00:00Z",
       "title": "Ford recalls Kuga plug-in hybrids over battery fire risk", "lead": "",
       "body": "Ford is recalling Kuga plug-in hybrid SUVs in Europe because battery cells can overheat.\n\n"
               "Owners are told not to charge the cars until dealers replace the battery modules."}
OTHER = "BYD opens a battery plant in Hungary"


def _stored(dd: Deduplicator):
    return dd.embedding.vectors([1])[0]  # (made now from the kept text if no pair needed it yet)


def test_a_carried_vector_with_the_right_tag_is_used_and_a_wrong_tag_is_recomputed() -> None:
    text = embedding_input(ART)
    own = E.quantise(E.encoder().encode(text))
    foreign = E.quantise(E.encoder().encode(OTHER))
    assert not (own == foreign).all()
    b64 = E.carry(OTHER).split(" ", 1)[1]  # the other text's vector: shows which one the state keeps

    dd = Deduplicator(DedupConfig(story_embedding_weight=E.WEIGHT))
    dd.add({**ART, E.CARRIED_FIELD: f"{E.tag(text)} {b64}"})  # right tag (the vector is taken on trust)
    assert (dd.embedding.carried, dd.embedding.computed) == (1, 0)
    assert (_stored(dd) == foreign).all()

    for stale in (f"{E.tag(OTHER)} {b64}",  # made from another text
                  f"{E.tag(text).replace('.r', '.r0')} {b64}",  # by another recipe
                  f"{E.tag(text)} not-base64", f"{E.tag(text)} {b64[:40]}"):  # malformed
        dd = Deduplicator(DedupConfig(story_embedding_weight=E.WEIGHT))
        dd.add({**ART, E.CARRIED_FIELD: stale})
        assert (dd.embedding.carried, dd.embedding.computed) == (0, 0), stale  # the text kept, not encoded yet
        assert (_stored(dd) == own).all() and dd.embedding.computed == 1


def test_the_workers_text_is_the_text_add_embeds() -> None:
    dd = Deduplicator(DedupConfig(story_embedding_weight=E.WEIGHT))
    dd.add({**ART, E.CARRIED_FIELD: carry_embedding(ART)})
    assert (dd.embedding.carried, dd.embedding.computed) == (1, 0)
    ref = Deduplicator(DedupConfig(story_embedding_weight=E.WEIGHT))
    ref.add(ART)
    assert (_stored(dd) == _stored(ref)).all()


def _crawl(tmp_path, name: str, **settings) -> tuple[list[dict], dict]:
    from aggregator.cli import offline_overrides

    out, var = tmp_path / f"{name}.jsonl", tmp_path / name
    with FixtureWeb() as web:
        overrides = {**offline_overrides(web.host_map()), "AGGREGATOR_VAR": str(var),
                     "AGGREGATOR_INDEX_ENABLED": False, "FEEDS": {str(out): {"format": "jsonlines"}}, **settings}
        stats = crawl(["electrek", "cleantechnica"], overrides, {"AGGREGATOR_VAR": str(var)})
    return [json.loads(line) for line in out.read_text().splitlines()], stats


def _total(stats: dict, key: str) -> int:
    return sum(s.get(key, 0) for s in stats.values())


def test_a_crawl_with_workers_gives_the_story_ids_of_computing_in_process(tmp_path) -> None:
    rows, stats = _crawl(tmp_path, "workers", AGGREGATOR_EXTRACT_WORKERS=1, AGGREGATOR_EXTRACT_EMBEDDING=True)
    assert len(rows) > 4 and _total(stats, "dedup/embedding_carried") > 0
    assert _total(stats, "dedup/features_carried") > 0  # the article's own features too (aggregator/dedup/prepared.py)
    assert not any(k.startswith("_") for r in rows for k in r)  # what was carried does not reach the export
    # the same articles in the order the crawl's state numbered them (the order they were added) through a
    # Deduplicator that encodes every one itself: the same ids, and the vectors the crawl's state kept (made
    # in the worker process) are the ones this process makes
    state = open_store(f"file:{tmp_path / 'workers' / 'dedup'}")
    rows.sort(key=lambda r: state.doc_number(r["id"], create=False))
    ref = Deduplicator(DedupConfig(story_embedding_weight=E.WEIGHT))
    assert [(r["story_id"], r["dup_id"]) for r in rows] == [
        (a.story_id, a.dup_id) for a in (ref.add(r) for r in rows)]
    assert ref.embedding.carried == 0 and len({r["story_id"] for r in rows}) < len(rows)  # some stories shared
    for r in rows:
        ours = ref.embedding.vectors([ref.store.doc_number(r["id"], create=False)])[0]
        crawled = state.vec_get(E.SPACE, [state.doc_number(r["id"], create=False)], E.WIDTH)[0]
        assert ours.any() and (ours == crawled).all()
    # by default nothing is computed in the workers, and a crawl in one language encodes nothing at all
    _, lazy = _crawl(tmp_path, "lazy", AGGREGATOR_EXTRACT_WORKERS=1)
    assert sum(_total(lazy, f"dedup/embedding_{k}") for k in ("carried", "recomputed", "encoded")) == 0
    assert _total(lazy, "dedup/features_carried") > 0


def test_a_vector_is_made_only_when_a_pair_in_two_languages_needs_it() -> None:
    from test_dedup_embed import DE, EN, PLANT

    copy = dict(EN, id="en-copy", source="wire.example")
    arts = [EN, copy, PLANT, DE]
    lazy = Deduplicator(DedupConfig(story_embedding_weight=E.WEIGHT))
    eager = Deduplicator(DedupConfig(story_embedding_weight=E.WEIGHT))  # every vector made before its add
    ids = []
    for a in arts:
        ids.append((lazy.add(a).story_id, eager.add({**a, E.CARRIED_FIELD: carry_embedding(a)}).story_id))
        if a is copy:  # two English reports: nothing in two languages yet, nothing encoded
            assert (lazy.embedding.computed, lazy.embedding.deferred) == (0, 2)
    assert [x for x, _ in ids] == [y for _, y in ids] and ids[0][0] == ids[3][0]  # the German report joined
    made = lazy.embedding.computed
    assert 2 <= made <= 4  # the German pair's two sides (and those it met), each once
    lazy_rows, eager_rows = lazy.embedding.vectors([1, 2, 3, 4]), eager.embedding.vectors([1, 2, 3, 4])
    assert (lazy_rows == eager_rows).all() and lazy_rows.any(axis=1).all()
    assert not any(lazy.store.get(f"{E.PENDING}:{n}") for n in (1, 2, 3, 4))  # the kept texts are gone once made
    # a changed article keeps its new text, not the vector of its old one
    changed = dict(EN, title="Ford recalls Kuga hybrids", body=ART["body"])
    lazy.add(changed)
    assert (lazy.embedding.vectors([1])[0] == E.vector(embedding_input(changed))).all()


def test_auto_asks_the_workers_for_the_embedding_once_the_crawl_mixes_languages() -> None:
    from scrapy.settings import Settings

    from spiders.news import _embedding_wanted, _LanguageMix

    assert _embedding_wanted(Settings()) == "auto"
    assert _embedding_wanted(Settings({"AGGREGATOR_EXTRACT_EMBEDDING": "1"})) is True
    assert _embedding_wanted(Settings({"AGGREGATOR_EXTRACT_EMBEDDING": "auto",
                                       "AGGREGATOR_DEDUP_STORY_EMBEDDING_WEIGHT": 0})) is False
    assert _embedding_wanted(Settings({"AGGREGATOR_DEDUP_ENABLED": False})) is False
    mix = _LanguageMix()
    for _ in range(100):
        mix.observe("en")
    mix.observe("sv")  # a language the model does not know: no vector would be made for it
    mix.observe("de")
    assert not mix.mixed()  # one German report in a hundred English ones
    for _ in range(5):
        mix.observe("de-AT")
    assert mix.mixed()
