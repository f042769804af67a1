"""Clustering the labelled corpus in any order keeps hard negatives apart (same company, same week,
same press-release wording, different event)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from aggregator.dedup import Deduplicator, open_store

CORPUS = Path(__file__).parent / "data" / "dedup_corpus.jsonl"


@pytest.mark.parametrize("seed", [7, 10, 15, 21])  # 7, 10 and 15 merged hard negatives before the figures rule
def test_no_story_mixes_labels_in_shuffled_orders(seed: int) -> None:
    arts = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    random.Random(seed).shuffle(arts)
    dd = Deduplicator(store=open_store("memory:"))
    for art in arts:
        dd.add(art)
    labels: dict[str, set[str]] = {}
    dups: dict[str, set[str]] = {}
    for art in arts:
        labels.setdefault(dd.story_of(art["id"]), set()).add(art["story_label"])
        dups.setdefault(dd.dup_of(art["id"]), set()).add(art["dup_label"])
    assert [v for v in labels.values() if len(v) > 1] == []
    assert [v for v in dups.values() if len(v) > 1] == []


def test_templated_notices_with_different_figures_are_not_copies() -> None:
    body = ("Xpeng is recalling {n} {model} cars because of a {part}, according to a notice published by "
            "regulators on Thursday.\n\nOwners will be notified by mail, and dealers will fix the problem free "
            "of charge, the notice said.\n\nThe company said it was not aware of any crashes or injuries "
            "related to the issue.\n\nShares of the company rose 2.3% in early trading after the "
            "announcement.\n\nThe company did not comment on its outlook for the rest of the year.")
    a = {"id": "g6", "source": "wire", "title": "Xpeng recalls 17,274 G6 vehicles over a faulty rear-view camera",
         "language": "en",
         "published_at": "2026-11-19T08:00:00Z",
         "body": body.format(n="17,274", model="G6", part="faulty rear-view camera")}
    b = dict(a, id="m03", title="Xpeng recalls 24,838 Mona M03 vehicles over a seat belt sensor",
             body=body.format(n="24,838", model="Mona M03", part="seat belt sensor"))
    dd = Deduplicator(store=open_store("memory:"))
    ra, rb = dd.add(a), dd.add(b)
    assert ra.dup_id != rb.dup_id and ra.story_id != rb.story_id
    # ... while a copy that keeps the figures is one
    rc = dd.add(dict(a, id="g6-copy", source="blog", body=a["body"] + "\n\nSubscribe to our newsletter."))
    assert rc.dup_id == ra.dup_id
