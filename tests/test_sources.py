"""The outlet registry: the shipped file is valid and the loader rejects the mistakes people make."""

from __future__ import annotations

import pytest

from aggregator.sources import SourceConfigError, get_source, load_sources, source_for_url

REQUIRED = {"reuters", "electrek", "insideevs", "cnevpost", "carnewschina", "arenaev", "electrive",
            "cleantechnica", "teslarati"}


def test_registry_has_the_required_outlets_and_a_non_english_one():
    sources = load_sources()
    names = {s.name for s in sources}
    assert REQUIRED <= names and len(sources) >= 10
    assert any(s.language != "en" for s in sources)
    assert [s.name for s in sources if s.wire] == ["reuters"]


def test_every_discovery_url_is_on_the_sources_domains():
    for source in load_sources():
        assert source.start_urls, source.name
        for url in source.start_urls:
            assert source.owns_host(url.split("/")[2]), (source.name, url)


def test_article_patterns_match_real_url_shapes():
    assert get_source("electrek").is_article_url("https://electrek.co/2026/11/20/some-story/")
    assert not get_source("electrek").is_article_url("https://electrek.co/guides/tesla/")
    assert get_source("reuters").is_article_url(
        "https://www.reuters.com/business/autos-transportation/xiaomi-europe-2026-11-18/?utm_source=x")
    assert get_source("teslarati").is_article_url("https://www.teslarati.com/tesla-semi-nevada-factory/")
    assert not get_source("teslarati").is_article_url("https://www.teslarati.com/category/news/")
    assert get_source("arenaev").is_article_url("https://www.arenaev.com/bmw_ix3_range_test-news-4807.php")


def test_source_for_url_uses_any_domain_and_subdomains():
    assert source_for_url("https://reuters.com/x").name == "reuters"
    assert source_for_url("https://m.arenaev.com/x").name == "arenaev"
    assert source_for_url("https://example.org/") is None
    with pytest.raises(KeyError):
        get_source("nope")


@pytest.mark.parametrize("snippet, message", [
    ('name = "Bad Name"\ntitle = "x"\ndomains = ["a.com"]\nlanguage = "en"', "must match"),
    ('name = "a"\ntitle = "x"\ndomains = ["a.com"]\nlanguage = "en"\narticle_patterns = ["("]', "bad article"),
    ('name = "a"\ntitle = "x"\ndomains = ["a.com"]\nlanguage = "en"\nfeeds = ["https://b.com/feed"]', "outside"),
    ('name = "a"\ntitle = "x"\ndomains = ["a.com"]\nlanguage = "english"', "ISO 639-1"),
    ('name = "a"\ntitle = "x"\ndomains = ["a.com"]\nlanguage = "en"\nfeed = []', "unknown keys"),
    ('title = "x"\ndomains = ["a.com"]\nlanguage = "en"', "missing name"),
])
def test_invalid_registries_are_rejected(tmp_path, snippet, message):
    path = tmp_path / "sources.toml"
    path.write_text("[[source]]\n" + snippet + "\n")
    with pytest.raises(SourceConfigError, match=message):
        load_sources(path)


def test_duplicate_domains_are_rejected(tmp_path):
    path = tmp_path / "sources.toml"
    block = '[[source]]\nname = "{}"\ntitle = "x"\ndomains = ["a.com"]\nlanguage = "en"\n'
    path.write_text(block.format("a") + block.format("b"))
    with pytest.raises(SourceConfigError, match="claimed by both"):
        load_sources(path)
