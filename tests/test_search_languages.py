"""Search in the languages we crawl, on the real engine: each article analysed by its language, one query
for all of them, and the standard-analyzer fallback of clusters without the analysis modules."""

from __future__ import annotations

import pytest

from aggregator.extract.language import detect_language
from aggregator.search import indices, mapping, queries
from aggregator.search.indexer import Indexer
from aggregator.search.spool import Spool

ARTICLES = [
    ("de1", "de", "Neue Batterien für Elektroautos", "Die Batterien der neuen Modelle laden schneller als bisher."),
    ("de2", "de", "Ladesäulen an Autobahnen", "Der Bund fördert Schnellladesäulen mit zwei Milliarden Euro."),
    ("en1", "en", "New batteries for electric cars", "The batteries of the new models charge faster."),
    ("zh1", "zh", "宁德时代发布钠离子电池", "宁德时代发布第一代钠离子电池，能量密度达到160Wh/kg。"),
    ("zh2", "zh", "电动车停在水池旁边", "一辆电动车停在公园的水池旁边，司机下车拍照。"),
    ("ro1", "ro", "Bateriile noilor mașini electrice", "Bateriile sunt produse în România."),
]


def _docs():
    return [{"id": i, "url": f"https://example.org/{i}", "source": "example", "language": lang, "title": title,
             "body": body, "story_id": f"s-{i}", "content_hash": i} for i, lang, title, body in ARTICLES]


@pytest.fixture
def languages(search, tmp_path):
    indices.ensure_indices(search)
    assert Indexer(search, Spool(tmp_path), refresh=True).index_articles(_docs()).indexed == len(ARTICLES)
    yield search
    indices.drop_all(search)


def _ids(client, text: str) -> set[str]:
    resp = client.search(indices.alias_name("articles"), queries.search_top_articles(text, size=10))
    return {h["_id"] for h in resp["hits"]["hits"]}


@pytest.mark.engine
def test_german_inflections_find_each_other(languages):
    # the german analyzer stems Batterie/Batterien alike; english analysis left "batterien" unstemmed
    assert _ids(languages, "Batterien") == {"de1"}  # was nothing under the english analyzer
    assert "de1" in _ids(languages, "Batterie")  # (and en1: English stems "batteries" to the same letters)
    assert _ids(languages, "Schnellladesäule") == {"de2"}  # umlaut and plural folded (Säulen -> saul)
    assert _ids(languages, "battery") == {"en1"}  # English stemming still works, in its own field
    live = languages.get_mapping(indices.alias_name("articles"))
    props = next(iter(live.values()))["mappings"]["properties"]
    assert props["body_de"]["analyzer"] == "german" and props["body"].get("index") is False


@pytest.mark.engine
def test_chinese_is_matched_as_words_not_characters(languages):
    # 电池 (battery) is one bigram token: the article with 电 and 池 apart (电动车 ... 水池) does not match
    assert _ids(languages, "电池") == {"zh1"}
    assert _ids(languages, "钠离子电池") == {"zh1"}
    assert _ids(languages, "水池") == {"zh2"}


@pytest.mark.engine
def test_languages_without_their_own_analyzer_use_the_neutral_fields(languages):
    doc = languages.get(indices.alias_name("articles"), "ro1")["_source"]
    assert doc["body_std"] == doc["body"] and "body_en" not in doc
    assert _ids(languages, "Bateriile") == {"ro1"}


@pytest.mark.engine
def test_a_cluster_without_the_analysis_modules_gets_the_standard_analyzer(search, monkeypatch, tmp_path):
    # the minimal Elasticsearch build lacks analysis-common; an analyzer this engine does not know plays
    # that part, so the probe asks the real engine and gets its real 400 answer
    monkeypatch.setitem(mapping.ANALYZERS, "de", "no_such_analyzer")
    assert mapping.probe_analysis(search) == mapping.STANDARD_FALLBACK
    states = indices.ensure_indices(search)
    try:
        live = search.get_mapping(states["articles"].index)[states["articles"].index]["mappings"]["properties"]
        assert {live[name]["analyzer"] for name in mapping.LANGUAGE_FIELD_NAMES} == {"standard"}
        assert search.get_mapping(states["stories"].index)[states["stories"].index]["mappings"]["properties"][
            "headline"]["analyzer"] == "standard"
        assert Indexer(search, Spool(tmp_path), refresh=True).index_articles(_docs()).indexed == len(ARTICLES)
        assert _ids(search, "Batterien") == {"de1"}  # exact words still match, without stemming
        assert not any(s.stale for s in indices.status(search))
    finally:
        indices.drop_all(search)


@pytest.mark.engine
def test_migrate_gives_older_articles_their_language_fields(search):
    # an article written before the language fields existed: title/body only, in a v1 index of the old shape
    indices.ensure_indices(search)
    alias = indices.alias_name("articles")
    search.put(alias, "old", {"id": "old", "language": "de", "title": "Neue Batterien", "body": "Batterien"},
               refresh=True)
    try:
        assert _ids(search, "Batterie") == set()
        result = indices.migrate(search, "articles")
        assert not result.failures
        search.refresh(alias)
        assert _ids(search, "Batterie") == {"old"}
    finally:
        indices.drop_all(search)


@pytest.mark.parametrize("text, lang", [
    ("Bateriile noilor mașini electrice sunt produse în România și livrate în toată Europa.", "ro"),
    ("Az új elektromos autók akkumulátorait Magyarországon gyártják és egész Európába szállítják.", "hu"),
    ("Yeni elektrikli otomobillerin bataryaları Türkiye'de üretiliyor ve tüm Avrupa'ya teslim ediliyor.", "tr"),
    ("Les bateries dels nous cotxes elèctrics es fabriquen a Catalunya i es lliuren a tota Europa.", "ca"),
    ("Die Batterien der neuen Elektroautos werden in Deutschland gebaut und geliefert.", "de"),
    ("Les batteries des nouvelles voitures électriques sont fabriquées en France.", "fr"),
    ("Las baterías de los nuevos coches eléctricos se fabrican en España.", "es"),
    ("宁德时代发布第一代钠离子电池，能量密度达到160Wh/kg。", "zh"),
])
def test_the_detector_knows_the_languages_the_stop_word_vote_confused(text, lang):
    assert detect_language(text) == lang


def test_too_little_text_is_not_guessed():
    assert detect_language("Tesla Model Y") is None
    assert detect_language("") is None
