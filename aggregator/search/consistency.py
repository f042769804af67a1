"""The dedup state, the articles index and the stories index describe the same clusters: check and repair.

The dedup state (:class:`~aggregator.dedup.Deduplicator`) is the truth; the two indices are views of it:

* every indexed article's ``story_id`` and ``dup_id`` are the ids the state gives it now (never an id
  merged into another cluster, never an id the state does not hold);
* every live story of the state has one document, which lists exactly the state's members (with their
  current ``dup_id``); an article is listed by one document only;
* a story id that is not live (merged away, emptied by a split, or written by a crawl killed before its
  checkpoint) has no document -- except an editor's tombstone (status ``merged``/``empty``, no members),
  which the review page keeps so old links say where the story went.

:meth:`Consistency.check` compares, kind by kind (:data:`DRIFT_KINDS`), and with ``repair`` puts the
indices back in line through the :class:`~aggregator.search.indexer.Indexer` (partial updates by id
for articles, the story upsert, deletes; all spooled when the engine is away). Indexed articles the state
does not hold (indexed after the last checkpoint of a crawl that was then killed) are clustered from
their indexed text, so nothing the index holds is thrown away.

A full check reads the state once and the two indices once each (a scroll of ``story_id``/``dup_id``
doc values, no ``_source``, for articles; member ids for stories): linear in the size of the collection.
A scoped check (:class:`Scope`, used when a crawl opens after a crash or after editors' decisions)
reads only the named articles and stories and their neighbours.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from aggregator.search import indices

logger = logging.getLogger(__name__)

#: kind -> what it means; every one of them is drift that ``--repair`` fixes
DRIFT_KINDS: dict[str, str] = {
    "article_merged_id": "articles whose story_id was merged into another story",
    "article_story_stale": "articles whose story_id is another than the dedup state's",
    "article_dup_stale": "articles whose dup_id is another than the dedup state's",
    "article_unknown": "indexed articles the dedup state does not hold",
    "story_missing": "live stories without a story document",
    "story_members": "story documents whose members differ from the dedup state's",
    "story_orphan": "story documents of no live story (merged away, emptied, lost in a crash)",
    "article_listed_twice": "articles listed as members by two or more story documents",
}
#: counted and shown, but not drift: the crawl that placed them has not indexed them (yet)
INFO_KINDS: dict[str, str] = {
    "article_not_indexed": "articles of the dedup state not in the articles index (spooled, dead-lettered, "
                           "or not yet written)",
}
TOMBSTONES = ("merged", "empty")  # editor statuses of a story document that keeps no members
SCROLL_SIZE = 5000
MGET_SIZE = 1000
CLOSURE_ROUNDS = 64  # a scoped check's rounds of growing its scope (each reads the scope from the index)


@dataclass
class Scope:
    """Which articles and stories a scoped check reads (their neighbours are added to it)."""

    article_ids: set[str] = field(default_factory=set)
    story_ids: set[str] = field(default_factory=set)

    def __bool__(self) -> bool:
        return bool(self.article_ids or self.story_ids)


@dataclass
class Report:
    """Counts per kind (:data:`DRIFT_KINDS`, :data:`INFO_KINDS`), sizes read, and what a repair wrote."""

    counts: Counter = field(default_factory=Counter)
    examples: dict[str, list[str]] = field(default_factory=dict)
    articles_in_state: int = 0
    stories_in_state: int = 0
    articles_indexed: int = 0
    stories_indexed: int = 0
    seconds: float = 0.0
    repaired: Counter = field(default_factory=Counter)
    clustered: int = 0  # unknown articles clustered from their indexed text by a repair

    @property
    def drift(self) -> int:
        return sum(self.counts[k] for k in DRIFT_KINDS)

    def note(self, kind: str, key: str, n: int = 1) -> None:
        self.counts[kind] += n
        examples = self.examples.setdefault(kind, [])
        if len(examples) < 5:
            examples.append(key)

    def summary(self) -> str:
        parts = [f"{k}={self.counts[k]}" for k in (*DRIFT_KINDS, *INFO_KINDS) if self.counts[k]]
        return ", ".join(parts) or "no drift"


@dataclass
class _View:
    """What one side holds: article -> (story_id, dup_id); story -> {article: dup_id} (+ status)."""

    articles: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    stories: dict[str, dict[str, str | None]] = field(default_factory=dict)
    status: dict[str, str | None] = field(default_factory=dict)


def _source_kwargs(client: Any, fields: list[str]) -> dict[str, Any]:
    # the two Python clients spell source filtering differently
    key = "_source_includes" if client.flavor == "opensearch" else "source_includes"
    return {key: ",".join(fields) if client.flavor == "opensearch" else fields}


def scroll(client: Any, index: str, body: dict[str, Any], size: int = SCROLL_SIZE) -> Iterator[dict]:
    """Every hit of ``body`` (query, ``_source``, ``docvalue_fields``) in index order, ``size`` a page."""
    yield from client._helpers.scan(client.raw, index=index, query=body, size=size, scroll="2m",
                                    preserve_order=False)


class Consistency:
    """Compares a :class:`~aggregator.dedup.Deduplicator` with the articles and stories indices.

    ``indexer`` (an :class:`~aggregator.search.indexer.Indexer`) writes repairs; without one, a
    repair builds its own over ``client`` and the default spool.
    """

    def __init__(self, dd: Any, client: Any, indexer: Any = None) -> None:
        self.dd = dd
        self.client = client
        self.indexer = indexer
        self.articles = indices.alias_name("articles")
        self.stories = indices.alias_name("stories")

    # -- public ---------------------------------------------------------------------------------------
    def check(self, repair: bool = False, scope: Scope | None = None) -> Report:
        """Count drift (all of it, or around ``scope``); with ``repair``, fix it and count again.

        The returned report is the state *after* a repair (``repaired`` says what was written).
        """
        t0 = time.perf_counter()
        report = self._compare(scope)
        if repair and report.drift:
            repaired, clustered = self._repair(report, scope)
            report = self._compare(scope)
            report.repaired, report.clustered = repaired, clustered
        report.seconds = time.perf_counter() - t0
        return report

    # -- reading --------------------------------------------------------------------------------------
    def _refresh(self) -> None:
        for alias in (self.articles, self.stories):
            if self.client.index_exists(alias):
                self.client.refresh(alias)

    def _state_view(self, scope: Scope | None, index: _View) -> _View:
        view = _View()
        if scope is None:
            self._state_full(view)
            return view
        story_ids = set(scope.story_ids)
        for article_id in scope.article_ids | set(index.articles):
            story_id = self.dd.story_of(article_id)
            if story_id is not None:
                view.articles[article_id] = (story_id, self.dd.dup_of(article_id))
                story_ids.add(story_id)
        story_ids |= {s for s, _ in index.articles.values() if s} | set(index.stories)
        for story_id in story_ids:
            story = self.dd.story(story_id)
            if story is not None and story.story_id == story_id:
                view.stories[story_id] = {m.article_id: m.dup_id for m in story.members}
                for m in story.members:
                    view.articles.setdefault(m.article_id, (story_id, m.dup_id))
        return view

    def _index_view(self, scope: Scope | None) -> _View:
        view = _View()
        if scope is None:
            self._scan_articles(view)
            self._scan_stories(view)
            return view
        # scoped: the named stories, the stories listing the named articles, the articles of both
        article_ids = set(scope.article_ids)
        story_ids = set(scope.story_ids)
        for chunk in _chunks(sorted(article_ids), MGET_SIZE):
            body = {"query": {"terms": {"members.article_id": chunk}}, "_source": False}
            story_ids.update(hit["_id"] for hit in scroll(self.client, self.stories, body))
        for doc_id, src in self._mget(self.stories, story_ids, ["status", "members.article_id", "members.dup_id"]):
            self._add_story(view, doc_id, src)
            article_ids.update(view.stories[doc_id])
        for doc_id, src in self._mget(self.articles, article_ids, ["story_id", "dup_id"]):
            view.articles[doc_id] = (src.get("story_id"), src.get("dup_id"))
        return view

    def _scan_articles(self, view: _View) -> None:
        if self.client.index_exists(self.articles):
            body = {"query": {"match_all": {}}, "_source": False, "docvalue_fields": ["story_id", "dup_id"]}
            for hit in scroll(self.client, self.articles, body):
                f = hit.get("fields") or {}
                view.articles[hit["_id"]] = ((f.get("story_id") or [None])[0], (f.get("dup_id") or [None])[0])

    def _scan_stories(self, view: _View) -> None:
        if self.client.index_exists(self.stories):
            body = {"query": {"match_all": {}}, "_source": ["status", "members.article_id", "members.dup_id"]}
            for hit in scroll(self.client, self.stories, body):
                self._add_story(view, hit["_id"], hit.get("_source") or {})

    def _full_views(self) -> tuple[_View, _View]:
        """Both indices and the state read at once: the engine serves one scroll while Python decodes
        the other or walks the state (a third less wall time than one after the other, at 100k)."""
        index, state = _View(), _View()
        with ThreadPoolExecutor(3, thread_name_prefix="index-check") as pool:
            futures = [pool.submit(self._scan_articles, index), pool.submit(self._scan_stories, index),
                       pool.submit(self._state_full, state)]
            for future in futures:
                future.result()
        return index, state

    def _state_full(self, view: _View) -> None:
        for article_id, dup_id, story_id in self.dd.assignments():
            view.articles[article_id] = (story_id, dup_id)
            view.stories.setdefault(story_id, {})[article_id] = dup_id

    @staticmethod
    def _add_story(view: _View, story_id: str, src: dict[str, Any]) -> None:
        view.stories[story_id] = {m.get("article_id"): m.get("dup_id") for m in src.get("members") or []
                                  if m.get("article_id")}
        view.status[story_id] = src.get("status")

    def _mget(self, index: str, ids: Iterable[str], fields: list[str]) -> Iterator[tuple[str, dict]]:
        if not self.client.index_exists(index):
            return
        for chunk in _chunks(sorted(ids), MGET_SIZE):
            yield from self.client.mget(index, chunk, fields).items()

    def _closure(self, scope: Scope) -> tuple[Scope, _View]:
        """Grow ``scope`` until it is closed: the stories its articles carry (in the index and in the
        state), and the members of those stories (both sides), are in it. Usually one or two rounds; stale
        story documents each listing a member of the next (a crash after many merges) take one a link, and
        stopping early would leave the far end of such a chain unrepaired."""
        arts, stories = set(scope.article_ids), set(scope.story_ids)
        index = _View()
        for _ in range(CLOSURE_ROUNDS):
            index = self._index_view(Scope(arts, stories))
            more_stories = {s for s, _ in index.articles.values() if s} | set(index.stories)
            for article_id in arts | set(index.articles):
                story_id = self.dd.story_of(article_id)
                if story_id:
                    more_stories.add(story_id)
            more_arts = set(index.articles)
            for story_id in more_stories | stories:
                story = self.dd.story(story_id)
                if story is not None:
                    more_arts.update(m.article_id for m in story.members)
            if more_stories <= stories and more_arts <= arts:
                break
            stories |= more_stories
            arts |= more_arts
        else:
            logger.warning("index check: scope still growing after %d rounds (%d articles, %d stories); "
                           "`aggregator index check --repair` checks everything", CLOSURE_ROUNDS, len(arts),
                           len(stories))
        return Scope(arts, stories), index

    # -- comparing ------------------------------------------------------------------------------------
    def _compare(self, scope: Scope | None) -> Report:
        self._refresh()
        report = Report()
        if scope is None:
            index, state = self._full_views()
        else:
            closed, index = self._closure(scope)
            state = self._state_view(closed, index)
        self._last = (index, state)
        report.articles_in_state, report.stories_in_state = len(state.articles), len(state.stories)
        report.articles_indexed, report.stories_indexed = len(index.articles), len(index.stories)

        for article_id, (story_id, dup_id) in index.articles.items():
            truth = state.articles.get(article_id)
            if truth is None:
                report.note("article_unknown", article_id)
                continue
            if story_id != truth[0]:
                merged = story_id and self.dd.current_id(story_id) != story_id
                report.note("article_merged_id" if merged else "article_story_stale", article_id)
            if dup_id != truth[1]:
                report.note("article_dup_stale", article_id)
        for article_id in state.articles.keys() - index.articles.keys():
            if scope is None or article_id in scope.article_ids:
                report.note("article_not_indexed", article_id)

        listed: Counter = Counter()
        for story_id, members in index.stories.items():
            listed.update(members.keys())
            truth_members = state.stories.get(story_id)
            if truth_members is None:
                if members or index.status.get(story_id) not in TOMBSTONES:
                    report.note("story_orphan", story_id)
            elif members != truth_members:
                report.note("story_members", story_id)
        for story_id in state.stories.keys() - index.stories.keys():
            report.note("story_missing", story_id)
        for article_id, n in listed.items():
            if n > 1:
                report.note("article_listed_twice", article_id)
        return report

    # -- repairing ------------------------------------------------------------------------------------
    def _writer(self) -> Any:
        if self.indexer is None:
            from aggregator.search.indexer import Indexer

            self.indexer = Indexer(self.client)
        return self.indexer

    def _repair(self, report: Report, scope: Scope | None) -> tuple[Counter, int]:
        """Write what makes the indices agree with the state; returns (writes per kind, articles clustered)."""
        from aggregator.search.indexer import story_document

        repaired: Counter = Counter()
        clustered = 0
        index, state = self._last
        unknown = [a for a, _ in index.articles.items() if a not in state.articles]
        if unknown:
            clustered = self._cluster(unknown)
            # the new members may have merged clusters: judge again against the grown state
            if scope is not None:
                scope = Scope(scope.article_ids | set(unknown), scope.story_ids)
            self._compare(scope)
            index, state = self._last
        writer = self._writer()
        labels = [{"id": a, "story_id": state.articles[a][0], "dup_id": state.articles[a][1]}
                  for a, held in index.articles.items() if a in state.articles and held != state.articles[a]]
        if labels:
            result = writer.relabel_articles(labels)
            repaired["articles_relabelled"] += result.indexed + result.updated + result.spooled
        rewrite = sorted(sid for sid, members in state.stories.items() if index.stories.get(sid) != members)
        if rewrite:
            urls = self._urls({a for sid in rewrite for a in state.stories[sid]})
            docs = []
            for sid in rewrite:
                story = self.dd.story(sid)
                if story is None:
                    continue
                status = "edited" if index.status.get(sid) in TOMBSTONES else None
                docs.append(story_document(story, status=status, urls=urls))
            result = writer.upsert_stories(docs)
            repaired["stories_written"] += result.indexed + result.updated + result.unchanged + result.spooled
        gone = sorted(sid for sid, members in index.stories.items() if sid not in state.stories
                      and (members or index.status.get(sid) not in TOMBSTONES))
        if gone:
            result = writer.delete_stories(gone)
            repaired["stories_deleted"] += result.updated + result.unchanged + result.spooled
        return repaired, clustered

    def _cluster(self, article_ids: list[str]) -> int:
        """Add indexed articles the state lacks to it, from their indexed text (as a crawl would have)."""
        from aggregator.items import FIELDS

        fields = [f.name for f in FIELDS]
        added = 0
        for doc_id, src in self._mget(self.articles, article_ids, fields):
            article = {**src, "id": src.get("id") or doc_id}
            try:
                self.dd.add(article)
            except (ValueError, KeyError) as exc:  # not clusterable: the next comparison still reports it
                logger.warning("index repair: article %s not clustered: %s", doc_id, exc)
                continue
            added += 1
        self.dd.flush()
        return added

    def _urls(self, article_ids: set[str]) -> dict[str, str]:
        out = {}
        for doc_id, src in self._mget(self.articles, article_ids, ["canonical_url", "url"]):
            url = src.get("canonical_url") or src.get("url")
            if url:
                out[doc_id] = url
        return out


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def articles_written_since(client: Any, since: str) -> set[str]:
    """Ids of articles written (``indexed_at``) at or after ``since`` (ISO 8601)."""
    alias = indices.alias_name("articles")
    if not client.index_exists(alias):
        return set()
    client.refresh(alias)
    body = {"query": {"range": {"indexed_at": {"gte": since}}}, "_source": False}
    return {hit["_id"] for hit in scroll(client, alias, body)}


def stories_written_since(client: Any, since: str) -> set[str]:
    """Ids of story documents written (``updated_at``) at or after ``since`` (ISO 8601)."""
    alias = indices.alias_name("stories")
    if not client.index_exists(alias):
        return set()
    client.refresh(alias)
    body = {"query": {"range": {"updated_at": {"gte": since}}}, "_source": False}
    return {hit["_id"] for hit in scroll(client, alias, body)}
