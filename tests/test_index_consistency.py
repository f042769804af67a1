"""The articles index, the stories index and the dedup state agree after merges, editor actions and crashes.

Crawls run for real, in subprocesses, over the benchmark's generated local web (1,000 article pages of two
outlets served by nginx, or Python's http.server, through ``AGGREGATOR_HOST_MAP``) plus 8 bridging triples
(``benchmarks.web.bridge_articles``: a wire text and two excerpts of it, two stories until the full text
arrives after both, which then merges them). Every scenario ends by reading both indices and the dedup
state and asserting each invariant of the README ("Invariants"). One clean crawl is shared by the tests
that build on it; each crash scenario has its own state and prefix. The clean crawl with its merges and a
``kill -9`` + rerun also run against the suite's Elasticsearch node (``AGGREGATOR_TEST_ELASTICSEARCH=0``
or ``-m "not elasticsearch"`` leaves them out).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = 1000
BRIDGES = 8  # triples of benchmarks.web.bridge_articles: story merges in a clean crawl, whatever its order
pytestmark = pytest.mark.engine


# -- the local web and crawls ------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def web():
    """The generated web with its bridging triples (cached under benchmarks/data), served for the module."""
    if str(ROOT) not in sys.path:  # the benchmarks package sits beside the installed one
        sys.path.insert(0, str(ROOT))
    from benchmarks.web import Server, ensure_web, load_manifest

    root = ensure_web(PAGES, bridges=BRIDGES)
    server = Server(root).start()
    try:
        yield Web(server.host_map(), len(load_manifest(root)))
    finally:
        server.stop()


class Web:
    def __init__(self, host_map: dict, pages: int) -> None:
        self.host_map, self.pages = host_map, pages


class Crawl:
    """One crawl environment: its own state folder and index prefix on one test engine (``access``: the
    ``AGGREGATOR_SEARCH_*`` variables that sign in to the Elasticsearch node)."""

    def __init__(self, engine: str, web: Web, root: Path, access: dict | None = None) -> None:
        self.engine, self.host_map, self.pages, self.var = engine, web.host_map, web.pages, root / "var"
        self.placed_dir = root / "placed"
        self.access = dict(access or {})
        self.prefix = f"t{uuid.uuid4().hex[:10]}-"

    def env(self) -> dict:
        return {**os.environ, **self.access, "AGGREGATOR_VAR": str(self.var), "AGGREGATOR_SEARCH_URL": self.engine,
                "AGGREGATOR_INDEX_PREFIX": self.prefix}

    def start(self, *settings: str, placed: bool = False) -> subprocess.Popen:
        """A crawl of both outlets; ``placed``: each article's labels when the dedup placed it are written to
        ``placed_dir`` (a feed export of id, story_id, dup_id: what a merge after it changes)."""
        if placed:
            feed = {str(self.placed_dir / "%(name)s.jsonl"): {"format": "jsonlines",
                                                              "fields": ["id", "story_id", "dup_id"]}}
            settings = (*settings, f"FEEDS={json.dumps(feed)}")
        cmd = [sys.executable, "-m", "aggregator.cli", "crawl", "electrek", "cnevpost",
               "-s", f"AGGREGATOR_HOST_MAP={json.dumps(self.host_map)}", "-s", "DOWNLOAD_DELAY=0",
               "-s", "AUTOTHROTTLE_ENABLED=False", "-s", "CONCURRENT_REQUESTS_PER_DOMAIN=16",
               "-s", "LOG_LEVEL=WARNING", *[x for s in settings for x in ("-s", s)]]
        return subprocess.Popen(cmd, cwd=ROOT, env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                text=True)

    def run(self, *settings: str, timeout: float = 300, placed: bool = False) -> str:
        proc = self.start(*settings, placed=placed)
        try:
            out = proc.communicate(timeout=timeout)[0]
        except subprocess.TimeoutExpired:
            proc.kill()
            out = proc.communicate()[0]
            raise AssertionError(f"crawl did not finish within {timeout}s:\n{out[-3000:]}") from None
        assert proc.returncode == 0, out[-3000:]
        return out

    def client(self):
        from aggregator.search.client import Credentials, connect

        os.environ["AGGREGATOR_INDEX_PREFIX"] = self.prefix  # aliases are read at call time
        return connect(self.engine, Credentials(username=self.access.get("AGGREGATOR_SEARCH_USER"),
                                                password=self.access.get("AGGREGATOR_SEARCH_PASSWORD"),
                                                ca_certs=self.access.get("AGGREGATOR_SEARCH_CA_CERTS")))

    def placed(self) -> dict[str, tuple[str, str]]:
        """article id -> (story_id, dup_id) the dedup gave it when it placed it (``run(placed=True)``)."""
        out = {}
        for path in sorted(self.placed_dir.glob("*.jsonl")):
            for line in path.read_text().splitlines():
                row = json.loads(line)
                out[row["id"]] = (row["story_id"], row["dup_id"])
        return out

    def indexed_articles(self) -> int:
        client = self.client()
        alias = f"{self.prefix}articles"
        if not client.index_exists(alias):
            return 0
        client.refresh(alias)
        return client.count(alias)

    def kill_when(self, proc: subprocess.Popen, ready, timeout: float = 240) -> None:
        """SIGKILL the crawl we started (by its pid) once ``ready()`` holds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and proc.poll() is None and not ready():
            time.sleep(0.5)
        if proc.poll() is not None:
            raise AssertionError("the crawl ended before it could be killed:\n" + proc.communicate()[0][-3000:])
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=60)

    def cleanup(self) -> None:
        from aggregator.search import indices

        indices.drop_all(self.client(), self.prefix)  # by name: Elasticsearch refuses wildcard deletes


@pytest.fixture(scope="module")
def crawls(web, tmp_path_factory):
    """Makes crawl environments on an engine (its URL, and for Elasticsearch the access variables)."""
    made: list[Crawl] = []
    saved = os.environ.get("AGGREGATOR_INDEX_PREFIX")

    def make(engine: str, access: dict | None = None) -> Crawl:
        crawl = Crawl(engine, web, tmp_path_factory.mktemp("crawl"), access)
        made.append(crawl)
        return crawl

    yield make
    for crawl in made:
        crawl.cleanup()
    if saved is None:
        os.environ.pop("AGGREGATOR_INDEX_PREFIX", None)
    else:
        os.environ["AGGREGATOR_INDEX_PREFIX"] = saved


@pytest.fixture(scope="module")
def es_access(elasticsearch_node) -> tuple[str, dict]:
    """The suite's Elasticsearch node: its URL and the variables a deployment sets to sign in."""
    return elasticsearch_node.url, elasticsearch_node.env()


@pytest.fixture(scope="module")
def clean(crawls, engine) -> Crawl:
    """One uninterrupted crawl of the whole web, on OpenSearch."""
    crawl = crawls(engine)
    crawl.run(placed=True)
    return crawl


@pytest.fixture(scope="module")
def es_clean(crawls, es_access) -> Crawl:
    """The same on Elasticsearch."""
    crawl = crawls(*es_access)
    crawl.run(placed=True)
    return crawl


# -- the invariants, read from the engine and the state --------------------------------------------------

def read_all(crawl: Crawl):
    """(articles id -> source, stories id -> source, the state's Deduplicator) as they stand now."""
    from aggregator.dedup import Deduplicator, open_store

    client = crawl.client()
    for kind in ("articles", "stories"):
        client.refresh(f"{crawl.prefix}{kind}")
    articles = {h["_id"]: h["_source"] for h in client.scan(f"{crawl.prefix}articles")}
    stories = {h["_id"]: h["_source"] for h in client.scan(f"{crawl.prefix}stories")}
    dd = Deduplicator(store=open_store(f"file:{crawl.var / 'dedup'}"))
    return articles, stories, dd


def assert_invariants(crawl: Crawl, expect_articles: int | None = None) -> tuple[dict, dict]:
    articles, stories, dd = read_all(crawl)
    assert len(articles) == (crawl.pages if expect_articles is None else expect_articles)
    # 1. every article's labels are the ones the dedup state gives it now
    wrong = {a: (doc.get("story_id"), doc.get("dup_id"), dd.story_of(a), dd.dup_of(a))
             for a, doc in articles.items()
             if (doc.get("story_id"), doc.get("dup_id")) != (dd.story_of(a), dd.dup_of(a))}
    assert not wrong, f"{len(wrong)} articles carry labels the state does not give them: {list(wrong.items())[:3]}"
    # 2. every story document lists exactly the articles carrying its id (with their dup ids), and no
    #    article is listed twice; only editors' member-less tombstones stand for no live story
    by_story: dict[str, dict[str, str]] = defaultdict(dict)
    for a, doc in articles.items():
        by_story[doc["story_id"]][a] = doc["dup_id"]
    live = {sid: doc for sid, doc in stories.items() if doc.get("members")}
    tombstones = {sid for sid, doc in stories.items() if not doc.get("members")}
    assert all(stories[sid].get("status") in ("merged", "empty") for sid in tombstones), tombstones
    assert set(live) == set(by_story), (f"stories without document: {sorted(set(by_story) - set(live))[:5]}, "
                                        f"documents of no story: {sorted(set(live) - set(by_story))[:5]}")
    for sid, doc in live.items():
        listed = {m["article_id"]: m.get("dup_id") for m in doc["members"]}
        assert listed == by_story[sid], sid
        assert doc["member_count"] == len(listed)
    twice = [a for a, n in Counter(m["article_id"] for d in live.values() for m in d["members"]).items() if n > 1]
    assert not twice, f"{len(twice)} articles listed by two story documents"
    # 3. a merged-away id has no live document and no article carries it
    merged_away = {m for doc in live.values() for m in doc.get("merged_from") or []}
    assert not merged_away & set(live)
    assert not merged_away & set(by_story)
    assert all(dd.current_id(sid) == sid for sid in live)
    return articles, stories


def drift(crawl: Crawl) -> int:
    from aggregator.dedup import Deduplicator, open_store
    from aggregator.search.consistency import Consistency

    dd = Deduplicator(store=open_store(f"file:{crawl.var / 'dedup'}"))
    return Consistency(dd, crawl.client()).check().drift


# -- the scenarios -----------------------------------------------------------------------------------------

def assert_merges_moved_articles(crawl: Crawl) -> tuple[int, int]:
    """The crawl's story and copy-cluster merges moved articles, and each moved one carries the survivor.

    Compares the labels each article got when the dedup placed it (the crawl's feed export) with what the
    engine holds now: in a clean crawl without editors only a merge changes them. Returns (articles whose
    story_id a merge changed, articles whose dup_id did)."""
    articles, stories = assert_invariants(crawl)
    placed = crawl.placed()
    assert set(placed) == set(articles)
    from aggregator.dedup import Deduplicator, open_store

    dd = Deduplicator(store=open_store(f"file:{crawl.var / 'dedup'}"))
    moved_story = {a: old for a, (old, _) in placed.items() if old != articles[a]["story_id"]}
    moved_dup = {a: old for a, (_, old) in placed.items() if old != articles[a]["dup_id"]}
    # the headline case of issue 15: stories merge during a clean crawl (the bridging triples make sure)
    assert moved_story, "no story merge moved an article: the bridging triples did not merge stories"
    assert moved_dup, "no copy-cluster merge moved an article"
    for a, old in moved_story.items():
        now = articles[a]["story_id"]
        assert dd.current_id(old) == now != old  # the survivor, read from the engine
        assert old not in stories, f"the merged-away story {old} kept a document"
        assert old in stories[now]["merged_from"], (old, stories[now]["merged_from"])
        assert a in {m["article_id"] for m in stories[now]["members"]}
    for a, old in moved_dup.items():
        assert dd.current_id(old) == articles[a]["dup_id"] != old
    carrying = {doc["story_id"] for doc in articles.values()} | {doc["dup_id"] for doc in articles.values()}
    assert not carrying & (set(moved_story.values()) | set(moved_dup.values())), "an article kept a merged-away id"
    return len(moved_story), len(moved_dup)


def test_clean_crawl_moves_every_merged_article(clean):
    moved = assert_merges_moved_articles(clean)
    print(f"articles moved by merges in the clean crawl (story, dup): {moved}")
    assert drift(clean) == 0


@pytest.fixture(scope="module")
def crashing(crawls, engine) -> Crawl:
    """The crash scenarios share one state: a crawl killed before its first checkpoint, a short rerun,
    a crawl killed after a checkpoint, then the whole crawl again."""
    return crawls(engine)


def _recorded(crawl: Crawl) -> int:
    """Articles the crawl state recorded: it does so only at a dedup checkpoint."""
    from aggregator.crawlstate import CrawlState

    path = crawl.var / "crawl" / "state.sqlite"
    if not path.exists():
        return 0
    state = CrawlState(path)
    try:
        return len(state)
    finally:
        state.close()


def kill9_before_the_first_checkpoint_then_rerun(crawl: Crawl) -> None:
    # no checkpoint for 10 minutes: the kill lands before the first one, whatever the machine's speed
    proc = crawl.start("AGGREGATOR_CHECKPOINT_INTERVAL=600")
    crawl.kill_when(proc, lambda: crawl.indexed_articles() >= 150)
    assert _recorded(crawl) == 0  # nothing was checkpointed
    # a rerun that stops early (a clean close after 100 articles) is enough to see the recovery
    out = crawl.run("CLOSESPIDER_ITEMCOUNT=100")
    assert "reconciled the indices after 1 crashed run" in out
    assert_invariants(crawl, expect_articles=crawl.indexed_articles())
    assert drift(crawl) == 0


def test_kill9_before_the_first_checkpoint_then_rerun(crashing):
    kill9_before_the_first_checkpoint_then_rerun(crashing)


def test_kill9_after_a_checkpoint_then_rerun(crashing):
    before = _recorded(crashing)
    proc = crashing.start("AGGREGATOR_CHECKPOINT_INTERVAL=2")
    crashing.kill_when(proc, lambda: _recorded(crashing) >= before + 150)
    out = crashing.run()
    assert "reconciled the indices after 1 crashed run" in out
    assert_invariants(crashing)


def test_editor_split_merge_and_not_duplicate_then_crawl(clean):
    from aggregator import decisions
    from aggregator.dedup.ids import not_duplicate_dup_id, split_story_id

    client = clean.client()
    articles_before, stories = read_all(clean)[:2]
    big = sorted((s for s in stories.values() if s.get("member_count", 0) >= 3),
                 key=lambda s: (-s["member_count"], s["story_id"]))
    assert len(big) >= 3, "not enough multi-article stories for the scenario"
    split_from, first, second = big[0], big[1], big[2]
    leaving = split_from["members"][-1]["article_id"]
    decisions.decide(client, decisions.Decision("split", "ed", story_id=split_from["story_id"],
                                                article_id=leaving))
    survivor = decisions.decide(client, decisions.Decision("merge", "ed", story_id=first["story_id"],
                                                           other_story_id=second["story_id"]))[0]
    # and "not a copy" for two copies (one dup cluster) of a story none of the above touched
    touched = {split_from["story_id"], first["story_id"], second["story_id"]}
    copies = defaultdict(list)
    for a, doc in sorted(articles_before.items()):
        if doc["story_id"] not in touched:
            copies[doc["dup_id"]].append(a)
    shared, (kept, apart) = next((d, pair[:2]) for d, pair in sorted(copies.items()) if len(pair) >= 2)
    decisions.decide(client, decisions.Decision("not_duplicate", "ed", article_id=kept, other_article_id=apart))
    out = clean.run()  # applies the decisions to the state at open, then reconciles the stories they touched
    articles, stories = assert_invariants(clean)
    assert articles[leaving]["story_id"] == split_story_id(split_from["story_id"], leaving)
    moved = {m["article_id"] for s in (first, second) for m in s["members"]}
    assert {articles[a]["story_id"] for a in moved} == {survivor}, "one story: the one the review page kept"
    assert articles[kept]["dup_id"] == shared
    assert articles[apart]["dup_id"] == not_duplicate_dup_id(shared, apart)
    assert articles[apart]["story_id"] == articles_before[apart]["story_id"]  # it keeps its story
    assert drift(clean) == 0, out[-2000:]


def test_index_check_command_counts_repairs_and_exits(clean, monkeypatch):
    """``aggregator index check [--repair]`` on the crawled indices with drift put in by hand: a table of
    counts and exit 1; ``--repair`` fixes it (exit 0); the next check finds nothing (exit 0)."""
    import typer
    from typer.testing import CliRunner

    from aggregator.search import cli

    client = clean.client()
    articles, stories = read_all(clean)[:2]
    big = max(stories.values(), key=lambda s: (s.get("member_count", 0), s["story_id"]))
    other = next(s for s in sorted(stories) if s != big["story_id"] and stories[s].get("members"))
    moved = big["members"][0]["article_id"]
    alias = f"{clean.prefix}articles"
    client.put(alias, moved, {**client.get(alias, moved)["_source"], "story_id": other}, refresh=True)
    client.delete(f"{clean.prefix}stories", big["story_id"])

    app = typer.Typer()
    app.command("check")(cli.index_check_command)
    app.command("status")(cli.index_status_command)  # (two commands: "check" stays a subcommand)
    monkeypatch.setenv("AGGREGATOR_INDEX_PREFIX", clean.prefix)
    runner = CliRunner()

    def check(*args: str):
        return runner.invoke(app, ["check", "--store", f"file:{clean.var / 'dedup'}", "--url", clean.engine, *args])

    def found(output: str, kind: str) -> str:
        line = next(line for line in output.splitlines() if line.startswith(f"│ {kind} "))
        return [cell.strip() for cell in line.split("│")][3]

    first = check()
    assert first.exit_code == 1, first.output
    assert found(first.output, "article_story_stale") == "1" and found(first.output, "story_missing") == "1"
    assert found(first.output, "story_orphan") == "0"
    repaired = check("--repair")
    assert repaired.exit_code == 0, repaired.output
    assert "repaired: articles_relabelled 1, stories_written 1" in repaired.output
    assert check().exit_code == 0
    assert client.get(alias, moved)["_source"]["story_id"] == big["story_id"]
    assert_invariants(clean)


# -- the same on Elasticsearch -----------------------------------------------------------------------------

@pytest.mark.elasticsearch
def test_clean_crawl_moves_every_merged_article_on_elasticsearch(es_clean):
    assert_merges_moved_articles(es_clean)
    assert drift(es_clean) == 0


@pytest.mark.elasticsearch
def test_kill9_before_the_first_checkpoint_then_rerun_on_elasticsearch(crawls, es_access):
    kill9_before_the_first_checkpoint_then_rerun(crawls(*es_access))
