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
    ("fr1", "fr", "Northvolt en faillite", "Le fabricant suédois de batteries Northvolt a déposé le bilan."),
    ("en2", "en", "Northvolt files for bankruptcy", "The Swedish cell maker Northvolt filed for bankruptcy."),
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


def _ranked(client, text: str) -> list[str]:
    resp = client.search(indices.alias_name("articles"), queries.search_top_articles(text, size=10))
    return [h["_id"] for h in resp["hits"]["hits"]]


def _ids(client, text: str) -> set[str]:
    return set(_ranked(client, text))


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
def test_chinese_is_matched_as_words_before_characters(languages):
    # 电池 (battery) is one bigram token: the article with the word comes first; the one with 电 and 池
    # apart (电动车 ... 水池) only through the single characters of the shared vocabulary, far below
    for word, best, other in (("电池", "zh1", "zh2"), ("钠离子电池", "zh1", "zh2"), ("水池", "zh2", "zh1")):
        ranked = _ranked(languages, word)
        assert ranked[0] == best
        assert set(ranked) <= {best, other}


@pytest.mark.engine
def test_a_search_finds_its_own_language_first_then_the_subject_in_others(languages):
    # "faillite" is only in the French article: it has both words and comes first; the English article
    # shares only the name and comes next (main's query wanted both words in one field: it was left out)
    assert _ranked(languages, "Northvolt faillite") == ["fr1", "en2"]
    assert _ranked(languages, "Northvolt bankruptcy") == ["en2", "fr1"]
    assert _ranked(languages, "Batterien Reichweite") == ["de1"]  # a word of the query still has to match


@pytest.mark.engine
def test_the_shared_vocabulary_ranks_a_word_in_its_own_spelling_first(languages):
    # one analyzer for every language in the .all sub-fields: a word as spelt, whichever language has it
    live = languages.get_mapping(indices.alias_name("articles"))
    props = next(iter(live.values()))["mappings"]["properties"]
    assert props["body"]["fields"][mapping.SHARED]["analyzer"] == mapping.SHARED_ANALYZER == "standard"
    resp = languages.search(indices.alias_name("articles"),
                            {"query": {"match": {"body.all": "batteries"}}, "_source": False})
    assert {h["_id"] for h in resp["hits"]["hits"]} == {"en1", "fr1"}


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


@pytest.mark.engine
def test_an_index_of_the_previous_shape_gets_the_shared_fields_in_place(search):
    # main 7757e85's articles mapping: title/lead/body without the .all sub-fields
    old = mapping.articles_mapping()
    for name in mapping.TEXT_FIELDS:
        old["properties"][name].pop("fields")
    old = mapping._with_meta({k: v for k, v in old.items() if k != "_meta"})  # main's schema fingerprint
    alias = indices.alias_name("articles")
    name = indices.concrete_name("articles", 1)
    search.create_index(name, {"settings": {"number_of_shards": 1, "number_of_replicas": 0}, "mappings": old,
                               "aliases": {alias: {"is_write_index": True}}})
    doc = {"id": "de1", "language": "de", "title": "Neue Batterien", "body": "Batterien"}
    search.put(alias, "de1", {**doc, **mapping.language_fields(doc)}, refresh=True)
    try:
        state = indices.ensure_indices(search)["articles"]
        assert state.mapping_updated and not state.stale  # a multi-field is an additive change
        assert not any(s.stale for s in indices.status(search))
        assert _ids(search, "Batterie") == {"de1"}  # the language fields answer as before
        shared = {"query": {"match": {"body.all": "Batterien"}}}
        assert search.search(alias, shared)["hits"]["hits"] == []  # written before the sub-field existed
        if search.reindex_available():
            assert not indices.migrate(search, "articles").failures
            search.refresh(alias)
            assert [h["_id"] for h in search.search(alias, shared)["hits"]["hits"]] == ["de1"]
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


def test_names_in_another_script_are_searched_in_latin_letters_too():
    assert queries.latin_names("特斯拉 交付") == ["tesla"]
    assert queries.latin_names("本田 日产 合并") == ["honda", "nissan"]
    assert queries.latin_names("Tesla 特斯拉") == []  # already there in Latin letters
    assert queries.latin_names("Northvolt faillite") == []  # Latin spellings are the query's own words
    clauses = queries.text_clauses("蔚来 财报")
    assert clauses[-1]["multi_match"] == {"query": "nio", "fields": mapping.SHARED_FIELDS, "type": "best_fields",
                                          "boost": queries.NAMES_BOOST}
    assert len(queries.text_clauses("Nio Verluste")) == 3


@pytest.mark.engine
def test_a_chinese_search_finds_the_subject_in_latin_script_next(search, tmp_path):
    indices.ensure_indices(search)
    docs = [{"id": "zh", "url": "https://example.org/zh", "source": "example", "language": "zh", "story_id": "s-zh",
             "title": "特斯拉第三季度交付量创新高", "body": "特斯拉公布第三季度交付量，共交付四十六万辆。",
             "content_hash": "zh"},
            {"id": "en", "url": "https://example.org/en", "source": "example", "language": "en", "story_id": "s-en",
             "title": "Tesla posts record quarter", "body": "Tesla handed over 463,000 cars to customers.",
             "content_hash": "en"}]
    try:
        assert Indexer(search, Spool(tmp_path), refresh=True).index_articles(docs).indexed == 2
        assert _ranked(search, "特斯拉 交付") == ["zh", "en"]  # main's query: ["zh"]
    finally:
        indices.drop_all(search)
