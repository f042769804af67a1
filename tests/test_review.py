"""The review app over HTTP (Starlette TestClient) on the real engine: auth, CSRF, escaping, actions."""

from __future__ import annotations

import pytest
from conftest import requires
from starlette.testclient import TestClient
from test_review_support import (
    A1,
    A2,
    A3,
    A4,
    B1,
    B2,
    C1,
    EDITOR,
    PASSWORD,
    PASSWORD_HASH,
    csrf_from,
    seed,
)

from aggregator import decisions
from aggregator.review import auth
from aggregator.review.app import Settings, create_app
from aggregator.review.text import highlight_shared, shared_spans

pytestmark = pytest.mark.engine
#: the review pages' reads and decisions run on OpenSearch and on Elasticsearch (tests/conftest.py)
ENGINE_FLAVORS = ("opensearch", "elasticsearch")


@pytest.fixture
def editors(monkeypatch, tmp_path):
    monkeypatch.setenv("AGGREGATOR_EDITORS", f"{EDITOR}:{PASSWORD_HASH}")
    monkeypatch.setenv("AGGREGATOR_EDITORS_FILE", str(tmp_path / "editors.toml"))


@pytest.fixture
def seeded(search, editors):
    return seed(search)


def make_client(search, **settings) -> TestClient:
    app = create_app(search, Settings(secret="test-secret-" + "x" * 32, **settings))
    return TestClient(app, follow_redirects=False)


def signed_in(search, **settings) -> TestClient:
    client = make_client(search, **settings)
    token = csrf_from(client.get("/login").text)
    resp = client.post("/login", data={"name": EDITOR, "password": PASSWORD, "csrf": token, "next": "/"})
    assert resp.status_code == 303, resp.text
    return client


def post_action(client: TestClient, path: str, **data) -> object:
    token = csrf_from(client.get(path.rsplit("/", 1)[0]).text)
    return client.post(path, data={"csrf": token, **data})


# -- pure helpers --------------------------------------------------------------------------------

def test_highlighter_escapes_before_marking():
    ref = "Tesla cut the price of the Model Y in Germany today"
    text = '<b onmouseover="x()">Tesla cut the price of the Model Y</b> in Germany & more'
    html = str(highlight_shared(text, [ref]))
    assert "<b" not in html and "&lt;b onmouseover=" in html
    assert "&gt;<mark>Tesla cut the price of the Model Y</mark>&lt;/b&gt;" in html
    assert "&amp; more" in html


def test_shared_spans_need_a_full_run():
    assert shared_spans("the electric car market", ["the electric car market grows"], n=5) == []
    assert shared_spans("a b c d e f", ["x a b c d e y"], n=5) == [(0, 9)]


def test_deterministic_ids():
    assert decisions.split_story_id("s1", "a1") == decisions.split_story_id("s1", "a1")
    assert decisions.split_story_id("s1", "a1").startswith("s-") and len(decisions.split_story_id("s1", "a1")) == 18
    assert decisions.not_duplicate_dup_id("d1", "a2").startswith("d-")


def test_decision_needs_its_fields():
    with pytest.raises(decisions.DecisionError):
        decisions.Decision(action="split", editor="e", story_id="s")
    with pytest.raises(decisions.DecisionError):
        decisions.Decision(action="delete", editor="e", story_id="s")


def test_editors_from_env_and_file(monkeypatch, tmp_path):
    path = tmp_path / "editors.toml"
    monkeypatch.setenv("AGGREGATOR_EDITORS_FILE", str(path))
    monkeypatch.setenv("AGGREGATOR_EDITORS", f"bob:{PASSWORD_HASH}")
    auth.add_editor("carol", "another password")
    assert path.stat().st_mode & 0o077 == 0
    editors = auth.load_editors()
    assert set(editors) == {"bob", "carol"}
    assert auth.verify(editors, "carol", "another password")
    assert not auth.verify(editors, "carol", "wrong password")
    assert not auth.verify(editors, "nobody", "another password")
    with pytest.raises(ValueError):
        auth.add_editor("bad name!", "long enough password")
    with pytest.raises(ValueError):
        auth.add_editor("dave", "short")


# -- access control ------------------------------------------------------------------------------

def test_pages_require_sign_in_unless_public(search, seeded):
    client = make_client(search)
    resp = client.get("/story/story-tesla")
    assert resp.status_code == 303 and resp.headers["location"].startswith("/login?next=%2Fstory%2Fstory-tesla")
    assert make_client(search, public=True).get("/").status_code == 200


def test_security_headers_and_cookie_flags(search, seeded):
    client = make_client(search)
    resp = client.get("/login")
    csp = resp.headers["content-security-policy"]
    assert "script-src 'none'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp
    assert resp.headers["x-frame-options"] == "DENY"
    assert resp.headers["x-content-type-options"] == "nosniff"
    cookie = resp.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie


def test_actions_need_an_editor(search, seeded):
    client = make_client(search, public=True)
    token = csrf_from(client.get("/login").text)
    resp = client.post("/story/story-tesla/split", data={"csrf": token, "article_id": A4["id"]})
    assert resp.status_code == 403
    assert search.get(decisions.index_names()["articles"], A4["id"])["_source"]["story_id"] == "story-tesla"


def test_csrf_is_checked(search, seeded):
    client = signed_in(search)
    for data in ({"article_id": A4["id"]}, {"article_id": A4["id"], "csrf": "forged"}):
        assert client.post("/story/story-tesla/split", data=data).status_code == 403
    assert client.post("/story/story-tesla/confirm", data={"csrf": ""}).status_code == 403
    assert decisions.load_decisions(search) == []


def test_wrong_password_and_throttling(search, seeded):
    client = make_client(search)
    token = csrf_from(client.get("/login").text)
    for _ in range(5):
        resp = client.post("/login", data={"name": EDITOR, "password": "nope", "csrf": token})
        assert resp.status_code == 401
    resp = client.post("/login", data={"name": EDITOR, "password": PASSWORD, "csrf": token})
    assert resp.status_code == 429 and int(resp.headers["retry-after"]) > 0


def test_login_rejects_open_redirect(search, seeded):
    client = make_client(search)
    token = csrf_from(client.get("/login").text)
    resp = client.post("/login", data={"name": EDITOR, "password": PASSWORD, "csrf": token,
                                       "next": "//evil.example/"})
    assert resp.headers["location"] == "/"


# -- rendering -----------------------------------------------------------------------------------

def test_hostile_article_is_escaped(search, seeded):
    client = signed_in(search)
    html = client.get("/story/story-tesla").text
    assert "<script>alert" not in html and "&lt;script&gt;alert(&#34;xss-title&#34;)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=" in html
    assert "<svg" not in html and "<iframe" not in html
    assert 'href="javascript:' not in html
    assert "<mark>" in html  # shared passages highlighted
    assert "<script" not in html  # and the page itself carries no script at all


def test_story_page_shows_timeline_and_similarity(search, seeded):
    html = signed_in(search).get("/story/story-tesla").text
    assert "Who published first" in html
    assert html.index("+1h 30m") < html.index("+2h 15m") < html.index("+3h 00m")
    assert "similarity" in html and "canonical" in html


def test_list_tabs_search_filters_and_paging(search, seeded):
    requires(search, "painless")  # the review tab's multi-source test is a script query
    client = signed_in(search)
    review = client.get("/?tab=review").text
    assert "/story/story-tesla" in review and "/story/story-ionity" in review
    assert "/story/story-rivian" not in review
    largest = client.get("/?tab=largest").text
    assert largest.index("/story/story-tesla") < largest.index("/story/story-ionity")
    assert largest.index("/story/story-ionity") < largest.index("/story/story-rivian")
    found = client.get("/", params={"q": "Ionity chargers"}).text
    assert "/story/story-ionity" in found and "/story/story-tesla" not in found
    # hostile search text goes to simple_query_string, which never errors on syntax
    assert client.get("/", params={"q": 'title:(x OR "y) AND /[a-z/ *'}).status_code == 200
    by_source = client.get("/", params={"source": "cleantechnica"}).text
    assert "/story/story-ionity" in by_source and "/story/story-tesla" not in by_source
    dated = client.get("/", params={"from": "2025-03-04", "to": "2025-03-05"}).text
    assert "/story/story-rivian" in dated and "/story/story-ionity" not in dated
    paged = signed_in(search, page_size=1)
    first, second = paged.get("/?tab=newest").text, paged.get("/?tab=newest&page=2").text
    assert "/story/story-rivian" in first and "/story/story-tesla" in second and "Page 2 of 3" in second


# -- actions and their effect on the index ---------------------------------------------------------

def test_confirm(search, seeded):
    client = signed_in(search)
    resp = post_action(client, "/story/story-tesla/confirm")
    assert resp.status_code == 303 and resp.headers["location"] == "/story/story-tesla"
    story = decisions.get_story(search, "story-tesla")
    assert story["status"] == "confirmed" and story["needs_review"] is False
    page = client.get("/story/story-tesla").text
    assert "Story confirmed." in page and "confirmed <code>story-tesla</code>" in page
    [decision] = decisions.load_decisions(search)
    assert (decision.action, decision.editor, decision.story_id) == ("confirm", EDITOR, "story-tesla")


def test_split(search, seeded):
    client = signed_in(search)
    resp = post_action(client, "/story/story-tesla/split", article_id=A4["id"])
    assert resp.status_code == 303
    new_id = decisions.split_story_id("story-tesla", A4["id"])
    names = decisions.index_names()
    assert search.get(names["articles"], A4["id"])["_source"]["story_id"] == new_id
    old, new = decisions.get_story(search, "story-tesla"), decisions.get_story(search, new_id)
    assert old["member_count"] == 3 and A4["id"] not in [m["article_id"] for m in old["members"]]
    assert old["status"] == "edited" and old["sources"] == ["electrek", "evil-blog", "insideevs"]
    assert old["last_seen"] == A3["published_at"] and old["canonical_id"] == A1["id"]
    assert new["member_count"] == 1 and new["canonical_id"] == A4["id"] and new["headline"] == A4["title"]
    assert new["status"] == "edited"
    page = client.get("/story/story-tesla").text
    assert f'id="a-{A4["id"]}"' not in page and "split article" in page
    assert "split article" in client.get(f"/story/{new_id}").text
    [decision] = decisions.load_decisions(search)
    assert (decision.action, decision.story_id, decision.article_id) == ("split", "story-tesla", A4["id"])
    # the only article of a story cannot be split out
    assert post_action(client, f"/story/{new_id}/split", article_id=A4["id"]).status_code == 400


def test_merge_keeps_the_older_story(search, seeded):
    client = signed_in(search)
    # merging from the newer story's page: the older one (ionity, first seen 2 March) survives
    resp = post_action(client, "/story/story-rivian/merge", other_story_id="story-ionity")
    assert resp.status_code == 303 and resp.headers["location"] == "/story/story-ionity"
    names = decisions.index_names()
    assert search.get(names["articles"], C1["id"])["_source"]["story_id"] == "story-ionity"
    survivor, gone = decisions.get_story(search, "story-ionity"), decisions.get_story(search, "story-rivian")
    assert survivor["member_count"] == 3 and survivor["merged_from"] == ["story-rivian"]
    assert survivor["last_seen"] == C1["published_at"]
    assert gone["status"] == "merged" and decisions.merged_into(search, gone) == "story-ionity"
    assert "/story/story-rivian" not in client.get("/").text
    assert "merged into" in client.get("/story/story-rivian").text
    search.delete(names["stories"], "story-rivian")  # as the indexer does with absorbed stories
    search.refresh(names["stories"])
    assert client.get("/story/story-rivian").headers["location"] == "/story/story-ionity"
    assert client.get("/story/no-such-story").status_code == 404
    # a merged story cannot take part in another decision
    assert post_action(client, "/story/story-tesla/merge", other_story_id="story-rivian").status_code == 400
    assert post_action(client, "/story/story-tesla/merge", other_story_id="story-tesla").status_code == 400


def test_merge_candidates_from_search(search, seeded):
    html = signed_in(search).get("/story/story-tesla", params={"merge_q": "Ionity"}).text
    assert 'name="other_story_id" value="story-ionity"' in html


def test_not_duplicate(search, seeded):
    client = signed_in(search)
    resp = post_action(client, "/story/story-ionity/not-duplicate", article_id=B1["id"],
                       other_article_id=B2["id"])
    assert resp.status_code == 303
    names = decisions.index_names()
    new_dup = decisions.not_duplicate_dup_id("d-ionity", B2["id"])
    assert search.get(names["articles"], B2["id"])["_source"]["dup_id"] == new_dup
    assert search.get(names["articles"], B1["id"])["_source"]["dup_id"] == "d-ionity"
    story = decisions.get_story(search, "story-ionity")
    assert {m["article_id"]: m["dup_id"] for m in story["members"]}[B2["id"]] == new_dup
    assert "as not duplicates" in client.get("/story/story-ionity").text


def test_decisions_replay_in_order_and_idempotently(search, seeded):
    d1 = decisions.Decision(action="split", editor=EDITOR, story_id="story-tesla", article_id=A2["id"],
                            at="2025-03-05T10:00:00Z")
    d2 = decisions.Decision(action="confirm", editor=EDITOR, story_id="story-tesla", at="2025-03-05T11:00:00Z")
    decisions.decide(search, d2)
    decisions.decide(search, d1)
    assert [d.action for d in decisions.load_decisions(search)] == ["split", "confirm"]
    assert [d.action for d in decisions.load_decisions(search, since="2025-03-05T10:30:00Z")] == ["confirm"]
    before = decisions.get_story(search, "story-tesla")
    decisions.apply_to_index(search, d1)  # applying again changes nothing
    after = decisions.get_story(search, "story-tesla")
    assert before["members"] == after["members"] and before["member_count"] == after["member_count"] == 3
    assert A1["id"] in {m["article_id"] for m in after["members"]}


def test_add_editor_command_prompts_and_stores_a_hash(monkeypatch, tmp_path):
    import typer
    from typer.testing import CliRunner

    from aggregator.review.cli import add_editor_command, review_command

    path = tmp_path / "editors.toml"
    monkeypatch.setenv("AGGREGATOR_EDITORS_FILE", str(path))
    monkeypatch.delenv("AGGREGATOR_EDITORS", raising=False)
    app = typer.Typer()
    app.command("review")(review_command)
    app.command("add-editor")(add_editor_command)
    result = CliRunner().invoke(app, ["review", "--add-editor", "erin"], input="s3cret pass\ns3cret pass\n")
    assert result.exit_code == 0, result.output
    assert "s3cret" not in path.read_text()
    assert auth.verify(auth.load_editors(), "erin", "s3cret pass")
    result = CliRunner().invoke(app, ["add-editor", "erin"], input="short\nshort\n")
    assert result.exit_code == 2 and auth.verify(auth.load_editors(), "erin", "s3cret pass")


def test_list_page_escapes_hostile_headlines(search, editors):
    requires(search, "painless")  # the review tab's multi-source test is a script query
    seed(search, {"story-evil": ([A3, A1], {"confidence": 0.3, "needs_review": True})})
    html = signed_in(search).get("/?tab=review").text
    assert "/story/story-evil" in html and "<script>alert" not in html and "&lt;script&gt;" in html


def test_engine_down_is_a_503(monkeypatch, editors):
    import socket

    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("AGGREGATOR_SEARCH_URL", f"http://127.0.0.1:{port}")
    client = TestClient(create_app(None, Settings(secret="s" * 40, public=True)), follow_redirects=False)
    resp = client.get("/")
    assert resp.status_code == 503 and "did not answer" in resp.text
