"""Scoring both tiers on a labelled development set, beside plain baselines.

A development set is JSON lines with, per page: ``id``, ``title``, ``language``, ``published``
(or null), ``source``, ``event`` (story truth: same event = same story), ``topic`` (a coarser
group: same company and kind of news; two events sharing a topic are *near misses*),
``copy_of`` (copy truth: two pages are copies iff linked through ``copy_of`` chains) and the
page's ``text`` (or ``body``). The format is documented in ``benchmarks/devsets/README.md``.

What is scored, per tier, on every pair of pages (pairwise) and per page (B-cubed):

* story tier (``story_id``) against ``event``; the pairs of one event in two languages
  (*cross-language recall*), and the pairs of two different events of one topic that were put
  in one story (*near misses merged*);
* dup tier (``dup_id``) against the connected components of ``copy_of``.

Baselines, each given the **oracle** threshold (the best F1 on the very data it is scored on, which
our method never gets): exact Jaccard of word 5-shingle sets, and TF-IDF cosine of word unigrams
(CJK as character bigrams) with a 3-day publication window; pairs above the threshold are joined
by single link (connected components). A pair with an unknown date is not held back by the window.

The split (``half``) is by a hash of the page's ``topic`` (its ``event`` when it has none), so
an event, its copies and its near misses always land in the same half.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np

from .metrics import evaluate

DAY = 86400.0


class DevsetError(ValueError):
    """A development set that cannot be scored (no labels, no text)."""


@dataclass
class Devset:
    """Pages with their labels; ``pages`` keep the input fields, ``body`` holds the text."""

    pages: list[dict[str, Any]]
    skipped: int = 0  # lines without id / event / text

    @property
    def events(self) -> dict[str, str]:
        return {p["id"]: p["event"] for p in self.pages}

    @property
    def copies(self) -> dict[str, str]:
        """Each page's copy group: the smallest id of its ``copy_of`` component."""
        parent: dict[str, str] = {p["id"]: p["id"] for p in self.pages}

        def find(x: str) -> str:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        for p in self.pages:
            o = p.get("copy_of")
            if o and o in parent:
                a, b = find(p["id"]), find(str(o))
                if a != b:
                    parent[max(a, b)] = min(a, b)
        return {i: find(i) for i in parent}


def _half_of(page: dict[str, Any]) -> str:
    key = str(page.get("topic") or page["event"])
    return "a" if hashlib.sha1(key.encode("utf-8")).digest()[0] % 2 == 0 else "b"


def load_devset(paths: Sequence[Path], half: str = "all") -> Devset:
    """Read one or more JSON-lines files; ``half`` is ``a``, ``b`` or ``all``.

    Lines missing ``id``, ``event`` or a text (``text`` or ``body``) are skipped and counted; a
    later line with the same id replaces the earlier one.
    """
    if half not in ("a", "b", "all"):
        raise DevsetError(f"half must be a, b or all, not {half!r}")
    by_id: dict[str, dict[str, Any]] = {}
    skipped = 0
    for path in paths:
        with Path(path).open(encoding="utf-8") as fh:
            for line in fh:
                if not line.strip():
                    continue
                try:
                    row = json.loads(line)
                except json.JSONDecodeError:
                    skipped += 1
                    continue
                body = row.get("body") or row.get("text") if isinstance(row, dict) else None
                if not isinstance(row, dict) or not row.get("id") or not row.get("event") or not body:
                    skipped += 1
                    continue
                page = dict(row)
                page["id"] = str(row["id"])
                page["body"] = str(body)
                page.pop("text", None)
                page.setdefault("published", None)
                page["published_at"] = page.get("published")
                by_id[page["id"]] = page
    pages = [p for p in by_id.values() if half == "all" or _half_of(p) == half]
    if not pages:
        raise DevsetError("no labelled pages with text (id, event and text are needed)")
    return Devset(pages, skipped)


_DATE_LINE = re.compile(r"^\s*date\s+(?:19|20)\d\d-\d\d(?:-\d\d)?(?:[T ][\d:.+Z-]*)?\s")


def drop_dates(ds: Devset) -> Devset:
    """``ds`` as if no page stated its publication date: ``published`` emptied, and the leading ``date
    2024-12-03`` marker some stored pages open with (the date the page stated) cut from the text. What
    the article says of when things happened stays: reading that is the method under test. So does the URL:
    a day it names dates the page as the extraction step would have dated it."""
    pages = []
    for p in ds.pages:
        q = dict(p, published=None, published_at=None)
        q["body"] = _DATE_LINE.sub("", q["body"], count=1)
        pages.append(q)
    return Devset(pages, ds.skipped)


def is_devset(path: Path) -> bool:
    """True if the first non-empty line of ``path`` is a page with an ``event`` label."""
    try:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    return isinstance(row, dict) and "event" in row
    except (OSError, json.JSONDecodeError, UnicodeDecodeError):
        return False
    return False


# -- scoring ---------------------------------------------------------------------------------------

def _pairs_in(groups: dict[str, str], ids: Iterable[str]) -> set[tuple[str, str]]:
    by: dict[str, list[str]] = defaultdict(list)
    for i in ids:
        by[groups[i]].append(i)
    return {(a, b) if a < b else (b, a) for members in by.values() for a, b in combinations(members, 2)}


def score(ds: Devset, story: dict[str, str], dup: dict[str, str]) -> dict[str, Any]:
    """Both tiers' quality on ``ds`` (see the module docstring for what each figure means)."""
    ids = [p["id"] for p in ds.pages]
    lang = {p["id"]: str(p.get("language") or "") for p in ds.pages}
    topic = {p["id"]: str(p.get("topic") or "") for p in ds.pages}
    events = ds.events
    out: dict[str, Any] = {"pages": len(ids), "events": len(set(events.values())),
                           "undated": sum(1 for p in ds.pages if not (p.get("published") or p.get("published_at")))}
    s = evaluate(events, story)
    out["story"] = {k: s[k] for k in s if k != "n"}
    truth_pairs = _pairs_in(events, ids)
    pred_pairs = _pairs_in(story, ids)
    cross = {p for p in truth_pairs if lang[p[0]] != lang[p[1]]}
    same = truth_pairs - cross
    out["story"]["cross_language_pairs"] = len(cross)
    out["story"]["cross_language_recall"] = len(cross & pred_pairs) / len(cross) if cross else float("nan")
    out["story"]["same_language_recall"] = len(same & pred_pairs) / len(same) if same else float("nan")
    near = {p for p in _pairs_in(topic, [i for i in ids if topic[i]]) if events[p[0]] != events[p[1]]}
    out["story"]["near_miss_pairs"] = len(near)
    out["story"]["near_misses_merged"] = len(near & pred_pairs)
    undated = {p["id"] for p in ds.pages if not (p.get("published") or p.get("published_at"))}
    wrong = pred_pairs - truth_pairs
    out["story"]["wrong_pairs_with_undated"] = sum(1 for a, b in wrong if a in undated or b in undated)
    copies = ds.copies
    d = evaluate(copies, dup)
    out["dup"] = {k: d[k] for k in d if k != "n"}
    out["dup"]["copy_pairs"] = len(_pairs_in(copies, ids))
    out["dup"]["near_misses_merged"] = len(near & _pairs_in(dup, ids))
    return out


# -- baselines -------------------------------------------------------------------------------------

_WORD = re.compile(r"\w+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]+")


def _tokens(text: str) -> list[str]:
    """Casefolded words; CJK runs as character bigrams (those scripts put no spaces between words)."""
    t = unicodedata.normalize("NFKC", text).casefold()
    toks = _WORD.findall(_CJK.sub(" ", t))
    for run in _CJK.findall(t):
        toks.extend(run[i : i + 2] for i in range(max(1, len(run) - 1)))
    return toks


def _time(v: Any) -> float | None:
    from .core import _parse_time

    return _parse_time(v)


def _components(n: int, edges: Iterable[tuple[int, int]]) -> list[int]:
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return [find(i) for i in range(n)]


def jaccard_matrix(texts: Sequence[str], k: int = 5) -> np.ndarray:
    """Exact Jaccard of word ``k``-shingle sets, all pairs."""
    sets = []
    for t in texts:
        toks = _tokens(t)
        sets.append({" ".join(toks[i : i + k]) for i in range(max(1, len(toks) - k + 1))})
    n = len(sets)
    m = np.zeros((n, n))
    for i in range(n):
        for j in range(i + 1, n):
            inter = len(sets[i] & sets[j])
            m[i, j] = m[j, i] = inter / (len(sets[i]) + len(sets[j]) - inter) if inter else 0.0
    return m


def tfidf_matrix(texts: Sequence[str]) -> np.ndarray:
    """Cosine of TF-IDF vectors (sublinear tf, smooth idf, l2 norm), all pairs."""
    docs = [Counter(_tokens(t)) for t in texts]
    df: Counter[str] = Counter()
    for c in docs:
        df.update(c.keys())
    vocab = {w: i for i, w in enumerate(df)}
    n = len(docs)
    x = np.zeros((n, len(vocab)))
    for r, c in enumerate(docs):
        for w, tf in c.items():
            x[r, vocab[w]] = (1 + math.log(tf)) * (math.log((1 + n) / (1 + df[w])) + 1)
    norms = np.linalg.norm(x, axis=1)
    x /= np.where(norms > 0, norms, 1)[:, None]
    return x @ x.T


def window_mask(published: Sequence[Any], days: float | None) -> np.ndarray:
    """Pairs allowed by a publication window; a page with no date is allowed with every page."""
    n = len(published)
    if days is None:
        return np.ones((n, n), dtype=bool)
    t = np.array([_time(p) if _time(p) is not None else np.nan for p in published])
    diff = np.abs(t[:, None] - t[None, :])
    return np.isnan(diff) | (diff <= days * DAY)


def best_threshold(sim: np.ndarray, allowed: np.ndarray, ids: Sequence[str], truth: dict[str, str],
                   grid: Iterable[float] | None = None) -> tuple[float, dict[str, str], float]:
    """The threshold whose single-link clustering has the best pairwise F1 against ``truth``."""
    grid = list(grid) if grid is not None else [round(x, 3) for x in np.arange(0.02, 0.96, 0.01)]
    best: tuple[float, dict[str, str], float] = (grid[0], {i: i for i in ids}, -1.0)
    iu = np.triu_indices(len(ids), 1)
    vals, ok = sim[iu], allowed[iu]
    for th in grid:
        keep = ok & (vals >= th)
        comp = _components(len(ids), zip(iu[0][keep].tolist(), iu[1][keep].tolist(), strict=True))
        pred = {ids[i]: ids[c] for i, c in enumerate(comp)}
        f1 = evaluate(truth, pred)["pairwise_f1"]
        if f1 > best[2]:
            best = (th, pred, f1)
    return best


def baselines(ds: Devset, window_days: float = 3.0) -> list[dict[str, Any]]:
    """Both baselines on both tiers, each at its oracle threshold: rows of :func:`score` plus the name."""
    ids = [p["id"] for p in ds.pages]
    texts = [f"{p.get('title') or ''}\n{p['body']}" for p in ds.pages]
    allowed = window_mask([p.get("published") for p in ds.pages], window_days)
    rows = []
    for name, sim, win in (("exact Jaccard, word 5-shingles", jaccard_matrix(texts), None),
                           (f"TF-IDF cosine, {window_days:g}-day window", tfidf_matrix(texts), window_days)):
        mask = allowed if win else np.ones_like(allowed)
        th_s, story, _ = best_threshold(sim, mask, ids, ds.events)
        th_d, dup, _ = best_threshold(sim, mask, ids, ds.copies)
        r = score(ds, story, dup)
        r["method"] = name
        r["story"]["threshold"] = th_s
        r["dup"]["threshold"] = th_d
        rows.append(r)
    return rows


def ours(ds: Devset, config: Any = None) -> dict[str, Any]:
    """Our two tiers (``Deduplicator`` via :func:`.core.cluster_articles`) scored on ``ds``."""
    from .core import cluster_story_and_dup

    story, dup = cluster_story_and_dup(ds.pages, config=config)
    r = score(ds, story, dup)
    r["method"] = "ours (aggregator dedup)"
    return r


# -- hard synthetic copies -------------------------------------------------------------------------

_SENT = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])")
_ADDED = ("Shares of the company closed 2.7% higher on the day, extending this year's gain to 14%.",
          "A spokesperson for the company declined to comment beyond the statement on Tuesday.",
          "(Reporting by newsroom staff; editing by the regional desk)")


def hard_copies(ds: Devset, per_page: int = 3, seed: int = 7) -> Devset:
    """``ds`` plus hard near-verbatim copies of its pages, each labelled ``copy_of`` its original.

    Three kinds, as syndication makes them: a wire *update* (``UPDATE 1-`` headline, the text with
    paragraphs added), a *retitled, re-cased republication* (new upper-case headline, the lead in
    capitals, a credit line), and an *excerpt* (the first ~45 % of the text, as a partner prints the
    opening paragraphs). Only pages of 600+ characters get copies; same event, same language.
    """
    import random

    rng = random.Random(seed)
    out = [dict(p) for p in ds.pages]
    for p in ds.pages:
        body = p["body"]
        if len(body) < 600 or p.get("copy_of"):
            continue
        sents = [s for s in _SENT.split(body) if s.strip()]
        if len(sents) < 4:
            continue
        title = str(p.get("title") or "")
        kinds = ["update", "recase", "excerpt"][:per_page]
        for kind in kinds:
            q = dict(p, id=f"{p['id']}~{kind}", copy_of=p["id"], source=f"{kind}.syndication.example")
            if kind == "update":
                add = rng.sample(_ADDED, 2)
                q["title"] = f"UPDATE 1-{title}"
                q["body"] = body + "\n\n" + add[0] + "\n\n" + add[1]
            elif kind == "recase":
                cut = max(1, len(sents) // 4)
                q["title"] = title.upper()
                q["body"] = " ".join(sents[:cut]).upper() + "\n\n" + " ".join(sents[cut:]) + \
                    "\n\nRepublished with permission."
            else:
                q["title"] = title
                q["body"] = " ".join(sents[: max(2, int(len(sents) * 0.45))])
            out.append(q)
    return Devset(out, ds.skipped)
