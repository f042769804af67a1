"""The dedup features computed in the extraction workers and carried with the item (``_dedup_features``).

``Deduplicator.add`` uses carried features only when their tag matches the article it sees and no unit of
the article is boilerplate the source's state has learned since; otherwise it computes them itself. Either
way every assignment is the one computing in-process gives.
"""

from __future__ import annotations

from aggregator.dedup import DedupConfig, Deduplicator, prepared

BOILER = "Subscribe to our newsletter for the latest EV news every morning."


def _articles() -> list[dict]:
    """Reprints, rewrites and unrelated reports over two sources whose bodies end in a line the state learns
    as boilerplate (at 3 documents) half-way through."""
    events = [("Tesla", "Berlin", "5,000", "Model Y"), ("BYD", "Szeged", "150,000", "Dolphin"),
              ("Ford", "Cologne", "1,200", "Explorer"), ("NIO", "Hefei", "20,000", "ET5")]
    out = []
    for n in range(24):
        maker, city, units, model = events[n % len(events)]
        source = ("electrek", "cnevpost")[n % 2]
        body = (f"{maker} said on Tuesday it will build {units} {model} cars a week at its {city} plant.\n\n"
                f"The company told reporters the {city} line starts production in the spring of 2026.\n\n"
                + (f"Analysts expect {maker} to reach the target within {n % 5 + 2} months.\n\n" if n % 3 else "")
                + (BOILER if n >= 6 else f"Story {n} was written by a staff reporter."))
        out.append({"id": f"a{n}", "source": source, "language": "en", "title": f"{maker} ramps {model} output in "
                    f"{city}" + (" to record" if n % 4 == 3 else ""), "body": body,
                    "published_at": f"2026-03-{1 + n // 6:02d}T0{n % 9}:00:00Z"})
    return out


def _key(a) -> tuple:
    return (a.article_id, a.dup_id, a.story_id, a.new_story, a.new_dup, tuple(a.merged_story_ids),
            tuple(a.merged_dup_ids))


def test_carried_features_give_the_assignments_of_computing_in_process() -> None:
    cfg = DedupConfig(story_embedding_weight=0)
    arts = _articles()
    before = dict(prepared.counts)
    ref, dd = Deduplicator(cfg), Deduplicator(cfg)
    expected = [_key(ref.add(dict(a))) for a in arts]
    got = [_key(dd.add({**a, prepared.FIELD: prepared.prepare(a)})) for a in arts]
    assert got == expected
    assert sorted(dd.assignments()) == sorted(ref.assignments())
    assert len({k[2] for k in expected}) < len(arts)  # some stories shared
    used = prepared.counts["carried"] - before.get("carried", 0)
    learned = prepared.counts["boilerplate"] - before.get("boilerplate", 0)
    # the learned boilerplate line made the later articles fall back to computing; the others were carried
    assert used > 0 and learned > 0 and used + learned == len(arts)


def test_stale_or_malformed_features_are_recomputed() -> None:
    cfg = DedupConfig(story_embedding_weight=0)
    a, b = _articles()[:2]
    other = prepared.prepare(b)
    for value in ((other[0], *prepared.prepare(a)[1:]),  # another article's tag
                  (prepared.prepare(a)[0], other[1], other[2]),  # the right tag, b's features: taken on trust
                  "garbage", ("x", [], ())):
        dd = Deduplicator(cfg)
        before = dict(prepared.counts)
        dd.add({**a, prepared.FIELD: value})
        used = prepared.counts["carried"] - before.get("carried", 0)
        assert used == (1 if value[0] == prepared.prepare(a)[0] else 0), value
    # a config that reads the text otherwise (another shingle size) does not take them either
    dd = Deduplicator(DedupConfig(story_embedding_weight=0, shingle_size=4))
    before = prepared.counts["stale"]
    dd.add({**a, prepared.FIELD: prepared.prepare(a)})
    assert prepared.counts["stale"] == before + 1


def test_carried_signatures_are_used_only_by_a_state_that_signs_alike() -> None:
    from aggregator.dedup.minhash import KPERM

    arts = _articles()[:8]
    carried = [{**a, prepared.FIELD: prepared.prepare(a)} for a in arts]  # signed as a new state signs (OPH)
    assert carried[0][prepared.FIELD][2][8][0][0] != KPERM
    for cfg in (DedupConfig(story_embedding_weight=0), DedupConfig(story_embedding_weight=0, minhash_scheme=KPERM)):
        ref, dd = Deduplicator(cfg), Deduplicator(cfg)
        assert [_key(dd.add(dict(a))) for a in carried] == [_key(ref.add(dict(a))) for a in arts]
        n = dd.store.doc_number(arts[-1]["id"], create=False)
        assert (dd.store.vec_get("sig", [n], cfg.num_perm) == ref.store.vec_get("sig", [n], cfg.num_perm)).all()
