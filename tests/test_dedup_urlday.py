"""An article handed to ``Deduplicator.add`` without a date is dated by the day its URL names, as the
extraction step dates it (``aggregator.extract.dates.url_date``)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aggregator.dedup import DedupConfig, Deduplicator
from aggregator.dedup.prepared import fields, url_day


def _day(t: float | None) -> str | None:
    return None if t is None else datetime.fromtimestamp(t, UTC).strftime("%Y-%m-%d")


@pytest.mark.parametrize(("art", "expected"), [
    ({"url": "https://electrek.co/2025/01/21/ford-expands-mach-e-recall/"}, "2025-01-21"),
    ({"url": "https://www.reuters.com/business/autos/ford-expands-recall-2025-01-21/"}, "2025-01-21"),
    ({"canonical_url": "https://example.org/news/2024/12/02/ford-recall"}, "2024-12-02"),
    ({"url": "https://example.org/news/2024/13/45/not-a-day"}, None),
    ({"url": "https://example.org/news/ford-recall-20484"}, None),
    ({}, None),
])
def test_url_day(art: dict, expected: str | None) -> None:
    assert _day(url_day(art)) == expected


def test_a_stated_date_wins_over_the_urls_day() -> None:
    art = {"url": "https://electrek.co/2025/01/21/x/", "published_at": "2025-01-23T08:00:00Z"}
    assert _day(fields(art)[5]) == "2025-01-23"
    assert _day(fields({**art, "published_at": None})[5]) == "2025-01-21"
    # a month alone is a stated date (its middle, +- 15.5 days): the URL does not replace it
    assert fields({**art, "published_at": "2025-01"})[6] == 15.5


def _a(i: str, title: str, body: str, when: str | None, url: str) -> dict:
    return {"id": i, "title": title, "body": body, "source": i, "published_at": when, "language": "en", "url": url}


def test_an_undated_follow_up_is_kept_apart_by_its_urls_day() -> None:
    """A follow-up weeks later, with no date stated and no day in its text, joins the first event's story when
    nothing dates it; the day its URL names keeps it out of the window, as a stated date would."""
    start = [("Ford recalls 20,484 Mustang Mach-E over 12-volt battery", "Ford Motor is recalling 20,484 Mustang "
              "Mach-E SUVs because the 12-volt battery can lose charge, the NHTSA said."),
             ("Ford Mach-E recall: 20,484 SUVs", "The NHTSA said Ford will recall 20,484 Mustang Mach-E vehicles "
              "for a 12-volt battery fault that can cut power."),
             ("NHTSA: Ford Mustang Mach-E recall", "Ford recalls 20,484 Mustang Mach-E cars: the 12-volt battery "
              "may discharge, the NHTSA said.")]
    follow = ("Ford expanded its recall of the Mustang Mach-E over the 12-volt battery: the NHTSA said 20,484 SUVs "
              "of the first recall need a second software fix.")
    joined = {}
    for url in ("https://late.example/news/ford-expands-mach-e-recall",
                "https://late.example/2025/02/21/ford-expands-mach-e-recall/"):
        dd = Deduplicator(DedupConfig(story_undated_join_mean=0.0, story_stage_members=0))
        sids = {dd.add(_a(f"f{k}", t, b, f"2024-12-02T1{k}:00:00Z", f"https://s{k}.example/a")).story_id
                for k, (t, b) in enumerate(start)}
        assert len(sids) == 1
        joined[url] = dd.add(_a("later", "Ford expands Mach-E recall", follow, None, url)).story_id in sids
    assert list(joined.values()) == [True, False]
