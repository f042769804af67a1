from aggregator.crawlstate import CrawlState


def test_versions_count_content_changes_only(tmp_path):
    state = CrawlState(tmp_path / "s.sqlite")
    assert state.record_content("a1", "h1") == (1, True)
    assert state.record_content("a1", "h1") == (1, False)
    assert state.record_content("a1", "h2") == (2, True)
    assert state.record_content("b2", "h1") == (1, True)
    assert len(state) == 2


def test_validators_survive_reopen(tmp_path):
    path = tmp_path / "s.sqlite"
    state = CrawlState(path)
    state.record_fetch("https://electrek.co/x/", '"abc"', "Mon, 24 Nov 2025 00:00:00 GMT")
    state.close()
    page = CrawlState(path).get("https://electrek.co/x/")
    assert page.etag == '"abc"' and page.last_modified.startswith("Mon")
    assert page.fetched_at is not None


def test_an_empty_state_is_truthy_without_counting(tmp_path) -> None:
    # `if state:` must not mean "has rows" (it used to run COUNT(*) over the table on every URL)
    state = CrawlState(tmp_path / "state.sqlite")
    assert state and len(state) == 0
    state.close()
