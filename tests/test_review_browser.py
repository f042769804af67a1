"""The review page in a real browser (Debian's chromium via Playwright) against the real engine.

Seeds the engine with stories as the dedup stage assigns them (when ``aggregator.dedup`` is
available), signs in, splits an article out of a story, and checks the decision persisted, that the
hostile article stayed inert, and that the dedup stage honours the decision on a later run.
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pytest
from test_review_support import A2, A3, ARTICLES, EDITOR, PASSWORD, PASSWORD_HASH, STORIES, seed

from aggregator import decisions
from aggregator.review.app import Settings, create_app

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = [
    pytest.mark.engine,
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium at /usr/bin/chromium "
                                                     "(apt-get install -y chromium)"),
]


def _dedup():
    try:
        from aggregator.dedup import Deduplicator
    except ImportError:
        return None
    return Deduplicator if hasattr(Deduplicator, "apply_decision") else None


def stories_from_dedup(deduplicator_cls) -> dict:
    """Cluster the fixture articles with the real dedup stage, shaped like ``STORIES`` for seeding."""
    dd = deduplicator_cls()
    groups: dict[str, list[dict]] = {}
    confidence: dict[str, float] = {}
    for art in ARTICLES:
        assignment = dd.add(art)
        art_with = art | {"dup_id": assignment.dup_id}
        groups.setdefault(assignment.story_id, []).append(art_with)
        confidence[assignment.story_id] = min(confidence.get(assignment.story_id, 1.0), assignment.confidence)
    return {sid: (members, {"confidence": confidence[sid], "needs_review": len(members) > 1})
            for sid, members in groups.items()}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def served(search, monkeypatch, tmp_path):
    """The app on a free port in a background uvicorn thread; yields its base URL."""
    import uvicorn

    monkeypatch.setenv("AGGREGATOR_EDITORS", f"{EDITOR}:{PASSWORD_HASH}")
    monkeypatch.setenv("AGGREGATOR_EDITORS_FILE", str(tmp_path / "editors.toml"))
    app = create_app(search, Settings(secret="browser-test-secret-" + "y" * 32))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 1000})
        page = context.new_page()
        page.dialogs = []  # every dialog that fires would be an XSS: record and dismiss it

        def on_dialog(dialog) -> None:
            page.dialogs.append(dialog.message)
            dialog.dismiss()

        page.on("dialog", on_dialog)
        try:
            yield page
        finally:
            context.close()
            browser.close()


def test_sign_in_review_and_split_in_browser(search, served, browser_page):
    page = browser_page
    deduplicator_cls = _dedup()
    stories = stories_from_dedup(deduplicator_cls) if deduplicator_cls else STORIES
    seed(search, stories)
    story_id = next(sid for sid, (members, _) in stories.items() if A3["id"] in {m["id"] for m in members})
    assert A2["id"] in {m["id"] for m in stories[story_id][0]}

    # signing in is required: the list redirects to the form
    page.goto(served + "/")
    assert "/login" in page.url
    page.fill("input[name=name]", EDITOR)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(served + "/")
    assert page.get_by_text(f"Signed in as {EDITOR}").is_visible()

    # the needs-review tab lists the mixed story; open it
    page.click("text=Needs review")
    link = page.locator(f'a[href="/story/{story_id}"]')
    assert link.count() == 1
    link.click()
    page.wait_for_url(f"{served}/story/{story_id}")

    # the hostile article renders as inert text
    hostile = page.locator(f'#a-{A3["id"]}')
    assert hostile.get_by_text('<script>alert("xss-title")</script>', exact=False).is_visible()
    assert hostile.get_by_text("onerror=\"alert('xss-body')\"", exact=False).is_visible()
    assert hostile.get_by_text("<svg onload=alert('xss-lead')></svg>", exact=False).is_visible()
    for selector in ("script", "img", "svg", "iframe", 'a[href^="javascript:"]', "[onerror]", "[onload]"):
        assert page.locator(f"main {selector}").count() == 0, selector
    assert page.locator("mark").count() > 0  # shared passages highlighted
    assert page.locator(".timeline li").count() == len(stories[story_id][0])

    # split the insideevs article out of the story
    page.locator(f'#a-{A2["id"]} button:has-text("Remove from this story")').click()
    page.wait_for_load_state()
    new_id = decisions.split_story_id(story_id, A2["id"])
    assert page.get_by_text(f"Article split out into story {new_id}").is_visible()

    # after a reload the decision is still there: audit trail, article gone, new story exists
    page.reload()
    assert page.locator(".audit li.decision-split").count() == 1
    assert EDITOR in page.locator(".audit li.decision-split").inner_text()
    assert page.locator(f'#a-{A2["id"]}').count() == 0
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-story.png"), full_page=True)
    page.goto(f"{served}/story/{new_id}")
    assert page.locator(f'#a-{A2["id"]}').count() == 1
    assert page.locator("h1.headline").inner_text() == A2["title"]
    assert page.dialogs == []

    # the dedup stage can honour it on later runs
    loaded = decisions.load_decisions(search)
    assert [(d.action, d.story_id, d.article_id, d.editor) for d in loaded] == [
        ("split", story_id, A2["id"], EDITOR)]
    if deduplicator_cls is None:
        pytest.skip("aggregator.dedup.Deduplicator with apply_decision() is not available yet: "
                    "replaying the split through the dedup stage was not checked")
    dd = deduplicator_cls()
    for art in ARTICLES:
        dd.add(art)
    assert dd.story_of(A2["id"]) == story_id
    for decision in loaded:
        dd.apply_decision(decision.to_doc())
    again = dd.add(A2)
    assert again.story_id != story_id and dd.story_of(A2["id"]) != story_id
