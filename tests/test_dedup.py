"""aggregator.dedup: maths, storage, decisions, CLI and quality on the labeled corpus."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from aggregator.dedup import DedupConfig, Deduplicator, cluster_articles, open_store
from aggregator.dedup.features import extract, numbers
from aggregator.dedup.lsh import band_keys, choose_bands, collision_probability
from aggregator.dedup.metrics import evaluate
from aggregator.dedup.minhash import KPERM, Signer, jaccard
from aggregator.dedup.text import (
    normalize,
    shingle_hash32,
    shingle_hashes,
    shingles,
    token_hash64,
    token_hashes,
    tokenize,
)

CORPUS = Path(__file__).parent / "data" / "dedup_corpus.jsonl"


def _corpus() -> list[dict]:
    return [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]


# --- normalisation and shingles -------------------------------------------------------------

def test_normalize_nfkc_case_and_punctuation() -> None:
    assert tokenize("Ｔesla’s ＭＯＤＥＬ-Y, costs 25,000€!") == ["tesla", "s", "model", "y", "costs", "25", "000"]
    assert normalize("STRASSE") == normalize("Straße")
    assert tokenize("比亚迪Seal 06") == ["比", "亚", "迪", "seal", "06"]
    assert tokenize("  ...  ") == []


def test_vectorised_hashes_match_reference() -> None:
    text = "BYD’s Seal 06 — 比亚迪宣布 25 000 € à Zürich 𠀀 end"
    assert token_hashes(text).tolist() == [token_hash64(t) for t in tokenize(text)]
    for k in (1, 3, 5):
        assert shingle_hashes(token_hashes(text), k).tolist() == [shingle_hash32(s) for s in shingles(text, k)]
    # fewer tokens than k: one shingle of what there is
    assert len(shingle_hashes(token_hashes("two words"), 5)) == 1


def test_signature_equals_datasketch_for_same_hash() -> None:
    from datasketch import LeanMinHash, MinHash

    text = " ".join(random.Random(1).choice(["ev", "battery", "byd", "tesla", "price", "cut", "plant"])
                    for _ in range(300))
    signer = Signer(num_perm=128, seed=1, shingle_size=3, scheme=KPERM)
    ref = MinHash(num_perm=128, seed=1, hashfunc=shingle_hash32)
    for sh in shingles(text, 3):
        ref.update(sh)
    _, sig = signer.sign_text(text)
    assert sig.dtype == np.uint32
    assert np.array_equal(sig, ref.hashvalues)
    lean = signer.to_datasketch(sig)
    assert isinstance(lean, LeanMinHash) and lean.jaccard(LeanMinHash(ref)) == 1.0


def test_minhash_estimates_jaccard() -> None:
    rng = np.random.default_rng(3)
    a = np.unique(rng.integers(0, 2**32, 2000, dtype=np.uint64).astype(np.uint32))
    b = np.unique(np.concatenate([a[:1200], rng.integers(0, 2**32, 800, dtype=np.uint64).astype(np.uint32)]))
    s = Signer(num_perm=256)
    est = float(np.mean(s.sign(a) == s.sign(b)))
    assert abs(est - jaccard(a, b)) < 0.08


# --- LSH --------------------------------------------------------------------------------

@pytest.mark.parametrize("threshold", [0.2, 0.3, 0.5, 0.7])
@pytest.mark.parametrize("num_perm", [64, 128])
def test_choose_bands_recall_at_threshold(threshold: float, num_perm: int) -> None:
    b, r = choose_bands(threshold, num_perm, 0.98)
    assert b * r <= num_perm
    assert collision_probability(threshold, b, r) >= 0.98
    # and it is not the naive "threshold" choice: LSH's default point is far below this recall
    assert collision_probability(threshold, b, r) > collision_probability(threshold, num_perm // 8, 8)


def test_choose_bands_prefers_fewer_false_positives() -> None:
    b, r = choose_bands(0.5, 128, 0.98)
    b1 = choose_bands(0.5, 128, 0.98, max_bands=num) if (num := 128) else None
    assert (b, r) == b1
    assert collision_probability(0.1, b, r) < collision_probability(0.1, 128, 1)


def test_band_recall_empirical() -> None:
    """Pairs at the LSH threshold are found >= 98% of the time (Monte Carlo on real signatures)."""
    rng = np.random.default_rng(7)
    signer = Signer(num_perm=128)
    t = 0.3
    b, r = choose_bands(t, 128, 0.98)
    found = 0
    trials = 300
    for _ in range(trials):
        common = rng.integers(0, 2**32, 300, dtype=np.uint64).astype(np.uint32)
        extra = rng.integers(0, 2**32, 1400, dtype=np.uint64).astype(np.uint32)
        a = np.unique(np.concatenate([common, extra[:700]]))
        c = np.unique(np.concatenate([common, extra[700:]]))  # J = 300/1700 ~ 0.18 .. widen:
        a = np.unique(np.concatenate([common, extra[:350]]))
        c = np.unique(np.concatenate([common, extra[350:700]]))  # J = 300/1000 = 0.3
        ka, kc = band_keys(signer.sign(a), b, r), band_keys(signer.sign(c), b, r)
        found += bool(np.any(ka == kc))
    assert found / trials >= 0.95  # 0.98 expected; slack for Monte Carlo noise


# --- features ---------------------------------------------------------------------------

def test_numbers_across_languages() -> None:
    assert numbers("sold 300,000 cars, up 24.5%", "en") == {"3e+05", "p:24.5"}
    assert numbers("300.000 Autos, ein Plus von 24,5 Prozent", "de") == {"3e+05", "p:24.5"}
    assert numbers("300 000 voitures, soit 24,5 %", "fr") == {"3e+05", "p:24.5"}
    assert numbers("销量30万辆，同比增长24.5%", "zh") == {"3e+05", "p:24.5"}
    assert numbers("1,2 Milliarden Euro", "de") == numbers("1.2 billion euros", "en") == numbers("12亿欧元")
    assert numbers("on Oct 15, 2024 it had 3 models") == set()


def test_names_link_scripts() -> None:
    zh = extract("比亚迪海豹06上市", "", "", "zh").names
    en = extract("BYD launches Seal 06", "", "", "en").names
    assert {"byd", "seal 06"} <= set(zh) & set(en)


# --- corpus quality ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def corpus() -> list[dict]:
    return _corpus()


def test_corpus_shape(corpus: list[dict]) -> None:
    assert 150 <= len(corpus) <= 300
    assert {r["language"] for r in corpus} >= {"en", "de", "fr", "zh"}
    assert all({"id", "url", "title", "body", "published", "source", "dup_label", "story_label"} <= set(r)
               for r in corpus)


def test_dup_tier_f1(corpus: list[dict]) -> None:
    pred = cluster_articles(corpus, "dup")
    m = evaluate({r["id"]: r["dup_label"] for r in corpus}, pred)
    assert m["pairwise_f1"] >= 0.97, m


def test_story_tier_f1_and_no_hard_negative_merged(corpus: list[dict]) -> None:
    pred = cluster_articles(corpus, "story")
    labels = {r["id"]: r["story_label"] for r in corpus}
    m = evaluate(labels, pred)
    assert m["pairwise_f1"] >= 0.90, m
    # hard negatives: every predicted story holds exactly one labeled story
    by_pred: dict[str, set[str]] = {}
    for i, c in pred.items():
        by_pred.setdefault(c, set()).add(labels[i])
    assert all(len(v) == 1 for v in by_pred.values())


def test_every_dup_cluster_within_one_story(corpus: list[dict]) -> None:
    dd = Deduplicator()
    for r in sorted(corpus, key=lambda r: r["published"]):
        dd.add({**r, "published_at": r["published"]})
    seen: dict[str, str] = {}
    for r in corpus:
        d, s = dd.dup_of(r["id"]), dd.story_of(r["id"])
        assert seen.setdefault(d, s) == s


# --- API behaviour ----------------------------------------------------------------------

WIRE = ("BYD said on Friday it delivered 412,310 vehicles in October, up 31.5% from a year earlier. "
        "Overseas shipments reached 31,204 units as the company expands in Europe and Latin America.\n\n"
        "The figure compares with 401,100 vehicles in September, the company said in a filing.\n\n"
        "Analysts said competition in China remains intense as rivals cut prices to defend share.")


def _art(i: str, body: str = WIRE, title: str = "BYD October sales rise", src: str = "reuters",
         when: str = "2024-11-01T08:00:00Z", **kw: str) -> dict:
    return {"id": i, "title": title, "body": body, "source": src, "published_at": when, **kw}


def test_add_assignment_and_story() -> None:
    cfg = DedupConfig(wire_sources=frozenset({"reuters"}))
    with Deduplicator(cfg, open_store("memory:")) as dd:
        a = dd.add(_art("w1"))
        assert a.new_dup and a.new_story and a.confidence == 1.0
        assert a.dup_id.startswith("d-") and a.story_id.startswith("s-")
        b = dd.add(_art("c1", "Editor's note: updated.\n\n" + WIRE + "\n\nSubscribe to our newsletter.",
                        title="BYD posts record month", src="evblog", when="2024-11-01T07:00:00Z"))
        assert (b.dup_id, b.story_id) == (a.dup_id, a.story_id) and not b.new_dup
        z = dd.add(_art("z1", "比亚迪周五表示，10月交付41.231万辆，同比增长31.5%，海外销量3.1204万辆。",
                        title="比亚迪10月销量增长31.5%", src="sina", when="2024-11-01T12:00:00Z", language="zh"))
        assert z.story_id == a.story_id and z.dup_id != a.dup_id and 0 < z.confidence < 1
        neg = dd.add(_art("n1", "BYD will build a plant in Hungary with capacity of 150,000 cars a year, "
                                "investing 4.1 billion euros and creating 3,200 jobs, it said on Friday.",
                          title="BYD picks Hungary for plant", when="2024-11-01T09:00:00Z"))
        assert neg.story_id != a.story_id
        s = dd.story(a.story_id)
        assert s is not None and {m.article_id for m in s.members} == {"w1", "c1", "z1"}
        assert s.canonical_id == "c1"  # earliest published wins over the wire source
        assert [m.article_id for m in s.timeline][0] == "c1"
        # re-add with changed text: re-evaluated, no second entry
        again = dd.add(_art("n1", WIRE.replace("Analysts", "Experts"), when="2024-11-01T09:00:00Z"))
        assert again.story_id == a.story_id
        assert dd.story(neg.story_id) is None or "n1" not in {m.article_id for m in dd.story(neg.story_id).members}
        assert sum(m.article_id == "n1" for m in dd.story(a.story_id).members) == 1


def test_short_boilerplate_posts_do_not_merge() -> None:
    foot = ("FTC: We use income earning auto affiliate links. More.\nSubscribe to the newsletter.\n"
            "Follow us on YouTube for daily deals and reviews of the latest gear.")
    dd = Deduplicator()
    ids = {dd.add(_art(f"p{i}", f"Today's deal: the {g} drops to ${p}.\n\n{foot}", title=f"Deal: {g}",
                       src="deals")).dup_id
           for i, (g, p) in enumerate([("charger", 199), ("dash cam", 49), ("tire inflator", 35)])}
    assert len(ids) == 3


def test_incremental_across_instances_file_store(tmp_path: Path) -> None:
    spec = f"file:{tmp_path / 'dedup'}"
    with Deduplicator(store=open_store(spec)) as dd:
        first = dd.add(_art("w1"))
    with Deduplicator(store=open_store(spec)) as dd2:
        second = dd2.add(_art("c2", WIRE + "\n\nRead more: our EV coverage", src="evblog",
                              when="2024-11-01T10:00:00Z"))
        assert (second.dup_id, second.story_id) == (first.dup_id, first.story_id)
        assert dd2.story_of("w1") == first.story_id
    assert not list((tmp_path / "dedup").glob(".*"))  # atomic writes left no temp files


def test_stable_ids_across_runs() -> None:
    arts = _corpus()[:40]
    assert cluster_articles(arts, "story") == cluster_articles(arts, "story")


def test_editor_decisions_survive_readding(tmp_path: Path) -> None:
    spec = f"file:{tmp_path / 'd'}"
    other = ("Tesla cut the price of the Model Y in Germany to 39,990 euros from 44,990 euros on Tuesday, "
             "the latest move in a price war among electric carmakers. Orders from this week qualify.")
    with Deduplicator(store=spec) as dd:
        a = dd.add(_art("w1"))
        dd.add(_art("c1", WIRE + "\n\nShare this story.", src="evblog", when="2024-11-01T09:00:00Z"))
        z = dd.add(_art("z1", "比亚迪10月交付41.231万辆，同比增长31.5%，海外销量3.1204万辆。", src="sina",
                        title="比亚迪10月销量", when="2024-11-01T12:00:00Z", language="zh"))
        t = dd.add(_art("t1", other, title="Tesla cuts Model Y price", when="2024-11-01T10:00:00Z"))
        assert z.story_id == a.story_id and t.story_id != a.story_id
        # split: z1 leaves the story and gets its own
        affected = dd.apply_decision({"action": "split", "story_id": a.story_id, "article_id": "z1",
                                      "editor": "ed", "at": "2024-11-02T00:00:00Z"})
        assert a.story_id in affected and dd.story_of("z1") != a.story_id
        # not_duplicate: c1 must leave w1's dup cluster (and, linked only directly, its story stays via text)
        dd.apply_decision({"action": "not_duplicate", "article_id": "w1", "other_article_id": "c1"})
        assert dd.dup_of("c1") != dd.dup_of("w1")
        # merge: the older id survives
        res = dd.apply_decision({"action": "merge", "story_id": t.story_id, "other_story_id": a.story_id})
        assert res[0] == a.story_id and dd.story_of("t1") == a.story_id
        assert t.story_id in dd.story(a.story_id).merged_from
        assert dd.apply_decision({"action": "confirm", "story_id": a.story_id}) == [a.story_id]
    with Deduplicator(store=spec) as dd:  # a later run re-adds everything with edited text
        dd.add(_art("z1", "比亚迪10月交付41.231万辆，同比增长31.5%，海外销量3.1204万辆。据报道。", src="sina",
                    title="比亚迪10月销量", when="2024-11-01T12:00:00Z", language="zh"))
        assert dd.story_of("z1") != a.story_id
        dd.add(_art("c1", WIRE + "\n\nShare this story!!", src="evblog", when="2024-11-01T09:00:00Z"))
        assert dd.dup_of("c1") != dd.dup_of("w1")
        dd.add(_art("t1", other + " Updated.", title="Tesla cuts Model Y price", when="2024-11-01T10:00:00Z"))
        assert dd.story_of("t1") == a.story_id
        s = dd.story(a.story_id)
        assert s is not None and s.confirmed
        assert dd.story(t.story_id).story_id == a.story_id  # merged id resolves to the survivor


# --- CLI --------------------------------------------------------------------------------

def _cli():
    import typer

    from aggregator.dedup.cli import dedup_command, eval_command

    app = typer.Typer()
    app.command("dedup")(dedup_command)
    app.command("eval")(eval_command)
    return app


def test_cli_bad_lines_and_eval(tmp_path: Path) -> None:
    rows = _corpus()[:30]
    src = tmp_path / "in.jsonl"
    lines = [json.dumps(r) for r in rows]
    lines.insert(3, "{not json")
    lines.insert(7, json.dumps({"id": "nobody", "title": "x"}))
    src.write_text("\n".join(lines) + "\n")
    out = tmp_path / "clusters.json"
    runner = CliRunner()
    res = runner.invoke(_cli(), ["dedup", str(src), "--out", str(out), "--level", "dup"])
    assert res.exit_code == 0, res.output
    assert "line 4" in res.stderr and "line 8" in res.stderr and "missing body" in res.stderr
    clusters = json.loads(out.read_text())
    assert set(clusters) == {r["id"] for r in rows}
    only_bad = tmp_path / "bad.jsonl"
    only_bad.write_text("{oops\n[1,2]\n")
    res = runner.invoke(_cli(), ["dedup", str(only_bad), "--out", str(tmp_path / "o.json")])
    assert res.exit_code == 1
    # eval: labels as a JSONL corpus, predictions as a map; --json
    res = runner.invoke(_cli(), ["eval", str(CORPUS), str(out), "--label-key", "dup_label", "--json"])
    assert res.exit_code == 0, res.output
    m = json.loads(res.stdout)
    assert m["pairwise_f1"] >= 0.97 and m["n"] == 30
    combined = tmp_path / "both.json"
    combined.write_text(json.dumps({"labels": {"a": "1", "b": "1", "c": "2"}, "predicted": {"a": "x", "b": "x",
                                                                                          "c": "y"}}))
    res = runner.invoke(_cli(), ["eval", str(combined)])
    assert res.exit_code == 0 and "ARI" in res.stdout


def test_metrics_known_values() -> None:
    m = evaluate({"a": "1", "b": "1", "c": "2", "d": "2"}, {"a": "x", "b": "x", "c": "x", "d": "y"})
    assert m["pairwise_precision"] == pytest.approx(1 / 3) and m["pairwise_recall"] == pytest.approx(1 / 2)
    perfect = evaluate({"a": "1", "b": "1", "c": "2"}, {"a": "q", "b": "q", "c": "r"})
    assert perfect["ari"] == pytest.approx(1.0) and perfect["bcubed_f1"] == pytest.approx(1.0)


def test_incremental_any_order_keeps_precision(corpus: list[dict]) -> None:
    """Streaming in arbitrary order (boilerplate not yet learned) still merges no labeled stories."""
    rows = [{**r, "published_at": r["published"]} for r in corpus]
    random.Random(11).shuffle(rows)
    dd = Deduplicator()
    for r in rows:
        dd.add(r)
    for key, of in (("dup_label", dd.dup_of), ("story_label", dd.story_of)):
        m = evaluate({r["id"]: r[key] for r in rows}, {r["id"]: of(r["id"]) for r in rows})
        assert m["pairwise_precision"] == 1.0 and m["pairwise_f1"] >= 0.9, (key, m)


# --- cross-language story links on the offline fixture web ------------------------------

EXPECTED = Path(__file__).parent / "fixtures" / "expected"


def _fixture_articles() -> tuple[list[dict], dict[str, str]]:
    labels = {url: v["story"] for url, v in json.loads((EXPECTED / "clusters.json").read_text()).items()}
    arts = []
    for f in sorted(EXPECTED.glob("*/*.json")):
        d = json.loads(f.read_text(encoding="utf-8"))
        url = d.get("canonical_url") or d.get("url")
        if url in labels and url not in {a["id"] for a in arts}:
            arts.append({**d, "id": url})
    arts.sort(key=lambda a: (a.get("published_at") or "", a["id"]))
    return arts, labels


@pytest.mark.parametrize("reverse", [False, True])
def test_fixture_cross_language_story_links(reverse: bool) -> None:
    """The CATL sodium-ion reports (en, de, zh) share one story; no story mixes two labels."""
    arts, labels = _fixture_articles()
    assert sum(labels[a["id"]] == "S-catl-sodium" for a in arts) == 4
    dd = Deduplicator()
    for a in reversed(arts) if reverse else arts:
        dd.add(a)
    stories = {dd.story_of(a["id"]) for a in arts if labels[a["id"]] == "S-catl-sodium"}
    assert len(stories) == 1, stories
    by_story: dict[str, set[str]] = {}
    for a in arts:
        by_story.setdefault(dd.story_of(a["id"]) or "", set()).add(labels[a["id"]])
    assert all(len(v) == 1 for v in by_story.values()), by_story


def test_numbers_with_units_across_languages() -> None:
    en = numbers("cells reach 200 Wh/kg in a 75 kWh pack", "en")
    de = numbers("Zellen mit 200 Wattstunden pro Kilogramm und 75 Kilowattstunden", "de")
    zh = numbers("能量密度达200Wh/kg，75kWh电池包", "zh")
    assert {"u:200wh/kg", "u:75kwh"} <= en & de & zh


def test_packed_doc_roundtrip_and_legacy_state() -> None:
    """Documents are one packed byte string; pickles of the former dataclass layout still load."""
    import pickle

    import numpy as np

    from aggregator.dedup.core import Doc, pack_features

    dd = Deduplicator()
    art = {"id": "x1", "title": "BYD Seal 06 launched at 150,000 yuan", "source": "cnevpost", "language": "en",
           "body": "Subscribe to our newsletter\nBYD launched the Seal 06 with a 75 kWh pack and 14,881 orders.\n"
                   + " ".join(f"word{i}" for i in range(80))}
    d, feats = dd._doc_from_article(art, 7)
    back = pickle.loads(pickle.dumps(d))
    assert back.blob == d.blob and back.content_key == d.content_key and back.number == 7
    nums, names, weights, kw = d.features()
    ref = pack_features(feats)
    assert all(np.array_equal(x, y) for x, y in zip((nums, names, weights, kw), ref, strict=True))
    assert len(d.shingles) > 12 and np.all(np.diff(d.shingles.astype(np.int64)) > 0)
    # the former layout: a dict of fields with string features and per-line shingle arrays
    edge = [(k, d.shingles[:5]) for k in (11, 22)]
    legacy = {"number": 7, "article_id": "x1", "source": "cnevpost", "title": art["title"], "published": None,
              "language": "en", "content_key": d.content_key.hex(), "shingles": d.shingles.copy(),
              "edge_units": edge, "feats": feats, "dup_id": "d-1", "story_id": "s-1", "similarity": 1.0,
              "pinned": False, "links": [], "spec": None, "strong": None}
    old = Doc.__new__(Doc)
    old.__setstate__(legacy)
    assert old.content_key == d.content_key and old.story_id == "s-1"
    assert np.array_equal(old.effective(set()), d.shingles)
    assert np.array_equal(old.effective({22}), d.shingles[5:])
    assert all(np.array_equal(x, y) for x, y in zip(old.features(), ref, strict=True))
