"""The facts files of the real clustering sets: well-formed, text-free, and the held-out set apart.

The texts are other people's sentences and live outside the repository; these checks keep it so, and
keep the second set (``clusterset2.jsonl``) a fair test: no page or event of it may appear in the set
the method is tuned on (``clusterset.jsonl``). The third set (``clusterset3.jsonl``, training material
for the story link model) shares no page and no event with either, and neither does the fourth
(``clusterset4.jsonl``, more training material). The copy set (``copyset.jsonl``, development material
for the copy tier) shares no page with any of them. The fifth set (``clusterset5.jsonl``) is a second
held-out set, scored once by the lead after tuning: it shares no page and no event with any of the others,
and so does the sixth (``clusterset6.jsonl``), a third held-out set built for the next session.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

DEVSETS = Path(__file__).resolve().parents[1] / "benchmarks" / "devsets"
FIELDS = {"id", "url", "source", "title", "language", "published", "event", "topic", "copy_of", "query"}


def _rows(name: str) -> list[dict]:
    path = DEVSETS / name
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize(
    "name",
    [
        "clusterset.jsonl",
        "clusterset2.jsonl",
        "clusterset3.jsonl",
        "clusterset4.jsonl",
        "copyset.jsonl",
        "clusterset5.jsonl",
        "clusterset6.jsonl",
    ],
)
def test_facts_only_and_consistent(name: str) -> None:
    rows = _rows(name)
    assert rows
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)), "duplicate ids"
    urls = [r["url"] for r in rows]
    assert len(urls) == len(set(urls)), "duplicate urls"
    by_id = {r["id"]: r for r in rows}
    for r in rows:
        assert set(r) == FIELDS, f"{r['id']}: fields {sorted(set(r) ^ FIELDS)}"  # no text, no body
        assert r["event"] and r["topic"] and r["query"] and r["language"]
        if r["copy_of"] is not None:
            orig = by_id[r["copy_of"]]
            # a translation is the same event, never a copy
            assert orig["language"] == r["language"], r["id"]
            assert orig["event"] == r["event"], r["id"]


def test_second_set_is_apart_from_the_first() -> None:
    first, second = _rows("clusterset.jsonl"), _rows("clusterset2.jsonl")
    norm = lambda u: u.rstrip("/")  # noqa: E731
    assert not {norm(r["url"]) for r in first} & {norm(r["url"]) for r in second}
    assert not {r["event"] for r in first} & {r["event"] for r in second}
    assert not {r["id"] for r in first} & {r["id"] for r in second}


def test_third_set_is_apart_from_the_other_two() -> None:
    third = _rows("clusterset3.jsonl")
    norm = lambda u: u.rstrip("/")  # noqa: E731
    for other in (_rows("clusterset.jsonl"), _rows("clusterset2.jsonl")):
        assert not {norm(r["url"]) for r in third} & {norm(r["url"]) for r in other}
        assert not {r["event"] for r in third} & {r["event"] for r in other}
        assert not {r["id"] for r in third} & {r["id"] for r in other}
    # its own prefixes, so that a merged training file can never confuse it with the test set
    assert all(r["id"].startswith("D") and r["event"].startswith("D-") for r in third)


def test_fourth_set_is_apart_from_the_other_three() -> None:
    """The fourth set is training material too: sharing a page or an event with the held-out set would
    leak it into the fit, and sharing one with the first set would make the cross-fit score pages the
    model was trained on (``--train-extra`` refuses that at run time; this keeps the files apart)."""
    fourth = _rows("clusterset4.jsonl")
    # the same page is sometimes stored with and without a trailing slash or a "www."
    norm = lambda u: u.rstrip("/").replace("://www.", "://")  # noqa: E731
    for name in ("clusterset.jsonl", "clusterset2.jsonl", "clusterset3.jsonl"):
        other = _rows(name)
        assert not {norm(r["url"]) for r in fourth} & {norm(r["url"]) for r in other}, name
        assert not {r["event"] for r in fourth} & {r["event"] for r in other}, name
        assert not {r["id"] for r in fourth} & {r["id"] for r in other}, name
    assert all(r["id"].startswith("E") and r["event"].startswith("E-") for r in fourth)


def test_copy_set_is_apart_from_the_four() -> None:
    """The copy set is development material for the dup tier: a page of the held-out set in it would leak
    that set into the copy rules' thresholds, and a page of a, b, D or E would be scored twice."""
    copyset = _rows("copyset.jsonl")
    norm = lambda u: u.rstrip("/").replace("://www.", "://")  # noqa: E731
    for name in ("clusterset.jsonl", "clusterset2.jsonl", "clusterset3.jsonl", "clusterset4.jsonl"):
        other = _rows(name)
        assert not {norm(r["url"]) for r in copyset} & {norm(r["url"]) for r in other}, name
        assert not {r["event"] for r in copyset} & {r["event"] for r in other}, name
    assert all(r["id"].startswith("K") and r["event"].startswith("K-") for r in copyset)
    # what it is for: copy groups (copy_of components) spread over several events, not one wire story
    linked = [r for r in copyset if r["copy_of"]]
    assert len({r["event"] for r in linked}) >= 20
    assert sum(r["language"] != "en" for r in linked) >= len(linked) / 3


def _assert_held_out_set(name: str, prefix: str, others: tuple[str, ...]) -> list[dict]:
    """A held-out set shares no page, event or id with ``others`` and holds what it was built to hold:
    multi-outlet events, same-company near misses, copies, mostly not English."""
    held = _rows(name)
    norm = lambda u: u.rstrip("/").replace("://www.", "://")  # noqa: E731
    for other_name in others:
        other = _rows(other_name)
        assert not {norm(r["url"]) for r in held} & {norm(r["url"]) for r in other}, other_name
        assert not {r["event"] for r in held} & {r["event"] for r in other}, other_name
        assert not {r["id"] for r in held} & {r["id"] for r in other}, other_name
    assert all(r["id"].startswith(prefix) and r["event"].startswith(prefix + "-") for r in held)
    events: dict[str, set[str]] = {}
    topics: dict[str, set[str]] = {}
    for r in held:
        events.setdefault(r["event"], set()).add(r["source"])
        topics.setdefault(r["topic"], set()).add(r["event"])
    assert sum(len(s) > 1 for s in events.values()) >= 25
    assert sum(len(e) * (len(e) - 1) // 2 for e in topics.values()) >= 12
    assert sum(1 for r in held if r["copy_of"]) >= 10
    assert sum(r["language"] != "en" for r in held) >= 0.55 * len(held)
    return held


_TUNED_SETS = ("clusterset.jsonl", "clusterset2.jsonl", "clusterset3.jsonl", "clusterset4.jsonl", "copyset.jsonl")


def test_fifth_set_is_apart_from_all_others() -> None:
    """The fifth set is held out like the second: a page or an event shared with a set that was tuned on
    would make its score partly a development score."""
    _assert_held_out_set("clusterset5.jsonl", "F", _TUNED_SETS)


def test_sixth_set_is_apart_from_all_others() -> None:
    """The sixth set is held out like the second and the fifth (scored once, never tuned on): a page or an event
    shared with any other set, the fifth included, would make its score partly a development score."""
    sixth = _assert_held_out_set("clusterset6.jsonl", "G", _TUNED_SETS + ("clusterset5.jsonl",))
    assert len(sixth) >= 150


def test_training_extra_must_not_overlap_the_scored_set(tmp_path: Path) -> None:
    """``fit_story_weights --train-extra`` refuses a part sharing an event (or page) with the scored set:
    training on test material would make the cross-fit figure a lie."""
    root = str(DEVSETS.parents[1])
    if root not in sys.path:  # the benchmarks package sits beside the installed one
        sys.path.insert(0, root)
    from benchmarks.devsets.fit_story_weights import extra_matrix

    def part(name: str, rows: list[dict]) -> Path:
        path = tmp_path / name
        path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        return path

    page = {"title": "t", "text": "BYD sold 382,476 cars in May.", "published": None, "language": "en"}
    scored = part("scored.jsonl", [{**page, "id": "A1", "url": "https://a.example/1", "event": "A-byd-may"}])
    clash = part("clash.jsonl", [{**page, "id": "D1", "url": "https://d.example/1", "event": "A-byd-may"}])
    with pytest.raises(SystemExit, match="overlaps the scored set"):
        extra_matrix([scored], [clash])
    assert extra_matrix([scored], []) is None
